//! A folder of table files: `<table>.parquet`, `.arrow` (`.feather`), `.csv` or `.csv.gz`,
//! read column by column as the contract types them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use query::{TableSchema, Type};

use crate::contract;
use crate::error::SourceError;

/// The extensions a table file may have, in the order they are looked for.
pub const EXTENSIONS: [&str; 5] = ["parquet", "arrow", "feather", "csv", "csv.gz"];

/// A folder holding one file per table.
#[derive(Debug, Clone)]
pub struct TableFolder {
    dir: PathBuf,
}

impl TableFolder {
    /// The folder `dir` (which must exist).
    pub fn open(dir: &Path) -> Result<TableFolder, SourceError> {
        if !dir.is_dir() {
            return Err(SourceError::NoFolder(dir.to_path_buf()));
        }
        Ok(TableFolder {
            dir: dir.to_path_buf(),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The one file holding `table`, if any.
    pub fn find(&self, table: &str) -> Result<Option<PathBuf>, SourceError> {
        let mut found = EXTENSIONS
            .iter()
            .map(|ext| self.dir.join(format!("{table}.{ext}")))
            .filter(|p| p.is_file());
        let Some(first) = found.next() else {
            return Ok(None);
        };
        if let Some(second) = found.next() {
            return Err(SourceError::AmbiguousTable {
                table: table.to_string(),
                dir: self.dir.clone(),
                first,
                second,
            });
        }
        Ok(Some(first))
    }

    /// Loads `columns` (besides `patient_id`) of each named contract table, typed as the
    /// contract says: Int64, Float64, Boolean, String, Date; extra columns are not read.
    pub fn load(
        &self,
        columns: &BTreeMap<String, BTreeSet<String>>,
    ) -> Result<HashMap<String, DataFrame>, SourceError> {
        let mut out = HashMap::new();
        for (table, cols) in columns {
            let schema = contract::table(table).ok_or_else(|| SourceError::UnknownTable {
                table: table.clone(),
            })?;
            let file = self.find(table)?.ok_or_else(|| SourceError::MissingTable {
                table: table.clone(),
                dir: self.dir.clone(),
            })?;
            let wanted: Vec<&str> = std::iter::once(query::PATIENT_ID)
                .chain(cols.iter().map(String::as_str))
                .collect();
            out.insert(table.clone(), load_columns(schema, &file, &wanted)?);
        }
        Ok(out)
    }

    /// The contract's columns (besides `patient_id`) that the file of `table` has, in the
    /// contract's order; `None` when the folder has no file for it.
    pub fn present_columns(&self, table: &str) -> Result<Option<Vec<String>>, SourceError> {
        let schema = contract::table(table).ok_or_else(|| SourceError::UnknownTable {
            table: table.to_string(),
        })?;
        let Some(file) = self.find(table)? else {
            return Ok(None);
        };
        let ctx = Ctx {
            table,
            file: &file,
            first_row: 0,
        };
        let name = file.to_string_lossy();
        let open = || {
            File::open(&file).map_err(|source| SourceError::Io {
                table: table.to_string(),
                file: file.clone(),
                source,
            })
        };
        let names: Vec<String> = if name.ends_with(".parquet") {
            let mut reader = ParquetReader::new(open()?);
            let schema = reader.schema().map_err(|e| ctx.read(e))?;
            schema.iter_names().map(ToString::to_string).collect()
        } else if name.ends_with(".arrow") || name.ends_with(".feather") {
            let mut reader = IpcReader::new(open()?);
            let schema = reader.schema().map_err(|e| ctx.read(e))?;
            schema.iter_names().map(ToString::to_string).collect()
        } else {
            let df = CsvReadOptions::default()
                .with_has_header(true)
                .with_n_rows(Some(0))
                .with_infer_schema_length(Some(0))
                .with_raise_if_empty(false)
                .try_into_reader_with_file_path(Some(file.clone()))
                .and_then(polars::prelude::SerReader::finish)
                .map_err(|e| ctx.read(e))?;
            df.get_column_names()
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        if !names.iter().any(|n| n == query::PATIENT_ID) && table != contract::names::VMP_MAPPING {
            return Err(ctx.missing(query::PATIENT_ID));
        }
        Ok(Some(
            schema
                .columns
                .iter()
                .filter(|c| names.contains(&c.name))
                .map(|c| c.name.clone())
                .collect(),
        ))
    }

    /// The `vmp_mapping` reference table (`id`, `prev_id`, both strings), or `None` when the
    /// folder has none.
    pub fn load_vmp_mapping(&self) -> Result<Option<DataFrame>, SourceError> {
        let table = contract::names::VMP_MAPPING;
        let Some(file) = self.find(table)? else {
            return Ok(None);
        };
        let schema = TableSchema {
            name: table.to_string(),
            columns: contract::VMP_MAPPING_COLUMNS
                .iter()
                .map(|c| query::ColumnSchema {
                    name: (*c).to_string(),
                    ty: Type::Str,
                    nullable: false,
                })
                .collect(),
            one_row_per_patient: false,
        };
        load_columns(&schema, &file, &contract::VMP_MAPPING_COLUMNS).map(Some)
    }
}

pub(crate) struct Ctx<'a> {
    pub(crate) table: &'a str,
    pub(crate) file: &'a Path,
    /// The file row of the first row read (0-based), for row numbers in messages.
    pub(crate) first_row: usize,
}

impl Ctx<'_> {
    pub(crate) fn missing(&self, column: &str) -> SourceError {
        SourceError::MissingColumn {
            table: self.table.to_string(),
            column: column.to_string(),
            file: self.file.to_path_buf(),
        }
    }

    pub(crate) fn read(&self, source: PolarsError) -> SourceError {
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
            row: self.first_row + row + 1,
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

/// The polars dtype of a contract type.
pub fn dtype(ty: Type) -> DataType {
    match ty {
        Type::Bool => DataType::Boolean,
        Type::Int => DataType::Int64,
        Type::Float => DataType::Float64,
        Type::Str => DataType::String,
        Type::Date => DataType::Date,
    }
}

/// Loads `wanted` columns of one table from `file` (format from its extension), typed and
/// checked as `schema` says (`patient_id`: Int64, never null).
pub fn load_columns(
    schema: &TableSchema,
    file: &Path,
    wanted: &[&str],
) -> Result<DataFrame, SourceError> {
    let ctx = Ctx {
        table: &schema.name,
        file,
        first_row: 0,
    };
    let raw = read_raw(&ctx, wanted)?;
    coerce_frame(&ctx, schema, &raw, wanted)
}

/// Types and checks the `wanted` columns of `raw` (read from `ctx.file`) as `schema` says.
pub(crate) fn coerce_frame(
    ctx: &Ctx<'_>,
    schema: &TableSchema,
    raw: &DataFrame,
    wanted: &[&str],
) -> Result<DataFrame, SourceError> {
    let mut out = Vec::with_capacity(wanted.len());
    for name in wanted {
        let (ty, nullable) = if *name == query::PATIENT_ID {
            (Type::Int, false)
        } else {
            let c = schema.column(name).ok_or_else(|| ctx.missing(name))?;
            (c.ty, c.nullable)
        };
        let column = raw.column(name).map_err(|_| ctx.missing(name))?;
        out.push(coerce(
            ctx,
            column.as_materialized_series(),
            name,
            ty,
            nullable,
        )?);
    }
    DataFrame::new(raw.height(), out).map_err(|e| ctx.read(e))
}

/// Reads the wanted columns: CSV as text (parsed later, with row-precise errors), Parquet and
/// Arrow with their stored types.
fn read_raw(ctx: &Ctx<'_>, wanted: &[&str]) -> Result<DataFrame, SourceError> {
    let name = ctx.file.to_string_lossy();
    let open = || {
        File::open(ctx.file).map_err(|source| SourceError::Io {
            table: ctx.table.to_string(),
            file: ctx.file.to_path_buf(),
            source,
        })
    };
    let wanted_owned: Vec<String> = wanted
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
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
            .with_columns(Some(wanted_owned))
            .finish()
            .map_err(|e| ctx.read(e))
    } else if name.ends_with(".arrow") || name.ends_with(".feather") {
        let mut reader = IpcReader::new(open()?);
        let schema = reader.schema().map_err(|e| ctx.read(e))?;
        check(&|c| schema.contains(c))?;
        reader
            .with_columns(Some(wanted_owned))
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
        df.select(wanted.iter().copied()).map_err(|e| ctx.read(e))
    }
}

/// Converts one raw column to its contract type, checking required columns have a value in
/// every row and the contract's value rules.
fn coerce(
    ctx: &Ctx<'_>,
    series: &Series,
    name: &str,
    ty: Type,
    nullable: bool,
) -> Result<Column, SourceError> {
    let target = dtype(ty);
    let converted: Series = match (series.dtype(), &target) {
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
        (DataType::String, _) => parse_text(ctx, series, name, ty)?,
        (found, _) if found == &target => series.clone(),
        (found, DataType::Int64) if found.is_integer() => strict_cast(ctx, series, name, &target)?,
        (found, DataType::Float64) if found.is_primitive_numeric() => {
            strict_cast(ctx, series, name, &target)?
        }
        (found, DataType::Boolean) if found.is_integer() => {
            let ints = strict_cast(ctx, series, name, &DataType::Int64)?;
            let ca = ints.i64().map_err(|e| ctx.read(e))?;
            let mut out = Vec::with_capacity(ca.len());
            for (row, v) in ca.iter().enumerate() {
                out.push(match v {
                    None => None,
                    Some(0) => Some(false),
                    Some(1) => Some(true),
                    Some(other) => {
                        return Err(ctx.bad_value(name, row, format!("`{other}` is not 0 or 1")))
                    }
                });
            }
            Series::new(name.into(), out)
        }
        (DataType::Datetime(unit, _), DataType::Date) => {
            // The instant's UTC day (a zoned timestamp is converted to UTC first).
            let per_day: i64 = match unit {
                TimeUnit::Nanoseconds => 86_400_000_000_000,
                TimeUnit::Microseconds => 86_400_000_000,
                TimeUnit::Milliseconds => 86_400_000,
            };
            let physical = series.to_physical_repr().into_owned();
            let ca = physical.i64().map_err(|e| ctx.read(e))?;
            let days: Int32Chunked = ca
                .iter()
                .map(|v| v.map(|t| t.div_euclid(per_day) as i32))
                .collect();
            days.with_name(name.into()).into_date().into_series()
        }
        (found, DataType::Date) if found.is_temporal() => strict_cast(ctx, series, name, &target)?,
        (DataType::Categorical(..) | DataType::Enum(..), DataType::String) => {
            strict_cast(ctx, series, name, &target)?
        }
        (DataType::Null, _) => Series::full_null(name.into(), series.len(), &target),
        (found, _) => return Err(ctx.wrong_type(name, found, &target)),
    };
    if !nullable && converted.null_count() > 0 {
        let row = converted
            .is_null()
            .iter()
            .position(|v| v == Some(true))
            .unwrap_or(0);
        return Err(ctx.bad_value(name, row, "empty value (this column is required)".into()));
    }
    if ty == Type::Int {
        let ca = converted.i64().map_err(|e| ctx.read(e))?;
        for (row, v) in ca.iter().enumerate() {
            if let Some(v) = v {
                contract::check_value(ctx.table, name, v)
                    .map_err(|problem| ctx.bad_value(name, row, problem))?;
            }
        }
    }
    if ty == Type::Float {
        // NaN is read as null (as pandas writes missing floats).
        let ca = converted.f64().map_err(|e| ctx.read(e))?;
        if ca.iter().any(|v| v.is_some_and(f64::is_nan)) {
            let out: Float64Chunked = ca.iter().map(|v| v.filter(|f| !f.is_nan())).collect();
            return Ok(out.with_name(name.into()).into_series().into());
        }
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

/// Parses a text column into `ty`; an empty field is null.
fn parse_text(ctx: &Ctx<'_>, series: &Series, name: &str, ty: Type) -> Result<Series, SourceError> {
    let ca = series.str().map_err(|e| ctx.read(e))?;
    let bad = |row: usize, value: &str, what: &str| {
        ctx.bad_value(name, row, format!("`{value}` is not {what}"))
    };
    let cells = ca
        .iter()
        .enumerate()
        .map(|(row, v)| (row, v.filter(|s| !s.is_empty())));
    Ok(match ty {
        Type::Int => {
            let values = cells
                .map(|(row, v)| {
                    v.map(|s| parse_int(s).ok_or_else(|| bad(row, s, "an integer")))
                        .transpose()
                })
                .collect::<Result<Vec<Option<i64>>, _>>()?;
            Series::new(name.into(), values)
        }
        Type::Float => {
            let values = cells
                .map(|(row, v)| {
                    v.map(|s| parse_float(s).ok_or_else(|| bad(row, s, "a number")))
                        .transpose()
                })
                .collect::<Result<Vec<Option<f64>>, _>>()?;
            Series::new(name.into(), values)
        }
        Type::Bool => {
            let values = cells
                .map(|(row, v)| {
                    v.map(|s| parse_bool(s).ok_or_else(|| bad(row, s, "1, 0, true or false")))
                        .transpose()
                })
                .collect::<Result<Vec<Option<bool>>, _>>()?;
            Series::new(name.into(), values)
        }
        Type::Date => {
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
        Type::Str => series.clone(),
    })
}

/// A `YYYY-MM-DD` date as days since 1970-01-01; `None` unless the text is exactly that form
/// and the day exists.
pub fn parse_date_days(s: &str) -> Option<i32> {
    query::Date::parse_iso(s).map(|d| d.0)
}

/// An integer in plain decimal (an optional leading `-`).
pub fn parse_int(s: &str) -> Option<i64> {
    if s.starts_with('+') {
        return None;
    }
    s.parse().ok()
}

/// A decimal or scientific number (`nan`/`inf` included, as Python writes them).
pub fn parse_float(s: &str) -> Option<f64> {
    s.parse().ok()
}

/// `1`/`0`/`true`/`false` (any case).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" => Some(true),
        "0" => Some(false),
        _ if s.eq_ignore_ascii_case("true") => Some(true),
        _ if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_parse_strictly() {
        assert_eq!(parse_date_days("1970-01-01"), Some(0));
        assert_eq!(parse_date_days("2019-02-29"), None);
        assert_eq!(parse_date_days("2020-1-01"), None);
        assert_eq!(parse_int("+12"), None);
        assert_eq!(parse_int("-12"), Some(-12));
        assert_eq!(parse_float("1e-05"), Some(1e-5));
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }
}
