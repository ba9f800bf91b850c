//! Data sources: where `generate_cohort` reads the EHR tables of `spec/data-sources.md` from.
//!
//! A source is named by a database URL (`--database-url` or `DATABASE_URL`): `file://PATH` or
//! a bare folder path holds one file per table (`<table>.parquet`, `.arrow`, `.csv` or
//! `.csv.gz`); `postgresql://…` is recognised but not supported yet. [`load_tables`] reads a
//! folder into [`TableFrames`] with the contract's dtypes, and [`frames_to_rows`] turns them
//! into the row form the reference interpreter reads.

mod error;
mod load;
mod parse;
mod rows;

use std::path::{Path, PathBuf};

pub use error::SourceError;
pub use load::{load_table, load_tables};
pub use rows::frames_to_rows;

use crate::tables::TableFrames;

/// The environment variable naming the data source when `--database-url` is not given.
pub const DATABASE_URL_ENV: &str = "DATABASE_URL";

/// A data source, as named by a database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// A folder of table files.
    Folder(PathBuf),
}

impl DataSource {
    /// Parses a database URL: `file://PATH`, a bare path (relative paths are taken from
    /// `base`), or `postgresql://…` / `postgres://…` (an error: not supported yet).
    pub fn from_url(url: &str, base: &Path) -> Result<DataSource, SourceError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(SourceError::BadUrl {
                url: url.to_string(),
                reason: "it is empty".to_string(),
            });
        }
        if url.starts_with("postgresql://") || url.starts_with("postgres://") {
            return Err(SourceError::Unsupported {
                url: redact(url),
                scheme: "postgresql".to_string(),
            });
        }
        let path = if let Some(rest) = url.strip_prefix("file://") {
            rest
        } else if let Some((scheme, _)) = url.split_once("://") {
            return Err(SourceError::Unsupported {
                url: redact(url),
                scheme: scheme.to_string(),
            });
        } else {
            url
        };
        Ok(DataSource::Folder(base.join(path)))
    }

    /// The database URL to use: the flag if given, else `DATABASE_URL` if set and non-empty.
    pub fn url_from_flag_or_env(flag: Option<&str>) -> Option<String> {
        flag.map(str::to_string).or_else(|| {
            std::env::var(DATABASE_URL_ENV)
                .ok()
                .filter(|v| !v.trim().is_empty())
        })
    }

    /// Loads every table of the source.
    pub fn load(&self) -> Result<TableFrames, SourceError> {
        match self {
            DataSource::Folder(dir) => load_tables(dir),
        }
    }
}

/// `url` without a password (`scheme://user:secret@host` → `scheme://user:***@host`), for
/// error messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let base = Path::new("/project");
        assert_eq!(
            DataSource::from_url("file:///data/ehr", base).unwrap(),
            DataSource::Folder("/data/ehr".into())
        );
        assert_eq!(
            DataSource::from_url("ehr", base).unwrap(),
            DataSource::Folder("/project/ehr".into())
        );
        assert_eq!(
            DataSource::from_url("file://ehr", base).unwrap(),
            DataSource::Folder("/project/ehr".into())
        );
        let e = DataSource::from_url("postgresql://me:pw@db/x", base)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not supported yet"), "{e}");
        assert!(!e.contains("pw"), "password leaked: {e}");
        assert!(DataSource::from_url("mssql://db", base).is_err());
        assert!(DataSource::from_url("  ", base).is_err());
    }
}
