//! `load-ehr`: a table folder loaded into a PostgreSQL schema, so the same data can be served
//! from a database. Tables get the contract's column types and an index on `patient_id`; rows
//! go in with binary COPY, in chunks, with a progress bar.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

use ehr::{contract, TableFolder};
use engine_sql::dialect::double_quoted;
use engine_sql::postgres::copy::copy_in;
use engine_sql::postgres::load::{append_columns, create_table, finish_table};
use engine_sql::postgres::{describe_error, PgUrl};
use postgres::NoTls;
use query::{ColumnData, Type};

use crate::cli::{CohortError, Progress};

/// Rows per COPY: a chunk's columns are converted, sent, then dropped.
const ROWS_PER_CHUNK: usize = 200_000;

/// What was loaded: (table, rows), in load order.
pub type Loaded = Vec<(String, usize)>;

/// Loads every contract table that `from` has (and `vmp_mapping`) into the schema of `to`
/// (created when missing; tables of the same names are replaced), logging progress to `log`.
/// The URL's password never reaches a message.
pub fn load_ehr(from: &Path, to: &str, log: &mut dyn Write) -> Result<Loaded, CohortError> {
    let url = PgUrl::parse(to).map_err(|e| CohortError::Usage(e.to_string()))?;
    let folder = TableFolder::open(from)?;
    let backend = |e: &postgres::Error| CohortError::Usage(describe_error(&url, e));
    let io = |e: std::io::Error| CohortError::Io {
        context: "log".to_string(),
        source: e,
    };
    // Every table's columns first, so a bad folder fails before the database is touched.
    let mut plan = Vec::new();
    for schema in contract::tables() {
        if let Some(columns) = folder.present_columns(&schema.name)? {
            plan.push((schema.clone(), columns));
        }
    }
    if plan.is_empty() {
        return Err(CohortError::Usage(format!(
            "{}: no table files of the contract (e.g. patients.parquet)",
            from.display()
        )));
    }
    let mut client = url.config().connect(NoTls).map_err(|e| backend(&e))?;
    writeln!(
        log,
        "Loading {} table(s) from {} into schema {} at {url}",
        plan.len(),
        from.display(),
        url.schema
    )
    .map_err(io)?;
    let mut loaded = Vec::new();
    for (schema, columns) in plan {
        let table = schema.name.as_str();
        let mut wanted = BTreeMap::new();
        wanted.insert(
            table.to_string(),
            columns.iter().cloned().collect::<BTreeSet<String>>(),
        );
        let mut frames = folder.load(&wanted)?;
        let Some(df) = frames.remove(table) else {
            continue;
        };
        let defs: Vec<(String, Type, bool)> = columns
            .iter()
            .filter_map(|name| schema.column(name))
            .map(|c| (c.name.clone(), c.ty, c.nullable))
            .collect();
        let mut names = vec![query::PATIENT_ID.to_string()];
        names.extend(defs.iter().map(|(n, _, _)| n.clone()));
        let mut types = vec![Type::Int];
        types.extend(defs.iter().map(|(_, t, _)| *t));
        create_table(&mut client, &url.schema, table, &defs).map_err(|e| backend(&e))?;
        let rows = df.height();
        let progress = Progress::new(rows.div_ceil(ROWS_PER_CHUNK).max(1) as u64, "chunks");
        let mut offset = 0;
        while offset < rows {
            let len = ROWS_PER_CHUNK.min(rows - offset);
            let chunk = df.slice(offset as i64, len);
            let data = names
                .iter()
                .zip(&types)
                .map(|(name, ty)| {
                    let column = chunk
                        .column(name)
                        .map_err(|e| CohortError::Usage(format!("{table}.{name}: {e}")))?;
                    engine_polars::column_data(column, *ty)
                        .map_err(|e| CohortError::Usage(format!("{table}.{name}: {e}")))
                })
                .collect::<Result<Vec<ColumnData>, CohortError>>()?;
            let refs: Vec<&ColumnData> = data.iter().collect();
            append_columns(&mut client, &url.schema, table, &names, &refs)
                .map_err(|e| backend(&e))?;
            offset += len;
            progress
                .step(format!("{table}: {offset} of {rows} rows"), log)
                .map_err(io)?;
        }
        finish_table(&mut client, &url.schema, table).map_err(|e| backend(&e))?;
        writeln!(log, "Loaded {table}: {rows} rows").map_err(io)?;
        loaded.push((table.to_string(), rows));
    }
    if let Some(df) = folder.load_vmp_mapping()? {
        let table = contract::names::VMP_MAPPING;
        let qualified = format!("{}.{}", double_quoted(&url.schema), double_quoted(table));
        client
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS {qualified};\nCREATE TABLE {qualified} (id text NOT NULL, prev_id text NOT NULL)"
            ))
            .map_err(|e| backend(&e))?;
        let data = contract::VMP_MAPPING_COLUMNS
            .iter()
            .map(|name| {
                let column = df
                    .column(name)
                    .map_err(|e| CohortError::Usage(format!("{table}.{name}: {e}")))?;
                engine_polars::column_data(column, Type::Str)
                    .map_err(|e| CohortError::Usage(format!("{table}.{name}: {e}")))
            })
            .collect::<Result<Vec<ColumnData>, CohortError>>()?;
        let refs: Vec<&ColumnData> = data.iter().collect();
        let names: Vec<String> = contract::VMP_MAPPING_COLUMNS
            .iter()
            .map(|n| double_quoted(n))
            .collect();
        copy_in(&mut client, &qualified, &names, &refs).map_err(|e| backend(&e))?;
        writeln!(log, "Loaded {table}: {} rows", df.height()).map_err(io)?;
        loaded.push((table.to_string(), df.height()));
    }
    Ok(loaded)
}
