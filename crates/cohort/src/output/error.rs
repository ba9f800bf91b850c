use std::path::{Path, PathBuf};

use polars::prelude::PolarsError;

/// Why an output could not be written, or an output option could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Writing a file failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// polars could not write a file.
    #[error("cannot write {}: {source}", path.display())]
    Polars {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: PolarsError,
    },
    /// A column has a type the format cannot hold.
    #[error("cannot write column `{column}` of type {dtype} to {}", path.display())]
    UnsupportedColumn {
        /// The file.
        path: PathBuf,
        /// The column.
        column: String,
        /// Its polars type.
        dtype: String,
    },
    /// `--index-date-range` is not a range.
    #[error("invalid --index-date-range `{range}`: {reason}")]
    IndexDateRange {
        /// The range as given.
        range: String,
        /// What is wrong.
        reason: String,
    },
}

impl OutputError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        OutputError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
