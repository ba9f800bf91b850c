//! `generate_cohort` end to end in a temporary copy of the project's study.

use std::path::Path;

use cohort::cli::{generate_cohort, CohortOptions, DummyData};
use cohort::output::OutputFormat;
use cohort::synth::{study_code_sets, write_ehr, SynthConfig};
use polars::prelude::*;

/// A temporary project holding the study definition and codelist of the repository.
fn project() -> tempfile::TempDir {
    crate::spec_support::repo_study_project()
}

/// Runs `generate_cohort` in `dir`; the log, or the error's message.
fn gen(dir: &Path, options: CohortOptions) -> Result<String, String> {
    let mut log = Vec::new();
    generate_cohort(&options, dir, &mut log).map_err(|e| e.to_string())?;
    Ok(String::from_utf8(log).unwrap())
}

/// Dummy data of `n` patients.
fn population(n: usize) -> CohortOptions {
    CohortOptions {
        expectations_population: Some(n),
        ..CohortOptions::default()
    }
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

const RANGE: &str = "2019-01-01 to 2021-01-01 by month";

#[test]
fn expectations_mode_writes_one_file_per_month() {
    let p = project();
    let log = gen(
        p.path(),
        CohortOptions {
            study_definition: Some("study_definition".into()),
            index_date_range: Some(RANGE.into()),
            output_dir: Some("output/measures".into()),
            dummy_data: DummyData::Expectations,
            ..population(200)
        },
    )
    .unwrap();
    let files = listing(&p.path().join("output/measures"));
    assert_eq!(files.len(), 25, "{files:?}");
    assert_eq!(files[0], "input_2019-01-01.csv");
    assert_eq!(files[24], "input_2021-01-01.csv");
    for f in &files {
        let l = lines(&p.path().join("output/measures").join(f));
        assert_eq!(l[0], "patient_id,had_pulse_ox,region,age,age_band,sex");
        assert_eq!(l.len(), 201);
        assert_eq!(
            l.iter()
                .filter(|r| r.split(',').nth(1) == Some("1"))
                .count(),
            100
        );
    }
    assert!(log.contains("25/25"), "{log}");
}

/// (patient_id, had_pulse_ox, age, age_band) rows of a cohort file.
fn rows(path: &Path) -> Vec<(i64, bool, i64, String)> {
    lines(path)[1..]
        .iter()
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                c[0].parse().unwrap(),
                c[1] == "1",
                c[3].parse().unwrap(),
                c[4].to_string(),
            )
        })
        .collect()
}

#[test]
fn synthetic_mode_queries_a_consistent_population_and_matches_database_mode() {
    let p = project();
    let e = gen(
        p.path(),
        CohortOptions {
            index_date_range: Some("2019-01-01 to 2021-01-01 by year".into()),
            output_dir: Some("out".into()),
            ..population(4000)
        },
    )
    .unwrap_err();
    assert!(e.contains("unknown period `year`"), "{e}");

    let log = gen(
        p.path(),
        CohortOptions {
            index_date_range: Some(RANGE.into()),
            output_dir: Some("out".into()),
            seed: Some(5),
            ..population(4000)
        },
    )
    .unwrap();
    assert!(log.contains("4000 patients"), "{log}");
    let out = p.path().join("out");
    let first = rows(&out.join("input_2019-01-01.csv"));
    let last = rows(&out.join("input_2021-01-01.csv"));
    for r in [&first, &last] {
        // Only registered patients, sorted by id.
        assert!((3_000..4_000).contains(&r.len()), "{}", r.len());
        assert!(r.windows(2).all(|w| w[0].0 < w[1].0));
        // age_band agrees with age: the query ran over one consistent population.
        for (_, _, age, band) in r {
            let lo = band
                .split(['-', '+'])
                .next()
                .unwrap()
                .parse::<i64>()
                .unwrap();
            assert!(band == "0" || *age >= lo, "age {age} in band {band}");
        }
    }
    let flagged = |r: &[(i64, bool, i64, String)]| r.iter().filter(|x| x.1).count();
    assert!(
        flagged(&last) > flagged(&first) + 5,
        "pulse oximetry should rise: {} -> {}",
        flagged(&first),
        flagged(&last)
    );

    // The same tables written to a folder and read back as a database give the same files.
    let study =
        cohort::study::StudyDefinition::load(&p.path().join("analysis/study_definition.yaml"))
            .unwrap();
    let ehr = p.path().join("ehr");
    write_ehr(
        &SynthConfig::new(4000, 5, study_code_sets(&study)),
        &ehr,
        OutputFormat::Parquet,
        &mut |_, _| {},
    )
    .unwrap();
    gen(
        p.path(),
        CohortOptions {
            index_date_range: Some(RANGE.into()),
            output_dir: Some("db".into()),
            database_url: Some("file://ehr".into()),
            ..CohortOptions::default()
        },
    )
    .unwrap();
    for f in listing(&out) {
        assert_eq!(
            std::fs::read(out.join(&f)).unwrap(),
            std::fs::read(p.path().join("db").join(&f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn parquet_output_and_output_file_naming() {
    let p = project();
    gen(
        p.path(),
        CohortOptions {
            index_date_range: Some("2020-01-01 to 2020-02-01".into()),
            output_file: Some("output/cohort.parquet".into()),
            ..population(300)
        },
    )
    .unwrap();
    assert_eq!(
        listing(&p.path().join("output")),
        ["cohort_2020-01-01.parquet", "cohort_2020-02-01.parquet"]
    );
    let df = ParquetReader::new(
        std::fs::File::open(p.path().join("output/cohort_2020-01-01.parquet")).unwrap(),
    )
    .finish()
    .unwrap();
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
    // Without a range: the study's index_date, no date in the name.
    gen(
        p.path(),
        CohortOptions {
            output_format: Some(OutputFormat::CsvGz),
            dummy_data: DummyData::Expectations,
            ..population(50)
        },
    )
    .unwrap();
    assert!(p.path().join("output/input.csv.gz").is_file());
}

#[test]
fn skip_existing_keeps_files_and_dummy_data_files_are_checked_and_copied() {
    let p = project();
    let out = p.path().join("output");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("input_2020-01-01.csv"), "keep\n").unwrap();
    let dummy = "patient_id,had_pulse_ox,region,age,age_band,sex\n1,0,London,40,40-49,F\n";
    std::fs::write(p.path().join("dummy.csv"), dummy).unwrap();
    let dummy_file = |file: &str| CohortOptions {
        dummy_data_file: Some(file.into()),
        ..CohortOptions::default()
    };
    gen(
        p.path(),
        CohortOptions {
            index_date_range: Some("2020-01-01 to 2020-03-01".into()),
            skip_existing: true,
            ..dummy_file("dummy.csv")
        },
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(out.join("input_2020-01-01.csv")).unwrap(),
        "keep\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("input_2020-03-01.csv")).unwrap(),
        dummy
    );

    std::fs::write(
        p.path().join("bad.csv"),
        "patient_id,had_pulse_ox,region,age,sex\n1,0,London,40,F\n",
    )
    .unwrap();
    let e = gen(p.path(), dummy_file("bad.csv")).unwrap_err();
    assert!(e.contains("missing columns: age_band"), "{e}");
    std::fs::write(
        p.path().join("bad.csv"),
        "patient_id,had_pulse_ox,region,age,age_band,sex\n1,2,London,40,40-49,F\n",
    )
    .unwrap();
    let e = gen(p.path(), dummy_file("bad.csv")).unwrap_err();
    assert!(
        e.contains("`had_pulse_ox`, row 1: `2` is not 0 or 1"),
        "{e}"
    );
    let e = gen(
        p.path(),
        CohortOptions {
            output_format: Some(OutputFormat::Parquet),
            ..dummy_file("dummy.csv")
        },
    )
    .unwrap_err();
    assert!(e.contains("must be a .parquet file"), "{e}");
}

#[test]
fn usage_errors_are_clear() {
    let p = project();
    let cases = [
        (
            CohortOptions {
                study_definition: Some("nope".into()),
                ..population(5)
            },
            "unknown study definition `nope` (in",
        ),
        (CohortOptions::default(), "no data source"),
        (
            CohortOptions {
                index_date_range: Some("2019-01-31 to 2019-03-31".into()),
                ..population(5)
            },
            "no day 31",
        ),
        (
            CohortOptions {
                output_file: Some("out/x.txt".into()),
                ..population(5)
            },
            "must end in",
        ),
        (
            CohortOptions {
                output_file: Some("out/x.csv".into()),
                output_dir: Some("elsewhere".into()),
                ..population(5)
            },
            "conflicts with --output-dir",
        ),
    ];
    for (options, want) in cases {
        let e = gen(p.path(), options.clone()).unwrap_err();
        assert!(e.contains(want), "{options:?}: {e}");
    }
    let e = gen(
        p.path(),
        CohortOptions {
            database_url: Some("sc://127.0.0.1:1/;token=secret;use_ssl=false".into()),
            ..CohortOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        e.contains("127.0.0.1:1") && !e.contains("secret") && !e.contains('\n'),
        "{e}"
    );
    // Nothing listens on port 1: one line, naming the server without the password.
    let e = gen(
        p.path(),
        CohortOptions {
            database_url: Some("postgresql://u:secret@127.0.0.1:1/db".into()),
            ..CohortOptions::default()
        },
    )
    .unwrap_err();
    assert!(
        e.contains("127.0.0.1:1") && !e.contains("secret") && !e.contains('\n'),
        "{e}"
    );
    let e = gen(
        p.path(),
        CohortOptions {
            database_url: Some("file://missing".into()),
            ..population(5)
        },
    )
    .unwrap_err();
    assert!(e.contains("missing"), "{e}");
    assert!(!p
        .path()
        .join("output")
        .read_dir()
        .is_ok_and(|mut d| d.any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"))));
}

#[test]
fn errors_can_cross_the_image_seam() {
    fn boxable<E: std::error::Error + Send + Sync + 'static>() {}
    boxable::<cohort::cli::CohortError>();
    boxable::<cohort::synth::GenerateEhrError>();
}
