//! Cohort extraction: study definitions and codelists, the intermediate representation they
//! compile to, the engines that evaluate it over electronic health record tables, the data
//! sources those tables come from, and dummy data.

pub mod format;
pub mod tables;
