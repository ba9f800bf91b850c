//! The vocabulary study (`tests/data/vocabulary_study`: 31 functions beyond the pulse oximetry
//! study's) end to end with `cargo xtask run-all`: on synthetic dummy data, and on a table
//! folder written by `generate-ehr --tables all` and given as `DATABASE_URL`. Both runs
//! succeed, every variable has values, the measures are written, and on the folder the
//! reference interpreter writes exactly the files the polars engine wrote.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use polars::prelude::*;
use query::Engine;

const DATES: [&str; 3] = ["2020-10-01", "2020-11-01", "2020-12-01"];

/// The child run: `DATABASE_URL` is process-wide, so the folder run happens in a child
/// process (this test binary, running only [`run_all_in_this_process`]).
const CHILD_DIR: &str = "VOCABULARY_STUDY_CHILD_DIR";

use crate::support::{copy_dir, repo_root};

/// A copy of the vocabulary study in a fresh folder.
fn study_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_root().join("tests/data/vocabulary_study"), dir.path());
    dir
}

fn run_all(dir: &Path) -> ExitCode {
    xtask::main([
        "cargo xtask",
        "run-all",
        "--project-dir",
        dir.to_str().unwrap(),
    ])
}

/// Run by [`on_a_generated_table_folder`] in a child process with `DATABASE_URL` set; not on
/// its own.
#[test]
#[ignore = "run in a child process by on_a_generated_table_folder"]
fn run_all_in_this_process() {
    let dir = std::env::var_os(CHILD_DIR).expect("run by on_a_generated_table_folder");
    assert!(std::env::var_os("DATABASE_URL").is_some());
    assert_eq!(run_all(Path::new(&dir)), ExitCode::SUCCESS);
}

fn cohort_file(dir: &Path, date: &str) -> PathBuf {
    dir.join(format!("output/input_{date}.feather"))
}

fn read_feather(path: &Path) -> DataFrame {
    let file = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    IpcReader::new(file).finish().unwrap()
}

/// Whether `v` is a value other than its type's missing value (false, 0, 0.0, "", null).
fn present(v: &AnyValue) -> bool {
    match v {
        AnyValue::Null => false,
        AnyValue::Boolean(b) => *b,
        AnyValue::String(s) => !s.is_empty(),
        AnyValue::StringOwned(s) => !s.is_empty(),
        AnyValue::Float64(x) => *x != 0.0,
        AnyValue::Float32(x) => *x != 0.0,
        AnyValue::Int64(x) => *x != 0,
        AnyValue::Int32(x) => *x != 0,
        AnyValue::Int8(x) => *x != 0,
        AnyValue::UInt8(x) => *x != 0,
        _ => true,
    }
}

/// Asserts every index date's file exists with every variable of the study, each of which
/// has a value (other than missing) for some patient in some file; and that the measures were
/// written. Returns the files' patients.
fn assert_non_trivial(dir: &Path) -> usize {
    let frames: Vec<DataFrame> = DATES
        .iter()
        .map(|d| read_feather(&cohort_file(dir, d)))
        .collect();
    let names: Vec<String> = frames[0]
        .get_column_names()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(names.len() > 50, "{names:?}");
    let mut empty = Vec::new();
    for name in &names {
        let some = frames.iter().any(|df| {
            df.column(name)
                .unwrap()
                .as_materialized_series()
                .iter()
                .any(|v| present(&v))
        });
        if !some {
            empty.push(name.clone());
        }
    }
    assert!(empty.is_empty(), "variables without any value: {empty:?}");
    for id in [
        "admissions_by_region",
        "admissions_by_imd",
        "asthma_by_practice",
        "flu_vaccine_by_care_home",
        "flu_vaccine_total",
    ] {
        let path = dir.join(format!("output/measure_{id}.csv"));
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(text.lines().count() > 3, "{id}:\n{text}");
    }
    frames.iter().map(DataFrame::height).sum()
}

#[test]
fn on_synthetic_dummy_data() {
    let dir = study_copy();
    assert_eq!(run_all(dir.path()), ExitCode::SUCCESS);
    let rows = assert_non_trivial(dir.path());
    // 2,000 patients (project.yaml), most of them adults registered on each date.
    assert!(rows > 3 * 1_000, "{rows}");
}

#[test]
fn on_a_generated_table_folder() {
    let dir = study_copy();
    let ehr = dir.path().join("ehr");
    let study = dir.path().join("analysis/study_definition.yaml");
    assert_eq!(
        xtask::main([
            "cargo xtask",
            "generate-ehr",
            "--patients",
            "4000",
            "--seed",
            "11",
            "--tables",
            "all",
            "--study-definition",
            study.to_str().unwrap(),
            "--format",
            "parquet",
            "--output-dir",
            ehr.to_str().unwrap(),
        ]),
        ExitCode::SUCCESS
    );
    assert_eq!(
        fs::read_dir(&ehr).unwrap().count(),
        ehr::contract::tables().len()
    );
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "vocabulary_study::run_all_in_this_process",
            "--ignored",
            "--test-threads=1",
        ])
        .env("DATABASE_URL", &ehr)
        .env(CHILD_DIR, dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "run-all on the folder failed");
    let log = fs::read_to_string(dir.path().join("metadata/generate_study_population.log"))
        .unwrap_or_default();
    assert!(log.contains("Loading tables from"), "{log}");
    let rows = assert_non_trivial(dir.path());
    assert!(rows > 3 * 2_000, "{rows}");

    // The reference interpreter over the same folder writes the same files.
    let definition = cohort::study::StudyDefinition::load(&study).unwrap();
    let compiled = definition
        .compile(&cohort::study::Runtime::check())
        .unwrap();
    let tables = ehr::TableFolder::open(&ehr)
        .unwrap()
        .load(&compiled.tables())
        .unwrap();
    let interpreter = query::Interpreter::new(ehr::rows::to_tables(&tables).unwrap());
    let dates: Vec<query::Date> = DATES
        .iter()
        .map(|d| query::Date::from_naive(d.parse().unwrap()))
        .collect();
    let reference = interpreter.run_all(&compiled.dataset, &dates).unwrap();
    let out = tempfile::tempdir().unwrap();
    for ((_, batch), date) in reference.iter().zip(DATES) {
        let path = out.path().join(format!("input_{date}.feather"));
        cohort::output::write_batch(
            batch,
            &compiled.columns,
            &path,
            cohort::output::OutputFormat::Feather,
        )
        .unwrap();
        let (want, got) = (
            read_feather(&path),
            read_feather(&cohort_file(dir.path(), date)),
        );
        assert!(
            want.equals_missing(&got),
            "{date}: the interpreter and the polars engine differ"
        );
        assert!(
            fs::read(&path).unwrap() == fs::read(cohort_file(dir.path(), date)).unwrap(),
            "{date}: the files differ"
        );
    }
}
