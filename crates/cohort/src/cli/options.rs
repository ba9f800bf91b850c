//! The options of `generate_cohort`: cohortextractor's flags, typed. The driver parses argv
//! into them (`xtask/src/images/generate_cohort.rs`); nothing here reads argv.

use std::path::PathBuf;

use crate::output::OutputFormat;

/// How dummy data is made in `--expectations-population` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DummyData {
    /// A synthetic EHR of N patients, queried like a database (the default).
    #[default]
    Synthetic,
    /// cohortextractor's expectations framework.
    Expectations,
}

/// The options of one `generate_cohort` run; relative paths are relative to the project folder.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CohortOptions {
    /// `--study-definition NAME` (`None` or `all` = every study definition in `analysis/`).
    pub study_definition: Option<String>,
    /// `--index-date-range`: `"A"`, `"A to B"` or `"A to B by week|month"`; `None` (or empty)
    /// = the study's `index_date`.
    pub index_date_range: Option<String>,
    /// `--output-dir` (default `output`).
    pub output_dir: Option<PathBuf>,
    /// `--output-format` (default CSV).
    pub output_format: Option<OutputFormat>,
    /// `--output-file`: the name (and folder) of the outputs instead of `input`.
    pub output_file: Option<PathBuf>,
    /// `--skip-existing`: keep an index date's file when it exists.
    pub skip_existing: bool,
    /// `--expectations-population N`: dummy data of N patients.
    pub expectations_population: Option<usize>,
    /// `--dummy-data`: how dummy data is made.
    pub dummy_data: DummyData,
    /// `--dummy-data-file`: a file copied as every output.
    pub dummy_data_file: Option<PathBuf>,
    /// The data source: `--database-url`, else the `DATABASE_URL` environment variable (the
    /// driver reads it). Wins over dummy data.
    pub database_url: Option<String>,
    /// `--seed` of dummy data (default [`super::DEFAULT_SEED`]).
    pub seed: Option<u64>,
    /// `--param KEY=VALUE` pairs: `cohortextractor.params` of a Python study definition (YAML
    /// ones take none).
    pub params: Vec<(String, String)>,
}
