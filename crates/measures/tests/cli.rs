//! The runner's entry point: a project folder with a YAML study definition.

use std::path::{Path, PathBuf};

use measures::cli::generate_measures;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/cohortextractor-measures"
);
const CODELIST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../codelists/opensafely-pulse-oximetry.csv"
);
const DATES: [&str; 3] = ["2020-11-01", "2020-12-01", "2021-01-01"];

const STUDY: &str = r#"
index_date: 2019-01-01
codelists:
  pulse_oximetry_codes:
    csv: codelists/opensafely-pulse-oximetry.csv
    system: ctv3
    column: CTV3ID
population:
  registered_as_of: index_date
variables:
  had_pulse_ox:
    with_these_clinical_events:
      codelist: pulse_oximetry_codes
      returning: binary_flag
      between: [index_date, index_date + 1 month]
  region:
    registered_practice_as_of: {date: index_date, returning: nuts1_region_name}
  age:
    age_as_of: index_date
  age_band:
    categorised_as:
      "0": DEFAULT
      "0-19": age >= 0 AND age < 20
      "80+": age >= 80 AND age < 120
  sex:
    sex: {}
measures:
  - {id: pulse_ox_by_sex,       numerator: had_pulse_ox, denominator: population, group_by: [sex]}
  - {id: pulse_ox_by_region,    numerator: had_pulse_ox, denominator: population, group_by: [region]}
  - {id: pulse_ox_by_age_band,  numerator: had_pulse_ox, denominator: population, group_by: [age_band]}
  - {id: pulse_ox_by_sex_region, numerator: had_pulse_ox, denominator: population, group_by: [sex, region]}
  - {id: pulse_ox_by_region_suppressed, numerator: had_pulse_ox, denominator: population, group_by: [region], small_number_suppression: true}
  - {id: pulse_ox_population,   numerator: had_pulse_ox, denominator: population, group_by: population}
  - {id: pulse_ox_total,        numerator: had_pulse_ox, denominator: population}
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("analysis")).unwrap();
    std::fs::create_dir_all(p.join("codelists")).unwrap();
    std::fs::create_dir_all(p.join("output/measures")).unwrap();
    std::fs::write(p.join("analysis/study_definition.yaml"), STUDY).unwrap();
    std::fs::copy(CODELIST, p.join("codelists/opensafely-pulse-oximetry.csv")).unwrap();
    for date in DATES {
        let name = format!("input_{date}.csv");
        std::fs::copy(
            Path::new(FIXTURES).join(&name),
            p.join("output/measures").join(&name),
        )
        .unwrap();
    }
    dir
}

fn args(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn measure_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("measure_")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn run_line_of_the_study_reproduces_cohortextractor() {
    let project = project();
    let mut log = Vec::new();
    // As project.yaml runs it, plus the runner's --output-dir.
    generate_measures(
        &args(&[
            "--study-definition",
            "study_definition",
            "--output-dir=output/measures",
            "--output-dir=output/measures",
        ]),
        project.path(),
        &mut log,
    )
    .unwrap();
    let out = project.path().join("output/measures");
    let files = measure_files(&out);
    assert_eq!(files.len(), 28);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let reference = name.replace("pulse_ox_total", "pulse_ox_population");
        let want = std::fs::read(Path::new(FIXTURES).join(&reference)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), want, "{name}");
    }
    let log = String::from_utf8(log).unwrap();
    assert!(log.contains("Wrote 28 files"), "{log}");
}

#[test]
fn flags_override_disclosure_and_add_the_long_file() {
    let project = project();
    generate_measures(
        &args(&[
            "--output-dir",
            "output/measures",
            "--disclosure-control=opensafely",
            "--long-output",
            "output/measures_long.csv",
        ]),
        project.path(),
        &mut Vec::new(),
    )
    .unwrap();
    let by_sex = std::fs::read_to_string(
        project
            .path()
            .join("output/measures/measure_pulse_ox_by_sex_2020-11-01.csv"),
    )
    .unwrap();
    assert_eq!(
        by_sex,
        "sex,had_pulse_ox,population,value\nF,15.0,30,0.5\nM,15.0,30,0.5\n"
    );
    let long = std::fs::read_to_string(project.path().join("output/measures_long.csv")).unwrap();
    assert!(long.starts_with(
        "measure,interval_start,interval_end,ratio,numerator,denominator,sex,region,age_band\n\
         pulse_ox_by_sex,2020-11-01,2020-11-30,0.5,15,30,F,,\n"
    ));
}

#[test]
fn errors_name_the_study_definition() {
    let project = project();
    let err = generate_measures(
        &args(&[
            "--study-definition",
            "study_definition_missing",
            "--output-dir",
            "output/measures",
        ]),
        project.path(),
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("study_definition_missing.yaml"),
        "{err}"
    );

    std::fs::write(
        project.path().join("analysis/study_definition.yaml"),
        STUDY.replace(
            "numerator: had_pulse_ox, denominator: population, group_by: [sex]}",
            "numerator: nope, denominator: population, group_by: [sex]}",
        ),
    )
    .unwrap();
    let err = generate_measures(
        &args(&["--output-dir", "output/measures"]),
        project.path(),
        &mut Vec::new(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("study_definition.yaml") && msg.contains("nope"),
        "{msg}"
    );
    assert!(measure_files(&project.path().join("output/measures")).is_empty());
}
