use std::path::PathBuf;

use polars::prelude::PolarsError;

/// Why tables could not be loaded from a data source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The database URL does not parse.
    #[error("invalid database URL `{url}`: {reason}")]
    BadUrl {
        /// The URL, without its password.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The folder does not exist.
    #[error("data source folder {} does not exist or is not a folder", .0.display())]
    NoFolder(PathBuf),
    /// No file holds the table.
    #[error("table `{table}` is missing from {}: expected one of {table}.parquet, {table}.arrow, {table}.csv, {table}.csv.gz", dir.display())]
    MissingTable {
        /// The table.
        table: String,
        /// The folder.
        dir: PathBuf,
    },
    /// Two files hold the table.
    #[error("table `{table}` is given twice in {}: {} and {}", dir.display(), first.display(), second.display())]
    AmbiguousTable {
        /// The table.
        table: String,
        /// The folder.
        dir: PathBuf,
        /// One file.
        first: PathBuf,
        /// Another.
        second: PathBuf,
    },
    /// A table the contract does not define.
    #[error("`{table}` is not a table of the data-source contract")]
    UnknownTable {
        /// The name asked for.
        table: String,
    },
    /// The file lacks a column.
    #[error("table `{table}` ({}) has no column `{column}`", file.display())]
    MissingColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The file.
        file: PathBuf,
    },
    /// A column of the wrong type.
    #[error("table `{table}` ({}), column `{column}`: type {found} cannot be read as {expected}", file.display())]
    WrongType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The file.
        file: PathBuf,
        /// The stored type.
        found: String,
        /// The contract's type.
        expected: String,
    },
    /// A value that does not parse, or breaks a rule of the contract.
    #[error("table `{table}` ({}), column `{column}`, row {row}: {problem}", file.display())]
    BadValue {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The file.
        file: PathBuf,
        /// 1-based data row (the header is not counted).
        row: usize,
        /// What is wrong.
        problem: String,
    },
    /// The file cannot be parsed.
    #[error("cannot read table `{table}` from {}: {source}", file.display())]
    Read {
        /// The table.
        table: String,
        /// The file.
        file: PathBuf,
        /// The reader's error.
        source: PolarsError,
    },
    /// The file cannot be opened.
    #[error("cannot read table `{table}` from {}: {source}", file.display())]
    Io {
        /// The table.
        table: String,
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}
