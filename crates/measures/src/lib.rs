//! `generate_measures`: per index date, numerator / denominator per group, written as
//! cohortextractor writes it.
//!
//! - [`generate_measures_with`] is the core: [`MeasureSpec`]s built in code, an output folder,
//!   [`Options`]. It finds `input{suffix}_{YYYY-MM-DD}.{csv|csv.gz|parquet|arrow|feather}`
//!   ([`discover`]), reads each file once, only the needed columns, by name ([`frame`]),
//!   evaluates every measure ([`compute`]), and only when everything is computed writes the
//!   files ([`output`]), each through a temporary name and a rename.
//! - [`cli::generate_measures`] is the runner's entry point: cohortextractor's flags and the
//!   `analysis/study_definition*.yaml` glue.
//!
//! Outputs, per measure: `measure_{id}_{date}.csv` (LF, as pandas writes it) and
//! `measure_{id}.csv` (all dates ascending, `date` last, CRLF as cohortextractor's
//! `csv.writer` writes it), byte-identical to cohortextractor 1.93.3 except that `group_by`
//! absent or `population` gives one total row per date. Numerator sums are floats (`234.0`),
//! the population count an int (`502`, `502.0` once suppression put a NaN in the column),
//! `value` in Python repr, NaN as an empty field. Group rows are sorted as pandas sorts them (numbers numerically, text by code point) with
//! every combination of the values seen in that file.
//!
//! Optional: disclosure control per measure or for all ([`Disclosure`]) and an ehrQL-style
//! long file ([`output::long_table`]).

pub mod cli;
pub mod compute;
pub mod discover;
pub mod error;
pub mod frame;
pub mod output;
pub mod run;
pub mod spec;

pub use error::MeasuresError;
pub use run::{generate_measures_with, Options, Summary};
pub use spec::{Disclosure, GroupBy, MeasureSpec, POPULATION};
