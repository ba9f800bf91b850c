//! Cohort extraction: study definitions and codelists, the intermediate representation they
//! compile to, the engines that evaluate it over electronic health record tables, the data
//! sources those tables come from, and dummy data.

pub mod cli;
pub mod codelist;
pub mod lang;
pub mod output;
pub mod study;

// The query side (date and expression languages, the IR, both engines, the tables, their
// sources, dummy data) is moving to crates of its own (see ARCHITECTURE.md, "Goals"); its
// items get their docs and visibility there. Until then the workspace lints are relaxed here.
#[allow(missing_docs, unreachable_pub)]
pub mod dates;
#[allow(missing_docs, unreachable_pub)]
pub mod engine;
#[allow(missing_docs, unreachable_pub)]
pub mod expectations;
#[allow(missing_docs, unreachable_pub)]
pub mod expr;
#[allow(missing_docs, unreachable_pub)]
pub mod interpret;
#[allow(missing_docs, unreachable_pub)]
pub mod ir;
#[allow(missing_docs, unreachable_pub)]
pub mod source;
#[allow(missing_docs, unreachable_pub)]
pub mod synth;
#[allow(missing_docs, unreachable_pub)]
pub mod tables;
