//! Bad input: clear errors naming the file and column, and nothing written.

use std::path::Path;

use measures::{generate_measures_with, MeasureSpec, MeasuresError, Options, POPULATION};

const GOOD: &str = "had_pulse_ox,region,sex,patient_id\n1,London,F,1\n0,North East,M,2\n";

fn specs() -> Vec<MeasureSpec> {
    vec![
        MeasureSpec::new("by_region", "had_pulse_ox", POPULATION).group_by(&["region"]),
        MeasureSpec::new("by_sex", "had_pulse_ox", POPULATION).group_by(&["sex"]),
    ]
}

/// Writes three monthly inputs, the last one with `last` as its contents.
fn dir_with(last: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("input_2020-11-01.csv"), GOOD).unwrap();
    std::fs::write(dir.path().join("input_2020-12-01.csv"), GOOD).unwrap();
    std::fs::write(dir.path().join("input_2021-01-01.csv"), last).unwrap();
    // An earlier complete output must survive a failed run untouched.
    std::fs::write(dir.path().join("measure_by_sex.csv"), "old\n").unwrap();
    dir
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs, expects an error, and checks that nothing was written.
fn fails(dir: &Path, specs: &[MeasureSpec]) -> String {
    let before = files(dir);
    let err = generate_measures_with(specs, &Options::new(dir), &mut Vec::new()).unwrap_err();
    assert_eq!(files(dir), before, "files written despite: {err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("measure_by_sex.csv")).unwrap(),
        "old\n"
    );
    err.to_string().replace(&dir.display().to_string(), "<dir>")
}

#[test]
fn good_inputs_run() {
    let dir = dir_with(GOOD);
    generate_measures_with(&specs(), &Options::new(dir.path()), &mut Vec::new()).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("measure_by_sex_2021-01-01.csv")).unwrap(),
        "sex,had_pulse_ox,population,value\nF,1.0,1,1.0\nM,0.0,1,0.0\n"
    );
}

#[test]
fn no_input_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("input.csv"), GOOD).unwrap();
    let err =
        generate_measures_with(&specs(), &Options::new(dir.path()), &mut Vec::new()).unwrap_err();
    assert!(matches!(err, MeasuresError::NoInputFiles { .. }));
    let msg = err
        .to_string()
        .replace(&dir.path().display().to_string(), "<dir>");
    assert_eq!(
        msg,
        "no input files matching input_YYYY-MM-DD.{csv,csv.gz,parquet,arrow,feather} in <dir>"
    );
    let missing = dir.path().join("nope");
    let err =
        generate_measures_with(&specs(), &Options::new(&missing), &mut Vec::new()).unwrap_err();
    assert!(matches!(err, MeasuresError::NoInputFiles { .. }));
}

#[test]
fn missing_column() {
    let dir = dir_with("had_pulse_ox,sex,patient_id\n1,F,1\n");
    assert_eq!(
        fails(dir.path(), &specs()),
        "<dir>/input_2021-01-01.csv: no column 'region' (group_by of measure 'by_region'); \
         the file has columns: had_pulse_ox, sex, patient_id"
    );
}

#[test]
fn non_numeric_numerator() {
    let dir = dir_with("had_pulse_ox,region,sex,patient_id\n1,London,F,1\nT,London,M,2\n");
    assert_eq!(
        fails(dir.path(), &specs()),
        "<dir>/input_2021-01-01.csv: line 3, column 'had_pulse_ox': 'T' is not a number"
    );
    let dir = dir_with("had_pulse_ox,region,sex,patient_id\n,London,F,1\n");
    assert_eq!(
        fails(dir.path(), &specs()),
        "<dir>/input_2021-01-01.csv: line 2, column 'had_pulse_ox': '' is not a number"
    );
}

#[test]
fn measure_naming_an_unknown_variable() {
    let dir = dir_with(GOOD);
    let mut bad = specs();
    bad.push(MeasureSpec::new("typo", "had_pulse", POPULATION));
    assert_eq!(
        fails(dir.path(), &bad),
        "<dir>/input_2020-11-01.csv: no column 'had_pulse' (numerator of measure 'typo'); \
         the file has columns: had_pulse_ox, region, sex, patient_id"
    );
}

#[test]
fn malformed_csv() {
    let dir = dir_with("had_pulse_ox,region,sex,patient_id\n1,London,F\n");
    assert_eq!(
        fails(dir.path(), &specs()),
        "<dir>/input_2021-01-01.csv: line 2: 3 fields, the header has 4"
    );
    let dir = dir_with("");
    assert_eq!(
        fails(dir.path(), &specs()),
        "<dir>/input_2021-01-01.csv: the file is empty (no header line)"
    );
}

#[test]
fn invalid_measure_definitions() {
    let dir = dir_with(GOOD);
    let dup = vec![specs()[0].clone(), specs()[0].clone()];
    assert_eq!(
        fails(dir.path(), &dup),
        "measure 'by_region': the id is used by another measure"
    );
    let grouped_by_numerator =
        vec![MeasureSpec::new("m", "had_pulse_ox", POPULATION).group_by(&["had_pulse_ox"])];
    assert_eq!(
        fails(dir.path(), &grouped_by_numerator),
        "measure 'm': column 'had_pulse_ox' appears in both numerator and group_by"
    );
}

#[test]
fn date_that_does_not_exist() {
    let dir = dir_with(GOOD);
    std::fs::write(dir.path().join("input_2021-02-29.csv"), GOOD).unwrap();
    assert_eq!(
        fails(dir.path(), &specs()),
        "<dir>/input_2021-02-29.csv: '2021-02-29' in the file name is not a valid date"
    );
}
