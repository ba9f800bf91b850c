use std::path::PathBuf;

use polars::prelude::PolarsError;

/// Why EHR tables could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("invalid database URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("database URL `{url}`: {scheme} data sources are not supported yet (use a folder of table files: file://PATH)")]
    Unsupported { url: String, scheme: String },
    #[error("data source folder {} does not exist or is not a folder", .0.display())]
    NoFolder(PathBuf),
    #[error("table `{table}` is missing from {}: expected one of {table}.parquet, {table}.arrow, {table}.csv, {table}.csv.gz", dir.display())]
    MissingTable { table: String, dir: PathBuf },
    #[error("table `{table}` is given twice in {}: {} and {}", dir.display(), first.display(), second.display())]
    AmbiguousTable {
        table: String,
        dir: PathBuf,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("table `{table}` ({}) has no column `{column}`", file.display())]
    MissingColumn {
        table: String,
        column: String,
        file: PathBuf,
    },
    #[error("table `{table}` ({}), column `{column}`: type {found} cannot be read as {expected}", file.display())]
    WrongType {
        table: String,
        column: String,
        file: PathBuf,
        found: String,
        expected: String,
    },
    #[error("table `{table}` ({}), column `{column}`, row {row}: {problem}", file.display())]
    BadValue {
        table: String,
        column: String,
        file: PathBuf,
        /// 1-based data row (the header is not counted).
        row: usize,
        problem: String,
    },
    #[error("cannot read table `{table}` from {}: {source}", file.display())]
    Read {
        table: String,
        file: PathBuf,
        source: PolarsError,
    },
    #[error("cannot read table `{table}` from {}: {source}", file.display())]
    Io {
        table: String,
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("table `{table}`, column `{column}`, row {row}: {problem}")]
    InFrame {
        table: String,
        column: String,
        row: usize,
        problem: String,
    },
    #[error("table `{table}`: {source}")]
    Frame { table: String, source: PolarsError },
}
