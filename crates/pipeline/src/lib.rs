//! `project.yaml`: its model, validation, planning and the runner that executes actions.
//!
//! Actions whose image is implemented by this project run in-process through an
//! [`image::ImageRegistry`]; every other image runs as a local process.

pub mod image;
