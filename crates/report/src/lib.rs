//! The study's report: one self-contained HTML page that replaces the notebook.
//!
//! - [`codelist`]: reading the codelist shown in the methods;
//! - [`view`]: each chart's SVG geometry and monthly table (from [`plots::data`], so the
//!   report redacts exactly as the figures do);
//! - [`page`]: rendering `templates/` with tera;
//! - [`cli`]: the `generate_report` entry point the runner calls.
//!
//! The page loads nothing from the network: styles and the small range-selector script are
//! inline, charts are inline SVG, and it is deterministic (no clock, stable ordering).

pub mod cli;
pub mod codelist;
pub mod page;
pub mod view;

pub use cli::{generate_report, ReportError, ReportOptions};
