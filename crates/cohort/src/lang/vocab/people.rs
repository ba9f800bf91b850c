//! Registrations and demographics (`practice_registrations`, `patients`).

use std::sync::Arc;

use query::model::{Aggregate, Comparison, Function, Position};
use query::{Frame, Series, SeriesRef, Value};

use crate::lang::cx::{Built, Cx};
use crate::lang::model::{ColumnType, DateFormat};
use ehr::contract::names::{PATIENTS, PRACTICE_REGISTRATIONS};

/// `start <= a AND (end IS NULL OR end > b)`: one registration covers `[a, b]`.
pub(crate) fn covers(root: &query::FrameRef, a: &SeriesRef, b: &SeriesRef) -> SeriesRef {
    let start = Series::column(root, "start_date");
    let end = Series::column(root, "end_date");
    Series::and(
        &Series::compare(Comparison::Le, &start, a),
        &Series::or(
            &Series::is_null(&end),
            &Series::compare(Comparison::Gt, &end, b),
        ),
    )
}

pub(super) fn registered_as_of(cx: &mut Cx) -> Option<Built> {
    let d = cx.required_date("date")?;
    let regs = cx.table(PRACTICE_REGISTRATIONS);
    let active = Frame::filter(&regs, &covers(&regs, &d, &d));
    Some(Built::new(
        ColumnType::Bool,
        Series::aggregate(&active, Aggregate::Exists),
    ))
}

pub(super) fn registered_with_one_practice_between(cx: &mut Cx) -> Option<Built> {
    let a = cx.required_date("start_date");
    let b = cx.required_date("end_date");
    let (a, b) = (a?, b?);
    let regs = cx.table(PRACTICE_REGISTRATIONS);
    let one = Frame::filter(&regs, &covers(&regs, &a, &b));
    Some(Built::new(
        ColumnType::Bool,
        Series::aggregate(&one, Aggregate::Exists),
    ))
}

pub(super) fn with_complete_history_between(cx: &mut Cx) -> Option<Built> {
    let a = cx.required_date("start_date");
    let b = cx.required_date("end_date");
    let (a, b) = (a?, b?);
    let regs = cx.table(PRACTICE_REGISTRATIONS);
    let covered = Series::aggregate(
        &regs,
        Aggregate::SpanCovered {
            start: Series::column(&regs, "start_date"),
            end: Series::column(&regs, "end_date"),
            from: a,
            to: b,
        },
    );
    Some(Built::new(ColumnType::Bool, covered))
}

pub(super) fn with_complete_gp_consultation_history_between(cx: &mut Cx) -> Option<Built> {
    let a = cx.required_date("start_date");
    let b = cx.required_date("end_date");
    let (a, b) = (a?, b?);
    let regs = cx.table(PRACTICE_REGISTRATIONS);
    let go_live = Series::column(&regs, "practice_systmone_go_live_date");
    let cond = Series::and(
        &covers(&regs, &a, &b),
        &Series::compare(Comparison::Le, &go_live, &a),
    );
    Some(Built::new(
        ColumnType::Bool,
        Series::aggregate(&Frame::filter(&regs, &cond), Aggregate::Exists),
    ))
}

/// The registration active on `d` with the latest start, then the latest end (null =
/// latest), then the lowest practice id.
pub(crate) fn practice_on(regs: &query::FrameRef, d: &SeriesRef, then_by: &str) -> query::FrameRef {
    let far = Series::value(Value::Date(far_future()));
    let keys = vec![
        Series::column(regs, "start_date"),
        Series::coalesce(&Series::column(regs, "end_date"), &far),
        Series::function(Function::Negate(Series::column(regs, "practice_pseudo_id"))),
        Series::column(regs, then_by),
    ];
    let active = Frame::filter(regs, &covers(regs, d, d));
    Frame::pick(&active, keys, Position::Last)
}

pub(super) fn registered_practice_as_of(cx: &mut Cx) -> Option<Built> {
    let d = cx.required_date("date");
    let returning = cx.choice(
        "returning",
        &[
            "nuts1_region_name",
            "nhse_region_name",
            "pseudo_id",
            "stp_code",
            "msoa",
            "msoa_code",
        ],
        true,
    );
    let (d, returning) = (d?, returning?);
    let (column, ty) = match returning {
        "nuts1_region_name" | "nhse_region_name" => ("practice_nuts1_region_name", ColumnType::Str),
        "pseudo_id" => ("practice_pseudo_id", ColumnType::Int),
        "stp_code" => ("practice_stp", ColumnType::Str),
        _ => ("practice_msoa_code", ColumnType::Str),
    };
    let regs = cx.table(PRACTICE_REGISTRATIONS);
    let chosen = practice_on(&regs, &d, column);
    Some(Built::new(ty, Series::column(&chosen, column)))
}

pub(super) fn date_deregistered(cx: &mut Cx) -> Option<Built> {
    let w = cx.window();
    let format = cx.date_format(DateFormat::Year);
    let (w, format) = (w?, format?);
    let regs = cx.table(PRACTICE_REGISTRATIONS);
    let end = Series::column(&regs, "end_date");
    let open = Series::aggregate(
        &Frame::filter(&regs, &Series::is_null(&end)),
        Aggregate::Exists,
    );
    let last = Series::aggregate(&regs, Aggregate::Max(Arc::clone(&end)));
    let x = Series::function(Function::Case {
        cases: vec![(Series::not(&open), last)],
        default: None,
    });
    let value = if w.is_all() {
        x
    } else {
        Series::function(Function::Case {
            cases: vec![(w.contains(&x), Arc::clone(&x))],
            default: None,
        })
    };
    let mut b = Built::date(value, format);
    b.no_date_of = Some("it is already a date".into());
    Some(b)
}

pub(super) fn age_as_of(cx: &mut Cx) -> Option<Built> {
    let d = cx.required_date("date")?;
    let patients = cx.table(PATIENTS);
    let dob = Series::column(&patients, "date_of_birth");
    Some(Built::new(
        ColumnType::Int,
        Series::function(Function::YearsBetween(dob, d)),
    ))
}

pub(super) fn sex(cx: &mut Cx) -> Option<Built> {
    let patients = cx.table(PATIENTS);
    Some(Built::new(
        ColumnType::Str,
        Series::column(&patients, "sex"),
    ))
}

pub(super) fn date_of_birth(cx: &mut Cx) -> Option<Built> {
    let format = cx.date_format(DateFormat::YearMonth)?;
    let patients = cx.table(PATIENTS);
    Some(Built::date(
        Series::column(&patients, "date_of_birth"),
        format,
    ))
}

pub(super) fn all(cx: &mut Cx) -> Option<Built> {
    let patients = cx.table(PATIENTS);
    Some(Built::new(
        ColumnType::Bool,
        Series::aggregate(&patients, Aggregate::Exists),
    ))
}

/// 9999-12-31: the sort key of an open end.
pub(crate) fn far_future() -> query::Date {
    query::Date::from_ymd(9999, 12, 31).unwrap_or(query::Date(2_932_896))
}
