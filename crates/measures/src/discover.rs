//! Finding a run's input files: `input{suffix}_{YYYY-MM-DD}.{csv|csv.gz|parquet|arrow|feather}`
//! (the names `files::names` gives cohorts).

use std::path::{Path, PathBuf};

use files::names::parse_cohort_file_name;
use files::TableFormat;

use crate::error::MeasuresError;

/// One input file of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Where it is.
    pub path: PathBuf,
    /// The index date from the file name, `YYYY-MM-DD`.
    pub date: String,
    /// How to read it.
    pub format: TableFormat,
}

/// Whether `YYYY-MM-DD` (already digit-shaped) is a day of the Gregorian calendar.
pub(crate) fn is_valid_date(date: &str) -> bool {
    let (Ok(y), Ok(m), Ok(d)) = (
        date[0..4].parse::<u32>(),
        date[5..7].parse::<u32>(),
        date[8..10].parse::<u32>(),
    ) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// Lists the input files of study-definition `suffix` (`""` or `_name`) in `dir`, sorted by
/// date. Errors when there are none, when two share a date, or when a date does not exist.
pub fn discover_inputs(dir: &Path, suffix: &str) -> Result<Vec<InputFile>, MeasuresError> {
    let no_inputs = || MeasuresError::NoInputFiles {
        dir: dir.to_path_buf(),
        suffix: suffix.to_string(),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(no_inputs()),
        Err(e) => return Err(MeasuresError::io(dir, e)),
    };
    let mut inputs: Vec<InputFile> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| MeasuresError::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((date, format)) = parse_cohort_file_name(name, suffix) else {
            continue;
        };
        let path = dir.join(name);
        if !is_valid_date(&date) {
            return Err(MeasuresError::BadDate { path, date });
        }
        inputs.push(InputFile { path, date, format });
    }
    inputs.sort_by(|a, b| a.date.cmp(&b.date).then(a.path.cmp(&b.path)));
    for pair in inputs.windows(2) {
        if pair[0].date == pair[1].date {
            return Err(MeasuresError::DuplicateDate {
                date: pair[0].date.clone(),
                first: pair[0].path.clone(),
                second: pair[1].path.clone(),
            });
        }
    }
    if inputs.is_empty() {
        return Err(no_inputs());
    }
    Ok(inputs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_calendar_dates() {
        assert!(is_valid_date("2020-02-29"));
        assert!(!is_valid_date("2021-02-29"));
        assert!(!is_valid_date("2021-13-01"));
        assert!(!is_valid_date("2021-04-31"));
        assert!(is_valid_date("2000-02-29"));
        assert!(!is_valid_date("1900-02-29"));
    }

    #[test]
    fn discovery_sorts_and_rejects_duplicates_and_bad_dates() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "input_2020-12-01.csv",
            "input_2020-11-01.parquet",
            "input.csv",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let found = discover_inputs(dir.path(), "").unwrap();
        let dates: Vec<_> = found.iter().map(|f| f.date.as_str()).collect();
        assert_eq!(dates, ["2020-11-01", "2020-12-01"]);

        std::fs::write(dir.path().join("input_2020-12-01.csv.gz"), "").unwrap();
        let err = discover_inputs(dir.path(), "").unwrap_err();
        assert!(matches!(err, MeasuresError::DuplicateDate { .. }), "{err}");

        let err = discover_inputs(dir.path(), "_other").unwrap_err();
        assert!(matches!(err, MeasuresError::NoInputFiles { .. }), "{err}");

        std::fs::write(dir.path().join("input_x_2021-02-30.csv"), "").unwrap();
        let err = discover_inputs(dir.path(), "_x").unwrap_err();
        assert!(err.to_string().contains("input_x_2021-02-30.csv"), "{err}");
    }
}
