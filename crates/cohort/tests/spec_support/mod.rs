//! Shared helpers for the engine tests: build a study from YAML, run both engines, render
//! frames as text rows.
#![allow(dead_code)]

use chrono::NaiveDate;
use cohort::study::StudyDefinition;
use cohort::tables::{ClinicalEvent, EhrTables, Patient, Registration};
use cohort::{engine, interpret, ir};
use polars::prelude::{AnyValue, DataFrame};

pub(crate) fn ymd(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// Loads a study from YAML in a temporary project whose `codelists/` holds `ctv3.csv`
/// (column CTV3ID: `Abc12`, `Xyz99`; category column `cat`: `a`, `x`) and `snomed.csv`
/// (column `code`: `123456`).
pub(crate) fn study(yaml: &str) -> ir::Study {
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
        .compile()
        .unwrap()
}

/// A study with the standard codelists, `population` and the given `variables:` body.
pub(crate) fn study_with(population: &str, variables: &str) -> ir::Study {
    study(&format!(
        "codelists:\n  ctv3: {{csv: codelists/ctv3.csv, system: ctv3, column: CTV3ID, category_column: cat}}\n  snomed: {{csv: codelists/snomed.csv, system: snomedct, column: code}}\npopulation:\n  {population}\nvariables:\n{variables}"
    ))
}

/// Runs both engines for one index date, asserts they agree exactly (columns, dtypes,
/// values), and returns the frame.
pub(crate) fn both(study: &ir::Study, tables: &EhrTables, date: NaiveDate) -> DataFrame {
    let reference = interpret::extract(study, tables, date).unwrap();
    let fast = engine::extract_all(study, &tables.to_frames().unwrap(), &[date]).unwrap();
    assert_eq!(fast.len(), 1);
    assert_frames_equal(&reference, &fast[0].1, date);
    reference
}

/// Runs both engines over several index dates (the engine in one pass) and asserts they
/// agree date by date.
pub(crate) fn both_dates(
    study: &ir::Study,
    tables: &EhrTables,
    dates: &[NaiveDate],
) -> Vec<DataFrame> {
    let fast = engine::extract_all(study, &tables.to_frames().unwrap(), dates).unwrap();
    let mut sorted = dates.to_vec();
    sorted.sort();
    sorted.dedup();
    assert_eq!(fast.iter().map(|(d, _)| *d).collect::<Vec<_>>(), sorted);
    fast.into_iter()
        .map(|(d, df)| {
            let reference = interpret::extract(study, tables, d).unwrap();
            assert_frames_equal(&reference, &df, d);
            reference
        })
        .collect()
}

pub(crate) fn assert_frames_equal(reference: &DataFrame, fast: &DataFrame, date: NaiveDate) {
    let schema = |df: &DataFrame| {
        df.columns()
            .iter()
            .map(|c| (c.name().to_string(), c.dtype().clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(schema(reference), schema(fast), "schemas differ on {date}");
    assert_eq!(
        rows(reference),
        rows(fast),
        "values differ on {date}\nreference:\n{reference}\nengine:\n{fast}"
    );
    for c in fast.columns() {
        assert_eq!(c.null_count(), 0, "nulls in {} on {date}", c.name());
    }
}

/// Rows as `a|b|c` text (bools as 0/1, floats in Rust `{:?}`, strings raw).
pub(crate) fn rows(df: &DataFrame) -> Vec<String> {
    (0..df.height())
        .map(|i| {
            df.columns()
                .iter()
                .map(|c| match c.get(i).unwrap() {
                    AnyValue::Boolean(b) => u8::from(b).to_string(),
                    AnyValue::Int64(v) => v.to_string(),
                    AnyValue::Float64(v) => format!("{v:?}"),
                    AnyValue::String(s) => s.to_string(),
                    AnyValue::StringOwned(s) => s.to_string(),
                    AnyValue::Null => "NULL".to_string(),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
                .join("|")
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
