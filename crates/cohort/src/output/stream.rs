//! One output file written in parts: the batches of one index date from successive patient
//! partitions, appended in order (CSV: one header; CSV.gz: one gzip stream; Parquet and
//! Arrow: one batched writer, a row group or record batch per part), under a temporary name
//! renamed only by [`AppendingWriter::finish`]. Dropped unfinished, it leaves no file.
//!
//! With a single part the bytes are those of [`super::write_batch`].

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use files::PendingFile;
use flate2::write::GzEncoder;
use polars::prelude::*;
use query::Batch;

use super::batch::{to_frame, write_csv};
use super::{OutputError, OutputFormat};
use crate::lang::OutputColumn;

enum Sink {
    Csv(BufWriter<File>),
    CsvGz(GzEncoder<BufWriter<File>>),
    Parquet(Box<polars::io::parquet::write::BatchedWriter<BufWriter<File>>>),
    Arrow(polars::io::ipc::BatchedWriter<BufWriter<File>>),
}

/// An output file being written part by part.
pub struct AppendingWriter {
    path: PathBuf,
    format: OutputFormat,
    columns: Vec<OutputColumn>,
    pending: PendingFile,
    /// The open file until the first part decides the writer.
    file: Option<File>,
    sink: Option<Sink>,
    /// The CSV header's length: later parts skip it.
    header_len: usize,
}

/// Writes through to `inner`, dropping the first `skip` bytes.
struct Skip<'a> {
    inner: &'a mut dyn Write,
    skip: usize,
}

impl Write for Skip<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let dropped = self.skip.min(buf.len());
        self.skip -= dropped;
        if dropped < buf.len() {
            self.inner.write_all(&buf[dropped..])?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl AppendingWriter {
    /// Starts `path` (its temporary file) for rows of `columns` in `format`.
    pub fn create(
        path: &Path,
        columns: &[OutputColumn],
        format: OutputFormat,
    ) -> Result<AppendingWriter, OutputError> {
        let (pending, file) = PendingFile::create(path).map_err(|e| OutputError::io(path, e))?;
        Ok(AppendingWriter {
            path: path.to_path_buf(),
            format,
            columns: columns.to_vec(),
            pending,
            file: Some(file),
            sink: None,
            header_len: 0,
        })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `batch`'s rows (patients after those of earlier parts).
    pub fn append(&mut self, batch: &Batch) -> Result<(), OutputError> {
        let path = self.path.clone();
        let polars_err = |source: PolarsError| OutputError::Polars {
            path: path.clone(),
            source,
        };
        let first = self.sink.is_none();
        if let Some(file) = self.file.take() {
            let out = BufWriter::with_capacity(1 << 20, file);
            self.sink = Some(match self.format {
                OutputFormat::Csv => Sink::Csv(out),
                OutputFormat::CsvGz => {
                    Sink::CsvGz(GzEncoder::new(out, flate2::Compression::new(6)))
                }
                OutputFormat::Parquet => {
                    let df = to_frame(batch, &self.columns).map_err(polars_err)?;
                    Sink::Parquet(Box::new(
                        ParquetWriter::new(out)
                            .batched(df.schema())
                            .map_err(polars_err)?,
                    ))
                }
                OutputFormat::Arrow | OutputFormat::Feather => {
                    let df = to_frame(batch, &self.columns).map_err(polars_err)?;
                    Sink::Arrow(
                        IpcWriter::new(out)
                            .batched(df.schema(), default_fields(df.schema()))
                            .map_err(polars_err)?,
                    )
                }
            });
            if matches!(self.format, OutputFormat::Csv | OutputFormat::CsvGz) {
                let empty = Batch {
                    patient_ids: Vec::new(),
                    columns: self
                        .columns
                        .iter()
                        .zip(&batch.columns)
                        .map(|(_, c)| query::ColumnData::new(c.ty()))
                        .collect(),
                };
                let mut header = Vec::new();
                write_csv(&empty, &self.columns, &mut header, &self.path)?;
                self.header_len = header.len();
            }
        }
        let skip = if first { 0 } else { self.header_len };
        match self.sink.as_mut() {
            Some(Sink::Csv(out)) => write_csv(
                batch,
                &self.columns,
                &mut Skip { inner: out, skip },
                &self.path,
            ),
            Some(Sink::CsvGz(out)) => write_csv(
                batch,
                &self.columns,
                &mut Skip { inner: out, skip },
                &self.path,
            ),
            Some(Sink::Parquet(w)) => {
                let df = to_frame(batch, &self.columns).map_err(polars_err)?;
                w.write_batch(&df).map_err(polars_err)
            }
            Some(Sink::Arrow(w)) => {
                let mut df = to_frame(batch, &self.columns).map_err(polars_err)?;
                df.rechunk_mut();
                w.write_batch(&df).map_err(polars_err)
            }
            None => Ok(()),
        }
    }

    /// Completes the file (an empty part first when nothing was appended, so it has its
    /// header or schema) and renames it to its final path.
    pub fn finish(mut self, empty: &Batch) -> Result<(), OutputError> {
        if self.sink.is_none() {
            self.append(empty)?;
        }
        let path = self.path.clone();
        let io = |e| OutputError::io(&path, e);
        let polars_err = |source: PolarsError| OutputError::Polars {
            path: path.clone(),
            source,
        };
        match self.sink.take() {
            Some(Sink::Csv(mut out)) => out.flush().map_err(io)?,
            Some(Sink::CsvGz(gz)) => gz.finish().map_err(io)?.flush().map_err(io)?,
            Some(Sink::Parquet(w)) => {
                w.finish().map_err(polars_err)?;
            }
            Some(Sink::Arrow(mut w)) => w.finish().map_err(polars_err)?,
            None => {}
        }
        self.pending.commit().map_err(io)
    }
}

fn default_fields(schema: &Schema) -> Vec<polars_arrow::io::ipc::IpcField> {
    let arrow_schema = schema.to_arrow(CompatLevel::newest());
    polars_arrow::io::ipc::write::default_ipc_fields(arrow_schema.iter_values())
}
