//! Writing an engine's rows for one index date ([`query::Batch`]): CSV (as pandas'
//! `to_csv(index=False)` writes it), CSV.gz, Parquet, Arrow/Feather. Dates are written in
//! their column's `date_format` here, not in the query.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use files::{python_float_repr, PendingFile};
use polars::prelude::*;
use query::{Batch, ColumnData};

use super::csv::{push_empty, push_int, push_str_field};
use super::{OutputError, OutputFormat};
use crate::lang::{ColumnType, DateFormat, OutputColumn};

/// Writes `batch` (columns described by `columns`) to `path` in `format`, atomically.
pub fn write_batch(
    batch: &Batch,
    columns: &[OutputColumn],
    path: &Path,
    format: OutputFormat,
) -> Result<(), OutputError> {
    let (pending, file) = PendingFile::create(path).map_err(|e| OutputError::io(path, e))?;
    write_batch_to(batch, columns, file, format, path)?;
    pending.commit().map_err(|e| OutputError::io(path, e))
}

fn write_batch_to(
    batch: &Batch,
    columns: &[OutputColumn],
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
            write_csv(batch, columns, &mut out, path)?;
            out.flush().map_err(|e| OutputError::io(path, e))
        }
        OutputFormat::CsvGz => {
            let buffered = BufWriter::with_capacity(1 << 20, file);
            let mut gz = flate2::write::GzEncoder::new(buffered, flate2::Compression::new(6));
            write_csv(batch, columns, &mut gz, path)?;
            let mut inner = gz.finish().map_err(|e| OutputError::io(path, e))?;
            inner.flush().map_err(|e| OutputError::io(path, e))
        }
        OutputFormat::Parquet => {
            let mut df = to_frame(batch, columns).map_err(polars_err)?;
            ParquetWriter::new(BufWriter::new(file))
                .finish(&mut df)
                .map(|_| ())
                .map_err(polars_err)
        }
        _ => {
            let mut df = to_frame(batch, columns).map_err(polars_err)?;
            IpcWriter::new(BufWriter::new(file))
                .finish(&mut df)
                .map_err(polars_err)
        }
    }
}

/// Flush the row buffer once it holds this many bytes.
const FLUSH_AT: usize = 1 << 20;

/// Writes `batch` as CSV: a header, then one line per patient.
pub fn write_csv(
    batch: &Batch,
    columns: &[OutputColumn],
    out: &mut dyn Write,
    path: &Path,
) -> Result<(), OutputError> {
    let mut buf: Vec<u8> = Vec::with_capacity(FLUSH_AT + 4096);
    let io = |e| OutputError::io(path, e);
    buf.extend_from_slice(b"patient_id");
    for c in columns {
        buf.push(b',');
        push_str_field(&mut buf, &c.name, false);
    }
    buf.push(b'\n');
    // Dates are formatted once per distinct day (most columns repeat few days).
    let mut date_cache: Vec<std::collections::HashMap<i32, String>> =
        vec![std::collections::HashMap::new(); columns.len()];
    for row in 0..batch.len() {
        push_int(&mut buf, batch.patient_ids[row]);
        for (j, (data, c)) in batch.columns.iter().zip(columns).enumerate() {
            buf.push(b',');
            match data {
                ColumnData::Bool(v) => match v[row] {
                    Some(true) => buf.push(b'1'),
                    Some(false) => buf.push(b'0'),
                    None => push_empty(&mut buf, false),
                },
                ColumnData::Int(v) => match v[row] {
                    Some(i) => push_int(&mut buf, i),
                    None => push_empty(&mut buf, false),
                },
                ColumnData::Float(v) => match v[row] {
                    Some(f) if !f.is_nan() => {
                        buf.extend_from_slice(python_float_repr(f).as_bytes());
                    }
                    _ => push_empty(&mut buf, false),
                },
                ColumnData::Str(v) => match v.get(row) {
                    Some(s) => push_str_field(&mut buf, s, false),
                    None => push_empty(&mut buf, false),
                },
                ColumnData::Date(v) => match v[row] {
                    Some(d) => {
                        let format = c.date_format.unwrap_or(DateFormat::YearMonthDay);
                        let text = date_cache[j]
                            .entry(d.0)
                            .or_insert_with(|| format.query().format(d));
                        buf.extend_from_slice(text.as_bytes());
                    }
                    None => push_empty(&mut buf, false),
                },
            }
        }
        buf.push(b'\n');
        if buf.len() >= FLUSH_AT {
            out.write_all(&buf).map_err(io)?;
            buf.clear();
        }
    }
    out.write_all(&buf).map_err(io)?;
    out.flush().map_err(io)
}

/// `batch` as a polars frame: `patient_id` then the columns, dates as their formatted
/// strings (empty when missing), as earlier versions wrote Parquet and Arrow files.
pub fn to_frame(batch: &Batch, columns: &[OutputColumn]) -> PolarsResult<DataFrame> {
    let mut cols = vec![Column::new("patient_id".into(), batch.patient_ids.clone())];
    for (data, c) in batch.columns.iter().zip(columns) {
        let name: PlSmallStr = c.name.as_str().into();
        cols.push(match data {
            ColumnData::Bool(v) => Column::new(name, v.clone()),
            ColumnData::Int(v) => Column::new(name, v.clone()),
            ColumnData::Float(v) => Column::new(name, v.clone()),
            ColumnData::Str(v) => {
                Column::new(name, (0..v.len()).map(|i| v.get(i)).collect::<Vec<_>>())
            }
            ColumnData::Date(v) => {
                let format = c.date_format.unwrap_or(DateFormat::YearMonthDay);
                Column::new(
                    name,
                    v.iter()
                        .map(|d| d.map_or(String::new(), |d| format.query().format(d)))
                        .collect::<Vec<_>>(),
                )
            }
        });
        debug_assert!(c.ty != ColumnType::Date || matches!(data, ColumnData::Date(_)));
    }
    DataFrame::new_infer_height(cols)
}
