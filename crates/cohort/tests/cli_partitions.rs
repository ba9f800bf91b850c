//! `generate_cohort` over a folder in patient partitions: the files are the same whatever the
//! memory budget (one partition or many), the table format and the row order; a failure in a
//! later partition leaves no output file.

use std::path::{Path, PathBuf};

use cohort::cli::{generate_cohort, CohortOptions};
use cohort::output::OutputFormat;
use cohort::synth::{study_code_sets, write_ehr, SynthConfig};
use polars::prelude::*;

const RANGE: &str = "2019-01-01 to 2019-06-01";

/// A temporary project with the repository's study and a generated folder `ehr` of 300
/// patients (Parquet, sorted by patient).
fn project() -> tempfile::TempDir {
    let dir = crate::spec_support::repo_study_project();
    let study =
        cohort::study::StudyDefinition::load(&dir.path().join("analysis/study_definition.yaml"))
            .unwrap();
    write_ehr(
        &SynthConfig::new(300, 3, study_code_sets(&study)),
        &dir.path().join("ehr"),
        OutputFormat::Parquet,
        &mut |_, _| {},
    )
    .unwrap();
    dir
}

/// Runs the study over `folder` into `out` with `budget` bytes; the log or the error.
fn run(
    dir: &Path,
    folder: &str,
    out: &str,
    budget: Option<u64>,
    format: OutputFormat,
) -> Result<String, String> {
    let options = CohortOptions {
        index_date_range: Some(RANGE.into()),
        output_dir: Some(out.into()),
        output_format: Some(format),
        database_url: Some(format!("file://{folder}")),
        memory_budget: budget,
        ..CohortOptions::default()
    };
    let mut log = Vec::new();
    generate_cohort(&options, dir, &mut log).map_err(|e| e.to_string())?;
    Ok(String::from_utf8(log).unwrap())
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

fn same_files(a: &Path, b: &Path) {
    let (fa, fb) = (files(a), files(b));
    assert_eq!(fa.len(), 6, "{fa:?}");
    assert_eq!(
        fa.iter().map(|p| p.file_name()).collect::<Vec<_>>(),
        fb.iter().map(|p| p.file_name()).collect::<Vec<_>>()
    );
    for (x, y) in fa.iter().zip(&fb) {
        assert!(
            std::fs::read(x).unwrap() == std::fs::read(y).unwrap(),
            "{} differs from {}",
            x.display(),
            y.display()
        );
    }
}

/// A budget that makes partitions of a few patients.
const TINY: Option<u64> = Some(20_000);

fn partitions(log: &str) -> usize {
    let line = log
        .lines()
        .find(|l| l.contains("patient partition(s)"))
        .unwrap_or_else(|| panic!("{log}"));
    line.split(": ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn many_partitions_write_the_same_files_as_one() {
    let p = project();
    let one = run(p.path(), "ehr", "one", None, OutputFormat::Csv).unwrap();
    assert_eq!(partitions(&one), 1, "{one}");
    let many = run(p.path(), "ehr", "many", TINY, OutputFormat::Csv).unwrap();
    assert!(partitions(&many) > 20, "{many}");
    same_files(&p.path().join("one"), &p.path().join("many"));
    // Compressed: one gzip stream, the same text.
    run(p.path(), "ehr", "gz", TINY, OutputFormat::CsvGz).unwrap();
    for f in files(&p.path().join("gz")) {
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(&f).unwrap()),
            &mut text,
        )
        .unwrap();
        let name = f
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".csv.gz", ".csv");
        assert_eq!(
            text,
            std::fs::read_to_string(p.path().join("one").join(name)).unwrap()
        );
    }
    // Parquet and Arrow: one row group or record batch per partition, the same rows.
    for format in [OutputFormat::Parquet, OutputFormat::Arrow] {
        let name = format!("{format}");
        run(p.path(), "ehr", &format!("{name}-one"), None, format).unwrap();
        run(p.path(), "ehr", &format!("{name}-many"), TINY, format).unwrap();
        for (a, b) in files(&p.path().join(format!("{name}-one")))
            .iter()
            .zip(files(&p.path().join(format!("{name}-many"))))
        {
            let read = |path: &Path| -> DataFrame {
                let f = std::fs::File::open(path).unwrap();
                if format == OutputFormat::Parquet {
                    ParquetReader::new(f).finish().unwrap()
                } else {
                    IpcReader::new(f).finish().unwrap()
                }
            };
            let (x, y) = (read(a), read(&b));
            assert!(x.height() > 100);
            assert!(x.equals_missing(&y), "{}", b.display());
        }
    }
}

/// Rewrites each table of `from` into `to`: shuffled rows in small row groups (Parquet), or
/// CSV.
fn rewrite(from: &Path, to: &Path, csv: bool) {
    std::fs::create_dir_all(to).unwrap();
    for f in files(from) {
        let mut df = ParquetReader::new(std::fs::File::open(&f).unwrap())
            .finish()
            .unwrap();
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        if csv {
            let out = std::fs::File::create(to.join(format!("{stem}.csv"))).unwrap();
            CsvWriter::new(out).finish(&mut df).unwrap();
        } else {
            // Reversed, so row groups run from the highest patients down.
            let mut df = df.reverse();
            let out = std::fs::File::create(to.join(format!("{stem}.parquet"))).unwrap();
            ParquetWriter::new(out)
                .with_row_group_size(Some(97))
                .finish(&mut df)
                .unwrap();
        }
    }
}

#[test]
fn unsorted_and_csv_folders_give_the_same_files() {
    let p = project();
    run(p.path(), "ehr", "one", None, OutputFormat::Csv).unwrap();
    rewrite(&p.path().join("ehr"), &p.path().join("unsorted"), false);
    let log = run(p.path(), "unsorted", "u", TINY, OutputFormat::Csv).unwrap();
    assert!(log.contains("Not sorted by patient_id"), "{log}");
    same_files(&p.path().join("one"), &p.path().join("u"));
    rewrite(&p.path().join("ehr"), &p.path().join("csv"), true);
    run(p.path(), "csv", "c", TINY, OutputFormat::Csv).unwrap();
    same_files(&p.path().join("one"), &p.path().join("c"));
}

#[test]
fn a_bad_row_in_a_later_partition_leaves_no_output_file() {
    let p = project();
    let ehr = p.path().join("ehr");
    let bad = p.path().join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    for f in files(&ehr) {
        std::fs::copy(&f, bad.join(f.file_name().unwrap())).unwrap();
    }
    // The last event's patient_id removed: found only when its partition is read.
    let file = bad.join("clinical_events.parquet");
    let mut df = ParquetReader::new(std::fs::File::open(&file).unwrap())
        .finish()
        .unwrap();
    let n = df.height();
    let ids: Vec<Option<i64>> = df
        .column("patient_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, v)| if i + 1 == n { None } else { v })
        .collect();
    df.with_column(Column::new("patient_id".into(), ids))
        .unwrap();
    ParquetWriter::new(std::fs::File::create(&file).unwrap())
        .with_row_group_size(Some(50))
        .finish(&mut df)
        .unwrap();
    let e = run(p.path(), "bad", "out", TINY, OutputFormat::Csv).unwrap_err();
    assert!(
        e.contains("clinical_events")
            && e.contains("patient_id")
            && e.contains(&format!("row {n}")),
        "{e}"
    );
    let left = files(&p.path().join("out"));
    assert!(left.is_empty(), "{left:?}");
}
