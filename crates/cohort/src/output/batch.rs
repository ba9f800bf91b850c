//! Writing an engine's rows for one index date ([`query::Batch`]): CSV (as pandas'
//! `to_csv(index=False)` writes it), CSV.gz, Parquet, Arrow/Feather. Dates are written in
//! their column's `date_format` here, not in the query.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use files::{push_python_float_repr, PendingFile};
use polars::prelude::*;
use query::{Batch, ColumnData, StrColumn};

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

/// Rows formatted together as one piece of the file.
const CHUNK_ROWS: usize = 16 * 1024;

/// Writes `batch` as CSV: a header, then one line per patient.
///
/// Chunks of rows are formatted in parallel on the rayon pool (a few at a time, so memory
/// stays bounded) and written in order, so the bytes do not depend on the thread count.
pub fn write_csv(
    batch: &Batch,
    columns: &[OutputColumn],
    out: &mut dyn Write,
    path: &Path,
) -> Result<(), OutputError> {
    use rayon::prelude::*;
    let io = |e| OutputError::io(path, e);
    let mut header: Vec<u8> = Vec::with_capacity(256);
    header.extend_from_slice(b"patient_id");
    for c in columns {
        header.push(b',');
        push_str_field(&mut header, &c.name, false);
    }
    header.push(b'\n');
    out.write_all(&header).map_err(io)?;

    let cells: Vec<Cells<'_>> = batch
        .columns
        .iter()
        .zip(columns)
        .map(|(data, c)| Cells::new(data, c))
        .collect();
    let rows = batch.len();
    let chunks = rows.div_ceil(CHUNK_ROWS);
    // Up to this many chunks are formatted at once.
    let wave = (rayon::current_num_threads() * 2).max(1);
    let mut first = 0;
    while first < chunks {
        let last = (first + wave).min(chunks);
        let pieces: Vec<Vec<u8>> = (first..last)
            .into_par_iter()
            .map(|chunk| {
                let from = chunk * CHUNK_ROWS;
                let to = (from + CHUNK_ROWS).min(rows);
                format_rows(&batch.patient_ids, &cells, from..to)
            })
            .collect();
        for piece in &pieces {
            out.write_all(piece).map_err(io)?;
        }
        first = last;
    }
    out.flush().map_err(io)
}

/// Rows `range` as CSV lines.
fn format_rows(patient_ids: &[i64], cells: &[Cells<'_>], range: std::ops::Range<usize>) -> Vec<u8> {
    // About 8 bytes per cell is a good first guess; the vector grows if not.
    let mut buf = Vec::with_capacity(range.len() * (8 + 8 * cells.len()));
    for row in range {
        push_int(&mut buf, patient_ids[row]);
        for cell in cells {
            buf.push(b',');
            cell.push(&mut buf, row);
        }
        buf.push(b'\n');
    }
    buf
}

/// One column, ready to write cell by cell.
enum Cells<'a> {
    Bool(&'a [Option<bool>]),
    Int(&'a [Option<i64>]),
    Float(&'a [Option<f64>]),
    /// Strings; `plain` when no value needs quoting.
    Str {
        column: &'a StrColumn,
        plain: bool,
    },
    /// Dates, with every distinct day's text made once.
    Date {
        days: &'a [Option<query::Date>],
        texts: DateTexts,
    },
}

impl<'a> Cells<'a> {
    fn new(data: &'a ColumnData, column: &OutputColumn) -> Cells<'a> {
        match data {
            ColumnData::Bool(v) => Cells::Bool(v),
            ColumnData::Int(v) => Cells::Int(v),
            ColumnData::Float(v) => Cells::Float(v),
            ColumnData::Str(v) => Cells::Str {
                column: v,
                plain: !v.bytes.iter().any(|b| needs_quotes(*b)),
            },
            ColumnData::Date(v) => Cells::Date {
                days: v,
                texts: DateTexts::new(v, column.date_format.unwrap_or(DateFormat::YearMonthDay)),
            },
        }
    }

    #[inline]
    fn push(&self, buf: &mut Vec<u8>, row: usize) {
        match self {
            Cells::Bool(v) => match v[row] {
                Some(true) => buf.push(b'1'),
                Some(false) => buf.push(b'0'),
                None => push_empty(buf, false),
            },
            Cells::Int(v) => match v[row] {
                Some(i) => push_int(buf, i),
                None => push_empty(buf, false),
            },
            Cells::Float(v) => match v[row] {
                Some(f) if !f.is_nan() => push_python_float_repr(buf, f),
                _ => push_empty(buf, false),
            },
            Cells::Str { column, plain } => {
                if column.valid[row] {
                    let bytes = &column.bytes[column.offsets[row]..column.offsets[row + 1]];
                    if *plain {
                        buf.extend_from_slice(bytes);
                    } else {
                        push_bytes_field(buf, bytes);
                    }
                }
            }
            Cells::Date { days, texts } => {
                if let Some(d) = days[row] {
                    texts.push(buf, d);
                }
            }
        }
    }
}

/// Whether a byte makes a CSV field need quotes.
fn needs_quotes(b: u8) -> bool {
    matches!(b, b',' | b'"' | b'\n' | b'\r')
}

/// A string field's bytes, quoted (with `"` doubled) when they hold `,`, `"`, `\r` or `\n`
/// (an empty field is empty: a batch row always has `patient_id` too).
fn push_bytes_field(buf: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.iter().any(|b| needs_quotes(*b)) {
        buf.push(b'"');
        for &b in bytes {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(bytes);
    }
}

/// The text of every day a date column holds, in its date format: a table over the days
/// from the column's first to its last when that span is small (it nearly always is), else
/// one formatting per cell.
struct DateTexts {
    format: DateFormat,
    /// The first day of `table`.
    first: i32,
    /// `(length, bytes)` per day from `first`.
    table: Vec<(u8, [u8; 10])>,
}

/// The largest span of days kept as a table (about 270 years; 11 bytes a day).
const DATE_TABLE_DAYS: i64 = 100_000;

impl DateTexts {
    fn new(days: &[Option<query::Date>], format: DateFormat) -> DateTexts {
        let (mut lo, mut hi) = (i32::MAX, i32::MIN);
        for d in days.iter().flatten() {
            lo = lo.min(d.0);
            hi = hi.max(d.0);
        }
        let mut texts = DateTexts {
            format,
            first: lo,
            table: Vec::new(),
        };
        if lo <= hi && i64::from(hi) - i64::from(lo) < DATE_TABLE_DAYS {
            texts.table = (lo..=hi)
                .map(|day| {
                    let text = format.query().format(query::Date(day));
                    let mut bytes = [0u8; 10];
                    match text.len() {
                        n @ 1..=10 => {
                            bytes[..n].copy_from_slice(text.as_bytes());
                            (n as u8, bytes)
                        }
                        // Does not fit (a year beyond 9999): formatted per cell instead.
                        _ => (0, bytes),
                    }
                })
                .collect();
        }
        texts
    }

    #[inline]
    fn push(&self, buf: &mut Vec<u8>, day: query::Date) {
        let at = i64::from(day.0) - i64::from(self.first);
        if let Some((n, bytes)) = usize::try_from(at).ok().and_then(|i| self.table.get(i)) {
            if *n > 0 {
                buf.extend_from_slice(&bytes[..usize::from(*n)]);
                return;
            }
        }
        buf.extend_from_slice(self.format.query().format(day).as_bytes());
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use query::Date;

    fn column(name: &str, ty: ColumnType, date_format: Option<DateFormat>) -> OutputColumn {
        OutputColumn {
            name: name.to_string(),
            ty,
            date_format,
        }
    }

    /// One cell as the contract writes it, the slow and obvious way.
    fn reference_cell(data: &ColumnData, c: &OutputColumn, row: usize) -> String {
        match data {
            ColumnData::Bool(v) => v[row].map_or(String::new(), |b| u8::from(b).to_string()),
            ColumnData::Int(v) => v[row].map_or(String::new(), |i| i.to_string()),
            ColumnData::Float(v) => v[row].map_or(String::new(), files::pandas_float_cell),
            ColumnData::Str(v) => match v.get(row) {
                Some(s) if s.contains([',', '"', '\n', '\r']) => {
                    format!("\"{}\"", s.replace('"', "\"\""))
                }
                Some(s) => s.to_string(),
                None => String::new(),
            },
            ColumnData::Date(v) => v[row].map_or(String::new(), |d| {
                c.date_format
                    .unwrap_or(DateFormat::YearMonthDay)
                    .query()
                    .format(d)
            }),
        }
    }

    #[test]
    fn chunks_join_into_the_rows_in_order_with_every_cell_as_the_contract_says() {
        // More rows than two chunks, every type, nulls, strings that need quotes, dates in all
        // three formats, one date column spanning too many days for a table.
        let n = 2 * CHUNK_ROWS + 123;
        let words = [
            "plain",
            "",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "East of England",
        ];
        let mut strs = StrColumn::new();
        for i in 0..n {
            strs.push((i % 7 != 3).then(|| words[i % words.len()]));
        }
        let day = |i: usize| Date(17_000 + (i % 900) as i32);
        let batch = Batch {
            patient_ids: (0..n as i64).map(|i| i * 37 - 500).collect(),
            columns: vec![
                ColumnData::Bool((0..n).map(|i| (i % 5 != 0).then_some(i % 2 == 0)).collect()),
                ColumnData::Int(
                    (0..n)
                        .map(|i| (i % 11 != 0).then_some((i as i64 - 9_000) * 1_001))
                        .collect(),
                ),
                ColumnData::Float(
                    (0..n)
                        .map(|i| match i % 6 {
                            0 => None,
                            1 => Some(f64::NAN),
                            _ => Some((i as f64 - 777.0) / 8.0 * 1e-3),
                        })
                        .collect(),
                ),
                ColumnData::Str(strs),
                ColumnData::Date((0..n).map(|i| (i % 4 != 0).then(|| day(i))).collect()),
                ColumnData::Date((0..n).map(|i| Some(day(i))).collect()),
                ColumnData::Date((0..n).map(|i| Some(day(i))).collect()),
                ColumnData::Date(
                    (0..n)
                        .map(|i| (i % 3 != 0).then(|| Date(-700_000 + (i as i32) * 50)))
                        .collect(),
                ),
            ],
        };
        let columns = vec![
            column("flag", ColumnType::Bool, None),
            column("count", ColumnType::Int, None),
            column("value", ColumnType::Float, None),
            column("name, quoted", ColumnType::Str, None),
            column("day", ColumnType::Date, None),
            column("month", ColumnType::Date, Some(DateFormat::YearMonth)),
            column("year", ColumnType::Date, Some(DateFormat::Year)),
            column("wide", ColumnType::Date, Some(DateFormat::YearMonthDay)),
        ];
        let mut want =
            String::from("patient_id,flag,count,value,\"name, quoted\",day,month,year,wide\n");
        for row in 0..n {
            want.push_str(&batch.patient_ids[row].to_string());
            for (data, c) in batch.columns.iter().zip(&columns) {
                want.push(',');
                want.push_str(&reference_cell(data, c, row));
            }
            want.push('\n');
        }
        let mut got = Vec::new();
        write_csv(&batch, &columns, &mut got, Path::new("t.csv")).unwrap();
        let got = String::from_utf8(got).unwrap();
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
            assert_eq!(g, w, "line {i}");
        }
        assert_eq!(got, want);

        // No rows: the header alone.
        let empty = Batch {
            patient_ids: Vec::new(),
            columns: vec![ColumnData::Int(Vec::new())],
        };
        let mut got = Vec::new();
        write_csv(&empty, &columns[1..2], &mut got, Path::new("t.csv")).unwrap();
        assert_eq!(got, b"patient_id,count\n");
    }
}
