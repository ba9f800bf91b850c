//! Study definitions (`analysis/study_definition*.yaml`): the model, the loader with
//! `file:line:col` errors, and compilation to the [`crate::ir`].
//!
//! ```no_run
//! let study = cohort::study::StudyDefinition::load("analysis/study_definition.yaml".as_ref())?;
//! for (name, ty) in study.output_columns() {
//!     println!("{name}: {}", ty.name());
//! }
//! # Ok::<(), cohort::study::StudyError>(())
//! ```
//!
//! The file is read with the workspace's one YAML reader (`yaml`), so a study definition and
//! `project.yaml` resolve scalars alike (YAML 1.2 core schema: `0x1F` is 31, `yes` a string)
//! and report YAML problems with the same text. `return_expectations` and
//! `default_expectations` are kept as plain [`serde_yaml::Value`]s, exactly as written (`0.5` is
//! a number, `"2019-01-01"` a string).

mod load;
mod model;

pub use load::valid_name;
pub use model::*;
