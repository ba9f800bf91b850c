//! Deaths: ONS death registrations and the primary-care date of death.

use std::sync::Arc;

use query::model::{Aggregate, Function, MatchKind, MatchRule};
use query::{Frame, Series};

use crate::lang::codelists::CodeSystem;
use crate::lang::cx::{Built, Cx};
use crate::lang::model::{ColumnType, DateFormat};
use ehr::contract::names::{ONS_DEATHS, PATIENTS};

/// Each returned value is the least of its own column over the candidate rows.
fn death_value(cx: &mut Cx, candidates: &query::FrameRef, r: &str, format: DateFormat) -> Built {
    let deaths = cx.table(ONS_DEATHS);
    let min = |c: &str| Series::aggregate(candidates, Aggregate::Min(Series::column(&deaths, c)));
    let date = min("date");
    let mut b = match r {
        "binary_flag" => Built::new(
            ColumnType::Bool,
            Series::aggregate(candidates, Aggregate::Exists),
        ),
        "date_of_death" => Built::date(Arc::clone(&date), format),
        "underlying_cause_of_death" => {
            Built::new(ColumnType::Str, min("underlying_cause_of_death"))
        }
        _ => Built::new(ColumnType::Str, min("place")),
    };
    b.format = Some(format);
    b.no_date_of = Some("deaths are not a source of `date_of`".into());
    b
}

const RETURNING: [&str; 4] = [
    "binary_flag",
    "date_of_death",
    "underlying_cause_of_death",
    "place_of_death",
];

pub(super) fn died_from_any_cause(cx: &mut Cx) -> Option<Built> {
    let w = cx.window();
    let r = cx.choice("returning", &RETURNING, false);
    let format = cx.date_format(DateFormat::Year);
    let (w, r, format) = (w?, r?, format?);
    let deaths = cx.table(ONS_DEATHS);
    let candidates = w.filter(&deaths, &deaths, "date");
    Some(death_value(cx, &candidates, r, format))
}

pub(super) fn with_these_codes_on_death_certificate(cx: &mut Cx) -> Option<Built> {
    let codelist = cx.required_codelist("codelist", &[CodeSystem::Icd10]);
    let w = cx.window();
    let underlying_only = cx.bool("match_only_underlying_cause", false);
    let r = cx.choice("returning", &RETURNING, false);
    let format = cx.date_format(DateFormat::Year);
    let (codelist, w, underlying_only, r, format) = (codelist?, w?, underlying_only?, r?, format?);
    let deaths = cx.table(ONS_DEATHS);
    let rule = MatchRule {
        kind: MatchKind::Exact,
        ascii_case_insensitive: true,
    };
    let cl = codelist.query();
    let matches = |column: String| {
        Series::function(Function::InCodelist {
            code: Series::column(&deaths, &column),
            codelist: Arc::clone(&cl),
            rule,
        })
    };
    let mut any = vec![matches("underlying_cause_of_death".into())];
    if !underlying_only {
        any.extend((1..=15).map(|i| matches(format!("cause_of_death_{i:02}"))));
    }
    let coded = Frame::filter(&deaths, &Series::any_of(&any));
    let candidates = w.filter(&coded, &deaths, "date");
    Some(death_value(cx, &candidates, r, format))
}

pub(super) fn with_death_recorded_in_primary_care(cx: &mut Cx) -> Option<Built> {
    let w = cx.window();
    let r = cx.choice("returning", &["binary_flag", "date_of_death"], false);
    let format = cx.date_format(DateFormat::Year);
    let (w, r, format) = (w?, r?, format?);
    let patients = cx.table(PATIENTS);
    let dod = Series::column(&patients, "date_of_death");
    let in_window = Series::function(Function::Case {
        cases: vec![(w.contains(&dod), Arc::clone(&dod))],
        default: None,
    });
    let mut b = match r {
        "binary_flag" => Built::new(ColumnType::Bool, Series::not(&Series::is_null(&in_window))),
        _ => Built::date(in_window, format),
    };
    b.format = Some(format);
    b.no_date_of = Some("deaths are not a source of `date_of`".into());
    Some(b)
}

pub(super) fn with_death_recorded_in_cpns(_cx: &mut Cx) -> Option<Built> {
    None
}
