//! The study's charts as JPEG files.
//!
//! - [`data`]: reading measure files, redaction and per-group series (shared with the report);
//! - [`study`]: the study's four breakdowns (file names, groups kept, titles);
//! - [`chart`]: drawing one chart with plotters and encoding it as JPEG;
//! - [`text`]: text for the charts, rasterised with `ab_glyph` from the carried font;
//! - [`cli`]: the `generate_plots` entry point the runner calls.

pub mod chart;
pub mod cli;
pub mod data;
pub mod study;
pub mod text;

pub use cli::{generate_plots, PlotsError, PlotsOptions};
