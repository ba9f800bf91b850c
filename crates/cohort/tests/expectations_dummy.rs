//! Expectations dummy data: cohortextractor's framework, seeded, with computed
//! `categorised_as` / `satisfying` columns.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use cohort::expectations::{generate, DEFAULT_SEED};
use cohort::study::StudyDefinition;
use polars::prelude::*;

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pulse_study() -> StudyDefinition {
    StudyDefinition::load(&project_root().join("analysis/study_definition.yaml")).unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn strs(df: &DataFrame, name: &str) -> Vec<String> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.expect("no nulls").to_string())
        .collect()
}

fn ints(df: &DataFrame, name: &str) -> Vec<i64> {
    df.column(name)
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

fn bools(df: &DataFrame, name: &str) -> Vec<bool> {
    df.column(name)
        .unwrap()
        .bool()
        .unwrap()
        .iter()
        .map(|v| v.expect("no nulls"))
        .collect()
}

#[test]
fn the_pulse_oximetry_study_gets_cohortextractors_distributions() {
    let n = 10_000;
    let df = generate(&pulse_study(), d("2019-01-01"), n, DEFAULT_SEED).unwrap();
    assert_eq!(
        df.get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        [
            "patient_id",
            "had_pulse_ox",
            "region",
            "age",
            "age_band",
            "sex"
        ]
    );
    assert_eq!(
        df.dtypes(),
        [
            DataType::Int64,
            DataType::Boolean,
            DataType::String,
            DataType::Int64,
            DataType::String,
            DataType::String
        ]
    );
    assert_eq!(df.height(), n);
    assert!(df.columns().iter().all(|c| c.null_count() == 0));

    let ids = ints(&df, "patient_id");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids sorted and unique");
    assert!(ids.iter().all(|&i| (0..10 * n as i64).contains(&i)));

    // incidence 0.5: exactly int((1 - 0.5) * N) zeros.
    let flags = bools(&df, "had_pulse_ox");
    assert_eq!(flags.iter().filter(|f| !**f).count(), 5_000);

    let regions = strs(&df, "region");
    let labels = [
        "North East",
        "North West",
        "Yorkshire and the Humber",
        "East Midlands",
        "West Midlands",
        "East of England",
        "London",
        "South East",
    ];
    assert!(regions.iter().all(|r| labels.contains(&r.as_str())));
    let london = regions.iter().filter(|r| *r == "London").count() as f64 / n as f64;
    assert!((0.18..0.22).contains(&london), "London {london}");

    let ages = ints(&df, "age");
    assert!(ages.iter().all(|a| (0..110).contains(a)));
    let mean = ages.iter().sum::<i64>() as f64 / n as f64;
    assert!((38.0..42.5).contains(&mean), "mean age {mean}");

    // age_band is computed from age (cohortextractor sampled it independently).
    for (age, band) in ages.iter().zip(strs(&df, "age_band")) {
        let want = match age {
            0..=19 => "0-19",
            20..=29 => "20-29",
            30..=39 => "30-39",
            40..=49 => "40-49",
            50..=59 => "50-59",
            60..=69 => "60-69",
            70..=79 => "70-79",
            80..=119 => "80+",
            _ => "0",
        };
        assert_eq!(band, want, "age {age}");
    }

    let sexes = strs(&df, "sex");
    assert!(sexes.iter().all(|s| s == "M" || s == "F"));
    let m = sexes.iter().filter(|s| *s == "M").count() as f64 / n as f64;
    assert!((0.47..0.51).contains(&m), "M share {m}");
}

#[test]
fn runs_are_reproducible_from_the_seed() {
    let study = pulse_study();
    let a = generate(&study, d("2019-01-01"), 500, 7).unwrap();
    assert!(a.equals(&generate(&study, d("2019-01-01"), 500, 7).unwrap()));
    assert!(!a.equals(&generate(&study, d("2019-01-01"), 500, 8).unwrap()));
    // Each index date draws afresh, as cohortextractor does.
    assert!(!a.equals(&generate(&study, d("2019-02-01"), 500, 7).unwrap()));
}

/// Loads `variables` (YAML under `variables:`) in a temporary project with a categorised
/// codelist.
fn study(defaults: &str, variables: &str) -> Result<StudyDefinition, String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("analysis")).unwrap();
    std::fs::create_dir_all(dir.path().join("codelists")).unwrap();
    std::fs::write(
        dir.path().join("codelists/c.csv"),
        "code,cat\nA1,mild\nA2,severe\n",
    )
    .unwrap();
    let path = dir.path().join("analysis/study_definition.yaml");
    std::fs::write(
        &path,
        format!(
            "index_date: 2020-01-01\ndefault_expectations: {defaults}\ncodelists:\n  c: {{csv: codelists/c.csv, system: ctv3, column: code, category_column: cat}}\npopulation:\n  registered_as_of: index_date\nvariables:\n{variables}"
        ),
    )
    .unwrap();
    StudyDefinition::load(&path).map_err(|e| e.to_string())
}

const DEFAULTS: &str =
    "{date: {earliest: '2019-01-01', latest: index_date}, rate: uniform, incidence: 1}";

#[test]
fn dates_helpers_and_computed_columns() {
    let s = study(
        DEFAULTS,
        "  last_event:
    with_these_clinical_events:
      codelist: c
      returning: date
      date_format: YYYY-MM-DD
      between: [index_date - 6 months, index_date]
  severity:
    with_these_clinical_events: {codelist: c, returning: category}
    return_expectations: {incidence: 0.3, category: {ratios: {mild: 0.5, severe: 0.5}}}
  bmi:
    with_these_clinical_events: {codelist: c, returning: numeric_value}
    return_expectations: {float: {distribution: normal, mean: 27, stddev: 4}}
  visits:
    with_these_clinical_events: {codelist: c, returning: number_of_matches_in_period}
    return_expectations: {int: {distribution: poisson, mean: 3}}
  old:
    satisfying:
      expression: years >= 65 AND flag
      variables:
        years:
          age_as_of: index_date
          return_expectations: {rate: universal, int: {distribution: normal, mean: 60, stddev: 15}}
        flag:
          with_these_clinical_events: {codelist: c}
          return_expectations: {incidence: 0.5}
  band:
    categorised_as:
      0: DEFAULT
      1: bmi >= 30
      2: bmi >= 25
",
    )
    .unwrap();
    let n = 2_000;
    let df = generate(&s, d("2020-01-01"), n, 1).unwrap();
    assert_eq!(
        df.get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        [
            "patient_id",
            "last_event",
            "severity",
            "bmi",
            "visits",
            "old",
            "band"
        ],
        "hidden helpers are not written"
    );
    // Uniform dates over 2019-01-02..2020-01-01, kept only inside the 6-month window.
    let dates = strs(&df, "last_event");
    let kept: Vec<&String> = dates.iter().filter(|s| !s.is_empty()).collect();
    assert!(kept
        .iter()
        .all(|s| s.as_str() >= "2019-07-01" && s.as_str() <= "2020-01-01"));
    let share = kept.len() as f64 / n as f64;
    assert!(
        (0.44..0.56).contains(&share),
        "share inside the window {share}"
    );

    let severity = strs(&df, "severity");
    assert_eq!(severity.iter().filter(|s| s.is_empty()).count(), 1_400);
    assert!(severity
        .iter()
        .all(|s| ["", "mild", "severe"].contains(&s.as_str())));

    let bmi: Vec<f64> = df
        .column("bmi")
        .unwrap()
        .f64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let mean = bmi.iter().sum::<f64>() / n as f64;
    assert!((26.5..27.5).contains(&mean), "bmi mean {mean}");
    let visits = ints(&df, "visits");
    let mean = visits.iter().sum::<i64>() as f64 / n as f64;
    assert!((2.8..3.2).contains(&mean), "visits mean {mean}");

    // `band` has int keys: an int column, computed from bmi in file order (first match wins).
    assert_eq!(df.column("band").unwrap().dtype(), &DataType::Int64);
    for (b, band) in bmi.iter().zip(ints(&df, "band")) {
        let want = if *b >= 30.0 {
            1
        } else if *b >= 25.0 {
            2
        } else {
            0
        };
        assert_eq!(band, want, "bmi {b}");
    }
    // `old` needs both hidden helpers: about 0.5 * P(N(60, 15) >= 65) = 0.5 * 0.37.
    let old = bools(&df, "old").iter().filter(|b| **b).count() as f64 / n as f64;
    assert!((0.14..0.23).contains(&old), "old share {old}");
}

#[test]
fn unusable_expectations_are_errors_naming_the_variable_line_and_key() {
    let cases = [
        ("{rate: uniform, incidence: 1}", "  s:\n    sex: {}\n", "`s`", "date expectation"),
        (DEFAULTS, "  s:\n    sex: {}\n", "`s`", "category"),
        (DEFAULTS, "  a:\n    age_as_of: index_date\n", "`a`", "int"),
        (
            DEFAULTS,
            "  a:\n    age_as_of: index_date\n    return_expectations: {int: {distribution: normal, mean: 1}}\n",
            "`a`",
            "int.stddev",
        ),
        (
            DEFAULTS,
            "  k:\n    with_these_clinical_events: {codelist: c, returning: category}\n    return_expectations: {category: {ratios: {mild: 0.5, fatal: 0.5}}}\n",
            "`k`",
            "`fatal` is not a category of codelist `c`",
        ),
    ];
    for (defaults, vars, var, want) in cases {
        let s = study(defaults, vars).unwrap();
        let e = generate(&s, d("2020-01-01"), 10, 1)
            .unwrap_err()
            .to_string();
        assert!(e.contains(var) && e.contains(want), "{vars}: {e}");
        assert!(e.contains("study_definition.yaml:"), "{e}");
    }
}
