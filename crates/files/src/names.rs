//! The names of the files a study writes: cohorts (`input[_suffix]_<date>.<ext>`, as
//! cohortextractor's `generate_cohort` names them) and measures (`measure_<id>_<date>.csv` per
//! index date, `measure_<id>.csv` for all dates), and the table formats they come in.

use std::fmt;
use std::str::FromStr;

/// The stem of a cohort file unless `--output-file` names another.
pub const COHORT_STEM: &str = "input";

/// The format of a table file (a cohort, or an EHR table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableFormat {
    /// `.csv`
    Csv,
    /// `.csv.gz`
    CsvGz,
    /// `.parquet`
    Parquet,
    /// `.arrow`: an Arrow IPC file.
    Arrow,
    /// `.feather`: an Arrow IPC file named as cohortextractor's `--output-format feather`
    /// names it (Feather v2 is the Arrow IPC file format).
    Feather,
}

/// Extensions (and format names) with their formats, longest first where one ends another.
const EXTENSIONS: [(&str, TableFormat); 5] = [
    ("csv.gz", TableFormat::CsvGz),
    ("csv", TableFormat::Csv),
    ("parquet", TableFormat::Parquet),
    ("arrow", TableFormat::Arrow),
    ("feather", TableFormat::Feather),
];

impl TableFormat {
    /// The file extension, without the dot (`csv`, `csv.gz`, `parquet`, `arrow`).
    pub fn extension(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::CsvGz => "csv.gz",
            TableFormat::Parquet => "parquet",
            TableFormat::Arrow => "arrow",
            TableFormat::Feather => "feather",
        }
    }

    /// Whether files of this format are Arrow IPC files (`.arrow`, `.feather`).
    pub fn is_arrow_ipc(self) -> bool {
        matches!(self, TableFormat::Arrow | TableFormat::Feather)
    }

    /// The format a file name ends with (`x.csv.gz` → CsvGz, `x.feather` → Feather), if any.
    pub fn from_file_name(name: &str) -> Option<TableFormat> {
        TableFormat::strip_extension(name).map(|(_, format)| format)
    }

    /// `name` without the extension of its format, and the format (`input.csv.gz` →
    /// `("input", CsvGz)`); `None` when nothing precedes the extension.
    pub fn strip_extension(name: &str) -> Option<(&str, TableFormat)> {
        EXTENSIONS.into_iter().find_map(|(ext, format)| {
            let stem = name.strip_suffix(ext)?.strip_suffix('.')?;
            (!stem.is_empty()).then_some((stem, format))
        })
    }
}

/// A format name that is none of `csv`, `csv.gz`, `parquet`, `arrow`, `feather`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown output format `{0}` (expected csv, csv.gz, parquet, arrow or feather)")]
pub struct UnknownFormat(pub String);

impl FromStr for TableFormat {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EXTENSIONS
            .into_iter()
            .find(|(ext, _)| *ext == s)
            .map(|(_, format)| format)
            .ok_or_else(|| UnknownFormat(s.to_string()))
    }
}

impl fmt::Display for TableFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// The name of one cohort file: `{stem}{suffix}_{date}.{ext}`, or `{stem}{suffix}.{ext}`
/// without an index date. `stem` is [`COHORT_STEM`] unless `--output-file` names another;
/// `suffix` is the study definition's (`_foo` for `study_definition_foo`); `date` is
/// `YYYY-MM-DD`.
pub fn cohort_file_name(
    stem: &str,
    suffix: &str,
    date: Option<&str>,
    format: TableFormat,
) -> String {
    match date {
        Some(date) => format!("{stem}{suffix}_{date}.{format}"),
        None => format!("{stem}{suffix}.{format}"),
    }
}

/// Reads a file name as `input{suffix}_{YYYY-MM-DD}.{ext}` (the date digit-shaped, not yet
/// checked against the calendar); `None` if it is not one.
pub fn parse_cohort_file_name(name: &str, suffix: &str) -> Option<(String, TableFormat)> {
    let rest = name
        .strip_prefix(COHORT_STEM)?
        .strip_prefix(suffix)?
        .strip_prefix('_')?;
    let (date, ext) = rest.split_once('.')?;
    let format = ext.parse().ok()?;
    let b = date.as_bytes();
    let shape = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    shape.then(|| (date.to_string(), format))
}

/// The name of a measure file: `measure_{id}_{date}.csv` for one index date, `measure_{id}.csv`
/// for all of them.
pub fn measure_file_name(id: &str, date: Option<&str>) -> String {
    match date {
        Some(date) => format!("measure_{id}_{date}.csv"),
        None => format!("measure_{id}.csv"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_and_extension() {
        for (text, format) in EXTENSIONS {
            assert_eq!(text.parse(), Ok(format));
        }
        assert_eq!(
            "dta".parse::<TableFormat>().unwrap_err().to_string(),
            "unknown output format `dta` (expected csv, csv.gz, parquet, arrow or feather)"
        );
        assert_eq!(
            TableFormat::from_file_name("x.csv.gz"),
            Some(TableFormat::CsvGz)
        );
        assert_eq!(
            TableFormat::from_file_name("x.feather"),
            Some(TableFormat::Feather)
        );
        assert_eq!(TableFormat::from_file_name(".csv"), None);
        assert_eq!(TableFormat::from_file_name("xcsv"), None);
        assert_eq!(TableFormat::from_file_name("x.txt"), None);
        assert_eq!(
            TableFormat::strip_extension("out/input.csv.gz"),
            Some(("out/input", TableFormat::CsvGz))
        );
        assert_eq!(
            TableFormat::strip_extension("cohort.feather"),
            Some(("cohort", TableFormat::Feather))
        );
    }

    #[test]
    fn cohort_names_both_ways() {
        let name = cohort_file_name("input", "", Some("2019-01-01"), TableFormat::Csv);
        assert_eq!(name, "input_2019-01-01.csv");
        assert_eq!(
            parse_cohort_file_name(&name, ""),
            Some(("2019-01-01".into(), TableFormat::Csv))
        );
        let name = cohort_file_name("input", "_foo", Some("2019-01-01"), TableFormat::CsvGz);
        assert_eq!(name, "input_foo_2019-01-01.csv.gz");
        assert_eq!(
            parse_cohort_file_name(&name, "_foo"),
            Some(("2019-01-01".into(), TableFormat::CsvGz))
        );
        assert_eq!(
            cohort_file_name("input", "", None, TableFormat::Arrow),
            "input.arrow"
        );
        assert_eq!(
            parse_cohort_file_name("input_b_2020-11-01.feather", "_b"),
            Some(("2020-11-01".into(), TableFormat::Feather))
        );
        for other in [
            "input_b_2020-11-01.csv",
            "input.csv",
            "input_2020-11-01.dta",
            "measure_x_2020-11-01.csv",
            "input_2020-1-01.csv",
            "input_2020-11-0a.csv",
            "input_2020/11/01.csv",
        ] {
            assert_eq!(parse_cohort_file_name(other, ""), None, "{other}");
        }
    }

    #[test]
    fn measure_names() {
        assert_eq!(
            measure_file_name("pulse_ox_total", Some("2020-01-01")),
            "measure_pulse_ox_total_2020-01-01.csv"
        );
        assert_eq!(
            measure_file_name("pulse_ox_total", None),
            "measure_pulse_ox_total.csv"
        );
    }
}
