//! Edge cases of `spec/study-definition.md`, pinned on BOTH engines (the reference
//! interpreter and the polars engine must agree exactly on every case).

use crate::spec_support::*;
use cohort::tables::EhrTables;
use cohort::{engine, interpret};

fn registered() -> &'static str {
    "registered_as_of: index_date"
}

#[test]
fn registration_starting_on_the_index_date_counts_and_ending_on_it_does_not() {
    let s = study_with(registered(), "  sex:\n    sex: {}\n");
    let t = EhrTables {
        patients: vec![
            patient(1, "1980-01-01", "F"),
            patient(2, "1980-01-01", "M"),
            patient(3, "1980-01-01", "M"),
        ],
        practice_registrations: vec![
            reg(1, "2020-01-01", None, 1, Some("London")),
            reg(2, "2010-01-01", Some("2020-01-01"), 1, Some("London")),
            reg(3, "2010-01-01", Some("2020-01-02"), 1, Some("London")),
        ],
        clinical_events: vec![],
    };
    assert_eq!(rows(&both(&s, &t, ymd("2020-01-01"))), ["1|F", "3|M"]);
    assert_eq!(rows(&both(&s, &t, ymd("2019-12-31"))), ["2|M", "3|M"]);
    assert_eq!(rows(&both(&s, &t, ymd("2020-01-02"))), ["1|F"]);
}

#[test]
fn patients_without_registration_are_not_in_the_cohort_and_missing_patients_rows_default() {
    let s = study_with(
        registered(),
        "  sex:\n    sex: {}\n  age:\n    age_as_of: index_date\n  dob:\n    date_of_birth: {}\n",
    );
    let t = EhrTables {
        // patient 1 has no registration; patient 2 has no `patients` row
        patients: vec![patient(1, "1980-01-01", "F")],
        practice_registrations: vec![reg(2, "2010-01-01", None, 1, None)],
        clinical_events: vec![event(3, "2020-01-01", Some("Abc12"), None, None)],
    };
    assert_eq!(rows(&both(&s, &t, ymd("2020-01-01"))), ["2||0|"]);
}

#[test]
fn practice_of_overlapping_registrations_latest_start_then_latest_end_then_lowest_id() {
    let s = study_with(
        registered(),
        "  region:\n    registered_practice_as_of: {date: index_date, returning: nuts1_region_name}\n  practice:\n    registered_practice_as_of: {date: index_date, returning: pseudo_id}\n  stp:\n    registered_practice_as_of: {date: index_date, returning: stp_code}\n",
    );
    let t = EhrTables {
        patients: vec![],
        practice_registrations: vec![
            // 1: the later start wins
            reg(1, "2015-01-01", None, 1, Some("London")),
            reg(1, "2018-01-01", Some("2021-01-01"), 2, Some("North East")),
            // 2: same start: the open registration (null end = latest) wins
            reg(2, "2018-01-01", Some("2021-01-01"), 3, Some("London")),
            reg(2, "2018-01-01", None, 4, Some("South West")),
            // 3: same start and end: the lowest practice id wins
            reg(3, "2018-01-01", Some("2021-01-01"), 9, Some("London")),
            reg(
                3,
                "2018-01-01",
                Some("2021-01-01"),
                5,
                Some("East Midlands"),
            ),
            // 4: the later start has ended; the earlier is still active
            reg(4, "2010-01-01", None, 6, Some("West Midlands")),
            reg(4, "2019-01-01", Some("2019-06-01"), 7, Some("London")),
            // 5: null region -> ""
            reg(5, "2010-01-01", None, 8, None),
        ],
        clinical_events: vec![],
    };
    assert_eq!(
        rows(&both(&s, &t, ymd("2020-01-01"))),
        [
            "1|North East|2|E54000002",
            "2|South West|4|E54000004",
            "3|East Midlands|5|E54000005",
            "4|West Midlands|6|E54000006",
            "5||8|E54000008",
        ]
    );
    // before patient 1's second registration started: the first one
    assert_eq!(
        rows(&both(&s, &t, ymd("2017-12-31")))[0],
        "1|London|1|E54000001"
    );
}

#[test]
fn events_on_both_bounds_of_a_window_count_and_codes_match_exactly() {
    let s = study_with(
        registered(),
        "  flag:\n    with_these_clinical_events: {codelist: ctv3, between: [index_date, index_date + 1 month], returning: binary_flag}\n  n:\n    with_these_clinical_events: {codelist: ctv3, between: [index_date, index_date + 1 month], returning: number_of_matches_in_period}\n",
    );
    let t = EhrTables {
        patients: vec![],
        practice_registrations: (1..=6)
            .map(|i| reg(i, "2000-01-01", None, 1, None))
            .collect(),
        clinical_events: vec![
            event(1, "2020-01-01", Some("Abc12"), None, None), // lower bound
            event(1, "2020-02-01", Some("Xyz99"), None, None), // upper bound
            event(2, "2019-12-31", Some("Abc12"), None, None), // day before
            event(2, "2020-02-02", Some("Abc12"), None, None), // day after
            event(3, "2020-01-15", Some("abc12"), None, None), // differs only in case
            event(3, "2020-01-15", Some("ABC12"), None, None),
            event(4, "2020-01-15", None, Some("Abc12"), None), // SNOMED column, not CTV3
            event(5, "2020-01-15", Some(" Abc12"), None, None), // not trimmed in the data
            event(6, "2020-01-10", Some("Abc12"), None, None),
            event(6, "2020-01-10", Some("Abc12"), None, None), // duplicate rows both count
        ],
    };
    assert_eq!(
        rows(&both(&s, &t, ymd("2020-01-01"))),
        ["1|1|2", "2|0|0", "3|0|0", "4|0|0", "5|0|0", "6|1|2"]
    );
    // an event on the 1st of the month counts for both months
    assert_eq!(rows(&both(&s, &t, ymd("2020-02-01")))[0], "1|1|1");
}

#[test]
fn codelist_system_chooses_the_event_column() {
    let s = study_with(
        registered(),
        "  snomed:\n    with_these_clinical_events: {codelist: snomed}\n  ctv3:\n    with_these_clinical_events: {codelist: ctv3}\n",
    );
    let t = EhrTables {
        patients: vec![],
        practice_registrations: (1..=3)
            .map(|i| reg(i, "2000-01-01", None, 1, None))
            .collect(),
        clinical_events: vec![
            event(1, "2020-01-15", Some("123456"), None, None),
            event(2, "2020-01-15", None, Some("123456"), None),
            event(3, "2020-01-15", Some("Abc12"), Some("999"), None),
        ],
    };
    assert_eq!(
        rows(&both(&s, &t, ymd("2020-01-01"))),
        ["1|0|0", "2|1|0", "3|0|1"]
    );
}

#[test]
fn returning_date_code_category_numeric_value_first_and_last() {
    let w = "codelist: ctv3, on_or_before: index_date";
    let s = study_with(
        registered(),
        &format!(
            "  last_date:\n    with_these_clinical_events: {{{w}, returning: date, date_format: YYYY-MM-DD}}\n  first_date:\n    with_these_clinical_events: {{{w}, returning: date, find_first_match_in_period: true}}\n  month:\n    with_these_clinical_events: {{{w}, returning: date, date_format: YYYY-MM}}\n  code:\n    with_these_clinical_events: {{{w}, returning: code}}\n  first_code:\n    with_these_clinical_events: {{{w}, returning: code, find_first_match_in_period: true}}\n  cat:\n    with_these_clinical_events: {{{w}, returning: category}}\n  value:\n    with_these_clinical_events: {{{w}, returning: numeric_value}}\n  first_value:\n    with_these_clinical_events: {{{w}, returning: numeric_value, find_first_match_in_period: true}}\n"
        ),
    );
    let t = EhrTables {
        patients: vec![],
        practice_registrations: (1..=3)
            .map(|i| reg(i, "2000-01-01", None, 1, None))
            .collect(),
        clinical_events: vec![
            event(1, "2018-03-04", Some("Xyz99"), None, Some(1.5)),
            event(1, "2019-06-07", Some("Abc12"), None, Some(2.25)),
            event(1, "2019-06-07", Some("Xyz99"), None, None), // same day: larger code is last
            event(1, "2020-06-07", Some("Abc12"), None, Some(9.0)), // after the window
            event(2, "2019-01-01", Some("Abc12"), None, None), // null value -> 0.0
        ],
    };
    assert_eq!(
        rows(&both(&s, &t, ymd("2020-01-01"))),
        [
            "1|2019-06-07|2018|2019-06|Xyz99|Xyz99|x|0.0|1.5",
            "2|2019-01-01|2019|2019-01|Abc12|Abc12|a|0.0|0.0",
            "3|||||||0.0|0.0",
        ]
    );
}

#[test]
fn age_in_completed_years_on_the_birthday_month() {
    let s = study_with(
        registered(),
        "  age:\n    age_as_of: index_date\n  age_next_year:\n    age_as_of: index_date + 1 year\n",
    );
    let t = EhrTables {
        patients: vec![patient(1, "1980-03-01", "F"), patient(2, "2020-03-01", "M")],
        practice_registrations: vec![
            reg(1, "2000-01-01", None, 1, None),
            reg(2, "2000-01-01", None, 1, None),
        ],
        clinical_events: vec![],
    };
    assert_eq!(rows(&both(&s, &t, ymd("2020-03-01"))), ["1|40|41", "2|0|1"]);
    assert_eq!(
        rows(&both(&s, &t, ymd("2020-02-28"))),
        ["1|39|40", "2|-1|0"]
    );
    assert_eq!(rows(&both(&s, &t, ymd("2021-03-31"))), ["1|41|42", "2|1|2"]);
}

#[test]
fn categorised_as_first_match_in_file_order_and_default() {
    let s = study_with(
        registered(),
        "  age:\n    age_as_of: index_date\n  band:\n    categorised_as:\n      \"0\": DEFAULT\n      \"old\": age >= 60\n      \"older\": age >= 80\n      \"young\": age >= 0 AND age < 20\n  flag:\n    categorised_as:\n      0: DEFAULT\n      1: age >= 60 AND sex = 'F'\n      2: age >= 60\n      variables:\n        sex:\n          sex: {}\n",
    );
    let t = EhrTables {
        patients: vec![
            patient(1, "1930-01-01", "F"),
            patient(2, "1950-01-01", "M"),
            patient(3, "2010-01-01", "F"),
            patient(4, "2030-01-01", "F"),
            patient(5, "1990-01-01", "F"),
        ],
        practice_registrations: (1..=5)
            .map(|i| reg(i, "2000-01-01", None, 1, None))
            .collect(),
        clinical_events: vec![],
    };
    let df = both(&s, &t, ymd("2020-01-01"));
    assert_eq!(
        df.get_column_names()
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>(),
        ["patient_id", "age", "band", "flag"],
        "hidden helper `sex` is not an output column"
    );
    assert_eq!(
        df.column("flag").unwrap().dtype(),
        &polars::prelude::DataType::Int64
    );
    // 90 is "old" (first match), not "older"; a negative age and 30 fall to DEFAULT
    assert_eq!(
        rows(&df),
        [
            "1|90|old|1",
            "2|70|old|2",
            "3|10|young|0",
            "4|-10|0|0",
            "5|30|0|0"
        ]
    );
}

#[test]
fn satisfying_population_deaths_and_history() {
    let s = study_with(
        "satisfying: {expression: reg AND NOT dead, variables: {reg: {registered_with_one_practice_between: {start_date: index_date - 1 year, end_date: index_date}}, dead: {died_from_any_cause: {on_or_before: index_date}}}}",
        "  died_date:\n    died_from_any_cause: {returning: date_of_death, date_format: YYYY-MM-DD}\n  died_after:\n    died_from_any_cause: {on_or_after: index_date}\n  history:\n    with_complete_history_between: {start_date: index_date - 1 year, end_date: index_date}\n",
    );
    let mut dead = patient(3, "1950-01-01", "F");
    dead.date_of_death = Some(ymd("2020-01-01"));
    let mut dies_later = patient(4, "1950-01-01", "F");
    dies_later.date_of_death = Some(ymd("2020-06-01"));
    let t = EhrTables {
        patients: vec![
            patient(1, "1950-01-01", "F"),
            patient(2, "1950-01-01", "F"),
            dead,
            dies_later,
        ],
        practice_registrations: vec![
            // 1: one practice for the whole year
            reg(1, "2019-01-01", None, 1, None),
            // 2: two registrations back to back: complete history but not one practice
            reg(2, "2018-01-01", Some("2019-06-01"), 1, None),
            reg(2, "2019-06-01", None, 2, None),
            reg(3, "2000-01-01", None, 1, None),
            reg(4, "2000-01-01", None, 1, None),
            // 5: a gap of one day
            reg(5, "2018-01-01", Some("2019-06-01"), 1, None),
            reg(5, "2019-06-02", None, 2, None),
        ],
        clinical_events: vec![],
    };
    // population: 1 and 4 (2 and 5 changed practice, 3 died on the index date)
    assert_eq!(
        rows(&both(&s, &t, ymd("2020-01-01"))),
        ["1||0|1", "4|2020-06-01|1|1"]
    );
    let s2 = study_with(
        registered(),
        "  history:\n    with_complete_history_between: {start_date: index_date - 1 year, end_date: index_date}\n  one:\n    registered_with_one_practice_between: {start_date: index_date - 1 year, end_date: index_date}\n",
    );
    assert_eq!(
        rows(&both(&s2, &t, ymd("2020-01-01"))),
        ["1|1|1", "2|1|0", "3|1|1", "4|1|1", "5|0|0"]
    );
}

#[test]
fn a_nonexistent_day_is_an_error_naming_the_expression_and_index_date_on_both_engines() {
    let s = study_with(
        registered(),
        "  flag:\n    with_these_clinical_events: {codelist: ctv3, between: [index_date, index_date + 1 month]}\n",
    );
    let t = EhrTables::default();
    let expected = "date expression `index_date + 1 month` with index date 2019-01-31: no such date 31 February 2019";
    let e = interpret::extract(&s, &t, ymd("2019-01-31")).unwrap_err();
    assert_eq!(e.to_string(), expected);
    let e = engine::extract_all(
        &s,
        &t.to_frames().unwrap(),
        &[ymd("2019-01-01"), ymd("2019-01-31")],
    )
    .unwrap_err();
    assert_eq!(e.to_string(), expected);
}

#[test]
fn one_pass_over_many_dates_matches_date_by_date() {
    let s = study_with(
        registered(),
        "  flag:\n    with_these_clinical_events: {codelist: ctv3, between: [index_date, index_date + 1 month]}\n  region:\n    registered_practice_as_of: {date: index_date, returning: nuts1_region_name}\n  age:\n    age_as_of: index_date\n",
    );
    let t = EhrTables {
        patients: vec![patient(1, "1980-05-01", "F"), patient(2, "2001-02-01", "M")],
        practice_registrations: vec![
            reg(1, "2019-03-01", Some("2019-07-15"), 1, Some("London")),
            reg(1, "2019-07-15", None, 2, Some("North East")),
            reg(2, "2018-01-01", Some("2019-05-01"), 3, Some("South West")),
        ],
        clinical_events: vec![
            event(1, "2019-04-01", Some("Abc12"), None, None),
            event(2, "2019-02-10", Some("Xyz99"), None, None),
        ],
    };
    let dates: Vec<_> = (1..=12).map(|m| ymd(&format!("2019-{m:02}-01"))).collect();
    let frames = both_dates(&s, &t, &dates);
    let heights: Vec<usize> = frames
        .iter()
        .map(polars::prelude::DataFrame::height)
        .collect();
    assert_eq!(heights, [1, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1]);
    assert_eq!(rows(&frames[2]), ["1|1|London|38", "2|0|South West|18"]);
    assert_eq!(rows(&frames[7]), ["1|0|North East|39"]);
    // the same in passes of 5 dates
    let mut passes = Vec::new();
    engine::extract_in_passes(&s, &t.to_frames().unwrap(), &dates, 5, &mut |d, df| {
        passes.push((d, df));
        Ok::<(), cohort::interpret::ExtractError>(())
    })
    .unwrap();
    assert_eq!(passes.len(), 12);
    for ((d, df), (expected_date, expected)) in passes.iter().zip(dates.iter().zip(&frames)) {
        assert_eq!(d, expected_date);
        assert!(df.equals(expected), "{d}");
    }
}

#[test]
fn output_dtypes_per_kind() {
    use polars::prelude::DataType;
    let s = study_with(
        registered(),
        "  b:\n    with_these_clinical_events: {codelist: ctv3}\n  i:\n    age_as_of: index_date\n  f:\n    with_these_clinical_events: {codelist: ctv3, returning: numeric_value}\n  s:\n    sex: {}\n  d:\n    date_of_birth: {}\n",
    );
    let t = EhrTables {
        patients: vec![patient(1, "1980-05-01", "F")],
        practice_registrations: vec![reg(1, "2019-03-01", None, 1, None)],
        clinical_events: vec![],
    };
    let df = both(&s, &t, ymd("2020-01-01"));
    let dtypes: Vec<DataType> = df.columns().iter().map(|c| c.dtype().clone()).collect();
    assert_eq!(
        dtypes,
        [
            DataType::Int64,
            DataType::Boolean,
            DataType::Int64,
            DataType::Float64,
            DataType::String,
            DataType::String
        ]
    );
    assert_eq!(rows(&df), ["1|0|39|0.0|F|1980-05"]);
}

#[test]
fn fixed_iso_dates_and_wrapping_functions_in_windows() {
    let s = study_with(
        registered(),
        "  in_2019:\n    with_these_clinical_events: {codelist: ctv3, between: ['2019-01-01', 2019-12-31], returning: number_of_matches_in_period}\n  this_fy:\n    with_these_clinical_events: {codelist: ctv3, between: [first_day_of_nhs_financial_year(index_date), index_date], returning: number_of_matches_in_period}\n  before_month:\n    with_these_clinical_events: {codelist: ctv3, on_or_before: first_day_of_month(index_date) - 1 day, returning: date, date_format: YYYY-MM-DD}\n",
    );
    let t = EhrTables {
        patients: vec![],
        practice_registrations: vec![reg(1, "2000-01-01", None, 1, None)],
        clinical_events: vec![
            event(1, "2018-12-31", Some("Abc12"), None, None),
            event(1, "2019-01-01", Some("Abc12"), None, None),
            event(1, "2019-04-01", Some("Abc12"), None, None),
            event(1, "2019-12-31", Some("Abc12"), None, None),
            event(1, "2020-01-10", Some("Abc12"), None, None),
        ],
    };
    let frames = both_dates(
        &s,
        &t,
        &[ymd("2019-03-31"), ymd("2019-04-01"), ymd("2020-01-15")],
    );
    assert_eq!(rows(&frames[0]), ["1|3|2|2019-01-01"]);
    assert_eq!(rows(&frames[1]), ["1|3|1|2019-01-01"]);
    assert_eq!(rows(&frames[2]), ["1|3|3|2019-12-31"]);
}

#[test]
fn empty_tables_give_empty_frames_with_the_output_schema() {
    let vars = "  n:\n    with_these_clinical_events: {codelist: ctv3, returning: number_of_matches_in_period}\n  band:\n    categorised_as: {a: DEFAULT, b: n > 0}\n  age:\n    age_as_of: index_date\n";
    for population in [registered(), "satisfying: n > 0 OR age > 1"] {
        let s = study_with(population, vars);
        let frames = both_dates(
            &s,
            &EhrTables::default(),
            &[ymd("2020-01-01"), ymd("2020-02-01")],
        );
        assert_eq!(frames.len(), 2);
        assert!(frames.iter().all(|f| f.height() == 0 && f.width() == 4));
    }
}
