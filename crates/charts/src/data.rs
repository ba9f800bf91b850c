//! Reading measure files (cohortextractor's `measure_<id>.csv` format), redacting small
//! numbers and turning the rows into one series per group, ready to draw or tabulate.
//!
//! The JPEG charts and the HTML report both read through this module, so both apply exactly the
//! same reading rules and the same redaction ([`is_redacted`], the one place the rule lives).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{Datelike, NaiveDate};

/// Counts from 0 to this value (inclusive) are redacted by default: a row whose numerator or
/// denominator is in `0..=5` is neither drawn nor shown, as the study's notebook did (an outputs
/// file's `redact_at_or_below` changes it).
pub const REDACTION_THRESHOLD: f64 = 5.0;

/// Problems reading a measure file; each names the file and, where it applies, the line and
/// the column.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read measure file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not valid CSV.
    #[error("{path}: line {line}: malformed CSV: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What the CSV reader reported.
        message: String,
    },
    /// A column the chart needs is not in the header.
    #[error("{path}: missing column `{column}` (header: {header})")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column that was expected.
        column: String,
        /// The header that was found, comma-separated.
        header: String,
    },
    /// A numerator or denominator cell is not a non-negative number.
    #[error("{path}: line {line}, column `{column}`: bad number {value:?} (expected a non-negative number or an empty cell)")]
    BadNumber {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The column of the cell.
        column: String,
        /// The cell's text.
        value: String,
    },
    /// A `date` cell is not an existing `YYYY-MM-DD` date.
    #[error("{path}: line {line}, column `{column}`: bad date {value:?} (expected YYYY-MM-DD)")]
    BadDate {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The date column's name.
        column: String,
        /// The cell's text.
        value: String,
    },
    /// The same group appears twice for one date in a grouped measure file.
    #[error("{path}: line {line}: second row for {column}={group:?} on {date}")]
    DuplicateGroup {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the second row.
        line: u64,
        /// The group column.
        column: String,
        /// The repeated group value.
        group: String,
        /// The date.
        date: NaiveDate,
    },
    /// The file has a header but no rows.
    #[error("{path}: no rows")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// Which columns of a measure file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureColumns {
    /// The `group_by` columns, empty for a total (ungrouped) measure. With several, a row's
    /// group is their values joined by `, `.
    pub groups: Vec<String>,
    /// The numerator column, e.g. `had_pulse_ox`.
    pub numerator: String,
    /// The denominator column, e.g. `population`.
    pub denominator: String,
    /// The date column, `date` in combined measure files.
    pub date: String,
}

impl MeasureColumns {
    /// Columns `numerator`, `denominator` and `date`, grouped by `group` if given.
    pub fn new(group: Option<&str>, numerator: &str, denominator: &str) -> Self {
        Self::grouped(group.into_iter(), numerator, denominator)
    }

    /// Columns `numerator`, `denominator` and `date`, grouped by every one of `groups`.
    pub fn grouped<'a>(
        groups: impl Iterator<Item = &'a str>,
        numerator: &str,
        denominator: &str,
    ) -> Self {
        Self {
            groups: groups.map(str::to_string).collect(),
            numerator: numerator.to_string(),
            denominator: denominator.to_string(),
            date: "date".to_string(),
        }
    }
}

/// One row of a measure file. A count is `None` when its cell is empty (suppressed or NaN).
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureRow {
    /// 1-based line number in the file.
    pub line: u64,
    /// The group value; `None` for a total measure.
    pub group: Option<String>,
    /// The month.
    pub date: NaiveDate,
    /// The numerator count.
    pub numerator: Option<f64>,
    /// The denominator count.
    pub denominator: Option<f64>,
}

/// Reads the rows of the measure file at `path`.
pub fn read_measure_file(
    path: &Path,
    columns: &MeasureColumns,
) -> Result<Vec<MeasureRow>, DataError> {
    let file = File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_measure_csv(path, file, columns)
}

/// Parses measure rows from `reader`; `path` is only used in error messages.
///
/// Accepts LF or CRLF line endings, quoted fields, integer or float counts (`234.0`, `502`),
/// and empty count cells (read as missing). The `value` column is not read: rates are
/// recomputed from the counts.
pub fn parse_measure_csv(
    path: &Path,
    reader: impl Read,
    columns: &MeasureColumns,
) -> Result<Vec<MeasureRow>, DataError> {
    let mut bytes = Vec::new();
    let mut reader = reader;
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    // The csv crate counts a CRLF's `\n` as the start of the next record, so its line numbers
    // lag by one in CRLF files; count the newlines up to the record's first byte instead.
    let lines = LineCounter::new(&bytes);
    let line_at = |byte: u64| lines.line_at(byte);
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes.as_slice());
    let csv_error = |e: csv::Error| DataError::Csv {
        path: path.to_path_buf(),
        line: e.position().map_or(0, |p| line_at(p.byte())),
        message: e.to_string(),
    };
    let header = csv.headers().map_err(csv_error)?.clone();
    let find = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| DataError::MissingColumn {
                path: path.to_path_buf(),
                column: name.to_string(),
                header: header.iter().collect::<Vec<_>>().join(","),
            })
    };
    let group_idx = columns
        .groups
        .iter()
        .map(|g| find(g))
        .collect::<Result<Vec<_>, _>>()?;
    let num_idx = find(&columns.numerator)?;
    let den_idx = find(&columns.denominator)?;
    let date_idx = find(&columns.date)?;

    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    while csv.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        let cell = |i: usize| record.get(i).unwrap_or("");
        let count = |i: usize, column: &str| {
            parse_count(cell(i)).ok_or_else(|| DataError::BadNumber {
                path: path.to_path_buf(),
                line,
                column: column.to_string(),
                value: cell(i).to_string(),
            })
        };
        let date_text = cell(date_idx);
        let date = NaiveDate::parse_from_str(date_text.trim(), "%Y-%m-%d").map_err(|_| {
            DataError::BadDate {
                path: path.to_path_buf(),
                line,
                column: columns.date.clone(),
                value: date_text.to_string(),
            }
        })?;
        rows.push(MeasureRow {
            line,
            group: (!group_idx.is_empty()).then(|| {
                group_idx
                    .iter()
                    .map(|&i| cell(i))
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
            date,
            numerator: count(num_idx, &columns.numerator)?,
            denominator: count(den_idx, &columns.denominator)?,
        });
    }
    if rows.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(rows)
}

/// 1-based line numbers of byte offsets, counted incrementally (records are read in order).
struct LineCounter<'a> {
    bytes: &'a [u8],
    counted_to: Cell<usize>,
    newlines: Cell<u64>,
}

impl<'a> LineCounter<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            counted_to: Cell::new(0),
            newlines: Cell::new(0),
        }
    }

    /// The line of the record starting at `byte` (a CRLF's `\n` counts as the line before).
    fn line_at(&self, byte: u64) -> u64 {
        let count = |range: &[u8]| range.iter().filter(|&&b| b == b'\n').count() as u64;
        let end = usize::try_from(byte).map_or(self.bytes.len(), |b| (b + 1).min(self.bytes.len()));
        let from = self.counted_to.get();
        if end >= from {
            self.newlines
                .set(self.newlines.get() + count(&self.bytes[from..end]));
        } else {
            self.newlines.set(count(&self.bytes[..end]));
        }
        self.counted_to.set(end);
        1 + self.newlines.get()
    }
}

/// `Some(None)` for an empty or NaN cell, `Some(Some(x))` for a finite non-negative number,
/// `None` for anything else.
fn parse_count(text: &str) -> Option<Option<f64>> {
    let text = text.trim();
    if text.is_empty() {
        return Some(None);
    }
    let x: f64 = text.parse().ok()?;
    if x.is_nan() {
        Some(None)
    } else if x.is_finite() && x >= 0.0 {
        Some(Some(x))
    } else {
        None
    }
}

/// Whether a row with these counts is redacted: a missing count, or a numerator or denominator
/// from 0 to `at_or_below` ([`REDACTION_THRESHOLD`] unless the outputs file says otherwise).
/// This is the one place the rule lives: the JPEGs, the report's charts, its tables and its CSV
/// downloads all ask it.
pub fn is_redacted(numerator: Option<f64>, denominator: Option<f64>, at_or_below: f64) -> bool {
    let small = |x: Option<f64>| x.is_none_or(|x| x <= at_or_below);
    small(numerator) || small(denominator)
}

/// What a chart plots on its y axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Quantity {
    /// The numerator itself (e.g. the number of patients with a code).
    Count,
    /// The numerator per `per` of the denominator (`value × per`).
    Rate {
        /// e.g. 1000.
        per: f64,
    },
}

impl Quantity {
    /// A rate per 1,000: the default.
    pub const PER_1000: Quantity = Quantity::Rate { per: 1000.0 };
}

/// One month of one series. After redaction every field but `date` is `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The month.
    pub date: NaiveDate,
    /// The numerator count, if shown.
    pub numerator: Option<f64>,
    /// The denominator count, if shown.
    pub denominator: Option<f64>,
}

impl Point {
    /// A point from raw counts, redacted as [`is_redacted`] says with `at_or_below`.
    pub fn from_counts(
        date: NaiveDate,
        numerator: Option<f64>,
        denominator: Option<f64>,
        at_or_below: f64,
    ) -> Self {
        match (numerator, denominator) {
            (Some(n), Some(d)) if !is_redacted(numerator, denominator, at_or_below) => Self {
                date,
                numerator: Some(n),
                denominator: Some(d),
            },
            _ => Self {
                date,
                numerator: None,
                denominator: None,
            },
        }
    }

    /// Whether this point was redacted (or had no data).
    pub fn is_redacted(&self) -> bool {
        self.numerator.is_none() || self.denominator.is_none()
    }

    /// The numerator per `per` of the denominator, if shown.
    pub fn rate(&self, per: f64) -> Option<f64> {
        Some(self.numerator? / self.denominator? * per)
    }

    /// The numerator per 1,000 of the denominator, if shown.
    pub fn rate_per_1000(&self) -> Option<f64> {
        self.rate(1000.0)
    }

    /// The plotted value of this point for `quantity`, if shown.
    pub fn value(&self, quantity: Quantity) -> Option<f64> {
        match quantity {
            Quantity::Count => self.numerator.filter(|_| !self.is_redacted()),
            Quantity::Rate { per } => self.rate(per),
        }
    }
}

/// One line of a chart: a group (or the total) with one point per month of the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The group value as written in the file (`""` for the total series).
    pub name: String,
    /// One point per date of the chart, in date order.
    pub points: Vec<Point>,
}

/// The data behind one chart: its months and one series per group.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    /// Every month in the measure file, ascending.
    pub dates: Vec<NaiveDate>,
    /// The series, in order of first appearance in the file.
    pub series: Vec<Series>,
}

impl ChartData {
    /// Builds the series of `rows`, redacting counts at or below `at_or_below`.
    ///
    /// Grouped rows: one series per group value accepted by `keep`, in order of first
    /// appearance; a month without a row for a group is a missing (redacted) point; a second row
    /// for the same group and month is an error. Total rows (`group` `None`): every row of a
    /// month is summed into one point (cohortextractor wrote one row per patient); if any of
    /// them has a missing count the month's count is missing.
    pub fn from_rows(
        path: &Path,
        column: Option<&str>,
        rows: &[MeasureRow],
        keep: impl Fn(&str) -> bool,
        at_or_below: f64,
    ) -> Result<Self, DataError> {
        let dates: Vec<NaiveDate> = {
            let mut d: Vec<NaiveDate> = rows.iter().map(|r| r.date).collect();
            d.sort_unstable();
            d.dedup();
            d
        };
        let date_index: BTreeMap<NaiveDate, usize> =
            dates.iter().enumerate().map(|(i, d)| (*d, i)).collect();

        // (numerator, denominator, rows seen) per group per month.
        type Cell = Option<(Option<f64>, Option<f64>)>;
        let mut order: Vec<String> = Vec::new();
        let mut cells: BTreeMap<String, Vec<Cell>> = BTreeMap::new();
        for row in rows {
            let name = row.group.clone().unwrap_or_default();
            if row.group.is_some() && !keep(&name) {
                continue;
            }
            let months = cells.entry(name.clone()).or_insert_with(|| {
                order.push(name.clone());
                vec![None; dates.len()]
            });
            let slot = &mut months[date_index[&row.date]];
            *slot = Some(match (*slot, &row.group) {
                (None, _) => (row.numerator, row.denominator),
                (Some((n, d)), None) => (sum(n, row.numerator), sum(d, row.denominator)),
                (Some(_), Some(group)) => {
                    return Err(DataError::DuplicateGroup {
                        path: path.to_path_buf(),
                        line: row.line,
                        column: column.unwrap_or_default().to_string(),
                        group: group.clone(),
                        date: row.date,
                    })
                }
            });
        }
        let series = order
            .into_iter()
            .map(|name| {
                let months = &cells[&name];
                let points = dates
                    .iter()
                    .zip(months)
                    .map(|(date, cell)| match cell {
                        Some((n, d)) => Point::from_counts(*date, *n, *d, at_or_below),
                        None => Point::from_counts(*date, None, None, at_or_below),
                    })
                    .collect();
                Series { name, points }
            })
            .collect();
        Ok(Self { dates, series })
    }

    /// The largest plotted value over all series, if any point is shown.
    pub fn max_value(&self, quantity: Quantity) -> Option<f64> {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.value(quantity)))
            .reduce(f64::max)
    }

    /// Number of points shown and number redacted, over all series.
    pub fn counts(&self) -> (usize, usize) {
        let total: usize = self.series.iter().map(|s| s.points.len()).sum();
        let redacted = self
            .series
            .iter()
            .flat_map(|s| &s.points)
            .filter(|p| p.is_redacted())
            .count();
        (total - redacted, redacted)
    }
}

fn sum(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? + b?)
}

/// `Jan 2019`: how a month is labelled on axes and in tables.
pub fn month_label(date: NaiveDate) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!("{} {}", MONTHS[date.month0() as usize], date.year())
}

/// Shows a group value in legends and tables: an empty value reads `(missing)`.
pub fn group_display(name: &str) -> &str {
    if name.is_empty() {
        "(missing)"
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, group: Option<&str>) -> Result<Vec<MeasureRow>, DataError> {
        parse_measure_csv(
            Path::new("m.csv"),
            text.as_bytes(),
            &MeasureColumns::new(group, "had_pulse_ox", "population"),
        )
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn reads_crlf_floats_ints_and_empty_cells() {
        let rows = parse(
            "sex,had_pulse_ox,population,value,date\r\nF,15.0,29,0.517,2020-11-01\r\nM,,31.0,,2020-11-01\r\n",
            Some("sex"),
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].group.as_deref(), Some("F"));
        assert_eq!(rows[0].numerator, Some(15.0));
        assert_eq!(rows[0].denominator, Some(29.0));
        assert_eq!(rows[0].date, d("2020-11-01"));
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[1].line, 3);
        assert_eq!(rows[1].numerator, None);
        assert_eq!(rows[1].denominator, Some(31.0));
    }

    #[test]
    fn quoted_group_values_keep_their_commas() {
        let rows = parse(
            "region,had_pulse_ox,population,value,date\n\"York, and the Humber\",10.0,20,0.5,2020-01-01\n",
            Some("region"),
        )
        .unwrap();
        assert_eq!(rows[0].group.as_deref(), Some("York, and the Humber"));
    }

    #[test]
    fn missing_column_names_file_and_column() {
        let err = parse(
            "sex,had_pulse_ox,value,date\nF,1.0,1.0,2020-01-01\n",
            Some("sex"),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("m.csv") && msg.contains("`population`"),
            "{msg}"
        );
        let err = parse(
            "had_pulse_ox,population,value,date\n1.0,1,1.0,2020-01-01\n",
            Some("region"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("`region`"), "{err}");
    }

    #[test]
    fn bad_number_names_file_line_and_column() {
        let err = parse(
            "had_pulse_ox,population,value,date\n1.0,10,0.1,2020-01-01\nabc,10,,2020-02-01\n",
            None,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.csv: line 3, column `had_pulse_ox`: bad number \"abc\" (expected a non-negative number or an empty cell)"
        );
        for bad in ["-1", "inf"] {
            let text = format!("had_pulse_ox,population,value,date\n1.0,{bad},,2020-01-01\n");
            let err = parse(&text, None).unwrap_err();
            assert!(err.to_string().contains("`population`"), "{err}");
        }
    }

    #[test]
    fn impossible_date_is_an_error() {
        let err = parse(
            "had_pulse_ox,population,value,date\n1.0,10,0.1,2021-02-30\n",
            None,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.csv: line 2, column `date`: bad date \"2021-02-30\" (expected YYYY-MM-DD)"
        );
    }

    #[test]
    fn ragged_rows_and_empty_files_are_errors() {
        let err = parse("had_pulse_ox,population,value,date\n1.0,10\n", None).unwrap_err();
        assert!(
            err.to_string().starts_with("m.csv: line 2: malformed CSV"),
            "{err}"
        );
        let err = parse("had_pulse_ox,population,value,date\n", None).unwrap_err();
        assert_eq!(err.to_string(), "m.csv: no rows");
    }

    #[test]
    fn redaction_boundaries() {
        let t = REDACTION_THRESHOLD;
        assert!(is_redacted(Some(0.0), Some(100.0), t));
        assert!(is_redacted(Some(5.0), Some(100.0), t));
        assert!(!is_redacted(Some(6.0), Some(100.0), t));
        assert!(is_redacted(Some(60.0), Some(5.0), t));
        assert!(!is_redacted(Some(6.0), Some(6.0), t));
        assert!(is_redacted(None, Some(100.0), t));
        assert!(is_redacted(Some(100.0), None, t));
        assert!(is_redacted(Some(7.0), Some(100.0), 7.0));
        assert!(!is_redacted(Some(1.0), Some(1.0), 0.0));
        let p = Point::from_counts(d("2020-01-01"), Some(3.0), Some(1000.0), t);
        assert_eq!(
            (p.numerator, p.denominator, p.rate_per_1000()),
            (None, None, None)
        );
        let p = Point::from_counts(d("2020-01-01"), Some(6.0), Some(1200.0), t);
        assert_eq!(p.rate_per_1000(), Some(5.0));
        assert_eq!(p.value(Quantity::Count), Some(6.0));
        assert_eq!(p.value(Quantity::Rate { per: 100.0 }), Some(0.5));
    }

    #[test]
    fn total_rows_are_summed_per_month() {
        let text = "had_pulse_ox,population,value,date\r\n\
                    1.0,1,1.0,2020-01-01\r\n0.0,1,0.0,2020-02-01\r\n1.0,1,1.0,2020-01-01\r\n";
        let mut body = String::from(text);
        for _ in 0..10 {
            body.push_str("1.0,1,1.0,2020-02-01\r\n0.0,1,0.0,2020-01-01\r\n");
        }
        let rows = parse(&body, None).unwrap();
        let data = ChartData::from_rows(
            Path::new("m.csv"),
            None,
            &rows,
            |_| true,
            REDACTION_THRESHOLD,
        )
        .unwrap();
        assert_eq!(data.dates, vec![d("2020-01-01"), d("2020-02-01")]);
        assert_eq!(data.series.len(), 1);
        let p = &data.series[0].points;
        // January sums to 2 of 12: a numerator of 5 or fewer, so redacted.
        assert!(p[0].is_redacted());
        assert_eq!((p[1].numerator, p[1].denominator), (Some(10.0), Some(11.0)));
    }

    #[test]
    fn a_missing_cell_makes_the_months_total_missing() {
        let rows = parse(
            "had_pulse_ox,population,value,date\n100.0,1000,,2020-01-01\n,1000,,2020-01-01\n",
            None,
        )
        .unwrap();
        let data = ChartData::from_rows(
            Path::new("m.csv"),
            None,
            &rows,
            |_| true,
            REDACTION_THRESHOLD,
        )
        .unwrap();
        assert!(data.series[0].points[0].is_redacted());
    }

    #[test]
    fn groups_keep_file_order_filter_and_fill_missing_months() {
        let rows = parse(
            "sex,had_pulse_ox,population,value,date\n\
             F,10.0,100,,2020-01-01\nM,20.0,100,,2020-01-01\nU,50.0,100,,2020-01-01\n\
             M,30.0,100,,2020-02-01\n",
            Some("sex"),
        )
        .unwrap();
        let data = ChartData::from_rows(
            Path::new("m.csv"),
            Some("sex"),
            &rows,
            |g| g == "M" || g == "F",
            REDACTION_THRESHOLD,
        )
        .unwrap();
        let names: Vec<_> = data.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["F", "M"]);
        assert_eq!(data.series[0].points[0].rate_per_1000(), Some(100.0));
        assert!(data.series[0].points[1].is_redacted());
        assert_eq!(data.series[1].points[1].rate_per_1000(), Some(300.0));
        assert_eq!(data.max_value(Quantity::PER_1000), Some(300.0));
        assert_eq!(data.counts(), (3, 1));
    }

    #[test]
    fn duplicate_group_month_is_an_error() {
        let rows = parse(
            "sex,had_pulse_ox,population,value,date\nF,10.0,100,,2020-01-01\nF,10.0,100,,2020-01-01\n",
            Some("sex"),
        )
        .unwrap();
        let err = ChartData::from_rows(
            Path::new("m.csv"),
            Some("sex"),
            &rows,
            |_| true,
            REDACTION_THRESHOLD,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.csv: line 3: second row for sex=\"F\" on 2020-01-01"
        );
    }

    #[test]
    fn month_labels() {
        assert_eq!(month_label(d("2019-01-01")), "Jan 2019");
        assert_eq!(month_label(d("2020-12-01")), "Dec 2020");
    }
}

#[cfg(test)]
mod grouped_tests {
    use super::*;

    #[test]
    fn several_group_columns_join_their_values() {
        let cols = MeasureColumns::grouped(["sex", "band"].into_iter(), "n", "d");
        let rows = parse_measure_csv(
            Path::new("m.csv"),
            "sex,band,n,d,value,date\nF,1,10.0,100,0.1,2020-01-01\n".as_bytes(),
            &cols,
        )
        .unwrap();
        assert_eq!(rows[0].group.as_deref(), Some("F, 1"));
    }
}
