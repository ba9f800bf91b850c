//! Addresses, care homes and households.

use std::sync::Arc;

use query::model::{Comparison, Function, Position};
use query::{Frame, Series, SeriesRef, Value};

use super::derived::category_case;
use super::people::{covers, far_future};
use crate::expr::ExprType;
use crate::lang::cx::{Built, Cx};
use crate::lang::dates::DateExpr;
use crate::lang::model::ColumnType;
use ehr::contract::names::{ADDRESSES, HOUSEHOLD_MEMBERSHIPS_2020};

/// The address on `d`: latest start, latest end (null = latest), one with a postcode, then
/// the lowest address id.
fn address_on(cx: &mut Cx, d: &SeriesRef) -> query::FrameRef {
    let addresses = cx.table(ADDRESSES);
    let keys = vec![
        Series::column(&addresses, "start_date"),
        Series::coalesce(
            &Series::column(&addresses, "end_date"),
            &Series::value(Value::Date(far_future())),
        ),
        Series::column(&addresses, "has_postcode"),
        Series::function(Function::Negate(Series::column(&addresses, "address_id"))),
    ];
    let active = Frame::filter(&addresses, &covers(&addresses, d, d));
    Frame::pick(&active, keys, Position::Last)
}

pub(super) fn address_as_of(cx: &mut Cx) -> Option<Built> {
    let d = cx.required_date("date");
    let r = cx.choice(
        "returning",
        &[
            "index_of_multiple_deprivation",
            "rural_urban_classification",
            "msoa",
        ],
        true,
    );
    let round = cx.int("round_to_nearest");
    let (d, r, round) = (d?, r?, round?);
    match (r, round) {
        ("index_of_multiple_deprivation", Some(100)) => {}
        ("index_of_multiple_deprivation", Some(other)) => {
            cx.arg_err("round_to_nearest", format!("must be 100, not {other}"));
            return None;
        }
        ("index_of_multiple_deprivation", None) => {
            let pos = cx.func_pos;
            cx.err(
                pos,
                "missing required argument `round_to_nearest` (it must be 100)",
            );
            return None;
        }
        (_, Some(_)) => {
            cx.arg_err(
                "round_to_nearest",
                format!("cannot be used with `returning: {r}`"),
            );
            return None;
        }
        _ => {}
    }
    let address = address_on(cx, &d);
    Some(match r {
        "index_of_multiple_deprivation" => {
            let mut b = Built::new(ColumnType::Int, Series::column(&address, "imd_rounded"));
            b.missing = Value::Int(-1);
            b
        }
        "rural_urban_classification" => Built::new(
            ColumnType::Int,
            Series::column(&address, "rural_urban_classification"),
        ),
        _ => Built::new(ColumnType::Str, Series::column(&address, "msoa_code")),
    })
}

pub(super) fn care_home_status_as_of(cx: &mut Cx) -> Option<Built> {
    let d = cx.required_date("date")?;
    let address = address_on(cx, &d);
    let yes_no = |column: &str| {
        let c = Series::column(&address, column);
        Series::function(Function::Case {
            cases: vec![
                (
                    Series::compare(Comparison::Eq, &c, &Series::value(Value::Bool(true))),
                    Series::value(Value::str("Y")),
                ),
                (
                    Series::compare(Comparison::Eq, &c, &Series::value(Value::Bool(false))),
                    Series::value(Value::str("N")),
                ),
            ],
            default: Some(Series::value(Value::str(""))),
        })
    };
    let potential = Series::function(Function::Case {
        cases: vec![(
            Series::column(&address, "care_home_is_potential_match"),
            Series::value(Value::Int(1)),
        )],
        default: Some(Series::value(Value::Int(0))),
    });
    let names = [
        ("IsPotentialCareHome", potential, ExprType::Int),
        (
            "LocationRequiresNursing",
            yes_no("care_home_requires_nursing"),
            ExprType::Str,
        ),
        (
            "LocationDoesNotRequireNursing",
            yes_no("care_home_does_not_require_nursing"),
            ExprType::Str,
        ),
    ];
    let env = |n: &str| {
        names
            .iter()
            .find(|(k, _, _)| *k == n)
            .map(|(_, s, t)| (Arc::clone(s), *t))
    };
    let known: Vec<String> = names.iter().map(|(k, _, _)| k.to_string()).collect();
    let (ty, value) = match cx.arg_node("categorised_as") {
        None => (
            ColumnType::Bool,
            Series::column(&address, "care_home_is_potential_match"),
        ),
        Some(node) => {
            let (cases, default, int_keys) = cx.categories(node, &env, &known)?;
            category_case(&cases, &default, int_keys)
        }
    };
    // A patient with no address on the date gets the missing value, not the DEFAULT.
    let has_address = Series::not(&Series::is_null(&Series::column(&address, "address_id")));
    let value = Series::function(Function::Case {
        cases: vec![(has_address, value)],
        default: None,
    });
    Some(Built::new(ty, value))
}

/// The date households are known on.
const HOUSEHOLD_DATE: (i32, u32, u32) = (2020, 2, 1);

pub(super) fn household_as_of(cx: &mut Cx) -> Option<Built> {
    let r = cx.choice(
        "returning",
        &[
            "pseudo_id",
            "household_size",
            "is_prison",
            "has_members_in_other_ehr_systems",
            "percentage_of_members_with_data_in_this_backend",
            "msoa",
        ],
        true,
    );
    let Some(node) = cx.arg_node("reference_date") else {
        let pos = cx.func_pos;
        cx.err(pos, "missing required argument `reference_date`");
        return None;
    };
    let r = r?;
    let want =
        chrono::NaiveDate::from_ymd_opt(HOUSEHOLD_DATE.0, HOUSEHOLD_DATE.1, HOUSEHOLD_DATE.2)?;
    match node.scalar_text().map(DateExpr::parse) {
        Some(Ok(e)) if e.variable().is_none() => {
            cx.shared.required_dates.push((
                e,
                node.pos,
                want,
                "Household data only currently available for 2020-02-01",
            ));
        }
        Some(Ok(_)) => {
            cx.arg_err("reference_date", "must not depend on a variable: household data only currently available for 2020-02-01");
            return None;
        }
        Some(Err(msg)) => {
            cx.arg_err("reference_date", msg);
            return None;
        }
        None => {
            cx.arg_err("reference_date", "expected a date");
            return None;
        }
    }
    let t = cx.table(HOUSEHOLD_MEMBERSHIPS_2020);
    let known = Frame::filter(
        &t,
        &Series::not(&Series::column(&t, "no_fixed_abode_or_unknown")),
    );
    let (column, ty) = match r {
        "pseudo_id" => ("household_pseudo_id", ColumnType::Int),
        "household_size" => ("household_size", ColumnType::Int),
        "is_prison" => ("is_prison", ColumnType::Bool),
        "has_members_in_other_ehr_systems" => {
            ("has_members_in_other_ehr_systems", ColumnType::Bool)
        }
        "percentage_of_members_with_data_in_this_backend" => (
            "percentage_of_members_with_data_in_this_backend",
            ColumnType::Int,
        ),
        _ => ("msoa_code", ColumnType::Str),
    };
    Some(Built::new(ty, Series::column(&known, column)))
}
