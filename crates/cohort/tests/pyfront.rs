//! `study_definition.py` as a front end: a Python study compiles to the dataset of its
//! `translate`d YAML and gives the same cohorts on every engine; its mistakes are reported at
//! the `.py` lines that make them.

use std::path::{Path, PathBuf};

use cohort::lang::{Runtime, StudyDefinition};
use cohort::output::OutputFormat;
use polars::prelude::DataFrame;
use query::{Date, Engine};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pyfront")
}

/// A copy of `from` (a study folder) in a new temporary folder (the study may write files).
fn copy_study(from: &Path) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to.join(e.file_name()));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(from, dir.path());
    dir
}

fn runtime() -> Runtime {
    Runtime {
        today: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        vmp_mapping: None,
        read_files: true,
    }
}

type EngineMaker = fn(&std::collections::HashMap<String, DataFrame>) -> Box<dyn Engine>;

fn engines() -> Vec<(&'static str, EngineMaker)> {
    vec![
        ("interpreter", |frames| {
            Box::new(query::Interpreter::new(
                ehr::rows::to_tables(frames).unwrap(),
            ))
        }),
        ("polars", |frames| {
            Box::new(
                engine_polars::PolarsEngine::new(frames.clone(), "pyfront").with_rows_per_pass(50),
            )
        }),
    ]
}

/// The CSV files of `study` for `dates` on every engine, over the synthetic tables in `tables`.
fn cohorts(study: &StudyDefinition, tables: &Path, dates: &[&str]) -> Vec<(String, String)> {
    let compiled = study.compile(&runtime()).unwrap_or_else(|e| panic!("{e}"));
    let folder = ehr::TableFolder::open(tables).unwrap();
    let frames = folder.load(&compiled.tables()).unwrap();
    let qdates: Vec<Date> = dates
        .iter()
        .map(|d| Date::from_naive(chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()))
        .collect();
    let mut out = Vec::new();
    for (name, maker) in engines() {
        for (d, batch) in maker(&frames).run_all(&compiled.dataset, &qdates).unwrap() {
            let mut buf = Vec::new();
            cohort::output::write_batch_csv(&batch, &compiled.columns, &mut buf, Path::new("t"))
                .unwrap();
            out.push((format!("{name} {d}"), String::from_utf8(buf).unwrap()));
        }
    }
    out
}

fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_python_study_gives_the_cohorts_and_measures_of_its_yaml_translation_on_every_engine() {
    let py = copy_study(&data().join("own"));
    let py_path = py.path().join("analysis/study_definition.py");
    for given in [params(&[]), params(&[("window", "2 years")])] {
        let yaml_text =
            cohort::pyfront::translate(&py_path, &given).unwrap_or_else(|e| panic!("{e}"));
        // Loops unrolled, codelists by file.
        assert!(
            yaml_text.contains("  has_copd_count:") || yaml_text.contains("  copd_count:"),
            "{yaml_text}"
        );
        assert!(
            yaml_text.contains("csv: codelists/asthma.csv"),
            "{yaml_text}"
        );
        let yaml = copy_study(&data().join("own"));
        std::fs::remove_file(yaml.path().join("analysis/study_definition.py")).unwrap();
        std::fs::remove_file(yaml.path().join("analysis/codelists.py")).unwrap();
        let yaml_path = yaml.path().join("analysis/study_definition.yaml");
        std::fs::write(&yaml_path, &yaml_text).unwrap();

        let from_py =
            StudyDefinition::load_with_params(&py_path, &given).unwrap_or_else(|e| panic!("{e}"));
        let from_yaml = StudyDefinition::load(&yaml_path).unwrap_or_else(|e| panic!("{e}"));
        let unplaced = |s: &StudyDefinition| {
            let mut m = s.measures.clone();
            for d in &mut m {
                d.line = 0;
            }
            m
        };
        assert_eq!(unplaced(&from_py), unplaced(&from_yaml));
        // Measures are placed at their `Measure(...)` calls.
        let comprehension = line_of(&py_path, "    Measure(");
        assert_eq!(from_py.measures[0].line, comprehension);
        assert_eq!(from_py.measures.len(), 7);
        assert_eq!(from_py.index_date, from_yaml.index_date);
        let names = |s: &StudyDefinition| {
            s.output_columns()
                .into_iter()
                .map(|(n, t)| format!("{n}:{}", t.name()))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&from_py), names(&from_yaml));
        assert!(
            names(&from_py).contains(&"has_respiratory_date:date".to_string()),
            "{:?}",
            names(&from_py)
        );
        let (a, b) = (
            from_py.compile(&runtime()).unwrap(),
            from_yaml.compile(&runtime()).unwrap(),
        );
        assert_eq!(a.dataset, b.dataset);
        assert_eq!(a.columns, b.columns);

        let tables = py.path().join("tables");
        cohort::synth::generate_ehr(
            &cohort::synth::GenerateEhrOptions {
                patients: 400,
                seed: Some(7),
                study_definition: Some(yaml_path.clone()),
                tables: cohort::synth::TableChoice::Study,
                format: OutputFormat::Csv,
                output_dir: tables.clone(),
            },
            &mut Vec::new(),
        )
        .unwrap();
        // Events of the study's codes, for a good share of the patients.
        let codes = [
            "H33..", "H330.", "H3...", "H31..", "137R.", "137S.", "137L.",
        ];
        let mut events = std::fs::read_to_string(tables.join("clinical_events.csv")).unwrap();
        for i in 1..=300usize {
            let code = codes[i % codes.len()];
            events.push_str(&format!(
                "{},2019-{:02}-{:02},{code},,\n",
                i,
                1 + i % 12,
                1 + i % 28
            ));
            if i % 3 == 0 {
                events.push_str(&format!(
                    "{},2018-{:02}-15,{},,\n",
                    i,
                    1 + i % 12,
                    codes[(i / 3) % codes.len()]
                ));
            }
        }
        std::fs::write(tables.join("clinical_events.csv"), events).unwrap();
        let dates = ["2019-06-01", "2020-01-01"];
        let got = cohorts(&from_py, &tables, &dates);
        let want = cohorts(&from_yaml, &tables, &dates);
        assert_eq!(got, want);
        // Every engine agrees, and the study finds something.
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].1, got[2].1, "interpreter and polars, {}", dates[0]);
        assert_eq!(got[1].1, got[3].1, "interpreter and polars, {}", dates[1]);
        let first = &got[0].1;
        assert!(first.lines().count() > 100, "{first}");
        let header = first.lines().next().unwrap();
        let has_asthma = header.split(',').position(|c| c == "has_asthma").unwrap();
        assert!(
            first
                .lines()
                .skip(1)
                .any(|l| l.split(',').nth(has_asthma) == Some("1")),
            "{first}"
        );
    }
}

/// The study copied, with `edit` applied to `file` (relative to the study folder).
fn mistake(file: &str, edit: impl Fn(&str) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = copy_study(&data().join("own"));
    let path = dir.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = edit(&text);
    assert_ne!(edited, text, "the edit changes {file}");
    std::fs::write(&path, edited).unwrap();
    let study = dir.path().join("analysis/study_definition.py");
    (dir, study)
}

fn line_of(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap()
        + 1
}

fn error_of(study: &Path) -> String {
    let e = StudyDefinition::load(study).expect_err("the study has a mistake");
    e.to_string()
}

#[test]
fn an_unknown_argument_is_reported_at_the_python_call() {
    let (_dir, study) = mistake("analysis/study_definition.py", |t| {
        t.replace(
            "current_smoking_codes, on_or_before=\"index_date\", returning=\"binary_flag\"",
            "current_smoking_codes, on_or_before=\"index_date\", returing=\"binary_flag\"",
        )
    });
    let err = error_of(&study);
    let line = line_of(
        &study,
        "current_smoker=patients.with_these_clinical_events(",
    );
    assert!(
        err.contains(&format!("{}:{line}: ", study.display())),
        "{err}"
    );
    assert!(
        err.contains("returing") && err.contains("with_these_clinical_events"),
        "{err}"
    );
}

#[test]
fn an_unsupported_function_is_reported_at_the_python_call() {
    let (_dir, study) = mistake("analysis/study_definition.py", |t| {
        t.replace("    population=patients.registered_as_of(\"index_date\"),", "    population=patients.registered_as_of(\"index_date\"),\n    sample=patients.random_sample(percent=10),")
    });
    let err = error_of(&study);
    let line = line_of(&study, "random_sample");
    assert!(
        err.contains(&format!("{}:{line}: ", study.display())),
        "{err}"
    );
    assert!(
        err.contains("random_sample") && err.contains("not supported"),
        "{err}"
    );
}

#[test]
fn a_python_exception_shows_the_last_frame_in_the_study() {
    let (dir, study) = mistake("analysis/codelists.py", |t| {
        t.replace(
            "CONDITIONS = {",
            "def weeks(n):\n    return n / 0\n\n\nWEEKS = weeks(52)\nCONDITIONS = {",
        )
    });
    let err = error_of(&study);
    let helper = dir.path().join("analysis/codelists.py");
    let line = line_of(&helper, "return n / 0");
    assert!(
        err.starts_with(&format!(
            "{}:{line}: ZeroDivisionError: division by zero",
            helper.display()
        )),
        "{err}"
    );
    assert!(err.contains("in weeks\n    return n / 0"), "{err}");
}

#[test]
fn a_missing_package_is_named() {
    let (_dir, study) = mistake("analysis/study_definition.py", |t| {
        t.replace(
            "from codelists import",
            "import pandas_not_installed_here as pd\nfrom codelists import",
        )
    });
    let err = error_of(&study);
    let line = line_of(&study, "import pandas_not_installed_here");
    assert!(
        err.contains(&format!("{}:{line}: ", study.display())),
        "{err}"
    );
    assert!(
        err.contains("pandas_not_installed_here") && err.contains("pip install"),
        "{err}"
    );
}

#[test]
fn a_codelist_problem_is_reported_at_the_codelist_call() {
    let (dir, study) = mistake("analysis/codelists.py", |t| {
        t.replace("column=\"CTV3ID\")\ncopd", "column=\"CTV3\")\ncopd")
    });
    let err = error_of(&study);
    let helper = dir.path().join("analysis/codelists.py");
    let line = line_of(&helper, "column=\"CTV3\"");
    assert!(
        err.contains(&format!("{}:{line}: ", helper.display())),
        "{err}"
    );
    assert!(err.contains("CTV3"), "{err}");
}

/// `generate_cohort` in `dir` with dummy data, over two monthly index dates: its log or error.
fn generate(dir: &Path, params: &[(&str, &str)]) -> Result<String, String> {
    let options = cohort::cli::CohortOptions {
        expectations_population: Some(200),
        index_date_range: Some("2020-01-01 to 2020-02-01 by month".to_string()),
        output_dir: Some(PathBuf::from("output/cohorts")),
        params: self::params(params),
        ..cohort::cli::CohortOptions::default()
    };
    let mut log = Vec::new();
    cohort::cli::generate_cohort(&options, dir, &mut log).map_err(|e| e.to_string())?;
    Ok(String::from_utf8(log).unwrap())
}

#[test]
fn generate_cohort_runs_a_python_definition_like_its_translation_and_writes_nothing_on_a_mistake() {
    let py = copy_study(&data().join("own"));
    generate(py.path(), &[("window", "6 months")]).unwrap_or_else(|e| panic!("{e}"));
    let yaml = copy_study(&data().join("own"));
    let text = cohort::pyfront::translate(
        &py.path().join("analysis/study_definition.py"),
        &params(&[("window", "6 months")]),
    )
    .unwrap();
    assert!(
        text.contains("[index_date - 6 months, index_date]"),
        "{text}"
    );
    std::fs::remove_file(yaml.path().join("analysis/study_definition.py")).unwrap();
    std::fs::write(yaml.path().join("analysis/study_definition.yaml"), text).unwrap();
    generate(yaml.path(), &[]).unwrap_or_else(|e| panic!("{e}"));
    for date in ["2020-01-01", "2020-02-01"] {
        let file = format!("output/cohorts/input_{date}.csv");
        let a = std::fs::read_to_string(py.path().join(&file)).unwrap();
        let b = std::fs::read_to_string(yaml.path().join(&file)).unwrap();
        assert_eq!(a, b, "{file}");
        assert!(a.lines().count() > 100);
    }

    // A YAML file of the same name wins over the Python one.
    std::fs::write(
        py.path().join("analysis/study_definition.yaml"),
        "population: {registered_as_of: index_date}\nvariables:\n  sex: {sex: {}}\n",
    )
    .unwrap();
    generate(py.path(), &[]).unwrap();
    let header =
        std::fs::read_to_string(py.path().join("output/cohorts/input_2020-01-01.csv")).unwrap();
    assert!(header.starts_with("patient_id,sex\n"), "{header}");

    // What the study prints is in the log.
    let (dir, _) = mistake("analysis/study_definition.py", |t| {
        t.replace("BANDS = ", "print('bands defined')\nBANDS = ")
    });
    let log = generate(dir.path(), &[]).unwrap();
    assert!(log.starts_with("bands defined\n"), "{log}");

    let (dir, _) = mistake("analysis/study_definition.py", |t| {
        t.replace("patients.sex(", "patients.sexx(")
    });
    let err = generate(dir.path(), &[]).unwrap_err();
    assert!(err.contains("sexx"), "{err}");
    assert!(
        !dir.path().join("output/cohorts").exists(),
        "nothing is written"
    );
}

/// The shim's own test studies (`python/tests/studies`) through the front end: each compiles
/// to the dataset of its translation; the pulse oximetry one to that of the repository's
/// `analysis/study_definition.yaml`.
#[test]
fn the_shim_test_studies_compile_like_their_translations() {
    let studies = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/tests/studies");
    for (name, given) in [
        ("features", params(&[("start_date", "2020-03-01")])),
        ("pulse_oximetry", params(&[])),
    ] {
        let dir = copy_study(&studies.join(name));
        let py_path = dir.path().join("analysis/study_definition.py");
        let from_py = StudyDefinition::load_with_params(&py_path, &given)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = cohort::pyfront::translate(&py_path, &given).unwrap();
        let yaml_path = dir.path().join("analysis/translated.yaml");
        std::fs::write(&yaml_path, text).unwrap();
        let from_yaml = StudyDefinition::load(&yaml_path).unwrap_or_else(|e| panic!("{e}"));
        let (a, b) = (
            from_py.compile(&runtime()).unwrap(),
            from_yaml.compile(&runtime()).unwrap(),
        );
        assert_eq!(a.dataset, b.dataset, "{name}");
        assert_eq!(a.columns, b.columns, "{name}");
        if name == "pulse_oximetry" {
            let repo =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../analysis/study_definition.yaml");
            let original = StudyDefinition::load(&repo)
                .unwrap()
                .compile(&runtime())
                .unwrap();
            assert_eq!(a.dataset, original.dataset);
            assert_eq!(a.columns, original.columns);
        }
    }
}

#[test]
fn the_shim_test_cases_are_errors_at_python_lines() {
    let studies = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/tests/studies");
    let dir = copy_study(&studies.join("cases"));
    let syntax = dir.path().join("analysis/study_definition_syntax.py");
    let err = StudyDefinition::load(&syntax).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}:", syntax.display())), "{err}");
    assert!(err.contains("SyntaxError"), "{err}");
    let empty = dir.path().join("analysis/study_definition_empty.py");
    let err = StudyDefinition::load(&empty).unwrap_err().to_string();
    assert!(err.contains("study") && err.contains("measures"), "{err}");
}

#[test]
fn dump_sql_of_a_python_study_is_that_of_its_translation() {
    let given = params(&[("window", "3 months")]);
    let py = copy_study(&data().join("own"));
    let text = cohort::pyfront::translate(&py.path().join("analysis/study_definition.py"), &given)
        .unwrap();
    let yaml = copy_study(&data().join("own"));
    std::fs::remove_file(yaml.path().join("analysis/study_definition.py")).unwrap();
    std::fs::write(yaml.path().join("analysis/study_definition.yaml"), text).unwrap();
    let dialect = engine_sql::Postgres::new("public".to_string());
    let sql = |dir: &Path, params: Vec<(String, String)>| {
        let options = cohort::cli::CohortOptions {
            params,
            ..cohort::cli::CohortOptions::default()
        };
        cohort::cli::dump_sql(&options, dir, &dialect).unwrap_or_else(|e| panic!("{e}"))
    };
    let (a, b) = (sql(py.path(), given.clone()), sql(yaml.path(), Vec::new()));
    assert!(a.contains("interval '-3 months'"), "{a}");
    // The same statements; only the first comment names the file.
    assert!(a.starts_with("-- analysis/study_definition.py: "), "{a}");
    assert!(b.starts_with("-- analysis/study_definition.yaml: "), "{b}");
    let body = |s: &str| s.split_once('\n').map(|(_, rest)| rest.to_string());
    assert_eq!(body(&a), body(&b));
}
