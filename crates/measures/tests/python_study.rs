//! `generate_measures` over a Python study definition (`analysis/NAME.py`, no YAML): the
//! measures of its `cargo xtask translate` YAML, from the same cohorts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use measures::cli::{generate_measures, MeasuresOptions};

fn own_study() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../cohort/tests/data/pyfront/own")
}

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

/// generate_cohort (dummy data, three months) then generate_measures in `dir`: the measure
/// files by name.
fn run(dir: &Path, params: &[(String, String)]) -> BTreeMap<String, String> {
    let cohort = cohort::cli::CohortOptions {
        expectations_population: Some(300),
        index_date_range: Some("2020-01-01 to 2020-03-01 by month".to_string()),
        output_dir: Some(PathBuf::from("output/measures")),
        params: params.to_vec(),
        ..cohort::cli::CohortOptions::default()
    };
    cohort::cli::generate_cohort(&cohort, dir, &mut Vec::new()).unwrap_or_else(|e| panic!("{e}"));
    let options = MeasuresOptions {
        output_dir: PathBuf::from("output/measures"),
        params: params.to_vec(),
        ..MeasuresOptions::default()
    };
    let mut log = Vec::new();
    generate_measures(&options, dir, &mut log).unwrap_or_else(|e| panic!("{e}"));
    let log = String::from_utf8(log).unwrap();
    assert!(!log.contains("Ignoring --param"), "{log}");
    std::fs::read_dir(dir.join("output/measures"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with("measure_"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn measures_of_a_python_study_are_those_of_its_yaml_translation() {
    let params = vec![("window".to_string(), "2 years".to_string())];
    let py = tempfile::tempdir().unwrap();
    copy(&own_study(), py.path());
    let yaml_text =
        cohort::pyfront::translate(&py.path().join("analysis/study_definition.py"), &params)
            .unwrap_or_else(|e| panic!("{e}"));
    let yaml = tempfile::tempdir().unwrap();
    copy(&own_study(), yaml.path());
    std::fs::remove_file(yaml.path().join("analysis/study_definition.py")).unwrap();
    std::fs::write(
        yaml.path().join("analysis/study_definition.yaml"),
        yaml_text,
    )
    .unwrap();

    let from_py = run(py.path(), &params);
    let from_yaml = run(yaml.path(), &[]);
    // Seven measures built in a list comprehension, over three months.
    assert_eq!(from_py.len(), 7 * 3 + 7, "{:?}", from_py.keys());
    assert!(from_py.contains_key("measure_copd_by_age_band.csv"));
    assert!(from_py.contains_key("measure_respiratory_total_2020-02-01.csv"));
    assert_eq!(from_py, from_yaml);
}
