//! Reading a folder of table files into [`TableFrames`].

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::parse::{parse_date_days, parse_float, parse_int};
use super::SourceError;
use crate::tables::{names, table_columns, TableFrames};

/// The extensions a table file may have, in the order they are looked for.
const EXTENSIONS: [&str; 4] = ["parquet", "arrow", "csv", "csv.gz"];

/// Columns that may hold nulls; every other contract column must have a value in every row.
const NULLABLE: [&str; 7] = [
    names::DATE_OF_DEATH,
    names::END_DATE,
    names::PRACTICE_NUTS1_REGION_NAME,
    names::PRACTICE_STP,
    names::CTV3_CODE,
    names::SNOMEDCT_CODE,
    names::NUMERIC_VALUE,
];

/// Loads the three contract tables from `dir` (one file per table).
pub fn load_tables(dir: &Path) -> Result<TableFrames, SourceError> {
    if !dir.is_dir() {
        return Err(SourceError::NoFolder(dir.to_path_buf()));
    }
    let load = |table: &str| -> Result<DataFrame, SourceError> {
        let file = find_table_file(dir, table)?;
        load_table(table, &file)
    };
    Ok(TableFrames {
        patients: load(names::PATIENTS)?,
        practice_registrations: load(names::PRACTICE_REGISTRATIONS)?,
        clinical_events: load(names::CLINICAL_EVENTS)?,
    })
}

/// The one file holding `table` in `dir`.
fn find_table_file(dir: &Path, table: &str) -> Result<PathBuf, SourceError> {
    let mut found = EXTENSIONS
        .iter()
        .map(|ext| dir.join(format!("{table}.{ext}")))
        .filter(|p| p.is_file());
    let first = found.next().ok_or_else(|| SourceError::MissingTable {
        table: table.to_string(),
        dir: dir.to_path_buf(),
    })?;
    if let Some(second) = found.next() {
        return Err(SourceError::AmbiguousTable {
            table: table.to_string(),
            dir: dir.to_path_buf(),
            first,
            second,
        });
    }
    Ok(first)
}

/// Loads one contract table from `file` (format from its extension): exactly the contract
/// columns, in contract order, with the contract dtypes. Extra columns are ignored.
pub fn load_table(table: &str, file: &Path) -> Result<DataFrame, SourceError> {
    let columns = table_columns(table).ok_or_else(|| SourceError::MissingTable {
        table: table.to_string(),
        dir: file.parent().unwrap_or(Path::new(".")).to_path_buf(),
    })?;
    let ctx = Ctx { table, file };
    let raw = read_raw(&ctx, columns)?;
    let out = columns
        .iter()
        .map(|(name, dtype)| {
            let column = raw.column(name).map_err(|_| ctx.missing(name))?;
            coerce(&ctx, column.as_materialized_series(), name, dtype)
        })
        .collect::<Result<Vec<_>, _>>()?;
    DataFrame::new(raw.height(), out).map_err(|source| SourceError::Frame {
        table: table.to_string(),
        source,
    })
}

struct Ctx<'a> {
    table: &'a str,
    file: &'a Path,
}

impl Ctx<'_> {
    fn missing(&self, column: &str) -> SourceError {
        SourceError::MissingColumn {
            table: self.table.to_string(),
            column: column.to_string(),
            file: self.file.to_path_buf(),
        }
    }

    fn read(&self, source: PolarsError) -> SourceError {
        SourceError::Read {
            table: self.table.to_string(),
            file: self.file.to_path_buf(),
            source,
        }
    }

    fn bad_value(&self, column: &str, row: usize, problem: String) -> SourceError {
        SourceError::BadValue {
            table: self.table.to_string(),
            column: column.to_string(),
            file: self.file.to_path_buf(),
            row: row + 1,
            problem,
        }
    }

    fn wrong_type(&self, column: &str, found: &DataType, expected: &DataType) -> SourceError {
        SourceError::WrongType {
            table: self.table.to_string(),
            column: column.to_string(),
            file: self.file.to_path_buf(),
            found: found.to_string(),
            expected: expected.to_string(),
        }
    }
}

/// Reads the file's contract columns: CSV as text (parsed later, with row-precise errors),
/// parquet and arrow with their stored types.
fn read_raw(ctx: &Ctx<'_>, columns: &[(&str, DataType)]) -> Result<DataFrame, SourceError> {
    let name = ctx.file.to_string_lossy();
    let open = || {
        File::open(ctx.file).map_err(|source| SourceError::Io {
            table: ctx.table.to_string(),
            file: ctx.file.to_path_buf(),
            source,
        })
    };
    let wanted: Vec<String> = columns.iter().map(|(n, _)| n.to_string()).collect();
    let check = |present: &dyn Fn(&str) -> bool| -> Result<(), SourceError> {
        match wanted.iter().find(|c| !present(c)) {
            Some(c) => Err(ctx.missing(c)),
            None => Ok(()),
        }
    };
    if name.ends_with(".parquet") {
        let mut reader = ParquetReader::new(open()?);
        let schema = reader.schema().map_err(|e| ctx.read(e))?;
        check(&|c| schema.contains(c))?;
        reader
            .with_columns(Some(wanted.clone()))
            .finish()
            .map_err(|e| ctx.read(e))
    } else if name.ends_with(".arrow") || name.ends_with(".feather") {
        let mut reader = IpcReader::new(open()?);
        let schema = reader.schema().map_err(|e| ctx.read(e))?;
        check(&|c| schema.contains(c))?;
        reader
            .with_columns(Some(wanted.clone()))
            .finish()
            .map_err(|e| ctx.read(e))
    } else {
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_raise_if_empty(false)
            .try_into_reader_with_file_path(Some(ctx.file.to_path_buf()))
            .and_then(polars::prelude::SerReader::finish)
            .map_err(|e| ctx.read(e))?;
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
        check(&|c| names.iter().any(|n| n == c))?;
        df.select(wanted.iter().map(String::as_str))
            .map_err(|e| ctx.read(e))
    }
}

/// Converts one raw column to its contract dtype, checking that non-nullable columns have a
/// value in every row.
fn coerce(
    ctx: &Ctx<'_>,
    series: &Series,
    name: &str,
    target: &DataType,
) -> Result<Column, SourceError> {
    let nullable = NULLABLE.contains(&name);
    let converted: Series = match (series.dtype(), target) {
        (DataType::String, DataType::String) => {
            // An empty text is null (copy the column only when it has one).
            let ca = series.str().map_err(|e| ctx.read(e))?;
            if ca.iter().any(|v| v == Some("")) {
                let out: StringChunked = ca.iter().map(|v| v.filter(|s| !s.is_empty())).collect();
                out.with_name(name.into()).into_series()
            } else {
                series.clone()
            }
        }
        (DataType::String, _) => parse_text(ctx, series, name, target)?,
        (found, _) if found == target => series.clone(),
        (found, DataType::Int64) if found.is_integer() => strict_cast(ctx, series, name, target)?,
        (found, DataType::Float64) if found.is_primitive_numeric() => {
            strict_cast(ctx, series, name, target)?
        }
        (found, DataType::Date) if found.is_temporal() => strict_cast(ctx, series, name, target)?,
        (DataType::Categorical(..) | DataType::Enum(..), DataType::String) => {
            strict_cast(ctx, series, name, target)?
        }
        (DataType::Null, _) => Series::full_null(name.into(), series.len(), target),
        (found, _) => return Err(ctx.wrong_type(name, found, target)),
    };
    if !nullable && converted.null_count() > 0 {
        let row = converted
            .is_null()
            .iter()
            .position(|v| v == Some(true))
            .unwrap_or(0);
        return Err(ctx.bad_value(name, row, "empty value (this column is required)".into()));
    }
    Ok(converted.into())
}

fn strict_cast(
    ctx: &Ctx<'_>,
    series: &Series,
    name: &str,
    target: &DataType,
) -> Result<Series, SourceError> {
    series
        .strict_cast(target)
        .map_err(|_| ctx.wrong_type(name, series.dtype(), target))
}

/// Parses a text column into `target` (Int64, Float64 or Date); an empty field is null.
fn parse_text(
    ctx: &Ctx<'_>,
    series: &Series,
    name: &str,
    target: &DataType,
) -> Result<Series, SourceError> {
    let ca = series.str().map_err(|e| ctx.read(e))?;
    let bad = |row: usize, value: &str, what: &str| {
        ctx.bad_value(name, row, format!("`{value}` is not {what}"))
    };
    let cells = ca
        .iter()
        .enumerate()
        .map(|(row, v)| (row, v.filter(|s| !s.is_empty())));
    Ok(match target {
        DataType::Int64 => {
            let values = cells
                .map(|(row, v)| {
                    v.map(|s| parse_int(s).ok_or_else(|| bad(row, s, "an integer")))
                        .transpose()
                })
                .collect::<Result<Vec<Option<i64>>, _>>()?;
            Series::new(name.into(), values)
        }
        DataType::Float64 => {
            let values = cells
                .map(|(row, v)| {
                    v.map(|s| parse_float(s).ok_or_else(|| bad(row, s, "a number")))
                        .transpose()
                })
                .collect::<Result<Vec<Option<f64>>, _>>()?;
            Series::new(name.into(), values)
        }
        _ => {
            let values = cells
                .map(|(row, v)| {
                    v.map(|s| parse_date_days(s).ok_or_else(|| bad(row, s, "a YYYY-MM-DD date")))
                        .transpose()
                })
                .collect::<Result<Vec<Option<i32>>, _>>()?;
            Int32Chunked::new(name.into(), values)
                .into_date()
                .into_series()
        }
    })
}
