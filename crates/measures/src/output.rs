//! Output tables and how they are written: pandas/`csv.writer` CSV, per-date and combined
//! measure files, the ehrQL-style long file.

use std::path::Path;

use files::pandas_float_cell;

use crate::compute::{MeasureResult, NumberColumn};
use crate::error::MeasuresError;
use crate::spec::MeasureSpec;

/// A table of already-formatted cells.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells, each as long as the header.
    pub rows: Vec<Vec<String>>,
}

/// Line ending of a written CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// `\n`, as pandas `to_csv` writes on Linux (per-date files).
    Lf,
    /// `\r\n`, as Python's `csv.writer` writes (cohortextractor's combined files).
    CrLf,
}

impl LineEnding {
    fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }
}

/// Writes one CSV row as Python's `csv.writer` (QUOTE_MINIMAL) does: a field is quoted when
/// it holds `,`, `"`, `\r` or `\n` (quotes doubled), and a row of one empty field is `""`.
fn write_row(out: &mut String, cells: &[String], ending: LineEnding) {
    if let [only] = cells {
        if only.is_empty() {
            out.push_str("\"\"");
            out.push_str(ending.as_str());
            return;
        }
    }
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if cell.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(cell);
        }
    }
    out.push_str(ending.as_str());
}

impl Table {
    /// The CSV text of the table.
    pub fn to_csv(&self, ending: LineEnding) -> String {
        let mut out = String::new();
        write_row(&mut out, &self.header, ending);
        for row in &self.rows {
            write_row(&mut out, row, ending);
        }
        out
    }

    /// Reads a CSV file as strings (for reusing outputs with `--skip-existing`).
    pub fn read_csv(path: &Path) -> Result<Table, MeasuresError> {
        let bad = |e: csv::Error| MeasuresError::BadExistingOutput {
            path: path.to_path_buf(),
            message: format!("cannot read: {e}"),
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(path)
            .map_err(bad)?;
        let header = reader
            .headers()
            .map_err(bad)?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            rows.push(record.map_err(bad)?.iter().map(str::to_string).collect());
        }
        Ok(Table { header, rows })
    }
}

fn number_cell(column: &NumberColumn, v: f64) -> String {
    if column.integer && v.is_finite() {
        format!("{}", v as i64)
    } else {
        pandas_float_cell(v)
    }
}

/// A count or sum as an integer when it is whole (`502`), else in Python repr; NaN empty.
fn integer_cell(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.007_199_254_740_992e15 {
        format!("{}", v as i64)
    } else {
        pandas_float_cell(v)
    }
}

impl MeasureResult {
    /// The per-date table: groups, numerator, denominator, value, formatted as pandas does.
    pub fn to_table(&self, spec: &MeasureSpec) -> Table {
        let rows = (0..self.len())
            .map(|i| {
                let mut row = self.groups[i].clone();
                row.push(number_cell(&self.numerator, self.numerator.values[i]));
                if let Some(den) = &self.denominator {
                    row.push(number_cell(den, den.values[i]));
                }
                row.push(pandas_float_cell(self.value[i]));
                row
            })
            .collect();
        Table {
            header: spec.output_header(),
            rows,
        }
    }

    /// Parses a per-date table written earlier (by us or cohortextractor) for `spec`.
    pub fn from_table(
        spec: &MeasureSpec,
        table: &Table,
        path: &Path,
    ) -> Result<Self, MeasuresError> {
        let bad = |message: String| MeasuresError::BadExistingOutput {
            path: path.to_path_buf(),
            message,
        };
        let expected = spec.output_header();
        if table.header != expected {
            return Err(bad(format!(
                "its columns are {} but measure '{}' writes {}; delete it or run without --skip-existing",
                table.header.join(","),
                spec.id,
                expected.join(",")
            )));
        }
        let n_groups = spec.group_columns().len();
        let parse = |row: usize, cell: &str| -> Result<f64, MeasuresError> {
            match cell {
                "" => Ok(f64::NAN),
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                text => text
                    .parse()
                    .map_err(|_| bad(format!("line {}: '{text}' is not a number", row + 2))),
            }
        };
        let column = |k: usize, name: &str| -> Result<NumberColumn, MeasuresError> {
            let mut values = Vec::with_capacity(table.rows.len());
            let mut integer = true;
            for (r, row) in table.rows.iter().enumerate() {
                let cell = &row[k];
                integer &= !cell.is_empty() && !cell.contains(['.', 'e', 'n']);
                values.push(parse(r, cell)?);
            }
            Ok(NumberColumn {
                name: name.to_string(),
                values,
                integer,
            })
        };
        if table.rows.iter().any(|r| r.len() != expected.len()) {
            return Err(bad("a row has the wrong number of fields".into()));
        }
        let numerator = column(n_groups, &spec.numerator)?;
        let denominator = if spec.denominator == spec.numerator {
            None
        } else {
            Some(column(n_groups + 1, &spec.denominator)?)
        };
        let value_col = expected.len() - 1;
        let value = table
            .rows
            .iter()
            .enumerate()
            .map(|(r, row)| parse(r, &row[value_col]))
            .collect::<Result<Vec<_>, _>>()?;
        let present = denominator
            .as_ref()
            .unwrap_or(&numerator)
            .values
            .iter()
            .map(|&d| d != 0.0)
            .collect();
        Ok(MeasureResult {
            group_columns: spec.group_columns().to_vec(),
            groups: table.rows.iter().map(|r| r[..n_groups].to_vec()).collect(),
            numerator,
            denominator,
            value,
            present,
        })
    }
}

/// cohortextractor's `_combine_csv_files_with_dates`: the per-date tables in date order, with a
/// `date` column appended; every header must agree.
pub fn combine(per_date: &[(&str, &Table)]) -> Result<Table, String> {
    let mut combined = Table::default();
    for (i, (date, table)) in per_date.iter().enumerate() {
        if i == 0 {
            combined.header.clone_from(&table.header);
            combined.header.push("date".to_string());
        } else if table.header[..] != combined.header[..combined.header.len() - 1] {
            return Err(format!(
                "the per-date file for {date} has different columns"
            ));
        }
        for row in &table.rows {
            let mut row = row.clone();
            row.push(date.to_string());
            combined.rows.push(row);
        }
    }
    Ok(combined)
}

/// The interval each index date stands for in the long output: up to the day before the next
/// date; the last one as long as the others when they are all one calendar month (or all the
/// same number of days) apart, else the index date alone.
pub fn intervals(dates: &[&str]) -> Vec<(String, String)> {
    use chrono::{Days, Months, NaiveDate};
    let parsed: Option<Vec<NaiveDate>> = dates
        .iter()
        .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .collect();
    let Some(parsed) = parsed else {
        return dates
            .iter()
            .map(|d| (d.to_string(), d.to_string()))
            .collect();
    };
    let monthly = parsed.len() > 1
        && parsed
            .windows(2)
            .all(|w| w[0].checked_add_months(Months::new(1)) == Some(w[1]));
    let step = parsed
        .get(1)
        .zip(parsed.first())
        .map(|(b, a)| (*b - *a).num_days())
        .filter(|&s| s > 0 && parsed.windows(2).all(|w| (w[1] - w[0]).num_days() == s));
    parsed
        .iter()
        .enumerate()
        .map(|(i, &start)| {
            let next = match parsed.get(i + 1) {
                Some(&n) => Some(n),
                None if monthly => start.checked_add_months(Months::new(1)),
                None => step.and_then(|s| start.checked_add_days(Days::new(s as u64))),
            };
            let end = next.and_then(|n| n.pred_opt()).unwrap_or(start);
            (
                start.format("%Y-%m-%d").to_string(),
                end.format("%Y-%m-%d").to_string(),
            )
        })
        .collect()
}

/// The ehrQL-style long table: `measure, interval_start, interval_end, ratio, numerator,
/// denominator`, then every group column of any measure (empty where a measure does not use
/// it). Groups with no denominator (Cartesian fill) have no row, as in ehrQL; numbers are
/// integers where whole; the ratio is empty when the denominator is 0 or suppressed.
pub fn long_table(measures: &[(&MeasureSpec, Vec<(&str, &MeasureResult)>)]) -> Table {
    let mut group_names: Vec<String> = Vec::new();
    for (spec, _) in measures {
        for g in spec.group_columns() {
            if !group_names.contains(g) {
                group_names.push(g.clone());
            }
        }
    }
    let mut header: Vec<String> = [
        "measure",
        "interval_start",
        "interval_end",
        "ratio",
        "numerator",
        "denominator",
    ]
    .map(String::from)
    .to_vec();
    header.extend(group_names.iter().cloned());
    let mut rows = Vec::new();
    for (spec, per_date) in measures {
        let dates: Vec<&str> = per_date.iter().map(|(d, _)| *d).collect();
        let spans = intervals(&dates);
        let positions: Vec<Option<usize>> = group_names
            .iter()
            .map(|g| spec.group_columns().iter().position(|c| c == g))
            .collect();
        for ((_, result), (start, end)) in per_date.iter().zip(&spans) {
            let den = result.denominator_column();
            for i in 0..result.len() {
                if !result.present[i] {
                    continue;
                }
                let n = result.numerator.values[i];
                let d = den.values[i];
                let ratio = if d == 0.0 || d.is_nan() {
                    String::new()
                } else {
                    pandas_float_cell(result.value[i])
                };
                let mut row = vec![
                    spec.id.clone(),
                    start.clone(),
                    end.clone(),
                    ratio,
                    integer_cell(n),
                    integer_cell(d),
                ];
                row.extend(
                    positions
                        .iter()
                        .map(|p| p.map(|k| result.groups[i][k].clone()).unwrap_or_default()),
                );
                rows.push(row);
            }
        }
    }
    Table { header, rows }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(std::string::ToString::to_string).collect()
    }

    #[test]
    fn quotes_like_python_csv_writer() {
        let t = Table {
            header: s(&["a", "b"]),
            rows: vec![s(&["x,y", "say \"hi\""]), s(&["", "line\nbreak"])],
        };
        assert_eq!(
            t.to_csv(LineEnding::Lf),
            "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n,\"line\nbreak\"\n"
        );
        let one = Table {
            header: s(&["a"]),
            rows: vec![s(&[""])],
        };
        assert_eq!(one.to_csv(LineEnding::CrLf), "a\r\n\"\"\r\n");
    }

    #[test]
    fn combine_appends_dates_and_checks_headers() {
        let a = Table {
            header: s(&["x", "value"]),
            rows: vec![s(&["1.0", "0.5"])],
        };
        let b = Table {
            header: s(&["x", "value"]),
            rows: vec![s(&["2.0", ""])],
        };
        let c = combine(&[("2020-01-01", &a), ("2020-02-01", &b)]).unwrap();
        assert_eq!(
            c.to_csv(LineEnding::CrLf),
            "x,value,date\r\n1.0,0.5,2020-01-01\r\n2.0,,2020-02-01\r\n"
        );
        let other = Table {
            header: s(&["y", "value"]),
            rows: vec![],
        };
        assert!(combine(&[("2020-01-01", &a), ("2020-02-01", &other)]).is_err());
    }

    #[test]
    fn intervals_follow_the_index_dates() {
        let monthly = intervals(&["2020-11-01", "2020-12-01", "2021-01-01"]);
        assert_eq!(
            monthly,
            [
                ("2020-11-01".into(), "2020-11-30".into()),
                ("2020-12-01".into(), "2020-12-31".into()),
                ("2021-01-01".into(), "2021-01-31".into()),
            ]
        );
        let weekly = intervals(&["2021-01-01", "2021-01-08"]);
        assert_eq!(weekly[1], ("2021-01-08".into(), "2021-01-14".into()));
        let single = intervals(&["2021-01-01"]);
        assert_eq!(single, [("2021-01-01".into(), "2021-01-01".into())]);
        let irregular = intervals(&["2021-01-01", "2021-01-03", "2021-01-10"]);
        assert_eq!(irregular[0].1, "2021-01-02");
        assert_eq!(irregular[2].1, "2021-01-10");
    }

    #[test]
    fn integers_where_whole() {
        assert_eq!(integer_cell(502.0), "502");
        assert_eq!(integer_cell(0.0), "0");
        assert_eq!(integer_cell(2.5), "2.5");
        assert_eq!(integer_cell(f64::NAN), "");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::frame::{read_csv, ColumnUse};
    use proptest::prelude::*;

    proptest! {
        /// Group values survive our CSV writer and reader exactly (quotes, commas, newlines,
        /// empty strings, non-ASCII).
        #[test]
        fn strings_round_trip(values in proptest::collection::vec("[a-c ,\"\r\né0-]{0,6}", 1..10)) {
            let table = Table {
                header: vec!["g".into(), "x".into()],
                rows: values.iter().map(|v| vec![v.clone(), "1".into()]).collect(),
            };
            let text = table.to_csv(LineEnding::Lf);
            let needs = [ColumnUse { name: "g".into(), numeric: false, categorical: true, role: "g".into() }];
            let frame = read_csv(text.as_bytes(), Path::new("t.csv"), &needs).unwrap();
            let column = &frame.categories["g"];
            let back: Vec<&str> = column.codes.iter().map(|&c| column.values[c as usize].as_str()).collect();
            prop_assert_eq!(back, values.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }
}
