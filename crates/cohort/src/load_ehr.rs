//! `load-ehr`: a table folder loaded into a database, so the same data can be served from it.
//! PostgreSQL: tables in a schema with the contract's column types and an index on
//! `patient_id`, rows sent with binary COPY. Spark: tables (Parquet, in the session's
//! warehouse) in the URL's database, rows sent as Arrow local relations and inserted from
//! there. Both in chunks, with a progress bar; no value is ever written into SQL text.

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
    if to.starts_with("sc://") {
        return load_ehr_spark(from, to, log);
    }
    let url = PgUrl::parse(to).map_err(|e| CohortError::Usage(e.to_string()))?;
    let folder = TableFolder::open(from)?;
    let backend = |e: &postgres::Error| CohortError::Usage(describe_error(&url, e));
    let io = |e: std::io::Error| CohortError::Io {
        context: "log".to_string(),
        source: e,
    };
    let plan = folder_plan(&folder, from)?;
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
        let rows = for_each_chunk(&df, table, &names, &types, log, |data, _| {
            let refs: Vec<&ColumnData> = data.iter().collect();
            append_columns(&mut client, &url.schema, table, &names, &refs)
                .map(|_| ())
                .map_err(|e| backend(&e))
        })?;
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
        let vmp_names: Vec<String> = contract::VMP_MAPPING_COLUMNS
            .iter()
            .map(|n| (*n).to_string())
            .collect();
        let data = chunk_columns(&df, table, &vmp_names, &[Type::Str, Type::Str])?;
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

/// A table to load and the contract's columns its file has.
type TablePlan = (std::sync::Arc<query::TableSchema>, Vec<String>);

/// Every contract table of the folder with its columns, so a bad folder fails before the
/// database is touched.
fn folder_plan(folder: &TableFolder, from: &Path) -> Result<Vec<TablePlan>, CohortError> {
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
    Ok(plan)
}

/// Sends `df` in chunks of [`ROWS_PER_CHUNK`] rows to `send` (the chunk's columns `names` as
/// `types`, and whether it is the first), with a progress bar in `log`; returns the rows sent.
/// An empty table is sent as one empty chunk.
fn for_each_chunk(
    df: &polars::prelude::DataFrame,
    table: &str,
    names: &[String],
    types: &[Type],
    log: &mut dyn Write,
    mut send: impl FnMut(&[ColumnData], bool) -> Result<(), CohortError>,
) -> Result<usize, CohortError> {
    let io = |e: std::io::Error| CohortError::Io {
        context: "log".to_string(),
        source: e,
    };
    let rows = df.height();
    let progress = Progress::new(rows.div_ceil(ROWS_PER_CHUNK).max(1) as u64, "chunks");
    let mut offset = 0;
    loop {
        let len = ROWS_PER_CHUNK.min(rows - offset);
        let data = chunk_columns(&df.slice(offset as i64, len), table, names, types)?;
        send(&data, offset == 0)?;
        offset += len;
        progress
            .step(format!("{table}: {offset} of {rows} rows"), log)
            .map_err(io)?;
        if offset >= rows {
            return Ok(rows);
        }
    }
}

/// The columns of `df` named `names`, as `types`.
fn chunk_columns(
    df: &polars::prelude::DataFrame,
    table: &str,
    names: &[String],
    types: &[Type],
) -> Result<Vec<ColumnData>, CohortError> {
    names
        .iter()
        .zip(types)
        .map(|(name, ty)| {
            let column = df
                .column(name)
                .map_err(|e| CohortError::Usage(format!("{table}.{name}: {e}")))?;
            engine_polars::column_data(column, *ty)
                .map_err(|e| CohortError::Usage(format!("{table}.{name}: {e}")))
        })
        .collect()
}

/// [`load_ehr`] into the database of a Spark Connect URL.
fn load_ehr_spark(from: &Path, to: &str, log: &mut dyn Write) -> Result<Loaded, CohortError> {
    use engine_sql::dialect::backquoted;
    let url =
        spark_connect::ConnectUrl::parse(to).map_err(|e| CohortError::Usage(e.to_string()))?;
    let folder = TableFolder::open(from)?;
    let plan = folder_plan(&folder, from)?;
    let spark = |e: spark_connect::Error| CohortError::Usage(e.to_string());
    let io = |e: std::io::Error| CohortError::Io {
        context: "log".to_string(),
        source: e,
    };
    // Connected without the database, which may not exist yet.
    let client = spark_connect::Client::connect_to(spark_connect::ConnectUrl {
        database: None,
        ..url.clone()
    })
    .map_err(spark)?;
    let qualified = |table: &str| match &url.database {
        Some(db) => format!("{}.{}", backquoted(db), backquoted(table)),
        None => backquoted(table),
    };
    if let Some(db) = &url.database {
        client
            .sql(&format!("CREATE DATABASE IF NOT EXISTS {}", backquoted(db)))
            .map_err(spark)?;
    }
    writeln!(
        log,
        "Loading {} table(s) from {} into {} at {url}",
        plan.len(),
        from.display(),
        url.database.as_deref().map_or_else(
            || "the current database".to_string(),
            |d| format!("database {d}")
        )
    )
    .map_err(io)?;
    let mut loaded = Vec::new();
    let upload = |table: &str, names: &[String], data: &[ColumnData], first: bool| {
        let bytes = engine_spark::encode(names, data).map_err(CohortError::Usage)?;
        let view = format!("sro_load_{table}");
        client
            .create_temp_view_from_arrow(&view, bytes)
            .map_err(spark)?;
        let target = qualified(table);
        let sql = if first {
            client
                .sql(&format!("DROP TABLE IF EXISTS {target}"))
                .map_err(spark)?;
            format!("CREATE TABLE {target} USING parquet AS SELECT * FROM {view}")
        } else {
            format!("INSERT INTO {target} SELECT * FROM {view}")
        };
        client.sql(&sql).map_err(spark)?;
        client
            .sql(&format!("DROP VIEW IF EXISTS {view}"))
            .map_err(spark)
    };
    for (schema, columns) in plan {
        let table = schema.name.as_str();
        let mut wanted = BTreeMap::new();
        wanted.insert(
            table.to_string(),
            columns.iter().cloned().collect::<BTreeSet<String>>(),
        );
        let Some(df) = folder.load(&wanted)?.remove(table) else {
            continue;
        };
        let mut names = vec![query::PATIENT_ID.to_string()];
        names.extend(columns.iter().cloned());
        let mut types = vec![Type::Int];
        types.extend(
            columns
                .iter()
                .map(|c| schema.column(c).map_or(Type::Str, |c| c.ty)),
        );
        let rows = for_each_chunk(&df, table, &names, &types, log, |data, first| {
            upload(table, &names, data, first)
        })?;
        writeln!(log, "Loaded {table}: {rows} rows").map_err(io)?;
        loaded.push((table.to_string(), rows));
    }
    if let Some(df) = folder.load_vmp_mapping()? {
        let table = contract::names::VMP_MAPPING;
        let names: Vec<String> = contract::VMP_MAPPING_COLUMNS
            .iter()
            .map(|n| (*n).to_string())
            .collect();
        let data = chunk_columns(&df, table, &names, &[Type::Str, Type::Str])?;
        upload(table, &names, &data, true)?;
        writeln!(log, "Loaded {table}: {} rows", df.height()).map_err(io)?;
        loaded.push((table.to_string(), df.height()));
    }
    Ok(loaded)
}
