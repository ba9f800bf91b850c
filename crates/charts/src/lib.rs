//! Measure tables and the chart model, shared by the JPEG charts (`plots`) and the HTML report
//! (`report`), so both read, redact and describe a study's measures alike and neither names a
//! study:
//!
//! - [`data`]: reading measure files (cohortextractor's `measure_<id>.csv`), redaction (the one
//!   function, [`data::is_redacted`]) and per-group series;
//! - [`deciles`]: the percentiles of a deciles chart, as numpy computes them;
//! - [`axis`]: axis tops, tick and month labels, number formats, the palette;
//! - [`study`]: what the charts know of a study definition (measures, codelists);
//! - [`outputs`]: the optional outputs file (`analysis/outputs.yaml`);
//! - [`model`]: the charts of a study, resolved from the two, with their data;
//! - [`codelist`]: the codelists shown in the report's methods.

pub mod axis;
pub mod codelist;
pub mod data;
pub mod deciles;
pub mod model;
pub mod outputs;
pub mod study;

pub use model::{plan, plan_for, Body, ChartSpec, LoadedChart, Plan};
pub use outputs::{Outputs, OutputsError};
pub use study::{Measure, Study, StudyCodelist};
