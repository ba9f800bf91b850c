use std::path::{Path, PathBuf};

use polars::prelude::PolarsError;

/// Why an output could not be written, or an output option could not be understood.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Polars { path: PathBuf, source: PolarsError },
    #[error("cannot write column `{column}` of type {dtype} to {}", path.display())]
    UnsupportedColumn {
        path: PathBuf,
        column: String,
        dtype: String,
    },
    #[error("invalid --index-date-range `{range}`: {reason}")]
    IndexDateRange { range: String, reason: String },
}

impl OutputError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        OutputError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
