//! Property: any tables written by the output writers load back to the same rows, in every
//! format (CSV quoting, nulls, dates before 1970, floats in Python repr).

use chrono::NaiveDate;
use cohort::output::{write_frame, OutputFormat};
use cohort::tables::load_core_tables as load_tables;
use cohort::tables::{ClinicalEvent, EhrTables, Patient, Registration};
use proptest::prelude::*;

fn date() -> impl Strategy<Value = NaiveDate> {
    (-20_000i64..30_000)
        .prop_map(|d| NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Duration::days(d))
}

/// Non-empty text (an empty text field reads back as null, by the contract), with the
/// characters CSV must quote.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,\"'\n]{1,12}"
}

fn tables() -> impl Strategy<Value = EhrTables> {
    let patient = (any::<i64>(), date(), text(), proptest::option::of(date())).prop_map(
        |(patient_id, dob, sex, date_of_death)| Patient {
            patient_id,
            date_of_birth: dob,
            sex,
            date_of_death,
        },
    );
    let registration = (
        any::<i64>(),
        date(),
        proptest::option::of(date()),
        any::<i64>(),
        proptest::option::of(text()),
        proptest::option::of(text()),
    )
        .prop_map(
            |(patient_id, start_date, end_date, practice, region, stp)| Registration {
                patient_id,
                start_date,
                end_date,
                practice_pseudo_id: practice,
                practice_nuts1_region_name: region,
                practice_stp: stp,
            },
        );
    let event = (
        any::<i64>(),
        date(),
        proptest::option::of(text()),
        proptest::option::of(text()),
        proptest::option::of(prop_oneof![
            any::<f64>().prop_filter("finite", |x| x.is_finite()),
            Just(1e-5),
            Just(0.1),
            Just(-0.0)
        ]),
    )
        .prop_map(|(patient_id, date, ctv3, snomed, value)| ClinicalEvent {
            patient_id,
            date,
            ctv3_code: ctv3,
            snomedct_code: snomed,
            numeric_value: value,
        });
    (
        proptest::collection::vec(patient, 0..8),
        proptest::collection::vec(registration, 0..8),
        proptest::collection::vec(event, 0..8),
    )
        .prop_map(
            |(patients, practice_registrations, clinical_events)| EhrTables {
                patients,
                practice_registrations,
                clinical_events,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn written_tables_load_back_unchanged(t in tables(), fmt in 0usize..4) {
        let format = [OutputFormat::Csv, OutputFormat::CsvGz, OutputFormat::Parquet, OutputFormat::Arrow][fmt];
        let dir = tempfile::tempdir().unwrap();
        let frames = t.to_frames().unwrap();
        for (name, df) in [
            ("patients", &frames.patients),
            ("practice_registrations", &frames.practice_registrations),
            ("clinical_events", &frames.clinical_events),
        ] {
            write_frame(df, &dir.path().join(format!("{name}.{format}")), format).unwrap();
        }
        let back = EhrTables::from_frames(&load_tables(dir.path()).unwrap()).unwrap();
        prop_assert_eq!(back, t);
    }
}
