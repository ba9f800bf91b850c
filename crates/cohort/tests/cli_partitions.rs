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

/// How [`rewrite`] writes a folder.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// Parquet, rows reversed, in small row groups.
    Reversed,
    Csv,
    CsvGz,
    Arrow,
}

/// Rewrites each table of `from` into `to` as `layout` says.
fn rewrite(from: &Path, to: &Path, layout: Layout) {
    std::fs::create_dir_all(to).unwrap();
    for f in files(from) {
        let mut df = ParquetReader::new(std::fs::File::open(&f).unwrap())
            .finish()
            .unwrap();
        let stem = f.file_stem().unwrap().to_string_lossy().to_string();
        if layout == Layout::Csv {
            let out = std::fs::File::create(to.join(format!("{stem}.csv"))).unwrap();
            CsvWriter::new(out).finish(&mut df).unwrap();
        } else if layout == Layout::CsvGz {
            let out = std::fs::File::create(to.join(format!("{stem}.csv.gz"))).unwrap();
            let mut gz = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
            CsvWriter::new(&mut gz).finish(&mut df).unwrap();
            gz.finish().unwrap();
        } else if layout == Layout::Arrow {
            let out = std::fs::File::create(to.join(format!("{stem}.arrow"))).unwrap();
            IpcWriter::new(out).finish(&mut df.reverse()).unwrap();
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
    rewrite(
        &p.path().join("ehr"),
        &p.path().join("unsorted"),
        Layout::Reversed,
    );
    let log = run(p.path(), "unsorted", "u", TINY, OutputFormat::Csv).unwrap();
    assert!(
        log.contains("Not sorted by patient_id: clinical_events, patients, practice_registrations; sorting into a temporary folder in u"),
        "{log}"
    );
    // The progress bar over the two passes of each table; then the partitions.
    assert!(log.contains("6/6 passes"), "{log}");
    assert!(log.contains("clinical_events pass 2:"), "{log}");
    assert!(log.contains("Sorted: "), "{log}");
    // Identical files, and the sorted copies are gone (`same_files` counts the entries).
    same_files(&p.path().join("one"), &p.path().join("u"));
    for (layout, name) in [
        (Layout::Csv, "csv"),
        (Layout::CsvGz, "csvgz"),
        (Layout::Arrow, "arrow"),
    ] {
        rewrite(&p.path().join("ehr"), &p.path().join(name), layout);
        let out = format!("{name}-out");
        let log = run(p.path(), name, &out, TINY, OutputFormat::Csv).unwrap();
        assert!(log.contains("sorting into a temporary folder"), "{log}");
        same_files(&p.path().join("one"), &p.path().join(&out));
        // Under a large budget: one partition, the tables loaded whole, no sort.
        let whole = format!("{name}-whole");
        let log = run(p.path(), name, &whole, None, OutputFormat::Csv).unwrap();
        assert!(!log.contains("Not sorted"), "{log}");
        same_files(&p.path().join("one"), &p.path().join(&whole));
    }
}

#[test]
fn a_bad_value_found_while_sorting_names_the_original_file_and_row() {
    let p = project();
    rewrite(&p.path().join("ehr"), &p.path().join("csv"), Layout::Csv);
    let file = p.path().join("csv/clinical_events.csv");
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let at = header.iter().position(|h| *h == "date").unwrap();
    let n = lines.len() - 1;
    let mut cells: Vec<String> = lines[n].split(',').map(String::from).collect();
    cells[at] = "2019-02-30".into();
    lines[n] = cells.join(",");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let e = run(p.path(), "csv", "out", TINY, OutputFormat::Csv).unwrap_err();
    assert!(
        e.contains("clinical_events")
            && e.contains("csv/clinical_events.csv")
            && e.contains(&format!("row {n}"))
            && e.contains("2019-02-30"),
        "{e}"
    );
    let left = files(&p.path().join("out"));
    assert!(left.is_empty(), "{left:?}");
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
