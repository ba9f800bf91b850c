//! The CSV form of an extraction frame, as pandas' `to_csv(index=False)` writes it.

use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::OutputError;
use files::push_python_float_repr;

/// Flush the row buffer to the underlying writer once it holds this many bytes.
const FLUSH_AT: usize = 1 << 20;

/// Writes `df` as CSV (header, then one line per row) to `out`; `path` only names errors.
pub fn write_csv(df: &DataFrame, out: &mut dyn Write, path: &Path) -> Result<(), OutputError> {
    let mut writer = CsvWriter::new(out, path);
    writer.write_header(df)?;
    writer.write_rows(df)?;
    writer.flush()
}

/// A streaming CSV writer: one header, then any number of frames with the same columns.
pub struct CsvWriter<W: Write> {
    out: W,
    path: PathBuf,
    buf: Vec<u8>,
}

impl<W: Write> CsvWriter<W> {
    /// A writer to `out`; `path` only names errors.
    pub fn new(out: W, path: &Path) -> Self {
        CsvWriter {
            out,
            path: path.to_path_buf(),
            buf: Vec::with_capacity(FLUSH_AT + 4096),
        }
    }

    /// Writes the header line: the column names of `df`.
    pub fn write_header(&mut self, df: &DataFrame) -> Result<(), OutputError> {
        let names: Vec<&str> = df.columns().iter().map(|c| c.name().as_str()).collect();
        let single = names.len() == 1;
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            push_str_field(&mut self.buf, name, single);
        }
        self.buf.push(b'\n');
        self.flush_if_full()
    }

    /// Writes every row of `df`.
    pub fn write_rows(&mut self, df: &DataFrame) -> Result<(), OutputError> {
        let columns = df
            .columns()
            .iter()
            .map(|c| canonical(c, &self.path))
            .collect::<Result<Vec<_>, _>>()?;
        let mut cells = columns
            .iter()
            .map(|s| CellIter::new(s, &self.path))
            .collect::<Result<Vec<_>, _>>()?;
        let single = cells.len() == 1;
        for _ in 0..df.height() {
            for (i, cell) in cells.iter_mut().enumerate() {
                if i > 0 {
                    self.buf.push(b',');
                }
                cell.write_next(&mut self.buf, single);
            }
            self.buf.push(b'\n');
            self.flush_if_full()?;
        }
        Ok(())
    }

    /// Flushes buffered rows to the underlying writer.
    pub fn flush(&mut self) -> Result<(), OutputError> {
        self.out
            .write_all(&self.buf)
            .and_then(|()| self.out.flush())
            .map_err(|e| OutputError::io(&self.path, e))?;
        self.buf.clear();
        Ok(())
    }

    /// Flushes and returns the underlying writer.
    pub fn into_inner(mut self) -> Result<W, OutputError> {
        self.flush()?;
        Ok(self.out)
    }

    fn flush_if_full(&mut self) -> Result<(), OutputError> {
        if self.buf.len() >= FLUSH_AT {
            self.out
                .write_all(&self.buf)
                .map_err(|e| OutputError::io(&self.path, e))?;
            self.buf.clear();
        }
        Ok(())
    }
}

/// `column` as one of the types [`CellIter`] reads: other integer widths become Int64,
/// Float32 becomes Float64, categoricals become String; anything else is unsupported.
fn canonical(column: &Column, path: &Path) -> Result<Series, OutputError> {
    let series = column.as_materialized_series();
    let unsupported = || OutputError::UnsupportedColumn {
        path: path.to_path_buf(),
        column: column.name().to_string(),
        dtype: column.dtype().to_string(),
    };
    let target = match series.dtype() {
        DataType::Boolean
        | DataType::Int64
        | DataType::Float64
        | DataType::String
        | DataType::Date => return Ok(series.clone()),
        dtype if dtype.is_integer() => DataType::Int64,
        DataType::Float32 => DataType::Float64,
        DataType::Categorical(..) | DataType::Enum(..) => DataType::String,
        _ => return Err(unsupported()),
    };
    series.cast(&target).map_err(|_| unsupported())
}

/// One column's cells, in row order, already typed.
enum CellIter<'a> {
    Bool(Box<dyn Iterator<Item = Option<bool>> + 'a>),
    Int(Box<dyn Iterator<Item = Option<i64>> + 'a>),
    Float(Box<dyn Iterator<Item = Option<f64>> + 'a>),
    Str(Box<dyn Iterator<Item = Option<&'a str>> + 'a>),
    /// Days since 1970-01-01.
    Date(Box<dyn Iterator<Item = Option<i32>> + 'a>),
}

impl<'a> CellIter<'a> {
    fn new(series: &'a Series, path: &Path) -> Result<Self, OutputError> {
        let err = |source| OutputError::Polars {
            path: path.to_path_buf(),
            source,
        };
        Ok(match series.dtype() {
            DataType::Boolean => CellIter::Bool(Box::new(series.bool().map_err(err)?.iter())),
            DataType::Int64 => CellIter::Int(Box::new(series.i64().map_err(err)?.iter())),
            DataType::Float64 => CellIter::Float(Box::new(series.f64().map_err(err)?.iter())),
            DataType::String => CellIter::Str(Box::new(series.str().map_err(err)?.iter())),
            _ => CellIter::Date(Box::new(series.date().map_err(err)?.physical().iter())),
        })
    }

    fn write_next(&mut self, buf: &mut Vec<u8>, single: bool) {
        match self {
            CellIter::Bool(it) => match it.next().flatten() {
                Some(true) => buf.push(b'1'),
                Some(false) => buf.push(b'0'),
                None => push_empty(buf, single),
            },
            CellIter::Int(it) => match it.next().flatten() {
                Some(v) => push_int(buf, v),
                None => push_empty(buf, single),
            },
            CellIter::Float(it) => match it.next().flatten() {
                Some(v) if !v.is_nan() => push_python_float_repr(buf, v),
                _ => push_empty(buf, single),
            },
            CellIter::Str(it) => match it.next().flatten() {
                Some(v) => push_str_field(buf, v, single),
                None => push_empty(buf, single),
            },
            CellIter::Date(it) => match it.next().flatten() {
                Some(days) => push_date(buf, days),
                None => push_empty(buf, single),
            },
        }
    }
}

pub(crate) fn push_empty(buf: &mut Vec<u8>, single: bool) {
    if single {
        buf.extend_from_slice(b"\"\"");
    }
}

/// "00" to "99", for writing two digits at a time.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Plain decimal, without going through `fmt` (this is the writer's hot path).
#[inline]
pub(crate) fn push_int(buf: &mut Vec<u8>, v: i64) {
    let mut digits = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut i = digits.len();
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        i -= 2;
        digits[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        digits[i] = b'0' + n as u8;
    }
    if v < 0 {
        buf.push(b'-');
    }
    buf.extend_from_slice(&digits[i..]);
}

/// `YYYY-MM-DD` of a day count since 1970-01-01.
pub(crate) fn push_date(buf: &mut Vec<u8>, days: i32) {
    use chrono::Datelike;
    match chrono::NaiveDate::from_num_days_from_ce_opt(days + EPOCH_DAYS_FROM_CE) {
        Some(d) if (0..=9999).contains(&d.year()) => {
            let y = d.year() as u32;
            let (m, day) = (d.month(), d.day());
            buf.extend_from_slice(&[
                b'0' + (y / 1000) as u8,
                b'0' + (y / 100 % 10) as u8,
                b'0' + (y / 10 % 10) as u8,
                b'0' + (y % 10) as u8,
                b'-',
                b'0' + (m / 10) as u8,
                b'0' + (m % 10) as u8,
                b'-',
                b'0' + (day / 10) as u8,
                b'0' + (day % 10) as u8,
            ]);
        }
        Some(d) => {
            use std::io::Write as _;
            let _ = write!(buf, "{}", d.format("%Y-%m-%d"));
        }
        None => push_int(buf, i64::from(days)),
    }
}

/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
pub(crate) const EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// A string field, quoted (with `"` doubled) only when it holds `,`, `"`, `\r` or `\n`, or
/// when it is empty and the only field of its row (as Python's csv module writes it).
pub(crate) fn push_str_field(buf: &mut Vec<u8>, s: &str, single: bool) {
    if s.is_empty() {
        push_empty(buf, single);
    } else if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        buf.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_and_dates_match_their_display_forms() {
        for v in [
            0i64,
            7,
            -7,
            9,
            10,
            99,
            100,
            -100,
            101,
            1234567890,
            i64::MIN,
            i64::MAX,
        ] {
            let mut buf = Vec::new();
            push_int(&mut buf, v);
            assert_eq!(String::from_utf8(buf).unwrap(), v.to_string());
        }
        for (days, want) in [
            (0, "1970-01-01"),
            (-1, "1969-12-31"),
            (18_321, "2020-02-29"),
            (-719_162, "0001-01-01"),
            (2_932_896, "9999-12-31"),
        ] {
            let mut buf = Vec::new();
            push_date(&mut buf, days);
            assert_eq!(String::from_utf8(buf).unwrap(), want);
        }
    }
}
