//! The error type of `generate_measures`.

use std::path::PathBuf;

/// Everything that can go wrong while generating measures. Every variant names the file,
/// column, line or measure it is about.
#[derive(Debug, thiserror::Error)]
pub enum MeasuresError {
    /// A measure definition is invalid (bad id, duplicate id, a column used twice…).
    #[error("measure '{id}': {message}")]
    InvalidMeasure {
        /// The measure id.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// No `input*_YYYY-MM-DD.*` file was found.
    #[error("no input files matching input{suffix}_YYYY-MM-DD.{{csv,csv.gz,parquet,arrow,feather}} in {}", dir.display())]
    NoInputFiles {
        /// The folder searched.
        dir: PathBuf,
        /// The study-definition suffix (`""` for `study_definition`).
        suffix: String,
    },
    /// Two input files share a date (e.g. `input_2020-01-01.csv` and `input_2020-01-01.parquet`).
    #[error("two input files for {date}: {} and {}", first.display(), second.display())]
    DuplicateDate {
        /// The date in both names.
        date: String,
        /// One file.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// An input file name holds a date that does not exist (`input_2021-02-30.csv`).
    #[error("{}: '{date}' in the file name is not a valid date", path.display())]
    BadDate {
        /// The file.
        path: PathBuf,
        /// The text that should be a date.
        date: String,
    },
    /// An input file lacks a column a measure needs.
    #[error("{}: no column '{column}' ({role}); the file has columns: {available}", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: String,
        /// Which measure needs it and how (`numerator of measure 'x'`).
        role: String,
        /// The columns the file has, comma-separated.
        available: String,
    },
    /// A numerator or denominator cell is not a number.
    #[error("{}: {location}, column '{column}': '{value}' is not a number", path.display())]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// Where in the file: `line 5` (CSV, header = line 1) or `row 4` (columnar, 0-based).
        location: String,
        /// The column.
        column: String,
        /// The offending text.
        value: String,
    },
    /// An input file is malformed (bad CSV, wrong field count, invalid UTF-8, unreadable parquet…).
    #[error("{}: {message}", path.display())]
    BadInput {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line where known.
        message: String,
    },
    /// An existing per-date output reused with `--skip-existing` does not fit the measure.
    #[error("{}: {message}", path.display())]
    BadExistingOutput {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The study definition could not be loaded (the message names file and line).
    #[error("{message}")]
    StudyDefinition {
        /// The study definition file.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
    /// Bad command-line arguments.
    #[error("generate_measures: {0}")]
    Usage(String),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl MeasuresError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        MeasuresError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn bad_input(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        MeasuresError::BadInput {
            path: path.into(),
            message: message.into(),
        }
    }
}
