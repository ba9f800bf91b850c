//! Loaded tables as rows: what the reference interpreter reads.

use std::collections::HashMap;
use std::sync::Arc;

use polars::prelude::*;
use query::{Table, TableSchema, Tables, Type, Value};

use crate::contract;

/// The tables (contract columns, typed as [`crate::folder::load_columns`] gives them) as rows
/// for the reference interpreter; each table's schema is the contract's, restricted to the
/// columns present.
pub fn to_tables(frames: &HashMap<String, DataFrame>) -> PolarsResult<Tables> {
    let mut out = Tables::new();
    for (name, df) in frames {
        let Some(full) = contract::table(name) else {
            continue;
        };
        let present: Vec<query::ColumnSchema> = full
            .columns
            .iter()
            .filter(|c| df.column(&c.name).is_ok())
            .cloned()
            .collect();
        let schema = Arc::new(TableSchema {
            name: name.clone(),
            columns: present.clone(),
            one_row_per_patient: full.one_row_per_patient,
        });
        let pids: Vec<Option<i64>> = df
            .column(query::PATIENT_ID)?
            .cast(&DataType::Int64)?
            .i64()?
            .iter()
            .collect();
        let mut columns: Vec<Vec<Value>> = Vec::new();
        for c in &present {
            columns.push(values(df.column(&c.name)?, c.ty)?);
        }
        let mut table = Table::new(schema);
        for (row, pid) in pids.into_iter().enumerate() {
            let Some(pid) = pid else { continue };
            table
                .rows
                .push((pid, columns.iter().map(|c| c[row].clone()).collect()));
        }
        out.insert(table);
    }
    Ok(out)
}

fn values(c: &Column, ty: Type) -> PolarsResult<Vec<Value>> {
    let c = c.as_materialized_series().rechunk();
    Ok(match ty {
        Type::Bool => c
            .bool()?
            .iter()
            .map(|v| v.map_or(Value::Null, Value::Bool))
            .collect(),
        Type::Int => c
            .i64()?
            .iter()
            .map(|v| v.map_or(Value::Null, Value::Int))
            .collect(),
        Type::Float => c
            .f64()?
            .iter()
            .map(|v| v.filter(|f| !f.is_nan()).map_or(Value::Null, Value::Float))
            .collect(),
        Type::Str => c
            .str()?
            .iter()
            .map(|v| v.map_or(Value::Null, Value::str))
            .collect(),
        Type::Date => c
            .date()?
            .physical()
            .iter()
            .map(|v| v.map_or(Value::Null, |d| Value::Date(query::Date(d))))
            .collect(),
    })
}
