//! Our outputs against what cohortextractor 1.93.3 wrote for the same inputs
//! (`tests/data/cohortextractor-measures`, see its README).

use std::path::{Path, PathBuf};

use measures::{generate_measures_with, Disclosure, MeasureSpec, Options, POPULATION};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/cohortextractor-measures"
);
const DATES: [&str; 3] = ["2020-11-01", "2020-12-01", "2021-01-01"];

/// The 7 measures of the fixture README.
fn fixture_specs() -> Vec<MeasureSpec> {
    let m = |id: &str| MeasureSpec::new(id, "had_pulse_ox", POPULATION);
    vec![
        m("pulse_ox_by_sex").group_by(&["sex"]),
        m("pulse_ox_by_region").group_by(&["region"]),
        m("pulse_ox_by_age_band").group_by(&["age_band"]),
        m("pulse_ox_by_sex_region").group_by(&["sex", "region"]),
        m("pulse_ox_by_region_suppressed")
            .group_by(&["region"])
            .disclosure(Disclosure::Cohortextractor),
        m("pulse_ox_population").group_by(&["population"]),
        m("pulse_ox_total"),
    ]
}

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

/// A temp dir holding the fixture inputs.
fn inputs_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for date in DATES {
        let name = format!("input_{date}.csv");
        std::fs::copy(fixture(&name), dir.path().join(&name)).unwrap();
    }
    dir
}

fn run(dir: &Path, specs: &[MeasureSpec]) -> Vec<u8> {
    let mut log = Vec::new();
    generate_measures_with(specs, &Options::new(dir), &mut log).unwrap();
    log
}

/// Every fixture file, compared byte for byte; `pulse_ox_total` must equal
/// `pulse_ox_population` (one total row per date, per the contract).
fn assert_matches_fixtures(out: &Path) {
    let mut compared = 0;
    for spec in fixture_specs() {
        let reference_id = if spec.id == "pulse_ox_total" {
            "pulse_ox_population"
        } else {
            spec.id.as_str()
        };
        let mut names: Vec<(String, String)> = DATES
            .iter()
            .map(|d| {
                (
                    format!("measure_{}_{d}.csv", spec.id),
                    format!("measure_{reference_id}_{d}.csv"),
                )
            })
            .collect();
        names.push((
            format!("measure_{}.csv", spec.id),
            format!("measure_{reference_id}.csv"),
        ));
        for (ours, theirs) in names {
            let got = std::fs::read_to_string(out.join(&ours)).unwrap();
            let want = std::fs::read_to_string(fixture(&theirs)).unwrap();
            assert_eq!(got, want, "{ours} differs from cohortextractor's {theirs}");
            compared += 1;
        }
    }
    assert_eq!(compared, 28);
}

#[test]
fn same_bytes_as_cohortextractor_for_every_fixture_measure() {
    let dir = inputs_dir();
    run(dir.path(), &fixture_specs());
    assert_matches_fixtures(dir.path());
    // Every cohortextractor output of the fixture set (except the per-patient total) exists.
    for entry in std::fs::read_dir(FIXTURES).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with("measure_") {
            assert!(dir.path().join(&name).exists(), "{name} not written");
        }
    }
    // Nothing else is left behind (no temporary files).
    let written = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(written, 3 + 7 * 4);
}

#[test]
fn total_is_one_row_per_date_equal_to_population() {
    let dir = inputs_dir();
    run(dir.path(), &fixture_specs());
    let total = std::fs::read_to_string(dir.path().join("measure_pulse_ox_total.csv")).unwrap();
    assert_eq!(
        total,
        "had_pulse_ox,population,value,date\r\n\
         30.0,60,0.5,2020-11-01\r\n30.0,60,0.5,2020-12-01\r\n30.0,60,0.5,2021-01-01\r\n"
    );
}

fn polars_frame(path: &Path) -> polars::prelude::DataFrame {
    use polars::prelude::*;
    CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap()
}

#[test]
fn every_input_format_gives_the_same_files() {
    use polars::prelude::*;
    for format in ["csv.gz", "parquet", "arrow", "feather"] {
        let dir = tempfile::tempdir().unwrap();
        for date in DATES {
            let src = fixture(&format!("input_{date}.csv"));
            let dst = dir.path().join(format!("input_{date}.{format}"));
            let file = std::fs::File::create(&dst).unwrap();
            match format {
                "csv.gz" => {
                    use std::io::Write;
                    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
                    gz.write_all(&std::fs::read(&src).unwrap()).unwrap();
                    gz.finish().unwrap();
                }
                "parquet" => {
                    let mut df = polars_frame(&src);
                    ParquetWriter::new(file).finish(&mut df).unwrap();
                }
                _ => {
                    let mut df = polars_frame(&src);
                    IpcWriter::new(file).finish(&mut df).unwrap();
                }
            }
        }
        run(dir.path(), &fixture_specs());
        assert_matches_fixtures(dir.path());
    }
}

#[test]
fn skip_existing_reuses_per_date_files_without_reading_inputs() {
    let dir = inputs_dir();
    run(dir.path(), &fixture_specs());
    // The inputs can no longer be read, and the combined files are gone: with
    // --skip-existing the per-date files are combined again without touching the inputs.
    for date in DATES {
        std::fs::write(dir.path().join(format!("input_{date}.csv")), "garbage\n").unwrap();
    }
    for spec in fixture_specs() {
        std::fs::remove_file(dir.path().join(format!("measure_{}.csv", spec.id))).unwrap();
    }
    let mut opts = Options::new(dir.path());
    opts.skip_existing = true;
    let mut log = Vec::new();
    let summary = generate_measures_with(&fixture_specs(), &opts, &mut log).unwrap();
    assert_eq!(
        summary.written.len(),
        7,
        "only the combined files are rewritten"
    );
    assert_matches_fixtures(dir.path());
    // Without --skip-existing the broken inputs are read, and the error names file and column.
    let err = generate_measures_with(&fixture_specs(), &Options::new(dir.path()), &mut log)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("input_2020-11-01.csv: no column 'had_pulse_ox'"),
        "{err}"
    );
}

#[test]
fn long_output_snapshot() {
    let dir = inputs_dir();
    let mut opts = Options::new(dir.path());
    opts.long_output = Some(dir.path().join("measures_long.csv"));
    let specs = fixture_specs();
    generate_measures_with(&specs, &opts, &mut Vec::new()).unwrap();
    let long = std::fs::read_to_string(dir.path().join("measures_long.csv")).unwrap();
    insta::assert_snapshot!("long_output", long);
}

#[test]
fn opensafely_rule_snapshot() {
    let dir = inputs_dir();
    let mut opts = Options::new(dir.path());
    opts.disclosure = Some(Disclosure::OpenSafely);
    let specs = fixture_specs();
    generate_measures_with(&specs, &opts, &mut Vec::new()).unwrap();
    let mut text = String::new();
    for id in [
        "pulse_ox_by_region",
        "pulse_ox_by_sex_region",
        "pulse_ox_total",
    ] {
        let path = dir.path().join(format!("measure_{id}.csv"));
        text.push_str(&format!("== measure_{id}.csv\n"));
        text.push_str(&std::fs::read_to_string(path).unwrap().replace("\r\n", "\n"));
    }
    insta::assert_snapshot!("opensafely_rule", text);
}

#[test]
fn log_snapshot() {
    let dir = inputs_dir();
    let log = run(dir.path(), &fixture_specs());
    let log = String::from_utf8(log)
        .unwrap()
        .replace(&dir.path().display().to_string(), "<dir>");
    insta::assert_snapshot!("log", log);
}

#[test]
fn skip_existing_rejects_a_per_date_file_of_another_shape() {
    let dir = inputs_dir();
    let stale = dir.path().join("measure_pulse_ox_by_sex_2020-12-01.csv");
    std::fs::write(
        &stale,
        "region,had_pulse_ox,population,value\nLondon,1.0,2,0.5\n",
    )
    .unwrap();
    let mut opts = Options::new(dir.path());
    opts.skip_existing = true;
    let err = generate_measures_with(&fixture_specs(), &opts, &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("measure_pulse_ox_by_sex_2020-12-01.csv: its columns are region,had_pulse_ox,population,value but measure 'pulse_ox_by_sex' writes sex,had_pulse_ox,population,value"),
        "{err}"
    );
    assert!(!dir.path().join("measure_pulse_ox_by_sex.csv").exists());
}

#[test]
fn columnar_inputs_with_bool_and_int_columns() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let mut df = df!(
        "patient_id" => [1i64, 2, 3, 4],
        "flag" => [true, false, true, true],
        "practice" => [Some(10i64), Some(2), None, Some(10)],
        "ratio" => [0.5f64, 1e-5, 0.5, 2.0],
    )
    .unwrap();
    let file = std::fs::File::create(dir.path().join("input_2021-01-01.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut df).unwrap();
    let specs = vec![
        MeasureSpec::new("by_practice", "flag", POPULATION).group_by(&["practice"]),
        MeasureSpec::new("by_ratio", "flag", POPULATION).group_by(&["ratio"]),
    ];
    generate_measures_with(&specs, &Options::new(dir.path()), &mut Vec::new()).unwrap();
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    // Integer and float groups sort numerically, as pandas sorts them ("2" < "10"); a null
    // group ("") comes first.
    assert_eq!(
        read("measure_by_practice_2021-01-01.csv"),
        "practice,flag,population,value\n,1.0,1,1.0\n2,0.0,1,0.0\n10,2.0,2,1.0\n"
    );
    assert_eq!(
        read("measure_by_ratio_2021-01-01.csv"),
        "ratio,flag,population,value\n1e-05,0.0,1,0.0\n0.5,2.0,2,1.0\n2.0,1.0,1,1.0\n"
    );
}
