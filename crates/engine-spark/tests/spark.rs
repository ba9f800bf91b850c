//! The Spark engine against a real cluster (the shared local standalone cluster of
//! `spark_connect::testing`, or `SPARK_CONNECT_URL`): random query-model datasets over random
//! tables agree with the reference interpreter; a hostile codelist code matches itself and
//! harms nothing; errors name the table and column. Skipped, with one line saying how to
//! enable them, when Spark is not provisioned.

use engine_spark::{encode, ParquetResults, SparkEngine};
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
    // Every third case's result (when not empty) comes back through Parquet files.
    let folder = (seed % 3 == 1).then(testing::shared_temp_dir).flatten();
    let engine = engine.with_parquet_results(
        folder
            .as_ref()
            .map(|f| ParquetResults::new(f.path()).with_min_rows(0)),
    );
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

/// A random case with the interpreter's result.
type Case = (
    Tables,
    query::Dataset,
    Vec<query::Date>,
    Vec<(query::Date, query::Batch)>,
);

/// The first random cases whose result is not empty, with the interpreter's result.
fn non_empty_cases(n: usize) -> Vec<Case> {
    (1..200)
        .filter_map(|seed| {
            let (tables, dataset, dates) = random_case(seed);
            let expected = Interpreter::new(tables.clone())
                .run_all(&dataset, &dates)
                .ok()?;
            let rows: usize = expected.iter().map(|(_, b)| b.patient_ids.len()).sum();
            (rows > 20).then_some((tables, dataset, dates, expected))
        })
        .take(n)
        .collect()
}

#[test]
fn large_results_through_parquet_equal_the_arrow_results_and_leave_nothing_behind() {
    let Some(folder) = testing::cluster().and_then(|_| testing::shared_temp_dir()) else {
        testing::print_line(
            "spark: no folder shared with the cluster: the Parquet path not checked",
        );
        return;
    };
    for (tables, dataset, dates, expected) in non_empty_cases(3) {
        let Some(by_arrow) = engine_with(&tables, 1_000_000) else {
            return;
        };
        let arrow = by_arrow.run_all(&dataset, &dates).unwrap();
        same(&expected, &arrow).unwrap();
        assert_eq!(by_arrow.parquet_results(), 0);
        // A threshold of 0 rows: the result comes back through Parquet files.
        let by_parquet = engine_with(&tables, 1_000_000)
            .unwrap()
            .with_parquet_results(Some(ParquetResults::new(folder.path()).with_min_rows(0)));
        let parquet = by_parquet.run_all(&dataset, &dates).unwrap();
        assert_eq!(by_parquet.parquet_results(), 1);
        same(&arrow, &parquet).unwrap();
        let left: Vec<_> = std::fs::read_dir(folder.path()).unwrap().collect();
        assert!(left.is_empty(), "left behind: {left:?}");
        // A threshold above every date's rows: Arrow batches again.
        let above = engine_with(&tables, 1_000_000)
            .unwrap()
            .with_parquet_results(Some(
                ParquetResults::new(folder.path()).with_min_rows(1_000_000),
            ));
        same(&arrow, &above.run_all(&dataset, &dates).unwrap()).unwrap();
        assert_eq!(above.parquet_results(), 0);
    }
}

#[test]
fn a_result_folder_the_client_does_not_share_is_a_clear_error() {
    let Some((mine, theirs)) =
        testing::cluster().and_then(|_| testing::shared_temp_dir().zip(testing::shared_temp_dir()))
    else {
        return;
    };
    let (tables, dataset, dates, _) = non_empty_cases(1).pop().unwrap();
    // The cluster writes into `theirs`; the client looks in `mine`.
    let parquet = ParquetResults {
        dir: mine.path().to_path_buf(),
        cluster_dir: format!("file:{}", theirs.path().display()),
        min_rows: 0,
    };
    let Some(engine) = engine_with(&tables, 1000) else {
        return;
    };
    let engine = engine.with_parquet_results(Some(parquet));
    let e = engine.run_all(&dataset, &dates).unwrap_err().to_string();
    assert!(
        e.contains("this client does not see it at")
            && e.contains(&mine.path().display().to_string())
            && e.contains(&theirs.path().display().to_string())
            && !e.contains('\n'),
        "{e}"
    );
    // A folder that does not exist is named before anything runs.
    let missing = mine.path().join("no-such-folder");
    let e = SparkEngine::connect(&format!(
        "{};result_dir={}",
        testing::cluster().unwrap().url(),
        missing.display()
    ))
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("is not a folder this client can read") && e.contains("no-such-folder"),
        "{e}"
    );
}
