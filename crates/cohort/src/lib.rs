//! Cohort extraction: the study language (YAML study definitions, and the definitions
//! `study_definition.py` files record) compiled to the query model, `generate_cohort` over a
//! data source or dummy data, and its output files.

pub mod cli;
pub mod lang;
pub mod output;
pub mod pyfront;
pub mod study;

// Dummy data: moving to `ehr` (the synthetic EHR) with its own docs; the workspace lints are
// relaxed here until then.
#[allow(missing_docs, unreachable_pub)]
pub mod expectations;
#[allow(missing_docs, unreachable_pub)]
pub mod expr;
#[allow(missing_docs, unreachable_pub)]
pub mod synth;

pub mod load_ehr;
#[allow(missing_docs, unreachable_pub)]
pub mod tables;
