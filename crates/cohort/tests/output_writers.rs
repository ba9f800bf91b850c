//! The output writers: exact CSV bytes, compressed and columnar round trips, atomic writes.

use std::io::Read;
use std::path::Path;

use cohort::output::{write_frame, OutputFormat};
use polars::prelude::*;

fn sample() -> DataFrame {
    let dates = Series::new("d".into(), [Some(17897i32), None, Some(-1)])
        .cast(&DataType::Date)
        .unwrap();
    DataFrame::new_infer_height(vec![
        Column::new("patient_id".into(), [1i64, 2, 30]),
        Column::new("flag".into(), [true, false, true]),
        Column::new("age".into(), [Some(45i64), Some(-3), None]),
        Column::new("value".into(), [Some(0.1f64), Some(500.0), Some(1e-5)]),
        Column::new(
            "region".into(),
            [Some("North East"), Some("a,b \"c\""), Some("")],
        ),
        dates.into(),
        Column::new("small".into(), [7i32, 8, 9]),
    ])
    .unwrap()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn csv_cells_follow_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input_2019-01-01.csv");
    write_frame(&sample(), &path, OutputFormat::Csv).unwrap();
    insta::assert_snapshot!(read(&path), @r#"
    patient_id,flag,age,value,region,d,small
    1,1,45,0.1,North East,2019-01-01,7
    2,0,-3,500.0,"a,b ""c""",,8
    30,1,,1e-05,,1969-12-31,9
    "#);
    let bytes = std::fs::read(&path).unwrap();
    assert!(!bytes.contains(&b'\r'), "line endings must be \\n");
    assert!(bytes.ends_with(b"9\n"));
}

#[test]
fn a_lone_empty_field_is_quoted_like_pythons_csv_module() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    let df =
        DataFrame::new_infer_height(vec![Column::new("sex".into(), [Some("M"), Some(""), None])])
            .unwrap();
    write_frame(&df, &path, OutputFormat::Csv).unwrap();
    assert_eq!(read(&path), "sex\nM\n\"\"\n\"\"\n");
}

#[test]
fn an_empty_frame_writes_the_header_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    let df = sample().head(Some(0));
    write_frame(&df, &path, OutputFormat::Csv).unwrap();
    assert_eq!(read(&path), "patient_id,flag,age,value,region,d,small\n");
}

#[test]
fn csv_gz_holds_the_same_bytes_as_csv() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("a.csv");
    let gz = dir.path().join("a.csv.gz");
    write_frame(&sample(), &plain, OutputFormat::Csv).unwrap();
    write_frame(&sample(), &gz, OutputFormat::CsvGz).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&gz).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, read(&plain));
}

#[test]
fn parquet_and_arrow_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let df = sample();
    let pq = dir.path().join("a.parquet");
    write_frame(&df, &pq, OutputFormat::Parquet).unwrap();
    let back = ParquetReader::new(std::fs::File::open(&pq).unwrap())
        .finish()
        .unwrap();
    assert!(back.equals_missing(&df), "{back}");

    let arrow = dir.path().join("a.arrow");
    write_frame(&df, &arrow, OutputFormat::Arrow).unwrap();
    let back = IpcReader::new(std::fs::File::open(&arrow).unwrap())
        .finish()
        .unwrap();
    assert!(back.equals_missing(&df), "{back}");
}

#[test]
fn a_failed_write_leaves_no_file_and_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.csv");
    std::fs::write(&path, "old\n").unwrap();
    let bad = DataFrame::new_infer_height(vec![
        Column::new("patient_id".into(), [1i64]),
        Series::new_null("weird".into(), 1).into(),
    ])
    .unwrap();
    let err = write_frame(&bad, &path, OutputFormat::Csv).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("weird") && msg.contains("input.csv"), "{msg}");
    assert_eq!(read(&path), "old\n");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["input.csv"], "no temporary file may remain");
}

#[test]
fn a_missing_folder_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope").join("input.csv");
    let msg = write_frame(&sample(), &path, OutputFormat::Csv)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("nope"), "{msg}");
}

#[test]
fn formats_parse_and_name_files() {
    assert_eq!(
        "feather".parse::<OutputFormat>().unwrap(),
        OutputFormat::Feather
    );
    assert_eq!(
        "csv.gz".parse::<OutputFormat>().unwrap(),
        OutputFormat::CsvGz
    );
    assert!("dta".parse::<OutputFormat>().is_err());
    assert_eq!(
        OutputFormat::from_file_name("input.csv.gz"),
        Some(OutputFormat::CsvGz)
    );
    assert_eq!(
        OutputFormat::from_file_name("x.feather"),
        Some(OutputFormat::Feather)
    );
    assert_eq!(OutputFormat::from_file_name(".csv"), None);
    assert_eq!(OutputFormat::from_file_name("x.txt"), None);
}
