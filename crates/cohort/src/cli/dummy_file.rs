//! `--dummy-data-file`: checking a hand-made cohort file against the study definition.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use crate::lang::{ColumnType, DateFormat, StudyDefinition};
use crate::tables::names;

/// Checks that `file` has exactly the columns `patient_id` and the study's output columns
/// (any order), and, for CSV, that every value fits its column's type (empty = missing).
pub(crate) fn check(study: &StudyDefinition, file: &Path) -> Result<(), String> {
    let name = file.to_string_lossy();
    let df = if name.ends_with(".parquet") {
        ParquetReader::new(open(file)?).finish()
    } else if name.ends_with(".arrow") || name.ends_with(".feather") {
        IpcReader::new(open(file)?).finish()
    } else {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_raise_if_empty(false)
            .try_into_reader_with_file_path(Some(file.to_path_buf()))
            .and_then(polars::prelude::SerReader::finish)
    }
    .map_err(|e| format!("cannot read {}: {e}", file.display()))?;

    let mut expected: Vec<(&str, ColumnType)> = vec![(names::PATIENT_ID, ColumnType::Int)];
    expected.extend(study.output_columns());
    let present: Vec<String> = df
        .get_column_names()
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    let missing: Vec<&str> = expected
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !present.iter().any(|p| p == n))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "dummy data file {} is missing columns: {}",
            file.display(),
            missing.join(", ")
        ));
    }
    let extra: Vec<&str> = present
        .iter()
        .map(String::as_str)
        .filter(|p| !expected.iter().any(|(n, _)| n == p))
        .collect();
    if !extra.is_empty() {
        return Err(format!(
            "dummy data file {} has columns the study definition does not define: {}",
            file.display(),
            extra.join(", ")
        ));
    }
    for (column, ty) in expected {
        let series = df
            .column(column)
            .map_err(|e| e.to_string())?
            .as_materialized_series();
        if series.dtype() != &DataType::String {
            continue; // columnar files carry their own types
        }
        let format = study
            .variable(column)
            .and_then(|v| v.date_format)
            .unwrap_or(DateFormat::YearMonthDay);
        let values = series.str().map_err(|e| e.to_string())?;
        for (row, value) in values.iter().enumerate() {
            let Some(value) = value.filter(|v| !v.is_empty()) else {
                continue;
            };
            if let Some(problem) = invalid(value, ty, format) {
                return Err(format!(
                    "dummy data file {}, column `{column}`, row {}: `{value}` is not {problem}",
                    file.display(),
                    row + 1
                ));
            }
        }
    }
    Ok(())
}

fn open(file: &Path) -> Result<File, String> {
    File::open(file).map_err(|e| format!("cannot read dummy data file {}: {e}", file.display()))
}

/// What `value` should have been, if it is not a valid `ty`.
fn invalid(value: &str, ty: ColumnType, format: DateFormat) -> Option<String> {
    let ok = match ty {
        ColumnType::Bool => value == "0" || value == "1",
        ColumnType::Int => value.parse::<i64>().is_ok(),
        ColumnType::Float => value.parse::<f64>().is_ok(),
        ColumnType::Str => true,
        ColumnType::Date => {
            let full = match format {
                DateFormat::Year => format!("{value}-01-01"),
                DateFormat::YearMonth => format!("{value}-01"),
                DateFormat::YearMonthDay => value.to_string(),
            };
            full.len() == 10
                && full.bytes().all(|b| b.is_ascii_digit() || b == b'-')
                && chrono::NaiveDate::parse_from_str(&full, "%Y-%m-%d").is_ok()
        }
    };
    (!ok).then(|| match ty {
        ColumnType::Bool => "0 or 1".to_string(),
        ColumnType::Int => "an integer".to_string(),
        ColumnType::Float => "a number".to_string(),
        ColumnType::Str => "text".to_string(),
        ColumnType::Date => format!(
            "a date in the form {}",
            match format {
                DateFormat::Year => "YYYY",
                DateFormat::YearMonth => "YYYY-MM",
                DateFormat::YearMonthDay => "YYYY-MM-DD",
            }
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(invalid("1", ColumnType::Bool, DateFormat::Year), None);
        assert!(invalid("2", ColumnType::Bool, DateFormat::Year).is_some());
        assert!(invalid("1.5", ColumnType::Int, DateFormat::Year).is_some());
        assert_eq!(invalid("2020", ColumnType::Date, DateFormat::Year), None);
        assert!(invalid("2020-01", ColumnType::Date, DateFormat::Year).is_some());
        assert_eq!(
            invalid("2020-02", ColumnType::Date, DateFormat::YearMonth),
            None
        );
        assert!(invalid("2020-13", ColumnType::Date, DateFormat::YearMonth).is_some());
        assert_eq!(
            invalid("2020-02-29", ColumnType::Date, DateFormat::YearMonthDay),
            None
        );
        assert!(invalid("2019-02-29", ColumnType::Date, DateFormat::YearMonthDay).is_some());
        assert!(invalid("2019-2-9", ColumnType::Date, DateFormat::YearMonthDay).is_some());
    }
}
