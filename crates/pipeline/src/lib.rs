//! `project.yaml`: its model, validation, planning and the runner that executes actions.
//!
//! [`validate::validate`] checks a `project.yaml` with OpenSAFELY's rules and message texts
//! (versions 1–5) and reports every problem at once with its line and column;
//! [`load_project`] reads one from a project folder. [`runner`] plans and runs actions.
//! Actions whose image is implemented by this project run in-process through an
//! [`image::ImageRegistry`]; every other image runs as a local process.

pub mod graph;
pub mod image;
pub mod paths;
pub mod project;
pub mod runner;
pub mod shell;
pub mod suggest;
pub mod validate;

use std::path::Path;

pub use project::{Action, Command, Level, Output, Project};
pub use validate::{validate, Validation};
pub use yaml::{Diagnostic, Pos, Severity};

/// Why a project folder's `project.yaml` could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is missing or unreadable.
    #[error("No project.yaml file found in {dir}: {source}")]
    Read {
        /// The project folder.
        dir: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is invalid; the diagnostics include every error.
    #[error("Invalid project: project.yaml has {} error(s)", .0.iter().filter(|d| d.is_error()).count())]
    Invalid(Vec<Diagnostic>),
}

/// Reads and validates `DIR/project.yaml`; on success returns the project and its warnings.
pub fn load_project(dir: &Path) -> Result<(Project, Vec<Diagnostic>), LoadError> {
    let path = dir.join("project.yaml");
    let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Read {
        dir: dir.display().to_string(),
        source,
    })?;
    let validation = validate(&text);
    match validation.project {
        Some(project) => Ok((project, validation.diagnostics)),
        None => Err(LoadError::Invalid(validation.diagnostics)),
    }
}
