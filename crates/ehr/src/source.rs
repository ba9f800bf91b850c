//! Which data source a database URL names (`data-sources.md`): a folder of table files, a
//! PostgreSQL schema, or a Spark database behind a Spark Connect server.

use std::path::{Path, PathBuf};

use crate::error::SourceError;

/// The environment variable naming the data source when `--database-url` is not given.
pub const DATABASE_URL_ENV: &str = "DATABASE_URL";

/// A data source, as named by a database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// A folder of table files (`file://PATH` or a bare path).
    Folder(PathBuf),
    /// `postgresql://…` / `postgres://…` (the URL as given).
    Postgres(String),
    /// `sc://…` (the URL as given).
    Spark(String),
}

impl DataSource {
    /// Classifies a database URL: `file://PATH` or a bare path (relative paths are taken
    /// from `base`), `postgresql://` / `postgres://`, or `sc://`.
    pub fn from_url(url: &str, base: &Path) -> Result<DataSource, SourceError> {
        let url = url.trim();
        if url.is_empty() {
            return Err(SourceError::BadUrl {
                url: String::new(),
                reason: "it is empty".to_string(),
            });
        }
        if url.starts_with("postgresql://") || url.starts_with("postgres://") {
            return Ok(DataSource::Postgres(url.to_string()));
        }
        if url.starts_with("sc://") {
            return Ok(DataSource::Spark(url.to_string()));
        }
        let path = if let Some(rest) = url.strip_prefix("file://") {
            rest
        } else if let Some((scheme, _)) = url.split_once("://") {
            return Err(SourceError::BadUrl {
                url: redact(url),
                reason: format!(
                    "`{scheme}://` is not a data source this toolkit reads (expected a folder, file://PATH, postgresql://… or sc://…)"
                ),
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

    /// The source for messages (a URL without its password).
    pub fn describe(&self) -> String {
        match self {
            DataSource::Folder(dir) => dir.display().to_string(),
            DataSource::Postgres(url) | DataSource::Spark(url) => redact(url),
        }
    }
}

/// `url` without a password or token: `scheme://user:***@host`, `;token=***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let rest = match rest.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => rest.to_string(),
        },
        None => rest.to_string(),
    };
    // Spark Connect parameters: `;token=...`.
    let rest = rest
        .split(';')
        .map(|part| match part.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("token") => format!("{k}=***"),
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";");
    format!("{scheme}://{rest}")
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
        assert!(matches!(
            DataSource::from_url("postgresql://me:pw@db/x", base).unwrap(),
            DataSource::Postgres(_)
        ));
        assert!(matches!(
            DataSource::from_url("sc://localhost:15002", base).unwrap(),
            DataSource::Spark(_)
        ));
        let e = DataSource::from_url("mssql://u:secret@db", base)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("mssql://u:***@db") && !e.contains("secret"),
            "{e}"
        );
        assert!(DataSource::from_url("  ", base).is_err());
        assert_eq!(
            redact("postgresql://me:p@ss@db:5432/x"),
            "postgresql://me:***@db:5432/x"
        );
        assert_eq!(
            redact("sc://host:443/;token=abc;x-databricks-cluster-id=1"),
            "sc://host:443/;token=***;x-databricks-cluster-id=1"
        );
    }
}
