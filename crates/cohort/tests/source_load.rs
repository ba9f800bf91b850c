//! Loading a folder of table files: dtypes, formats, round trips and error messages.

use std::path::Path;

use chrono::NaiveDate;
use cohort::output::{write_frame, OutputFormat};
use cohort::tables::load_core_tables as load_tables;
use cohort::tables::{ClinicalEvent, EhrTables, Patient, Registration};
use ehr::{DataSource, SourceError};
use polars::prelude::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn sample() -> EhrTables {
    EhrTables {
        patients: vec![
            Patient {
                patient_id: 1,
                date_of_birth: d("1980-05-01"),
                sex: "F".into(),
                date_of_death: None,
            },
            Patient {
                patient_id: 2,
                date_of_birth: d("1931-01-01"),
                sex: "M".into(),
                date_of_death: Some(d("2020-04-17")),
            },
        ],
        practice_registrations: vec![
            Registration {
                patient_id: 1,
                start_date: d("2001-01-01"),
                end_date: Some(d("2019-06-30")),
                practice_pseudo_id: 12,
                practice_nuts1_region_name: Some("North East".into()),
                practice_stp: Some("E54000005".into()),
            },
            Registration {
                patient_id: 1,
                start_date: d("2019-06-30"),
                end_date: None,
                practice_pseudo_id: 7,
                practice_nuts1_region_name: None,
                practice_stp: None,
            },
        ],
        clinical_events: vec![
            ClinicalEvent {
                patient_id: 1,
                date: d("2020-05-02"),
                ctv3_code: Some("Y2a48".into()),
                snomedct_code: None,
                numeric_value: None,
            },
            ClinicalEvent {
                patient_id: 2,
                date: d("2019-12-31"),
                ctv3_code: None,
                snomedct_code: Some("1325191000000108".into()),
                numeric_value: Some(97.5),
            },
        ],
    }
}

fn write_tables(dir: &Path, tables: &EhrTables, format: OutputFormat) {
    let frames = tables.to_frames().unwrap();
    for (name, df) in [
        ("patients", &frames.patients),
        ("practice_registrations", &frames.practice_registrations),
        ("clinical_events", &frames.clinical_events),
    ] {
        write_frame(df, &dir.join(format!("{name}.{format}")), format).unwrap();
    }
}

#[test]
fn every_format_round_trips_to_the_same_rows_and_dtypes() {
    for format in [
        OutputFormat::Csv,
        OutputFormat::CsvGz,
        OutputFormat::Parquet,
        OutputFormat::Arrow,
    ] {
        let dir = tempfile::tempdir().unwrap();
        write_tables(dir.path(), &sample(), format);
        let frames = load_tables(dir.path()).unwrap();
        let dtypes: Vec<_> = frames.clinical_events.dtypes();
        assert_eq!(
            dtypes,
            [
                DataType::Int64,
                DataType::Date,
                DataType::String,
                DataType::String,
                DataType::Float64
            ],
            "{format}"
        );
        assert_eq!(
            EhrTables::from_frames(&frames).unwrap(),
            sample(),
            "{format}"
        );
        // Also through the URL form.
        let url = format!("file://{}", dir.path().display());
        let DataSource::Folder(via_url) = DataSource::from_url(&url, Path::new("/")).unwrap()
        else {
            panic!("{url} is not a folder");
        };
        let via_url = load_tables(&via_url).unwrap();
        assert_eq!(EhrTables::from_frames(&via_url).unwrap(), sample());
    }
}

fn csv_folder(patients: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("patients.csv"), patients).unwrap();
    std::fs::write(
        dir.path().join("practice_registrations.csv"),
        "patient_id,start_date,end_date,practice_pseudo_id,practice_nuts1_region_name,practice_stp\n\
         1,2001-01-01,,3,London,E54000027\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("clinical_events.csv"),
        "patient_id,date,ctv3_code,snomedct_code,numeric_value\n1,2020-01-01,Y2a48,,\n",
    )
    .unwrap();
    dir
}

#[test]
fn csv_extra_columns_are_ignored_and_columns_may_come_in_any_order() {
    let dir = csv_folder(
        "sex,extra,patient_id,date_of_death,date_of_birth\r\nM,x,5,,1950-02-01\r\nF,y,6,2020-03-03,2001-12-01\r\n",
    );
    let frames = load_tables(dir.path()).unwrap();
    assert_eq!(
        frames
            .patients
            .get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        ["patient_id", "date_of_birth", "sex", "date_of_death"]
    );
    let rows = EhrTables::from_frames(&frames).unwrap();
    assert_eq!(rows.patients[1].date_of_death, Some(d("2020-03-03")));
    assert_eq!(rows.patients[0].sex, "M");
    assert_eq!(rows.practice_registrations[0].end_date, None);
    assert_eq!(rows.clinical_events[0].snomedct_code, None);
}

fn err(dir: &Path) -> String {
    load_tables(dir).unwrap_err().to_string()
}

#[test]
fn a_missing_column_names_table_column_and_file() {
    let dir = csv_folder("patient_id,date_of_birth,date_of_death\n1,1950-01-01,\n");
    let e = err(dir.path());
    assert!(
        e.contains("`patients`") && e.contains("`sex`") && e.contains("patients.csv"),
        "{e}"
    );
}

#[test]
fn a_bad_value_names_table_column_row_and_value() {
    let dir = csv_folder(
        "patient_id,date_of_birth,sex,date_of_death\n1,1950-01-01,M,\n2,1950-02-30,F,\n",
    );
    let e = err(dir.path());
    for part in [
        "`patients`",
        "`date_of_birth`",
        "row 2",
        "`1950-02-30`",
        "patients.csv",
    ] {
        assert!(e.contains(part), "{part} not in {e}");
    }
    let dir = csv_folder("patient_id,date_of_birth,sex,date_of_death\nx1,1950-01-01,M,\n");
    let e = err(dir.path());
    assert!(
        e.contains("`patient_id`") && e.contains("row 1") && e.contains("`x1`"),
        "{e}"
    );
}

#[test]
fn a_required_value_may_not_be_empty() {
    let dir = csv_folder("patient_id,date_of_birth,sex,date_of_death\n1,1950-01-01,,\n");
    let e = err(dir.path());
    assert!(
        e.contains("`sex`") && e.contains("row 1") && e.contains("empty"),
        "{e}"
    );
}

#[test]
fn missing_and_ambiguous_tables() {
    let dir = csv_folder("patient_id,date_of_birth,sex,date_of_death\n");
    std::fs::remove_file(dir.path().join("clinical_events.csv")).unwrap();
    let e = err(dir.path());
    assert!(
        e.contains("`clinical_events`") && e.contains("missing"),
        "{e}"
    );

    let dir = csv_folder("patient_id,date_of_birth,sex,date_of_death\n");
    std::fs::write(dir.path().join("patients.csv.gz"), b"").unwrap();
    assert!(matches!(
        load_tables(dir.path()),
        Err(SourceError::AmbiguousTable { .. })
    ));

    let e = err(&dir.path().join("nope"));
    assert!(e.contains("nope"), "{e}");
}

#[test]
fn columnar_files_are_cast_to_the_contract_types_or_rejected() {
    let dir = tempfile::tempdir().unwrap();
    write_tables(dir.path(), &sample(), OutputFormat::Parquet);
    // patient_id stored as Int32 is widened.
    let mut frames = sample().to_frames().unwrap();
    frames
        .patients
        .apply("patient_id", |c| c.cast(&DataType::Int32).unwrap())
        .unwrap();
    write_frame(
        &frames.patients,
        &dir.path().join("patients.parquet"),
        OutputFormat::Parquet,
    )
    .unwrap();
    let loaded = load_tables(dir.path()).unwrap();
    assert_eq!(
        loaded.patients.column("patient_id").unwrap().dtype(),
        &DataType::Int64
    );

    // A float date_of_birth is not a date.
    let bad = DataFrame::new_infer_height(vec![
        Column::new("patient_id".into(), [1i64]),
        Column::new("date_of_birth".into(), [1.5f64]),
        Column::new("sex".into(), ["M"]),
        Column::new("date_of_death".into(), [None::<i32>])
            .cast(&DataType::Date)
            .unwrap(),
    ])
    .unwrap();
    write_frame(
        &bad,
        &dir.path().join("patients.parquet"),
        OutputFormat::Parquet,
    )
    .unwrap();
    let e = err(dir.path());
    assert!(
        e.contains("`date_of_birth`") && e.contains("f64") && e.contains("patients.parquet"),
        "{e}"
    );
}
