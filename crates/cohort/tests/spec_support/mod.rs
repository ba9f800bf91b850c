//! Shared helpers for the engine tests: build a study from YAML, run both engines, render
//! frames as text rows.
#![allow(dead_code)]

use std::collections::HashMap;

use chrono::NaiveDate;
use cohort::lang::{CompiledStudy, Runtime, StudyDefinition};
use cohort::tables::{ClinicalEvent, EhrTables, Patient, Registration};
use polars::prelude::DataFrame;
use query::{Batch, ColumnData, Engine};

/// A temporary project holding the repository's study definition and its codelist.
pub(crate) fn repo_study_project() -> tempfile::TempDir {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    for sub in ["analysis", "codelists"] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    for file in [
        "analysis/study_definition.yaml",
        "codelists/opensafely-pulse-oximetry.csv",
    ] {
        std::fs::copy(root.join(file), dir.path().join(file)).unwrap();
    }
    dir
}

pub(crate) fn ymd(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Loads and compiles a study from YAML in a temporary project whose `codelists/` holds
/// `ctv3.csv` (column CTV3ID: `Abc12`, `Xyz99`; category column `cat`: `a`, `x`) and
/// `snomed.csv` (column `code`: `123456`).
pub(crate) fn study(yaml: &str) -> CompiledStudy {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("analysis")).unwrap();
    std::fs::create_dir_all(dir.path().join("codelists")).unwrap();
    std::fs::write(
        dir.path().join("codelists/ctv3.csv"),
        "CTV3ID,term,cat\nAbc12,one,a\nXyz99,two,x\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("codelists/snomed.csv"),
        "code,term\n123456,s\n",
    )
    .unwrap();
    let path = dir.path().join("analysis/study_definition.yaml");
    std::fs::write(&path, yaml).unwrap();
    StudyDefinition::load(&path)
        .unwrap_or_else(|e| panic!("{e}"))
        .compile(&Runtime::check())
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A study with the standard codelists, `population` and the given `variables:` body.
pub(crate) fn study_with(population: &str, variables: &str) -> CompiledStudy {
    study(&format!(
        "codelists:\n  ctv3: {{csv: codelists/ctv3.csv, system: ctv3, column: CTV3ID, category_column: cat}}\n  snomed: {{csv: codelists/snomed.csv, system: snomedct, column: code}}\npopulation:\n  {population}\nvariables:\n{variables}"
    ))
}

/// The three core tables as frames by name.
pub(crate) fn frames(tables: &EhrTables) -> HashMap<String, DataFrame> {
    let f = tables.to_frames().unwrap();
    let mut out = HashMap::new();
    out.insert("patients".to_string(), f.patients);
    out.insert(
        "practice_registrations".to_string(),
        f.practice_registrations,
    );
    out.insert("clinical_events".to_string(), f.clinical_events);
    out
}

/// Runs the reference interpreter and the polars engine (in passes of a few rows) over every
/// date, asserts they agree exactly, and returns the rows per date.
pub(crate) fn both_dates(
    study: &CompiledStudy,
    tables: &EhrTables,
    dates: &[NaiveDate],
) -> Vec<Batch> {
    let mut sorted: Vec<query::Date> = dates.iter().map(|d| query::Date::from_naive(*d)).collect();
    sorted.sort();
    sorted.dedup();
    let frames = frames(tables);
    let reference = query::Interpreter::new(ehr::rows::to_tables(&frames).unwrap())
        .run_all(&study.dataset, &sorted)
        .unwrap();
    let fast = engine_polars::PolarsEngine::new(frames.clone(), "test")
        .with_rows_per_pass(5)
        .run_all(&study.dataset, &sorted)
        .unwrap();
    assert_eq!(reference.len(), fast.len());
    for ((d, r), (_, f)) in reference.iter().zip(&fast) {
        assert_eq!(rows(study, r), rows(study, f), "values differ on {d}");
    }
    // In partitions of 3 patients (codelist prefilters and partition edges exercised).
    let parts = engine_polars::PartitionedEngine::new(frames.clone(), "test", 3)
        .with_rows_per_pass(5)
        .run_all(&study.dataset, &sorted)
        .unwrap();
    assert_eq!(reference.len(), parts.len());
    for ((d, r), (_, p)) in reference.iter().zip(&parts) {
        assert_eq!(rows(study, r), rows(study, p), "partitions differ on {d}");
    }
    // PostgreSQL too, when the machine has it, in small result COPYs.
    if let Some(server) = engine_sql::testing::server() {
        let url = server.fresh_schema("prop").unwrap();
        let engine = engine_sql::postgres::PostgresEngine::connect_url(url.clone())
            .unwrap()
            .with_rows_per_copy(4);
        let loaded = ehr::rows::to_tables(&frames).unwrap();
        engine
            .with_client(|c| engine_sql::postgres::load_tables(c, &url.schema, &loaded))
            .unwrap()
            .unwrap();
        let sql = engine.run_all(&study.dataset, &sorted).unwrap();
        assert_eq!(reference.len(), sql.len());
        for ((d, r), (_, q)) in reference.iter().zip(&sql) {
            assert_eq!(rows(study, r), rows(study, q), "PostgreSQL differs on {d}");
        }
        engine
            .with_client(|c| c.batch_execute(&format!("DROP SCHEMA \"{}\" CASCADE", url.schema)))
            .unwrap()
            .unwrap();
    }
    reference.into_iter().map(|(_, b)| b).collect()
}

/// Rows as `a|b|c` text (bools as 0/1, floats in Rust `{:?}`, dates in their column's
/// format, strings raw, missing values as written).
pub(crate) fn rows(study: &CompiledStudy, batch: &Batch) -> Vec<String> {
    (0..batch.len())
        .map(|i| {
            let mut cells = vec![batch.patient_ids[i].to_string()];
            for (c, col) in batch.columns.iter().zip(&study.columns) {
                cells.push(match c {
                    ColumnData::Bool(v) => v[i].map_or(String::new(), |b| u8::from(b).to_string()),
                    ColumnData::Int(v) => v[i].map_or(String::new(), |x| x.to_string()),
                    ColumnData::Float(v) => v[i].map_or(String::new(), |x| format!("{x:?}")),
                    ColumnData::Str(v) => v.get(i).unwrap_or("").to_string(),
                    ColumnData::Date(v) => v[i].map_or(String::new(), |d| {
                        col.date_format
                            .unwrap_or(cohort::lang::DateFormat::YearMonthDay)
                            .query()
                            .format(d)
                    }),
                });
            }
            cells.join("|")
        })
        .collect()
}

pub(crate) fn patient(id: i64, dob: &str, sex: &str) -> Patient {
    Patient {
        patient_id: id,
        date_of_birth: ymd(dob),
        sex: sex.to_string(),
        date_of_death: None,
    }
}

pub(crate) fn reg(
    id: i64,
    start: &str,
    end: Option<&str>,
    practice: i64,
    region: Option<&str>,
) -> Registration {
    Registration {
        patient_id: id,
        start_date: ymd(start),
        end_date: end.map(ymd),
        practice_pseudo_id: practice,
        practice_nuts1_region_name: region.map(str::to_string),
        practice_stp: Some(format!("E5400000{practice}")),
    }
}

pub(crate) fn event(
    id: i64,
    date: &str,
    ctv3: Option<&str>,
    snomed: Option<&str>,
    value: Option<f64>,
) -> ClinicalEvent {
    ClinicalEvent {
        patient_id: id,
        date: ymd(date),
        ctv3_code: ctv3.map(str::to_string),
        snomedct_code: snomed.map(str::to_string),
        numeric_value: value,
    }
}
