//! Loading tables into a schema: created with the contract's column types and an index on
//! `patient_id`, filled with binary COPY.

use postgres::Client;
use query::{ColumnData, EngineError, Table, Tables, Type};

use super::copy::copy_in;
use crate::dialect::{double_quoted, Dialect, Postgres};

/// The PostgreSQL column type of a query type.
pub fn column_type(ty: Type) -> &'static str {
    Postgres::default().sql_type(ty)
}

/// Creates (replacing) `table` in `schema` with `patient_id bigint NOT NULL` and `columns`
/// (name, type, nullable).
pub fn create_table(
    client: &mut Client,
    schema: &str,
    table: &str,
    columns: &[(String, Type, bool)],
) -> Result<(), postgres::Error> {
    let qualified = format!("{}.{}", double_quoted(schema), double_quoted(table));
    let mut defs = vec!["patient_id bigint NOT NULL".to_string()];
    for (name, ty, nullable) in columns {
        defs.push(format!(
            "{} {}{}",
            double_quoted(name),
            column_type(*ty),
            if *nullable { "" } else { " NOT NULL" }
        ));
    }
    client.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS {};\nDROP TABLE IF EXISTS {qualified};\nCREATE TABLE {qualified} ({})",
        double_quoted(schema),
        defs.join(", ")
    ))
}

/// Appends columns (`patient_id` first, then the table's columns in order) to a table with
/// binary COPY; returns the number of rows.
pub fn append_columns(
    client: &mut Client,
    schema: &str,
    table: &str,
    names: &[String],
    columns: &[&ColumnData],
) -> Result<u64, postgres::Error> {
    let qualified = format!("{}.{}", double_quoted(schema), double_quoted(table));
    let quoted: Vec<String> = names.iter().map(|n| double_quoted(n)).collect();
    copy_in(client, &qualified, &quoted, columns)
}

/// Indexes `patient_id` and updates the planner's statistics (after loading).
pub fn finish_table(client: &mut Client, schema: &str, table: &str) -> Result<(), postgres::Error> {
    let qualified = format!("{}.{}", double_quoted(schema), double_quoted(table));
    client.batch_execute(&format!(
        "CREATE INDEX ON {qualified} (patient_id);\nANALYZE {qualified}"
    ))
}

/// The rows of a table, column by column (`patient_id` first).
pub fn table_columns(table: &Table) -> Vec<ColumnData> {
    let mut out = vec![ColumnData::Int(
        table.rows.iter().map(|(p, _)| Some(*p)).collect(),
    )];
    for (i, c) in table.schema.columns.iter().enumerate() {
        let mut col = ColumnData::new(c.ty);
        for (_, row) in &table.rows {
            col.push(&row[i]);
        }
        out.push(col);
    }
    out
}

/// Creates every table of `tables` in `schema` (replacing tables of the same names) and loads
/// its rows.
pub fn load_tables(client: &mut Client, schema: &str, tables: &Tables) -> Result<(), EngineError> {
    let err = |e: postgres::Error| {
        EngineError::Backend(format!(
            "loading tables into schema {schema}: {}",
            e.as_db_error()
                .map_or_else(|| e.to_string(), |d| d.message().to_string())
        ))
    };
    for table in tables.tables.values() {
        let name = &table.schema.name;
        let columns: Vec<(String, Type, bool)> = table
            .schema
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.ty, c.nullable))
            .collect();
        create_table(client, schema, name, &columns).map_err(err)?;
        let mut names = vec![query::PATIENT_ID.to_string()];
        names.extend(columns.iter().map(|(n, _, _)| n.clone()));
        let data = table_columns(table);
        let refs: Vec<&ColumnData> = data.iter().collect();
        append_columns(client, schema, name, &names, &refs).map_err(err)?;
        finish_table(client, schema, name).map_err(err)?;
    }
    Ok(())
}
