//! Conversions between polars columns and query-model values.

use polars::prelude::*;
use query::{ColumnData, Date, StrColumn, Type, Value};

/// The polars dtype of a query type.
pub(crate) fn dtype(ty: Type) -> DataType {
    match ty {
        Type::Bool => DataType::Boolean,
        Type::Int => DataType::Int64,
        Type::Float => DataType::Float64,
        Type::Str => DataType::String,
        Type::Date => DataType::Date,
    }
}

/// A column of `len` copies of `value` (of type `ty`).
pub(crate) fn constant(value: &Value, ty: Type, len: usize) -> Column {
    let name = PlSmallStr::from_static("#const");
    let av = match value {
        Value::Null => AnyValue::Null,
        Value::Bool(b) => AnyValue::Boolean(*b),
        Value::Int(i) => AnyValue::Int64(*i),
        Value::Float(f) => AnyValue::Float64(*f),
        Value::Str(s) => AnyValue::StringOwned(s.as_ref().into()),
        Value::Date(d) => AnyValue::Date(d.0),
    };
    Column::new_scalar(name, Scalar::new(dtype(ty), av.into_static()), len)
}

/// Typed read access to a column of one of the five query types.
pub(crate) enum Arr<'a> {
    Bool(&'a BooleanChunked),
    Int(&'a Int64Chunked),
    Float(&'a Float64Chunked),
    Str(&'a StringChunked),
    Date(&'a Int32Chunked),
}

/// Typed access to `c` (which must have one of the five dtypes).
pub(crate) fn arr(c: &Column) -> PolarsResult<Arr<'_>> {
    Ok(match c.dtype() {
        DataType::Boolean => Arr::Bool(c.bool()?),
        DataType::Int64 => Arr::Int(c.i64()?),
        DataType::Float64 => Arr::Float(c.f64()?),
        DataType::String => Arr::Str(c.str()?),
        DataType::Date => Arr::Date(c.date()?.physical()),
        other => polars_bail!(ComputeError: "unexpected column type {other}"),
    })
}

/// Every value of `c`, in order.
pub(crate) fn values(c: &Column) -> PolarsResult<Vec<Value>> {
    let c = c.as_materialized_series().rechunk();
    let c = Column::from(c);
    Ok(match arr(&c)? {
        Arr::Bool(a) => a
            .iter()
            .map(|v| v.map_or(Value::Null, Value::Bool))
            .collect(),
        Arr::Int(a) => a
            .iter()
            .map(|v| v.map_or(Value::Null, Value::Int))
            .collect(),
        Arr::Float(a) => a
            .iter()
            .map(|v| match v {
                Some(f) if !f.is_nan() => Value::Float(f),
                _ => Value::Null,
            })
            .collect(),
        Arr::Str(a) => a
            .iter()
            .map(|v| v.map_or(Value::Null, Value::str))
            .collect(),
        Arr::Date(a) => a
            .iter()
            .map(|v| v.map_or(Value::Null, |d| Value::Date(Date(d))))
            .collect(),
    })
}

/// A column of type `ty` from values.
pub(crate) fn from_values(values: &[Value], ty: Type) -> Column {
    let name = PlSmallStr::from_static("#v");
    match ty {
        Type::Bool => Column::new(name, values.iter().map(Value::as_bool).collect::<Vec<_>>()),
        Type::Int => Column::new(name, values.iter().map(Value::as_int).collect::<Vec<_>>()),
        Type::Float => Column::new(name, values.iter().map(Value::as_f64).collect::<Vec<_>>()),
        Type::Str => Column::new(name, values.iter().map(Value::as_str).collect::<Vec<_>>()),
        Type::Date => date_column(values.iter().map(|v| v.as_date().map(|d| d.0))),
    }
}

/// A Date column from days since 1970-01-01.
pub(crate) fn date_column(days: impl Iterator<Item = Option<i32>>) -> Column {
    let ca: Int32Chunked = days.collect();
    Column::from(
        ca.with_name(PlSmallStr::from_static("#v"))
            .into_date()
            .into_series(),
    )
}

/// A column as engine output.
pub fn to_column_data(c: &Column, ty: Type) -> PolarsResult<ColumnData> {
    let c = Column::from(c.cast(&dtype(ty))?.as_materialized_series().rechunk());
    Ok(match arr(&c)? {
        Arr::Bool(a) => ColumnData::Bool(a.iter().collect()),
        Arr::Int(a) => ColumnData::Int(a.iter().collect()),
        Arr::Float(a) => ColumnData::Float(a.iter().map(|v| v.filter(|f| !f.is_nan())).collect()),
        Arr::Str(a) => {
            let mut out = StrColumn::with_capacity(a.len());
            for v in a.iter() {
                out.push(v);
            }
            ColumnData::Str(out)
        }
        Arr::Date(a) => ColumnData::Date(a.iter().map(|v| v.map(Date)).collect()),
    })
}
