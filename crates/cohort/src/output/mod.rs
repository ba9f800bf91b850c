//! Writers for `generate_cohort` outputs: one extraction frame per file, in the formats of
//! `spec/study-definition.md` ("Output of generate_cohort"), plus file naming and
//! `--index-date-range` parsing.
//!
//! Every writer goes through [`atomic_write`]: the bytes go to a temporary name in the same
//! folder, which is renamed to the final name only once complete.

mod csv;
mod dates;
mod error;
mod format;

pub use self::csv::{write_csv, CsvWriter};
pub use dates::{output_file_name, parse_index_date_range};
pub use error::OutputError;
pub use format::OutputFormat;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;

/// Writes `df` to `path` in `format`, atomically (temporary name, then rename).
///
/// CSV cells follow the contract: bool `0`/`1`, ints plain, floats as Python's `repr`, dates
/// `YYYY-MM-DD`, strings raw with minimal quoting, nulls empty, `\n` line endings.
pub fn write_frame(df: &DataFrame, path: &Path, format: OutputFormat) -> Result<(), OutputError> {
    atomic_write(path, |file| write_frame_to(df, file, format, path))
}

/// Writes `df` in `format` to an open writer (no renaming); `path` only names errors.
fn write_frame_to(
    df: &DataFrame,
    file: File,
    format: OutputFormat,
    path: &Path,
) -> Result<(), OutputError> {
    let polars_err = |source: PolarsError| OutputError::Polars {
        path: path.to_path_buf(),
        source,
    };
    match format {
        OutputFormat::Csv => {
            let mut out = BufWriter::with_capacity(1 << 20, file);
            write_csv(df, &mut out, path)?;
            out.flush().map_err(|e| OutputError::io(path, e))
        }
        OutputFormat::CsvGz => {
            let buffered = BufWriter::with_capacity(1 << 20, file);
            let mut gz = flate2::write::GzEncoder::new(buffered, flate2::Compression::new(6));
            write_csv(df, &mut gz, path)?;
            let mut inner = gz.finish().map_err(|e| OutputError::io(path, e))?;
            inner.flush().map_err(|e| OutputError::io(path, e))
        }
        OutputFormat::Parquet => {
            let mut df = df.clone();
            ParquetWriter::new(BufWriter::new(file))
                .finish(&mut df)
                .map(|_| ())
                .map_err(polars_err)
        }
        OutputFormat::Arrow => {
            let mut df = df.clone();
            IpcWriter::new(BufWriter::new(file))
                .finish(&mut df)
                .map_err(polars_err)
        }
    }
}

/// Runs `write` on a fresh temporary file next to `path` and renames it to `path` when `write`
/// succeeds; on failure the temporary file is removed and `path` is left untouched.
pub fn atomic_write<F>(path: &Path, write: F) -> Result<(), OutputError>
where
    F: FnOnce(File) -> Result<(), OutputError>,
{
    let (pending, file) = PendingFile::create(path)?;
    write(file)?;
    pending.commit()
}

/// A file being written under a temporary name next to its final path; [`PendingFile::commit`]
/// renames it into place, and dropping it uncommitted removes it.
pub struct PendingFile {
    tmp: PathBuf,
    path: PathBuf,
    committed: bool,
}

impl PendingFile {
    /// Creates the temporary file for `path` and returns it with its handle.
    pub fn create(path: &Path) -> Result<(PendingFile, File), OutputError> {
        let tmp = temporary_path(path)?;
        let file = File::create(&tmp).map_err(|e| OutputError::io(&tmp, e))?;
        Ok((
            PendingFile {
                tmp,
                path: path.to_path_buf(),
                committed: false,
            },
            file,
        ))
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Renames the (complete, closed) temporary file to the final path.
    pub fn commit(mut self) -> Result<(), OutputError> {
        std::fs::rename(&self.tmp, &self.path).map_err(|e| OutputError::io(&self.path, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// `DIR/.NAME.PID.tmp` for `DIR/NAME`: same folder (so the rename is atomic), hidden, and never
/// matching an output glob such as `input_*.csv`.
fn temporary_path(path: &Path) -> Result<PathBuf, OutputError> {
    let name = path
        .file_name()
        .ok_or_else(|| OutputError::NotAFile(path.to_path_buf()))?
        .to_string_lossy();
    Ok(path.with_file_name(format!(".{name}.{}.tmp", std::process::id())))
}
