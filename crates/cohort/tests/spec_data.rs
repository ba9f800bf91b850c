//! The study language's spec tests, written as data (`tests/spec/*.yaml`: tables, a study
//! definition, the expected file per index date), run on every engine of [`engines`].
//!
//! A case:
//! ```yaml
//! - name: what it pins down
//!   tables:                       # CSV text per contract table (only the columns used)
//!     practice_registrations: |
//!       patient_id,start_date,end_date,practice_pseudo_id
//!       1,2020-01-01,,1
//!   files: {codelists/x.csv: "code\nA\n"}   # optional files in the study folder
//!   study: |                       # the study definition (YAML)
//!     population: {registered_as_of: index_date}
//!     variables: {...}
//!   index_dates: [2020-01-01]      # default: the study's index_date
//!   expected:                     # the CSV generate_cohort writes, per index date
//!     2020-01-01: |
//!       patient_id
//!       1
//!   error: text                   # instead of expected: loading or running fails with it
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use cohort::lang::{Runtime, StudyDefinition};
use polars::prelude::DataFrame;
use query::{Date, Engine};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    #[serde(default)]
    tables: BTreeMap<String, String>,
    #[serde(default)]
    files: BTreeMap<String, String>,
    study: String,
    #[serde(default)]
    index_dates: Vec<String>,
    #[serde(default)]
    expected: BTreeMap<String, String>,
    #[serde(default)]
    error: Option<String>,
    /// Every line of the error, exactly (paths relative to the study folder).
    #[serde(default)]
    errors: Option<Vec<String>>,
}

/// An engine over the tables of a case.
type EngineMaker = fn(&HashMap<String, DataFrame>) -> Result<Box<dyn Engine>, String>;

/// Every engine the spec runs on; a new engine joins here. PostgreSQL joins when the machine
/// has it (`engine_sql::testing::server` prints how to enable it otherwise).
fn engines() -> Vec<(&'static str, EngineMaker)> {
    let mut engines: Vec<(&'static str, EngineMaker)> = vec![
        ("interpreter", |frames| {
            Ok(Box::new(query::Interpreter::new(
                ehr::rows::to_tables(frames).map_err(|e| e.to_string())?,
            )))
        }),
        ("polars", |frames| {
            // Small passes, so the pass logic is exercised too, one at a time.
            Ok(Box::new(
                engine_polars::PolarsEngine::new(frames.clone(), "spec")
                    .with_rows_per_pass(7)
                    .with_workers(1),
            ))
        }),
        ("polars-partitioned", |frames| {
            // Partitions of 2 patients, so every case crosses partition boundaries, and three
            // passes at once, so passes on several threads share values.
            Ok(Box::new(
                engine_polars::PartitionedEngine::new(frames.clone(), "spec", 2)
                    .with_rows_per_pass(7)
                    .with_workers(3),
            ))
        }),
    ];
    if engine_sql::testing::server().is_some() {
        engines.push(("postgres", |frames| {
            let server = engine_sql::testing::server().ok_or("no PostgreSQL server")?;
            let url = server.fresh_schema("spec")?;
            let tables = ehr::rows::to_tables(frames).map_err(|e| e.to_string())?;
            let engine = engine_sql::postgres::PostgresEngine::connect_url(url.clone())
                .map_err(|e| e.to_string())?;
            engine
                .with_client(|c| engine_sql::postgres::load_tables(c, &url.schema, &tables))
                .and_then(|r| r)
                .map_err(|e| e.to_string())?;
            // Small result COPYs, so the runs of index dates are exercised too.
            Ok(Box::new(engine.with_rows_per_copy(3)))
        }));
    }
    if spark_connect::testing::cluster().is_some() {
        engines.push(("spark", |frames| {
            let client = spark_connect::testing::client().ok_or("no Spark cluster")?;
            let tables = ehr::rows::to_tables(frames).map_err(|e| e.to_string())?;
            for table in tables.tables.values() {
                let mut names = vec![query::PATIENT_ID.to_string()];
                names.extend(table.schema.columns.iter().map(|c| c.name.clone()));
                let data = engine_sql::postgres::load::table_columns(table);
                let bytes = engine_spark::encode(&names, &data)?;
                client
                    .create_temp_view_from_arrow(&table.schema.name, bytes)
                    .map_err(|e| e.to_string())?;
            }
            let url = client.url().clone();
            // Small result fetches, so the runs of index dates are exercised too; results
            // with more than 2 rows on an index date come back through Parquet files.
            let engine = engine_spark::SparkEngine::from_client(client, url).with_rows_per_fetch(3);
            let folder = spark_connect::testing::shared_temp_dir();
            let engine = engine.with_parquet_results(
                folder
                    .as_ref()
                    .map(|f| engine_spark::ParquetResults::new(f.path()).with_min_rows(2)),
            );
            Ok(Box::new(WithFolder {
                engine,
                _folder: folder,
            }))
        }));
    }
    engines
}

/// An engine and the folder it uses, removed with it.
struct WithFolder<E> {
    engine: E,
    _folder: Option<tempfile::TempDir>,
}

impl<E: Engine> Engine for WithFolder<E> {
    fn name(&self) -> &str {
        self.engine.name()
    }

    fn run(
        &self,
        dataset: &query::Dataset,
        index_dates: &[Date],
        sink: &mut query::Sink<'_>,
    ) -> Result<(), query::EngineError> {
        self.engine.run(dataset, index_dates, sink)
    }
}

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spec")
}

/// Runs one case on one engine: `Ok(())` or a description of the difference.
fn run_case(case: &Case, maker: EngineMaker) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let root = dir.path();
    std::fs::create_dir_all(root.join("analysis")).map_err(|e| e.to_string())?;
    for (name, content) in &case.files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap_or(root)).map_err(|e| e.to_string())?;
        std::fs::write(&p, content).map_err(|e| e.to_string())?;
    }
    let study_path = root.join("analysis/study_definition.yaml");
    std::fs::write(&study_path, &case.study).map_err(|e| e.to_string())?;
    let outcome = (|| -> Result<BTreeMap<String, String>, String> {
        let study = StudyDefinition::load(&study_path).map_err(|e| e.to_string())?;
        // Tables: written as CSV files and loaded like any table folder.
        let tables_dir = root.join("tables");
        std::fs::create_dir_all(&tables_dir).map_err(|e| e.to_string())?;
        for (name, csv) in &case.tables {
            std::fs::write(tables_dir.join(format!("{name}.csv")), csv)
                .map_err(|e| e.to_string())?;
        }
        let folder = ehr::TableFolder::open(&tables_dir).map_err(|e| e.to_string())?;
        let vmp_mapping = folder
            .load_vmp_mapping()
            .map_err(|e| e.to_string())?
            .map(|df| {
                let col = |n: &str| -> Vec<String> {
                    df.column(n)
                        .unwrap()
                        .str()
                        .unwrap()
                        .iter()
                        .map(|v| v.unwrap_or("").to_string())
                        .collect()
                };
                col("id").into_iter().zip(col("prev_id")).collect()
            });
        let runtime = Runtime {
            today: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            vmp_mapping,
            read_files: true,
        };
        let compiled = study.compile(&runtime).map_err(|e| e.to_string())?;
        let dates: Vec<chrono::NaiveDate> = if case.index_dates.is_empty() {
            vec![study.index_date.ok_or("no index date")?]
        } else {
            case.index_dates
                .iter()
                .map(|d| {
                    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|e| e.to_string())
                })
                .collect::<Result<_, _>>()?
        };
        for d in &dates {
            compiled.check_dates(*d).map_err(|e| e.to_string())?;
        }
        // Tables: written as CSV files and loaded like any table folder.
        let tables_dir = root.join("tables");
        std::fs::create_dir_all(&tables_dir).map_err(|e| e.to_string())?;
        for (name, csv) in &case.tables {
            std::fs::write(tables_dir.join(format!("{name}.csv")), csv)
                .map_err(|e| e.to_string())?;
        }
        let mut needed = compiled.tables();
        // Tables a case gives but the study does not read still count as present.
        for name in case.tables.keys().filter(|n| *n != "vmp_mapping") {
            needed.entry(name.clone()).or_default();
        }
        let frames = folder.load(&needed).map_err(|e| e.to_string())?;
        let qdates: Vec<Date> = dates.iter().map(|d| Date::from_naive(*d)).collect();
        let engine = maker(&frames)?;
        let batches = engine
            .run_all(&compiled.dataset, &qdates)
            .map_err(|e| e.to_string())?;
        let mut out = BTreeMap::new();
        for (d, batch) in batches {
            let mut buf = Vec::new();
            cohort::output::write_batch_csv(&batch, &compiled.columns, &mut buf, Path::new("spec"))
                .map_err(|e| e.to_string())?;
            out.insert(
                d.to_string(),
                String::from_utf8(buf).map_err(|e| e.to_string())?,
            );
        }
        Ok(out)
    })();
    let strip = |s: &str| s.replace(&format!("{}/", root.display()), "");
    if let Some(want) = &case.errors {
        return match outcome {
            Ok(_) => Err(format!("expected errors {want:?}, but it ran")),
            Err(got) => {
                let got = strip(&got);
                let lines: Vec<&str> = got.lines().collect();
                if lines == want.iter().map(String::as_str).collect::<Vec<_>>() {
                    Ok(())
                } else {
                    Err(format!(
                        "expected errors\n  {}\ngot\n  {}",
                        want.join("\n  "),
                        lines.join("\n  ")
                    ))
                }
            }
        };
    }
    match (&case.error, outcome) {
        (Some(want), Err(got)) => {
            let got = strip(&got);
            if got.contains(want.as_str()) {
                Ok(())
            } else {
                Err(format!(
                    "expected an error containing\n  {want}\ngot\n  {got}"
                ))
            }
        }
        (Some(want), Ok(_)) => Err(format!("expected an error containing `{want}`, but it ran")),
        (None, Err(got)) => Err(format!("failed: {}", strip(&got))),
        (None, Ok(got)) => {
            let want: BTreeMap<String, String> = case
                .expected
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (date, text) in &want {
                match got.get(date) {
                    None => return Err(format!("no output for {date}")),
                    Some(g) if g != text => {
                        return Err(format!("{date}: expected\n{text}got\n{g}"));
                    }
                    Some(_) => {}
                }
            }
            Ok(())
        }
    }
}

#[test]
fn spec_cases_pass_on_every_engine() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(spec_dir())
        .expect("tests/spec")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let only = std::env::var("SPEC_CASE").ok();
    let mut failures = Vec::new();
    let mut count = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read spec");
        let cases: Vec<Case> =
            serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for case in &cases {
            if only.as_deref().is_some_and(|o| !case.name.contains(o)) {
                continue;
            }
            if case.expected.is_empty() && case.error.is_none() && case.errors.is_none() {
                failures.push(format!(
                    "{}: `{}` expects nothing",
                    file.display(),
                    case.name
                ));
            }
            for (engine, maker) in engines() {
                count += 1;
                if let Err(e) = run_case(case, maker) {
                    failures.push(format!(
                        "{} / {} / {engine}:\n{e}",
                        file.file_name().unwrap_or_default().to_string_lossy(),
                        case.name
                    ));
                }
            }
        }
    }
    assert!(count > 0, "no spec cases found");
    assert!(
        failures.is_empty(),
        "{} of {count} failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
