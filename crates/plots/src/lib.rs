//! A study's charts as JPEG files, one per chart of the chart model (`charts`): every measure
//! of the study definition, or the outputs file's `charts:`.
//!
//! - [`chart`]: drawing one line or deciles chart with plotters and encoding it as JPEG;
//! - [`text`]: text for the charts, rasterised with `ab_glyph` from the carried font;
//! - [`cli`]: the `generate_plots` entry point the runner calls.

pub mod chart;
pub mod cli;
pub mod text;

pub use cli::{generate_plots, PlotsError, PlotsOptions};
