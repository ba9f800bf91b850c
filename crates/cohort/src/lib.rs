//! Cohort extraction: study definitions and codelists, the intermediate representation they
//! compile to, the engines that evaluate it over electronic health record tables, the data
//! sources those tables come from, and dummy data.

pub mod cli;
pub mod codelist;
pub mod dates;
pub mod engine;
pub mod expectations;
pub mod expr;
pub mod interpret;
pub mod ir;
pub mod lang;
pub mod output;
pub mod source;
pub mod study;
pub mod synth;
pub mod tables;
