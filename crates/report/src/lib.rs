//! A study's report: one self-contained HTML page that replaces the notebook, built from the
//! chart model (`charts`): a section per chart, the methods from the outputs file or the study
//! definition, its codelists.
//!
//! - [`view`]: each chart's SVG geometry (lines or deciles), its monthly table and CSV (from
//!   `charts`, so the report redacts exactly as the figures do);
//! - [`page`]: Markdown texts and template variables, rendering `templates/` with tera;
//! - [`cli`]: the `generate_report` entry point the runner calls.
//!
//! The page loads nothing from the network: styles and the small range-selector script are
//! inline, charts are inline SVG, downloads are `data:` URLs, and it is deterministic (no clock,
//! stable ordering).

pub mod cli;
pub mod page;
pub mod view;

pub use cli::{generate_report, ReportError, ReportOptions};
