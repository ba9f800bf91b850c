//! The columns of one input file that the measures need, read once for all measures.
//!
//! Group columns are kept as exact strings (dictionary-encoded, in first-seen order);
//! numerator and denominator columns as `f64`, the way cohortextractor loads them.

use std::path::Path;

use rustc_hash::FxHashMap;

use crate::discover::InputFile;
use crate::error::MeasuresError;
use files::TableFormat;

/// How a measure uses a column (for error messages).
#[derive(Debug, Clone)]
pub struct ColumnUse {
    /// The column name.
    pub name: String,
    /// Read as numbers (numerator or denominator of some measure).
    pub numeric: bool,
    /// Read as category strings (group_by of some measure).
    pub categorical: bool,
    /// `numerator of measure 'x'`, for error messages.
    pub role: String,
}

/// A dictionary-encoded string column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoryColumn {
    /// Per row, an index into `values`.
    pub codes: Vec<u32>,
    /// The distinct values, in the order first seen.
    pub values: Vec<String>,
}

/// The needed columns of one input file.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    /// Number of patients (rows).
    pub rows: usize,
    /// Group columns by name.
    pub categories: FxHashMap<String, CategoryColumn>,
    /// Numerator/denominator columns by name.
    pub numbers: FxHashMap<String, Vec<f64>>,
}

/// Builds a [`CategoryColumn`] one value at a time.
#[derive(Default)]
struct Interner {
    index: FxHashMap<Box<[u8]>, u32>,
    column: CategoryColumn,
}

impl Interner {
    fn push(&mut self, value: &[u8]) -> Result<(), String> {
        let code = match self.index.get(value) {
            Some(&code) => code,
            None => {
                let text = std::str::from_utf8(value)
                    .map_err(|_| "the value is not valid UTF-8".to_string())?;
                let code = u32::try_from(self.column.values.len())
                    .map_err(|_| "more than 2^32 distinct values".to_string())?;
                self.column.values.push(text.to_string());
                self.index.insert(value.into(), code);
                code
            }
        };
        self.column.codes.push(code);
        Ok(())
    }
}

/// Parses a numerator/denominator cell as pandas' float64 reader would accept it.
pub(crate) fn parse_number(text: &[u8]) -> Option<f64> {
    // Fast path: short runs of ASCII digits (0/1 flags, counts) are exact in f64.
    if !text.is_empty() && text.len() <= 15 && text.iter().all(u8::is_ascii_digit) {
        let mut v: u64 = 0;
        for &c in text {
            v = v * 10 + u64::from(c - b'0');
        }
        return Some(v as f64);
    }
    let s = std::str::from_utf8(text).ok()?.trim();
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

/// Reads the needed columns of `input`.
pub fn read_frame(input: &InputFile, needs: &[ColumnUse]) -> Result<Frame, MeasuresError> {
    match input.format {
        TableFormat::Csv => {
            let file =
                std::fs::File::open(&input.path).map_err(|e| MeasuresError::io(&input.path, e))?;
            read_csv(
                std::io::BufReader::with_capacity(1 << 20, file),
                &input.path,
                needs,
            )
        }
        TableFormat::CsvGz => {
            let file =
                std::fs::File::open(&input.path).map_err(|e| MeasuresError::io(&input.path, e))?;
            let gz = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file));
            read_csv(
                std::io::BufReader::with_capacity(1 << 20, gz),
                &input.path,
                needs,
            )
        }
        TableFormat::Parquet | TableFormat::Arrow | TableFormat::Feather => {
            columnar::read(input, needs)
        }
    }
}

fn missing_column(path: &Path, need: &ColumnUse, available: &[String]) -> MeasuresError {
    MeasuresError::MissingColumn {
        path: path.to_path_buf(),
        column: need.name.clone(),
        role: need.role.clone(),
        available: available.join(", "),
    }
}

/// Reads CSV with exact string semantics: no NA detection, `""` stays `""`.
pub fn read_csv<R: std::io::Read>(
    reader: R,
    path: &Path,
    needs: &[ColumnUse],
) -> Result<Frame, MeasuresError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(reader);
    let csv_error = |e: csv::Error| -> MeasuresError {
        let message = match e.kind() {
            csv::ErrorKind::Io(_) => format!("cannot read: {e}"),
            csv::ErrorKind::UnequalLengths {
                pos,
                expected_len,
                len,
            } => format!(
                "line {}: {len} fields, the header has {expected_len}",
                pos.as_ref().map_or(0, csv::Position::line)
            ),
            csv::ErrorKind::Utf8 { pos, .. } => format!(
                "line {}: invalid UTF-8",
                pos.as_ref().map_or(0, csv::Position::line)
            ),
            _ => format!("malformed CSV: {e}"),
        };
        MeasuresError::bad_input(path, message)
    };
    let header = csv.headers().map_err(csv_error)?.clone();
    let names: Vec<String> = header.iter().map(str::to_string).collect();
    if names.is_empty() || (names.len() == 1 && names[0].is_empty()) {
        return Err(MeasuresError::bad_input(
            path,
            "the file is empty (no header line)",
        ));
    }
    let mut cat_cols: Vec<(usize, Interner)> = Vec::new();
    let mut num_cols: Vec<(usize, Vec<f64>)> = Vec::new();
    let mut cat_names = Vec::new();
    let mut num_names = Vec::new();
    for need in needs {
        let positions: Vec<usize> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| **n == need.name)
            .map(|(i, _)| i)
            .collect();
        let idx = match positions.as_slice() {
            [] => return Err(missing_column(path, need, &names)),
            [one] => *one,
            _ => {
                return Err(MeasuresError::bad_input(
                    path,
                    format!(
                        "column '{}' appears more than once in the header",
                        need.name
                    ),
                ))
            }
        };
        if need.categorical {
            cat_cols.push((idx, Interner::default()));
            cat_names.push(need.name.clone());
        }
        if need.numeric {
            num_cols.push((idx, Vec::new()));
            num_names.push(need.name.clone());
        }
    }
    let mut record = csv::ByteRecord::new();
    let mut rows = 0usize;
    while csv.read_byte_record(&mut record).map_err(csv_error)? {
        let line = || record.position().map_or(0, csv::Position::line);
        for (idx, interner) in &mut cat_cols {
            interner.push(&record[*idx]).map_err(|message| {
                MeasuresError::bad_input(path, format!("line {}: {message}", line()))
            })?;
        }
        for (k, (idx, values)) in num_cols.iter_mut().enumerate() {
            let cell = &record[*idx];
            match parse_number(cell) {
                Some(v) => values.push(v),
                None => {
                    return Err(MeasuresError::NotANumber {
                        path: path.to_path_buf(),
                        location: format!("line {}", line()),
                        column: num_names[k].clone(),
                        value: String::from_utf8_lossy(cell).into_owned(),
                    })
                }
            }
        }
        rows += 1;
    }
    Ok(Frame {
        rows,
        categories: cat_names
            .into_iter()
            .zip(cat_cols)
            .map(|(n, (_, i))| (n, i.column))
            .collect(),
        numbers: num_names
            .into_iter()
            .zip(num_cols)
            .map(|(n, (_, v))| (n, v))
            .collect(),
    })
}

/// Parquet and Arrow IPC inputs, through polars.
mod columnar {
    use polars::prelude::*;

    use super::{missing_column, ColumnUse, Frame, Interner};
    use crate::discover::InputFile;
    use crate::error::MeasuresError;
    use files::TableFormat;

    fn open(input: &InputFile) -> Result<std::fs::File, MeasuresError> {
        std::fs::File::open(&input.path).map_err(|e| MeasuresError::io(&input.path, e))
    }

    pub(super) fn read(input: &InputFile, needs: &[ColumnUse]) -> Result<Frame, MeasuresError> {
        let path = &input.path;
        let polars_error =
            |e: PolarsError| MeasuresError::bad_input(path, format!("cannot read: {e}"));
        let names: Vec<String> = match input.format {
            TableFormat::Parquet => ParquetReader::new(open(input)?).schema(),
            _ => IpcReader::new(open(input)?).schema(),
        }
        .map_err(polars_error)?
        .iter_names()
        .map(polars::prelude::PlSmallStr::to_string)
        .collect();
        for need in needs {
            if !names.contains(&need.name) {
                return Err(missing_column(path, need, &names));
            }
        }
        let mut wanted: Vec<String> = Vec::new();
        for need in needs {
            if !wanted.contains(&need.name) {
                wanted.push(need.name.clone());
            }
        }
        let df = match input.format {
            TableFormat::Parquet => ParquetReader::new(open(input)?)
                .with_columns(Some(wanted))
                .finish(),
            _ => IpcReader::new(open(input)?)
                .with_columns(Some(wanted))
                .finish(),
        }
        .map_err(polars_error)?;
        let mut frame = Frame {
            rows: df.height(),
            ..Frame::default()
        };
        for need in needs {
            let series = df
                .column(&need.name)
                .map_err(polars_error)?
                .as_materialized_series()
                .clone();
            if need.categorical {
                frame
                    .categories
                    .insert(need.name.clone(), categories(&series, input, &need.name)?);
            }
            if need.numeric {
                frame
                    .numbers
                    .insert(need.name.clone(), numbers(&series, input, &need.name)?);
            }
        }
        Ok(frame)
    }

    /// Group values as the strings our CSV writer would have written (bool as `0`/`1`,
    /// floats in Python repr, null as `""`).
    fn categories(
        series: &Series,
        input: &InputFile,
        column: &str,
    ) -> Result<super::CategoryColumn, MeasuresError> {
        let path = &input.path;
        let polars_error =
            |e: PolarsError| MeasuresError::bad_input(path, format!("column '{column}': {e}"));
        let mut interner = Interner::default();
        let mut push = |v: &str| {
            interner
                .push(v.as_bytes())
                .map_err(|m| MeasuresError::bad_input(path, format!("column '{column}': {m}")))
        };
        match series.dtype() {
            DataType::Boolean => {
                for v in series.bool().map_err(polars_error)?.iter() {
                    push(match v {
                        Some(true) => "1",
                        Some(false) => "0",
                        None => "",
                    })?;
                }
            }
            DataType::Float32 | DataType::Float64 => {
                let cast = series.cast(&DataType::Float64).map_err(polars_error)?;
                for v in cast.f64().map_err(polars_error)?.iter() {
                    push(&v.map(files::python_float_repr).unwrap_or_default())?;
                }
            }
            _ => {
                let cast = series.cast(&DataType::String).map_err(polars_error)?;
                for v in cast.str().map_err(polars_error)?.iter() {
                    push(v.unwrap_or(""))?;
                }
            }
        }
        Ok(interner.column)
    }

    fn numbers(
        series: &Series,
        input: &InputFile,
        column: &str,
    ) -> Result<Vec<f64>, MeasuresError> {
        let path = &input.path;
        let polars_error =
            |e: PolarsError| MeasuresError::bad_input(path, format!("column '{column}': {e}"));
        let not_a_number = |row: usize, value: &str| MeasuresError::NotANumber {
            path: path.clone(),
            location: format!("row {row}"),
            column: column.to_string(),
            value: value.to_string(),
        };
        let mut out = Vec::with_capacity(series.len());
        match series.dtype() {
            DataType::String => {
                for (row, v) in series.str().map_err(polars_error)?.iter().enumerate() {
                    let v = v.unwrap_or("");
                    out.push(
                        super::parse_number(v.as_bytes()).ok_or_else(|| not_a_number(row, v))?,
                    );
                }
            }
            dt if dt.is_bool() || dt.is_primitive_numeric() => {
                let cast = series.cast(&DataType::Float64).map_err(polars_error)?;
                for (row, v) in cast.f64().map_err(polars_error)?.iter().enumerate() {
                    match v {
                        Some(v) if v.is_finite() => out.push(v),
                        Some(v) => return Err(not_a_number(row, &v.to_string())),
                        None => return Err(not_a_number(row, "null")),
                    }
                }
            }
            other => {
                return Err(MeasuresError::bad_input(
                    path,
                    format!("column '{column}' has type {other}, not a number"),
                ))
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(cats: &[&str], nums: &[&str]) -> Vec<ColumnUse> {
        let mut v: Vec<ColumnUse> = cats
            .iter()
            .map(|c| ColumnUse {
                name: c.to_string(),
                numeric: false,
                categorical: true,
                role: "group_by".into(),
            })
            .collect();
        v.extend(nums.iter().map(|c| ColumnUse {
            name: c.to_string(),
            numeric: true,
            categorical: false,
            role: "numerator".into(),
        }));
        v
    }

    #[test]
    fn csv_keeps_exact_strings_and_reads_by_name() {
        let data = "x,band,patient_id\n1,0-19,3\n0,,1\n1,\"a,b\",2\n0,NA,4\n";
        let f = read_csv(
            data.as_bytes(),
            Path::new("in.csv"),
            &needs(&["band"], &["x"]),
        )
        .unwrap();
        assert_eq!(f.rows, 4);
        let band = &f.categories["band"];
        assert_eq!(band.values, ["0-19", "", "a,b", "NA"]);
        assert_eq!(band.codes, [0, 1, 2, 3]);
        assert_eq!(f.numbers["x"], [1.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn csv_errors_name_file_line_and_column() {
        let n = needs(&["band"], &["x"]);
        let err = read_csv("x,band\n1,a\n,b\n".as_bytes(), Path::new("in.csv"), &n).unwrap_err();
        assert_eq!(
            err.to_string(),
            "in.csv: line 3, column 'x': '' is not a number"
        );
        let err = read_csv("x,band\nyes,a\n".as_bytes(), Path::new("in.csv"), &n).unwrap_err();
        assert_eq!(
            err.to_string(),
            "in.csv: line 2, column 'x': 'yes' is not a number"
        );
        let err = read_csv("x,sex\n1,a\n".as_bytes(), Path::new("in.csv"), &n).unwrap_err();
        assert_eq!(
            err.to_string(),
            "in.csv: no column 'band' (group_by); the file has columns: x, sex"
        );
        let err = read_csv("x,band\n1,a,3\n".as_bytes(), Path::new("in.csv"), &n).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = read_csv("".as_bytes(), Path::new("in.csv"), &n).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
    }

    #[test]
    fn csv_with_byte_order_mark_and_crlf() {
        let data = "\u{feff}x,band\r\n1,a\r\n0,\r\n";
        let f = read_csv(
            data.as_bytes(),
            Path::new("in.csv"),
            &needs(&["band"], &["x"]),
        )
        .unwrap();
        assert!(!f.categories.contains_key("x"), "x is numeric only");
        assert_eq!(f.categories["band"].values, ["a", ""]);
        assert_eq!(f.numbers["x"], [1.0, 0.0]);
    }

    #[test]
    fn numbers_parse_like_pandas_float64() {
        assert_eq!(parse_number(b"0"), Some(0.0));
        assert_eq!(parse_number(b"17"), Some(17.0));
        assert_eq!(parse_number(b"1.5"), Some(1.5));
        assert_eq!(parse_number(b"-2"), Some(-2.0));
        assert_eq!(parse_number(b"1e3"), Some(1000.0));
        assert_eq!(parse_number(b" 3 "), Some(3.0));
        assert_eq!(parse_number(b""), None);
        assert_eq!(parse_number(b"T"), None);
        assert_eq!(parse_number(b"nan"), None);
        assert_eq!(
            parse_number(b"12345678901234567890"),
            Some(12345678901234567890.0)
        );
    }
}
