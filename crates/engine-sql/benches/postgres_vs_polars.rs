//! PostgreSQL (one statement set for every index date, and the same SQL once per index date)
//! versus the polars engine, on the same random study-shaped tables
//! (`query::testing::study_like_tables`) and the study-shaped dataset for its 25 monthly index
//! dates. Results are checked to agree; nothing is asserted on time.
//!
//! `cargo bench -p engine-sql --bench postgres_vs_polars [-- PATIENTS [--work-mem SIZE]
//! [--no-loop] [--timings]]` (default 10,000 patients; `--work-mem 256MB` sets the session's
//! `work_mem`; `--no-loop` skips the per-date loop; `--timings` prints each statement's time). Uses the private test server
//! (`engine_sql::testing`) or `SRO_TEST_DATABASE_URL`.

use std::collections::HashMap;
use std::time::Instant;

use engine_polars::PolarsEngine;
use engine_sql::postgres::{load_tables, PostgresEngine};
use engine_sql::testing;
use polars::prelude::*;
use query::testing::{same, study_like_dataset, study_like_dates, study_like_tables};
use query::{Engine, Table, Type, Value};

fn to_frame(table: &Table) -> DataFrame {
    let mut cols = vec![Column::new(
        "patient_id".into(),
        table.rows.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
    )];
    for (i, c) in table.schema.columns.iter().enumerate() {
        let vals: Vec<&Value> = table.rows.iter().map(|(_, r)| &r[i]).collect();
        let name: PlSmallStr = c.name.as_str().into();
        cols.push(match c.ty {
            Type::Int => Column::new(name, vals.iter().map(|v| v.as_int()).collect::<Vec<_>>()),
            Type::Float => Column::new(name, vals.iter().map(|v| v.as_f64()).collect::<Vec<_>>()),
            Type::Str => Column::new(name, vals.iter().map(|v| v.as_str()).collect::<Vec<_>>()),
            Type::Bool => Column::new(name, vals.iter().map(|v| v.as_bool()).collect::<Vec<_>>()),
            Type::Date => Column::new(
                name,
                vals.iter()
                    .map(|v| v.as_date().map(|d| d.0))
                    .collect::<Vec<_>>(),
            )
            .cast(&DataType::Date)
            .expect("dates"),
        });
    }
    DataFrame::new_infer_height(cols).expect("frame")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let patients: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let work_mem = args
        .iter()
        .position(|a| a == "--work-mem")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let no_loop = args.iter().any(|a| a == "--no-loop");
    let Some(server) = testing::server() else {
        return;
    };
    let dataset = study_like_dataset();
    let dates = study_like_dates();
    let t0 = Instant::now();
    let tables = study_like_tables(patients, 1);
    let rows: usize = tables.tables.values().map(|t| t.rows.len()).sum();
    println!(
        "{patients} patients, {rows} rows, 25 index dates: generated in {:.2?}",
        t0.elapsed()
    );

    let url = server.fresh_schema("bench").expect("schema");
    let mut client = server.client().expect("client");
    let t0 = Instant::now();
    load_tables(&mut client, &url.schema, &tables).expect("load");
    println!("postgres: loaded with COPY in {:.2?}", t0.elapsed());
    let mut session = server.client().expect("client");
    if let Some(w) = &work_mem {
        // A size given on the bench's command line, e.g. 256MB.
        assert!(
            w.chars().all(|c| c.is_ascii_alphanumeric()),
            "bad --work-mem"
        );
        session
            .batch_execute(&format!("SET work_mem = '{w}'"))
            .expect("work_mem");
        println!("postgres: work_mem = {w}");
    }
    let engine = PostgresEngine::from_client(session, url)
        .expect("connect")
        .with_timings(args.iter().any(|a| a == "--timings"));

    let t0 = Instant::now();
    let pg = engine.run_all(&dataset, &dates).expect("postgres");
    let one_pass = t0.elapsed();
    println!("postgres, every index date in one statement set: {one_pass:.2?}");

    if !no_loop {
        let t0 = Instant::now();
        let mut looped = Vec::new();
        for d in &dates {
            looped.extend(engine.run_all(&dataset, &[*d]).expect("postgres per date"));
        }
        let per_date = t0.elapsed();
        println!(
            "postgres, the same SQL once per index date: {per_date:.2?} ({:.1}x the one pass)",
            per_date.as_secs_f64() / one_pass.as_secs_f64()
        );
        same(&pg, &looped).expect("per-date loop agrees");
    }

    let frames: HashMap<String, DataFrame> = tables
        .tables
        .iter()
        .map(|(k, v)| (k.clone(), to_frame(v)))
        .collect();
    let polars = PolarsEngine::new(frames, "memory");
    let t0 = Instant::now();
    let pl = polars.run_all(&dataset, &dates).expect("polars");
    println!("polars engine (tables in memory): {:.2?}", t0.elapsed());
    same(&pl, &pg).expect("polars and postgres agree");
    let out_rows: usize = pg.iter().map(|(_, b)| b.len()).sum();
    println!("identical results: {out_rows} rows over 25 dates");
}
