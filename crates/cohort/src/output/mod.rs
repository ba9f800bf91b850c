//! Writers for `generate_cohort` outputs: one extraction frame per file, in the formats of
//! `spec/study-definition.md` ("Output of generate_cohort"), plus `--index-date-range`
//! parsing. File names and formats are the shared ones of `files::names`.
//!
//! Every writer goes through `files::PendingFile`: the bytes go to a temporary name in the
//! same folder, which is renamed to the final name only once complete.

mod batch;
mod csv;
mod dates;
mod error;
mod stream;

pub use self::csv::{write_csv, CsvWriter};
pub use batch::{to_frame, write_batch, write_csv as write_batch_csv};
pub use dates::parse_index_date_range;
pub use error::OutputError;
/// The format of a `generate_cohort` output (`--output-format`): the shared table formats.
pub use files::TableFormat as OutputFormat;
pub use stream::AppendingWriter;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use files::PendingFile;

use polars::prelude::*;

/// Writes `df` to `path` in `format`, atomically (temporary name, then rename).
///
/// CSV cells follow the contract: bool `0`/`1`, ints plain, floats as Python's `repr`, dates
/// `YYYY-MM-DD`, strings raw with minimal quoting, nulls empty, `\n` line endings.
pub fn write_frame(df: &DataFrame, path: &Path, format: OutputFormat) -> Result<(), OutputError> {
    let (pending, file) = PendingFile::create(path).map_err(|e| OutputError::io(path, e))?;
    write_frame_to(df, file, format, path)?;
    pending.commit().map_err(|e| OutputError::io(path, e))
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
        OutputFormat::Arrow | OutputFormat::Feather => {
            let mut df = df.clone();
            IpcWriter::new(BufWriter::new(file))
                .finish(&mut df)
                .map_err(polars_err)
        }
    }
}
