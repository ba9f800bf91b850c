//! Primary care records: coded events, medications, measurements, consultations and
//! decision-support values.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use query::model::{Aggregate, Comparison, Function, MatchKind, MatchRule, Position};
use query::{Frame, FrameRef, Series, SeriesRef, Value};

use crate::lang::codelists::{CodeSystem, Codelist};
use crate::lang::cx::{Built, Cx, Window};
use crate::lang::model::{ColumnType, DateFormat};
use ehr::contract::names::{
    APPOINTMENTS, CLINICAL_EVENTS, DECISION_SUPPORT_VALUES, MEDICATIONS, PATIENTS,
};

/// What an events query returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Returning {
    BinaryFlag,
    Date,
    Count,
    Code,
    Category,
    NumericValue,
    Episodes,
}

/// The returning option, with cohortextractor's deprecated `return_*` flags.
fn returning(cx: &mut Cx, options: &[&'static str]) -> Option<(Returning, Option<Position>)> {
    let flags = [
        ("return_binary_flag", "binary_flag", None),
        (
            "return_number_of_matches_in_period",
            "number_of_matches_in_period",
            None,
        ),
        ("return_first_date_in_period", "date", Some(Position::First)),
        ("return_last_date_in_period", "date", Some(Position::Last)),
    ];
    let mut implied: Option<(&str, &'static str, Option<Position>)> = None;
    for (flag, value, find) in flags {
        if cx.spec.takes(flag) && cx.bool(flag, false)? {
            implied = Some((flag, value, find));
        }
    }
    let explicit = cx.arg_node("returning").is_some();
    let chosen = cx.choice("returning", options, false)?;
    let chosen = match implied {
        Some((flag, value, _)) if explicit && chosen != value => {
            cx.arg_err(
                flag,
                format!("contradicts `returning: {chosen}` (it means `returning: {value}`)"),
            );
            return None;
        }
        Some((_, value, _)) => value,
        None => chosen,
    };
    let r = match chosen {
        "binary_flag" => Returning::BinaryFlag,
        "date" | "date_of_match" => Returning::Date,
        "number_of_matches_in_period" => Returning::Count,
        "code" => Returning::Code,
        "category" => Returning::Category,
        "numeric_value" => Returning::NumericValue,
        _ => Returning::Episodes,
    };
    Some((r, implied.and_then(|(_, _, f)| f)))
}

/// `episode_defined_as: "series of events each <= N days apart"`.
fn episode_gap(cx: &mut Cx, r: Returning) -> Option<i64> {
    let text = cx.str("episode_defined_as")?;
    match (text, r) {
        (None, _) => Some(0),
        (Some(_), x) if x != Returning::Episodes => {
            cx.arg_err(
                "episode_defined_as",
                "needs `returning: number_of_episodes`",
            );
            None
        }
        (Some(t), _) => {
            let n = t
                .strip_prefix("series of events each <= ")
                .and_then(|r| r.strip_suffix(" days apart"))
                .and_then(|n| n.parse::<i64>().ok());
            match n {
                Some(n) => Some(n),
                None => {
                    cx.arg_err(
                        "episode_defined_as",
                        format!("`{t}` must match ^series of events each <= (\\d+) days apart$"),
                    );
                    None
                }
            }
        }
    }
}

/// An events query: candidate rows of a table, and how a row is chosen.
struct Events {
    root: FrameRef,
    candidates: FrameRef,
    code: SeriesRef,
    date: SeriesRef,
    keys: Vec<SeriesRef>,
}

/// Builds an events variable from its candidates.
#[allow(clippy::too_many_arguments)]
fn events_variable(
    cx: &mut Cx,
    ev: Events,
    case_insensitive: bool,
    r: Returning,
    find: Position,
    format: DateFormat,
    codelist: &Codelist,
    gap: i64,
) -> Option<Built> {
    let first = find == Position::First;
    let agg_date = Series::aggregate(
        &ev.candidates,
        if first {
            Aggregate::Min(Arc::clone(&ev.date))
        } else {
            Aggregate::Max(Arc::clone(&ev.date))
        },
    );
    let picked = Frame::pick(&ev.candidates, ev.keys.clone(), find);
    let pick_date = Series::column(&picked, "date");
    let code_column = match &*ev.code {
        query::Series::Column { column, .. } => column.clone(),
        _ => String::new(),
    };
    let built = match r {
        Returning::BinaryFlag => Built::new(
            ColumnType::Bool,
            Series::aggregate(&ev.candidates, Aggregate::Exists),
        )
        .with_match_date(agg_date),
        Returning::Count => Built::new(
            ColumnType::Int,
            Series::aggregate(&ev.candidates, Aggregate::Count),
        )
        .with_match_date(agg_date),
        Returning::Date => Built::date(Arc::clone(&agg_date), format).with_match_date(agg_date),
        Returning::Code => Built::new(ColumnType::Str, Series::column(&picked, &code_column))
            .with_match_date(pick_date),
        Returning::Category => {
            if !codelist.has_categories {
                let msg = format!(
                    "`returning: category` needs a codelist with a `category_column`, and `{}` has none",
                    codelist.name
                );
                cx.err(cx.func_pos, msg);
                return None;
            }
            let code = Series::column(&picked, &code_column);
            let category = if case_insensitive {
                // The category of a code matched ignoring case: look up the upper-cased code.
                let mut upper = (*codelist.query()).clone();
                upper.codes = upper
                    .codes
                    .into_iter()
                    .map(|(k, v)| (k.to_ascii_uppercase(), v))
                    .collect();
                Series::function(Function::CodelistCategory {
                    code: Series::function(Function::Str(query::model::StrFunction::Upper, code)),
                    codelist: Arc::new(upper),
                })
            } else {
                Series::function(Function::CodelistCategory {
                    code,
                    codelist: codelist.query(),
                })
            };
            Built::new(ColumnType::Str, category).with_match_date(pick_date)
        }
        Returning::NumericValue => {
            let mut b = Built::new(ColumnType::Float, Series::column(&picked, "numeric_value"))
                .with_match_date(pick_date);
            b.row = Some((Arc::clone(&ev.candidates), ev.keys.clone(), find));
            b
        }
        Returning::Episodes => {
            let mut b = Built::new(
                ColumnType::Int,
                Series::aggregate(
                    &ev.candidates,
                    Aggregate::CountEpisodes {
                        date: Arc::clone(&ev.date),
                        max_gap_days: gap,
                    },
                ),
            );
            b.no_date_of = Some("episodes have no single date".into());
            b
        }
    };
    let mut built = built;
    if r != Returning::Date && built.format.is_none() {
        built.format = Some(format);
    }
    if built.ty != ColumnType::Date {
        // The format is that of the `<name>_date` column.
        built.format = Some(format);
        if matches!(
            built.ty,
            ColumnType::Bool | ColumnType::Int | ColumnType::Float | ColumnType::Str
        ) {
            // Only dates are written with a format; keep it for the match date.
        }
    }
    let _ = &ev.root;
    Some(built)
}

/// Validation shared by events and medications: episodes rule out `find_*` and
/// `include_date_of_match`.
fn check_episodes(cx: &mut Cx, r: Returning) -> Option<()> {
    if r == Returning::Episodes {
        for arg in [
            "find_first_match_in_period",
            "find_last_match_in_period",
            "include_date_of_match",
        ] {
            if cx.arg_node(arg).and_then(yaml::Node::as_bool) == Some(true) {
                cx.arg_err(arg, "cannot be used with `returning: number_of_episodes`");
                return None;
            }
        }
    }
    Some(())
}

/// The clinical events dated on a day in the window with a code of `codelist` (the column
/// of its system): the days to ignore.
fn ignore_days(events: &FrameRef, window: &Window, codelist: &Codelist) -> FrameRef {
    let column = codelist.system.events_column().unwrap_or("ctv3_code");
    let matching = Frame::filter(
        events,
        &Series::function(Function::InCodelist {
            code: Series::column(events, column),
            codelist: codelist.query(),
            rule: MatchRule::EXACT,
        }),
    );
    window.filter(&matching, events, "date")
}

pub(super) fn with_these_clinical_events(cx: &mut Cx) -> Option<Built> {
    let codelist = cx.required_codelist("codelist", &[CodeSystem::Ctv3, CodeSystem::Snomedct]);
    let window = cx.window();
    let r = returning(
        cx,
        &[
            "binary_flag",
            "date",
            "number_of_matches_in_period",
            "code",
            "category",
            "numeric_value",
            "number_of_episodes",
        ],
    );
    let find = cx.find();
    let format = cx.date_format(DateFormat::Year);
    let ignore_missing = cx.bool("ignore_missing_values", false);
    let ignore = cx.codelist(
        "ignore_days_where_these_codes_occur",
        &[CodeSystem::Ctv3, CodeSystem::Snomedct],
    );
    let _ = cx.bool("include_date_of_match", false);
    let (codelist, window, (r, implied_find), find, format, ignore_missing, ignore) = (
        codelist?,
        window?,
        r?,
        find?,
        format?,
        ignore_missing?,
        ignore?,
    );
    let gap = episode_gap(cx, r)?;
    check_episodes(cx, r)?;
    let find = implied_find.unwrap_or(find);
    let events = cx.table(CLINICAL_EVENTS);
    let column = codelist.system.events_column().unwrap_or("ctv3_code");
    let code = Series::column(&events, column);
    let date = Series::column(&events, "date");
    let mut f = Frame::filter(
        &events,
        &Series::function(Function::InCodelist {
            code: Arc::clone(&code),
            codelist: codelist.query(),
            rule: MatchRule::EXACT,
        }),
    );
    f = window.filter(&f, &events, "date");
    if ignore_missing {
        let v = Series::column(&events, "numeric_value");
        f = Frame::filter(
            &f,
            &Series::and(
                &Series::not(&Series::is_null(&v)),
                &Series::compare(Comparison::Ne, &v, &Series::value(Value::Float(0.0))),
            ),
        );
    }
    if let Some(ignore) = &ignore {
        let days = ignore_days(&events, &window, ignore);
        f = Frame::filter(
            &f,
            &Series::not(&Series::function(Function::ExistsMatching {
                frame: days,
                key: Series::column(&events, "date"),
                value: Arc::clone(&date),
            })),
        );
    }
    // The row chosen: by date, then code, then (when it is the value) the value.
    let mut keys = vec![Arc::clone(&date), Arc::clone(&code)];
    if r == Returning::NumericValue {
        keys.push(Series::column(&events, "numeric_value"));
    }
    let ev = Events {
        root: events,
        candidates: f,
        code,
        date,
        keys,
    };
    events_variable(cx, ev, false, r, find, format, &codelist, gap)
}

/// The codelist expanded through `vmp_mapping`: every code linked to a listed code by an
/// `(id, prev_id)` row, transitively, with the category of the code it was reached from.
fn expand_dmd(cx: &mut Cx, codelist: &Codelist) -> Option<Codelist> {
    let Some(mapping) = cx.shared.runtime.vmp_mapping.clone() else {
        return Some(codelist.clone());
    };
    let mut links: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (id, prev) in &mapping {
        links.entry(id.as_str()).or_default().insert(prev.as_str());
        links.entry(prev.as_str()).or_default().insert(id.as_str());
    }
    let mut codes = codelist.codes.clone();
    let mut queue: Vec<String> = codes.keys().cloned().collect();
    while let Some(code) = queue.pop() {
        let cat = codes.get(&code).cloned().flatten();
        for next in links.get(code.as_str()).into_iter().flatten() {
            match codes.get(*next) {
                None => {
                    codes.insert((*next).to_string(), cat.clone());
                    queue.push((*next).to_string());
                }
                Some(existing) if *existing != cat => {
                    let msg = format!(
                        "codelist `{}`: dm+d code `{next}` is reached through vmp_mapping with two categories (`{}` and `{}`)",
                        codelist.name,
                        existing.as_deref().unwrap_or(""),
                        cat.as_deref().unwrap_or("")
                    );
                    cx.err(cx.func_pos, msg);
                    return None;
                }
                Some(_) => {}
            }
        }
    }
    let mut out = codelist.clone();
    out.codes = codes;
    Some(out)
}

pub(super) fn with_these_medications(cx: &mut Cx) -> Option<Built> {
    let codelist = cx.required_codelist("codelist", &[CodeSystem::Dmd, CodeSystem::Snomedct]);
    let window = cx.window();
    let r = returning(
        cx,
        &[
            "binary_flag",
            "date",
            "number_of_matches_in_period",
            "code",
            "category",
            "number_of_episodes",
        ],
    );
    let find = cx.find();
    let format = cx.date_format(DateFormat::Year);
    let ignore = cx.codelist(
        "ignore_days_where_these_clinical_codes_occur",
        &[CodeSystem::Ctv3, CodeSystem::Snomedct],
    );
    let _ = cx.bool("include_date_of_match", false);
    let (codelist, window, (r, implied_find), find, format, ignore) =
        (codelist?, window?, r?, find?, format?, ignore?);
    let gap = episode_gap(cx, r)?;
    check_episodes(cx, r)?;
    let find = implied_find.unwrap_or(find);
    let codelist = expand_dmd(cx, &codelist)?;
    let meds = cx.table(MEDICATIONS);
    let code = Series::column(&meds, "dmd_code");
    let date = Series::column(&meds, "date");
    let mut f = Frame::filter(
        &meds,
        &Series::function(Function::InCodelist {
            code: Arc::clone(&code),
            codelist: codelist.query(),
            rule: MatchRule {
                kind: MatchKind::Exact,
                ascii_case_insensitive: true,
            },
        }),
    );
    f = window.filter(&f, &meds, "date");
    if let Some(ignore) = &ignore {
        let events = cx.table(CLINICAL_EVENTS);
        let days = ignore_days(&events, &window, ignore);
        f = Frame::filter(
            &f,
            &Series::not(&Series::function(Function::ExistsMatching {
                frame: days,
                key: Series::column(&events, "date"),
                value: Arc::clone(&date),
            })),
        );
    }
    let keys = vec![Arc::clone(&date), Arc::clone(&code)];
    let ev = Events {
        root: meds,
        candidates: f,
        code,
        date,
        keys,
    };
    events_variable(cx, ev, true, r, find, format, &codelist, gap)
}

/// Clinical events with one of `codes` (CTV3), in a window.
fn fixed_codes(events: &FrameRef, codes: &[&str]) -> FrameRef {
    let codelist = Arc::new(query::Codelist {
        name: codes.join("+"),
        codes: codes.iter().map(|c| (c.to_string(), None)).collect(),
    });
    Frame::filter(
        events,
        &Series::function(Function::InCodelist {
            code: Series::column(events, "ctv3_code"),
            codelist,
            rule: MatchRule::EXACT,
        }),
    )
}

pub(super) fn most_recent_bmi(cx: &mut Cx) -> Option<Built> {
    let window = cx.window();
    let min_age = cx.int("minimum_age_at_measurement");
    let format = cx.date_format(DateFormat::Year);
    let _ = cx.bool("include_measurement_date", false);
    let (window, min_age, format) = (window?, min_age?, format?);
    let min_age = min_age.unwrap_or(16);
    let events = cx.table(CLINICAL_EVENTS);
    let patients = cx.table(PATIENTS);
    let date = Series::column(&events, "date");
    let value = Series::column(&events, "numeric_value");
    // year(date) - year(date_of_birth) >= minimum age (SQL DATEDIFF(YEAR, ...)).
    let old_enough = Series::compare(
        Comparison::Ge,
        &Series::function(Function::Arithmetic(
            query::model::Arithmetic::Sub,
            Series::function(Function::DatePart(
                query::model::DatePart::Year,
                Arc::clone(&date),
            )),
            Series::function(Function::DatePart(
                query::model::DatePart::Year,
                Series::column(&patients, "date_of_birth"),
            )),
        )),
        &Series::value(Value::Int(min_age)),
    );
    let keys = vec![
        Arc::clone(&date),
        Series::column(&events, "ctv3_code"),
        Arc::clone(&value),
    ];
    let latest = |f: FrameRef| {
        Frame::pick(
            &Frame::filter(&f, &old_enough),
            keys.clone(),
            Position::Last,
        )
    };
    let weight = latest(window.filter(&fixed_codes(&events, &["X76C7", "22A.."]), &events, "date"));
    let height_window = Window {
        lo: None,
        hi: window.hi.clone(),
    };
    let height =
        latest(height_window.filter(&fixed_codes(&events, &["XM01E", "229.."]), &events, "date"));
    let bmi = latest(window.filter(&fixed_codes(&events, &["22K.."]), &events, "date"));
    let (w, h, b) = (
        Series::column(&weight, "numeric_value"),
        Series::column(&height, "numeric_value"),
        Series::column(&bmi, "numeric_value"),
    );
    let round1 = |x: SeriesRef| {
        Series::function(Function::Round {
            value: x,
            digits: 1,
        })
    };
    let both = Series::and(
        &Series::not(&Series::is_null(&w)),
        &Series::not(&Series::is_null(&h)),
    );
    let computed = Series::and(
        &both,
        &Series::compare(Comparison::Ne, &h, &Series::value(Value::Float(0.0))),
    );
    let w_over_h2 = Series::function(Function::Arithmetic(
        query::model::Arithmetic::Div,
        Arc::clone(&w),
        Series::function(Function::Arithmetic(
            query::model::Arithmetic::Mul,
            Arc::clone(&h),
            Arc::clone(&h),
        )),
    ));
    let value = Series::function(Function::Case {
        cases: vec![(computed, round1(w_over_h2))],
        default: Some(round1(b)),
    });
    let measured = Series::function(Function::Case {
        cases: vec![(both, Series::column(&weight, "date"))],
        default: Some(Series::column(&bmi, "date")),
    });
    let mut built = Built::new(ColumnType::Float, value).with_match_date(measured);
    built.format = Some(format);
    Some(built)
}

fn recorded_value(cx: &mut Cx, kind: &str) -> Option<Built> {
    let codelist = cx.required_codelist("codelist", &[CodeSystem::Ctv3, CodeSystem::Snomedct]);
    let most_recent = cx.bool("on_most_recent_day_of_measurement", false);
    let window = cx.window();
    let format = cx.date_format(DateFormat::Year);
    let include = cx.bool("include_measurement_date", false);
    let (codelist, most_recent, window, format, include) =
        (codelist?, most_recent?, window?, format?, include?);
    if include && !most_recent {
        cx.arg_err(
            "include_measurement_date",
            "Can only include measurement date if on_most_recent_day_of_measurement is True",
        );
        return None;
    }
    let events = cx.table(CLINICAL_EVENTS);
    let column = codelist.system.events_column().unwrap_or("ctv3_code");
    let matching = window.filter(
        &Frame::filter(
            &events,
            &Series::function(Function::InCodelist {
                code: Series::column(&events, column),
                codelist: codelist.query(),
                rule: MatchRule::EXACT,
            }),
        ),
        &events,
        "date",
    );
    let date = Series::column(&events, "date");
    let value = Series::column(&events, "numeric_value");
    let aggregate = |v: SeriesRef| match kind {
        "mean" => Aggregate::Mean(v),
        "min" => Aggregate::Min(v),
        _ => Aggregate::Max(v),
    };
    let mut built = if most_recent {
        let day = Series::aggregate(&matching, Aggregate::Max(Arc::clone(&date)));
        let on_day = Frame::filter(&matching, &Series::compare(Comparison::Eq, &date, &day));
        Built::new(
            ColumnType::Float,
            Series::aggregate(&on_day, aggregate(value)),
        )
        .with_match_date(day)
    } else {
        let mut b = Built::new(
            ColumnType::Float,
            Series::aggregate(&matching, aggregate(value)),
        );
        b.no_date_of = Some(
            "Can only include measurement date if on_most_recent_day_of_measurement is True".into(),
        );
        b
    };
    built.format = Some(format);
    Some(built)
}

pub(super) fn mean_recorded_value(cx: &mut Cx) -> Option<Built> {
    recorded_value(cx, "mean")
}

pub(super) fn min_recorded_value(cx: &mut Cx) -> Option<Built> {
    recorded_value(cx, "min")
}

pub(super) fn max_recorded_value(cx: &mut Cx) -> Option<Built> {
    recorded_value(cx, "max")
}

/// TPP appointment statuses that count as a consultation.
const SEEN_STATUSES: [&str; 6] = [
    "Arrived",
    "Waiting",
    "In Progress",
    "Finished",
    "Patient Walked Out",
    "Visit",
];

pub(super) fn with_gp_consultations(cx: &mut Cx) -> Option<Built> {
    let window = cx.window();
    let find = cx.find();
    let r = cx.choice(
        "returning",
        &["binary_flag", "date", "number_of_matches_in_period"],
        false,
    );
    let format = cx.date_format(DateFormat::Year);
    let (window, find, r, format) = (window?, find?, r?, format?);
    let appts = cx.table(APPOINTMENTS);
    let statuses = Arc::new(query::Codelist {
        name: "seen statuses".into(),
        codes: SEEN_STATUSES
            .iter()
            .map(|s| (s.to_string(), None))
            .collect(),
    });
    let seen = Frame::filter(
        &appts,
        &Series::function(Function::InCodelist {
            code: Series::column(&appts, "status"),
            codelist: statuses,
            rule: MatchRule::EXACT,
        }),
    );
    let candidates = window.filter(&seen, &appts, "seen_date");
    let date = Series::column(&appts, "seen_date");
    let agg_date = Series::aggregate(
        &candidates,
        if find == Position::First {
            Aggregate::Min(date)
        } else {
            Aggregate::Max(date)
        },
    );
    let mut b = match r {
        "binary_flag" => Built::new(
            ColumnType::Bool,
            Series::aggregate(&candidates, Aggregate::Exists),
        ),
        "number_of_matches_in_period" => Built::new(
            ColumnType::Int,
            Series::aggregate(&candidates, Aggregate::Count),
        ),
        _ => Built::date(Arc::clone(&agg_date), format),
    }
    .with_match_date(agg_date);
    b.format = Some(format);
    Some(b)
}

pub(super) fn with_these_decision_support_values(cx: &mut Cx) -> Option<Built> {
    let algorithm = cx.str("algorithm");
    let window = cx.window();
    let find = cx.find();
    let r = cx.choice(
        "returning",
        &[
            "numeric_value",
            "binary_flag",
            "date",
            "number_of_matches_in_period",
        ],
        false,
    );
    let format = cx.date_format(DateFormat::Year);
    let ignore_missing = cx.bool("ignore_missing_values", false);
    let _ = cx.bool("include_date_of_match", false);
    let (algorithm, window, find, r, format, ignore_missing) =
        (algorithm?, window?, find?, r?, format?, ignore_missing?);
    match algorithm.as_deref() {
        Some("electronic_frailty_index") => {}
        None => {
            cx.err(cx.func_pos, "missing required argument `algorithm`");
            return None;
        }
        Some(other) => {
            cx.arg_err(
                "algorithm",
                format!("Unsupported `algorithm` value: `{other}` (supported: electronic_frailty_index)"),
            );
            return None;
        }
    }
    let t = cx.table(DECISION_SUPPORT_VALUES);
    let efi = Series::and(
        &Series::compare(
            Comparison::Eq,
            &Series::column(&t, "algorithm_description"),
            &Series::value(Value::str("UK Electronic Frailty Index (eFI)")),
        ),
        &Series::compare(
            Comparison::Eq,
            &Series::column(&t, "algorithm_version"),
            &Series::value(Value::str("1.0")),
        ),
    );
    let mut f = window.filter(&Frame::filter(&t, &efi), &t, "calculation_date");
    let value = Series::column(&t, "numeric_value");
    if ignore_missing {
        f = Frame::filter(
            &f,
            &Series::and(
                &Series::not(&Series::is_null(&value)),
                &Series::compare(Comparison::Ne, &value, &Series::value(Value::Float(0.0))),
            ),
        );
    }
    let date = Series::column(&t, "calculation_date");
    let picked = Frame::pick(&f, vec![Arc::clone(&date), Arc::clone(&value)], find);
    let agg_date = Series::aggregate(
        &f,
        if find == Position::First {
            Aggregate::Min(Arc::clone(&date))
        } else {
            Aggregate::Max(Arc::clone(&date))
        },
    );
    let mut b = match r {
        "numeric_value" => Built::new(ColumnType::Float, Series::column(&picked, "numeric_value"))
            .with_match_date(Series::column(&picked, "calculation_date")),
        "binary_flag" => Built::new(ColumnType::Bool, Series::aggregate(&f, Aggregate::Exists))
            .with_match_date(agg_date),
        "number_of_matches_in_period" => {
            Built::new(ColumnType::Int, Series::aggregate(&f, Aggregate::Count))
                .with_match_date(agg_date)
        }
        _ => Built::date(Arc::clone(&agg_date), format).with_match_date(agg_date),
    };
    b.format = Some(format);
    Some(b)
}
