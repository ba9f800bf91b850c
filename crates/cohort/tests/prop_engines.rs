//! Property tests: on random small tables and random index dates, the polars engine (one pass
//! over all dates) and the reference interpreter (date by date) give identical frames, for
//! every function of the spec and for random expressions.

use std::sync::LazyLock;

use crate::spec_support::*;
use chrono::{Duration, NaiveDate};
use cohort::expr::{ArithOp, CmpOp, Expr};
use cohort::lang::CompiledStudy;
use cohort::tables::{ClinicalEvent, EhrTables, Patient, Registration};
use proptest::prelude::*;

const CASES: u32 = 48;

fn day(offset: i64) -> NaiveDate {
    ymd("2018-01-01") + Duration::days(offset)
}

fn arb_patient() -> impl Strategy<Value = Patient> {
    (
        1i64..10,
        1930i32..2022,
        1u32..=12,
        prop::sample::select(vec!["M", "F", "I", "U", ""]),
        prop::option::of(0i64..1500),
    )
        .prop_map(|(id, y, m, sex, death)| Patient {
            patient_id: id,
            date_of_birth: NaiveDate::from_ymd_opt(y, m, 1).unwrap(),
            sex: sex.to_string(),
            date_of_death: death.map(day),
        })
}

fn arb_registration() -> impl Strategy<Value = Registration> {
    (
        1i64..10,
        0i64..1200,
        prop::option::of(0i64..700),
        1i64..4,
        prop::option::of(prop::sample::select(vec![
            "London",
            "North East",
            "South West",
        ])),
        prop::option::of(prop::sample::select(vec!["E1", "E2"])),
    )
        .prop_map(|(id, start, len, practice, region, stp)| Registration {
            patient_id: id,
            start_date: day(start),
            end_date: len.map(|l| day(start + l)),
            practice_pseudo_id: practice,
            practice_nuts1_region_name: region.map(str::to_string),
            practice_stp: stp.map(str::to_string),
        })
}

fn arb_event() -> impl Strategy<Value = ClinicalEvent> {
    (
        1i64..10,
        0i64..1500,
        prop::option::of(prop::sample::select(vec!["Abc12", "abc12", "Xyz99", "Q1"])),
        prop::option::of(prop::sample::select(vec!["123456", "Abc12"])),
        prop::option::of(prop::sample::select(vec![-1.5, 0.0, 2.0, 7.25])),
    )
        .prop_map(|(id, d, ctv3, snomed, value)| ClinicalEvent {
            patient_id: id,
            date: day(d),
            ctv3_code: ctv3.map(str::to_string),
            snomedct_code: snomed.map(str::to_string),
            numeric_value: value,
        })
}

fn arb_tables() -> impl Strategy<Value = EhrTables> {
    (
        prop::collection::vec(arb_patient(), 0..8),
        prop::collection::vec(arb_registration(), 0..12),
        prop::collection::vec(arb_event(), 0..24),
    )
        .prop_map(|(mut patients, practice_registrations, clinical_events)| {
            // patient_id is unique in `patients`
            patients.sort_by_key(|p| p.patient_id);
            patients.dedup_by_key(|p| p.patient_id);
            EhrTables {
                patients,
                practice_registrations,
                clinical_events,
            }
        })
}

/// 1 to 4 index dates (days 1-28 so `+ 1 month` always exists).
fn arb_dates() -> impl Strategy<Value = Vec<NaiveDate>> {
    prop::collection::vec(
        (
            2018i32..2022,
            1u32..=12,
            prop::sample::select(vec![1u32, 1, 15, 28]),
        ),
        1..5,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap())
            .collect()
    })
}

const VARIABLES: &str = "
  registered:
    registered_as_of: index_date - 6 months
  one_practice:
    registered_with_one_practice_between: {start_date: index_date - 1 year, end_date: index_date}
  history:
    with_complete_history_between: {start_date: first_day_of_year(index_date) - 1 year, end_date: index_date}
  region:
    registered_practice_as_of: {date: index_date, returning: nuts1_region_name}
  practice:
    registered_practice_as_of: {date: index_date, returning: pseudo_id}
  stp:
    registered_practice_as_of: {date: last_day_of_month(index_date), returning: stp_code}
  age:
    age_as_of: index_date
  sex:
    sex: {}
  dob:
    date_of_birth: {date_format: YYYY-MM-DD}
  died:
    with_death_recorded_in_primary_care: {on_or_before: index_date}
  died_date:
    with_death_recorded_in_primary_care: {between: [index_date - 1 year, index_date + 1 month], returning: date_of_death, date_format: YYYY-MM}
  flag:
    with_these_clinical_events: {codelist: ctv3, between: [index_date, index_date + 1 month]}
  n:
    with_these_clinical_events: {codelist: ctv3, on_or_before: index_date, returning: number_of_matches_in_period}
  snomed_n:
    with_these_clinical_events: {codelist: snomed, returning: number_of_matches_in_period}
  last_date:
    with_these_clinical_events: {codelist: ctv3, on_or_after: index_date - 3 months, returning: date, date_format: YYYY-MM-DD}
  first_code:
    with_these_clinical_events: {codelist: ctv3, returning: code, find_first_match_in_period: true}
  last_code:
    with_these_clinical_events: {codelist: ctv3, between: [first_day_of_nhs_financial_year(index_date), last_day_of_nhs_financial_year(index_date)], returning: code}
  cat:
    with_these_clinical_events: {codelist: ctv3, on_or_before: index_date, returning: category}
  value:
    with_these_clinical_events: {codelist: ctv3, returning: numeric_value}
  first_value:
    with_these_clinical_events: {codelist: ctv3, on_or_before: index_date, returning: numeric_value, find_first_match_in_period: true}
  band:
    categorised_as:
      \"0\": DEFAULT
      \"0-19\": age >= 0 AND age < 20
      \"20-59\": age >= 20 AND age < 60
      \"60+\": age >= 60
  group:
    categorised_as:
      0: DEFAULT
      1: flag AND sex = 'F'
      2: n > 1 OR value < 0
";

static REGISTERED: LazyLock<CompiledStudy> =
    LazyLock::new(|| study_with("registered_as_of: index_date", VARIABLES));

static SATISFYING: LazyLock<CompiledStudy> = LazyLock::new(|| {
    study_with(
        "satisfying: {expression: 'alive OR n > 0', variables: {alive: {with_death_recorded_in_primary_care: {on_or_after: index_date}}}}",
        VARIABLES,
    )
});

/// Keeps only the output column `which` (everything it uses is still computed).
fn only(study: &CompiledStudy, which: usize) -> CompiledStudy {
    let mut s = study.clone();
    s.dataset.columns = vec![s.dataset.columns[which].clone()];
    s.columns = vec![s.columns[which].clone()];
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn engines_agree_on_every_function(tables in arb_tables(), dates in arb_dates()) {
        both_dates(&REGISTERED, &tables, &dates);
    }

    #[test]
    fn engines_agree_with_an_expression_population(tables in arb_tables(), dates in arb_dates()) {
        both_dates(&SATISFYING, &tables, &dates);
    }

    #[test]
    fn engines_agree_function_by_function(
        tables in arb_tables(),
        dates in arb_dates(),
        which in 0usize..22,
    ) {
        both_dates(&only(&REGISTERED, which), &tables, &dates);
    }

    #[test]
    fn engines_agree_on_random_expressions(
        tables in arb_tables(),
        dates in arb_dates(),
        expr in arb_condition(),
    ) {
        let text = format!("{VARIABLES}  random:\n    satisfying: |\n      {expr}\n");
        let full = study_with("registered_as_of: index_date", &text);
        let s = only(&full, full.columns.len() - 1);
        let frames = both_dates(&s, &tables, &dates);
        prop_assert_eq!(frames.len(), { let mut d = dates.clone(); d.sort(); d.dedup(); d.len() });
    }
}

fn arb_number() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        prop::sample::select(vec!["age", "n", "practice", "snomed_n", "group"])
            .prop_map(|n| Expr::Var(n.to_string())),
        prop::sample::select(vec!["value", "first_value"]).prop_map(|n| Expr::Var(n.to_string())),
        prop::sample::select(vec!["flag", "died", "registered"])
            .prop_map(|n| Expr::Var(n.to_string())),
        (-5i64..100).prop_map(Expr::Int),
        prop::sample::select(vec![0.5, -2.25, 60.0]).prop_map(Expr::Float),
    ];
    leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                inner.clone(),
                prop::sample::select(vec![ArithOp::Add, ArithOp::Sub, ArithOp::Mul])
            )
                .prop_map(|(a, b, op)| Expr::Arith(op, Box::new(a), Box::new(b))),
            inner.prop_map(|a| Expr::Neg(Box::new(a))),
        ]
    })
}

fn arb_string() -> impl Strategy<Value = Expr> {
    prop_oneof![
        prop::sample::select(vec![
            "sex",
            "region",
            "band",
            "dob",
            "died_date",
            "last_code",
            "cat"
        ])
        .prop_map(|n| Expr::Var(n.to_string())),
        prop::sample::select(vec!["", "F", "London", "60+", "2019"])
            .prop_map(|s| Expr::Str(s.to_string())),
    ]
}

fn arb_cmp() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(vec![
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
    ])
}

fn arb_condition() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (arb_number(), arb_number(), arb_cmp()).prop_map(|(a, b, op)| Expr::Cmp(
            op,
            Box::new(a),
            Box::new(b)
        )),
        (arb_string(), arb_string(), arb_cmp()).prop_map(|(a, b, op)| Expr::Cmp(
            op,
            Box::new(a),
            Box::new(b)
        )),
        arb_number(),
        arb_string(),
    ];
    leaf.prop_recursive(3, 16, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Expr::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Expr::Not(Box::new(a))),
        ]
    })
}
