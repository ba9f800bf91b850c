//! Large results through Parquet files: the cluster's executors write the result into a folder
//! the client can read too (a local cluster's filesystem, a mounted volume, `/dbfs/…`),
//! partitioned by index date, and the client reads each date's files in name order. The result
//! then skips the driver and the gRPC stream, and the client holds one date at a time.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use polars_buffer::Buffer;
use polars_parquet::read::{
    column_iter_to_arrays, infer_schema, read_metadata, BasicDecompressor, PageReader,
};
use query::{Type, Value};

use crate::arrow::{emit_rows, values};

/// Rows of the largest index date above which a result goes through Parquet, when a result
/// folder is given without `parquet_rows`. Measured on a local cluster (BENCHMARKS.md, issue
/// 14): Parquet saves about 1.3 µs a row over Arrow batches (888,000 rows a date: 37 s against
/// 65 s for 25 dates) and costs about 0.3 s a date in files, so it pays from about 250,000.
pub const DEFAULT_PARQUET_ROWS: u64 = 250_000;

/// Where large results go, and from what size: the `result_dir`, `result_dir_on_cluster` and
/// `parquet_rows` parameters of an `sc://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParquetResults {
    /// The folder as this client reads it (an absolute path).
    pub dir: PathBuf,
    /// The same folder as the cluster names it: `file:/…` (the default, `dir` itself),
    /// `dbfs:/…` for a client that sees it as `/dbfs/…`, `s3a://…` for a mounted bucket.
    pub cluster_dir: String,
    /// A result goes through Parquet when an index date has more than this many rows (0: every
    /// non-empty result).
    pub min_rows: u64,
}

impl ParquetResults {
    /// Results larger than [`DEFAULT_PARQUET_ROWS`] rows on an index date go to `dir`, which the
    /// cluster sees at the same path.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        ParquetResults {
            cluster_dir: format!("file:{}", dir.display()),
            dir,
            min_rows: DEFAULT_PARQUET_ROWS,
        }
    }

    /// Sets the row threshold.
    pub fn with_min_rows(mut self, rows: u64) -> Self {
        self.min_rows = rows;
        self
    }

    /// Reads the URL's options ([`spark_connect::ConnectUrl::options`]); `None` without
    /// `result_dir`.
    pub fn from_url_options(options: &[(String, String)]) -> Result<Option<Self>, String> {
        let get = |name: &str| {
            options
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let Some(dir) = get("result_dir") else {
            if let Some(other) = ["result_dir_on_cluster", "parquet_rows"]
                .into_iter()
                .find(|n| get(n).is_some())
            {
                return Err(format!(
                    "{other} needs result_dir (the folder for large results)"
                ));
            }
            return Ok(None);
        };
        let dir = Path::new(dir);
        if !dir.is_absolute() {
            return Err(format!(
                "result_dir must be an absolute path (the cluster resolves it too), not `{}`",
                dir.display()
            ));
        }
        let mut results = ParquetResults::new(dir);
        if let Some(cluster) = get("result_dir_on_cluster") {
            if cluster.is_empty() {
                return Err("result_dir_on_cluster is empty".into());
            }
            results.cluster_dir = cluster.to_string();
        }
        if let Some(rows) = get("parquet_rows") {
            results.min_rows = rows.parse().map_err(|_| {
                format!("parquet_rows must be a whole number of rows, not `{rows}`")
            })?;
        }
        Ok(Some(results))
    }

    /// Checks that the client can use the folder: it must exist and be a folder it can list.
    pub fn check(&self) -> Result<(), String> {
        std::fs::read_dir(&self.dir).map(drop).map_err(|e| {
            format!(
                "result_dir {} is not a folder this client can read: {e}",
                self.dir.display()
            )
        })
    }

    /// The cluster's name for `name` inside the folder.
    pub fn on_cluster(&self, name: &str) -> String {
        format!("{}/{name}", self.cluster_dir.trim_end_matches('/'))
    }
}

/// A result folder the client removes when dropped (best effort: on the error paths).
pub(crate) struct ResultFolder {
    /// The folder as the client sees it.
    pub(crate) path: PathBuf,
}

impl ResultFolder {
    /// Removes the folder now, reporting failure.
    pub(crate) fn remove(self) -> Result<(), String> {
        let path = self.path.clone();
        std::mem::forget(self);
        match std::fs::remove_dir_all(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!(
                "cannot remove the result folder {}: {e}",
                path.display()
            )),
        }
    }
}

impl Drop for ResultFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The data files of a folder Spark wrote, in name order (the order of the tasks that wrote
/// them): every entry but the `_SUCCESS`, `_committed_…`, `.….crc` bookkeeping files.
pub(crate) fn data_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        files.push(entry.path());
    }
    files.sort();
    Ok(files)
}

/// Reads the rows of one Parquet file whose columns have `types`, calling `row` with each row's
/// values, in file order.
pub fn read_rows(
    path: &Path,
    types: &[Type],
    mut row: impl FnMut(&mut Vec<Value>) -> Result<(), String>,
) -> Result<(), String> {
    let context = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let bytes = std::fs::read(path).map_err(|e| context(&e))?;
    let buffer = Buffer::from(bytes);
    let metadata = read_metadata(&mut Cursor::new(buffer.as_ref())).map_err(|e| context(&e))?;
    let schema = infer_schema(&metadata).map_err(|e| context(&e))?;
    if schema.len() != types.len() {
        return Err(context(&format!(
            "{} columns where {} were expected",
            schema.len(),
            types.len()
        )));
    }
    for group in &metadata.row_groups {
        let mut columns: Vec<Vec<Value>> = Vec::with_capacity(types.len());
        for (field, ty) in schema.iter_values().zip(types) {
            let chunks = group
                .columns_under_root_iter(&field.name)
                .ok_or_else(|| context(&format!("no data for column {}", field.name)))?;
            let (pages, primitive_types): (Vec<_>, Vec<_>) = chunks
                .map(|meta| {
                    let range = meta.byte_range();
                    let chunk = buffer
                        .clone()
                        .sliced(range.start as usize..range.end as usize);
                    let pages = PageReader::new(Cursor::new(chunk), meta, Vec::new(), usize::MAX);
                    (
                        BasicDecompressor::new(pages, Vec::new()),
                        &meta.descriptor().descriptor.primitive_type,
                    )
                })
                .unzip();
            let (arrays, _) = column_iter_to_arrays(pages, primitive_types, field.clone(), None)
                .map_err(|e| context(&format!("column {}: {e}", field.name)))?;
            let mut column = Vec::with_capacity(group.num_rows());
            for array in arrays {
                values(array.as_ref(), *ty, &mut column)
                    .map_err(|e| context(&format!("column {}: {e}", field.name)))?;
            }
            columns.push(column);
        }
        emit_rows(columns, group.num_rows(), &mut row)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn url_options() {
        assert_eq!(ParquetResults::from_url_options(&[]), Ok(None));
        let p = ParquetResults::from_url_options(&options(&[("result_dir", "/mnt/r/")]))
            .unwrap()
            .unwrap();
        assert_eq!(p.dir, Path::new("/mnt/r/"));
        assert_eq!(p.min_rows, DEFAULT_PARQUET_ROWS);
        assert_eq!(p.on_cluster("x"), "file:/mnt/r/x");
        let p = ParquetResults::from_url_options(&options(&[
            ("result_dir", "/dbfs/tmp/sro"),
            ("result_dir_on_cluster", "dbfs:/tmp/sro"),
            ("parquet_rows", "0"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            (p.on_cluster("x").as_str(), p.min_rows),
            ("dbfs:/tmp/sro/x", 0)
        );
    }

    #[test]
    fn bad_url_options_are_named() {
        let error =
            |pairs: &[(&str, &str)]| ParquetResults::from_url_options(&options(pairs)).unwrap_err();
        assert!(error(&[("parquet_rows", "5")]).contains("parquet_rows needs result_dir"));
        assert!(error(&[("result_dir", "rel/dir")]).contains("absolute path"));
        assert!(error(&[("result_dir", "/r"), ("parquet_rows", "many")])
            .contains("parquet_rows must be a whole number of rows, not `many`"));
        assert!(error(&[("result_dir", "/r"), ("result_dir_on_cluster", "")]).contains("empty"));
    }
}
