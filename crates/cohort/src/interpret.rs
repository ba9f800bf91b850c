//! The reference interpreter: evaluates an [`ir::Study`] row by row over [`EhrTables`] for one
//! index date, straight from the table of `spec/study-definition.md`. Slow and obviously
//! correct; the fast [`crate::engine`] is tested against it.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use polars::prelude::{Column, DataFrame, PolarsError};

use crate::dates::DateError;
use crate::expr::Value;
use crate::ir::{self, window_bounds, Kind, Query, Registration};
use crate::study::{DiedReturning, EventsReturning, Find, PracticeReturning};
use crate::tables::{ClinicalEvent, EhrTables, Patient, Registration as RegRow};

/// An extraction failure (shared by both engines).
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// A date expression gives a day that does not exist for an index date.
    #[error(transparent)]
    Date(#[from] DateError),
    #[error("polars: {0}")]
    Polars(#[from] PolarsError),
}

struct PatientRows<'a> {
    patient: Option<&'a Patient>,
    registrations: Vec<&'a RegRow>,
    events: Vec<&'a ClinicalEvent>,
}

/// Evaluates `study` for `index_date`: `patient_id` (Int64) then the output variables in
/// definition order, one row per patient whose population is true, sorted by `patient_id`;
/// bool → Boolean, int → Int64, float → Float64, str and dates → String; no nulls.
pub fn extract(
    study: &ir::Study,
    tables: &EhrTables,
    index_date: NaiveDate,
) -> Result<DataFrame, ExtractError> {
    study.check_dates(index_date)?;
    let mut by_patient: BTreeMap<i64, PatientRows> = BTreeMap::new();
    let entry = |m: &mut BTreeMap<i64, PatientRows<'_>>, id| {
        m.entry(id).or_insert_with(|| PatientRows {
            patient: None,
            registrations: Vec::new(),
            events: Vec::new(),
        });
    };
    for p in &tables.patients {
        entry(&mut by_patient, p.patient_id);
    }
    for r in &tables.practice_registrations {
        entry(&mut by_patient, r.patient_id);
    }
    for e in &tables.clinical_events {
        entry(&mut by_patient, e.patient_id);
    }
    for p in &tables.patients {
        if let Some(rows) = by_patient.get_mut(&p.patient_id) {
            rows.patient.get_or_insert(p);
        }
    }
    for r in &tables.practice_registrations {
        if let Some(rows) = by_patient.get_mut(&r.patient_id) {
            rows.registrations.push(r);
        }
    }
    for e in &tables.clinical_events {
        if let Some(rows) = by_patient.get_mut(&e.patient_id) {
            rows.events.push(e);
        }
    }

    let mut ids: Vec<i64> = Vec::new();
    let mut columns: Vec<Vec<Value>> = vec![Vec::new(); study.outputs.len()];
    for (&id, rows) in &by_patient {
        let mut values: Vec<Value> = Vec::with_capacity(study.variables.len());
        let mut names: HashMap<&str, usize> = HashMap::new();
        for (i, v) in study.variables.iter().enumerate() {
            let value = evaluate(&v.query, v.kind, rows, index_date, &|n: &str| {
                names.get(n).map_or(Value::Int(0), |&j| values[j].clone())
            })?;
            values.push(value);
            names.insert(&v.name, i);
        }
        if values[study.population].truthy() {
            ids.push(id);
            for (c, &i) in study.outputs.iter().enumerate() {
                columns[c].push(values[i].clone());
            }
        }
    }

    let mut cols = vec![Column::new("patient_id".into(), ids)];
    for (c, &i) in study.outputs.iter().enumerate() {
        let v = &study.variables[i];
        let name = v.name.as_str().into();
        let values = std::mem::take(&mut columns[c]);
        cols.push(match v.kind {
            Kind::Bool => Column::new(name, values.iter().map(Value::truthy).collect::<Vec<_>>()),
            Kind::Int => Column::new(
                name,
                values
                    .iter()
                    .map(|x| match x {
                        Value::Int(i) => *i,
                        Value::Bool(b) => i64::from(*b),
                        _ => 0,
                    })
                    .collect::<Vec<_>>(),
            ),
            Kind::Float => Column::new(
                name,
                values
                    .iter()
                    .map(|x| match x {
                        Value::Float(f) => *f,
                        _ => 0.0,
                    })
                    .collect::<Vec<_>>(),
            ),
            Kind::Str => Column::new(
                name,
                values
                    .into_iter()
                    .map(|x| match x {
                        Value::Str(s) => s,
                        _ => String::new(),
                    })
                    .collect::<Vec<_>>(),
            ),
        });
    }
    Ok(DataFrame::new_infer_height(cols)?)
}

fn active(r: &RegRow, d: NaiveDate) -> bool {
    r.start_date <= d && r.end_date.is_none_or(|end| end > d)
}

fn evaluate(
    query: &Query,
    kind: Kind,
    rows: &PatientRows,
    index_date: NaiveDate,
    var: &dyn Fn(&str) -> Value,
) -> Result<Value, ExtractError> {
    let at = |e: &crate::dates::DateExpr| e.eval(Some(index_date));
    Ok(match query {
        Query::Registered(Registration::AsOf(d)) => {
            let d = at(d)?;
            Value::Bool(rows.registrations.iter().any(|r| active(r, d)))
        }
        Query::Registered(Registration::OnePracticeBetween(a, b)) => {
            let (a, b) = (at(a)?, at(b)?);
            Value::Bool(
                rows.registrations
                    .iter()
                    .any(|r| r.start_date <= a && r.end_date.is_none_or(|e| e > b)),
            )
        }
        Query::Registered(Registration::CompleteHistoryBetween(a, b)) => {
            let (a, b) = (at(a)?, at(b)?);
            Value::Bool(complete_history(&rows.registrations, a, b))
        }
        Query::Practice { date, returning } => {
            let d = at(date)?;
            let best = rows
                .registrations
                .iter()
                .filter(|r| active(r, d))
                .min_by(|x, y| {
                    // latest start, then latest end (null = latest), then lowest practice id
                    y.start_date
                        .cmp(&x.start_date)
                        .then_with(|| match (x.end_date, y.end_date) {
                            (None, None) => std::cmp::Ordering::Equal,
                            (None, Some(_)) => std::cmp::Ordering::Less,
                            (Some(_), None) => std::cmp::Ordering::Greater,
                            (Some(ex), Some(ey)) => ey.cmp(&ex),
                        })
                        .then_with(|| x.practice_pseudo_id.cmp(&y.practice_pseudo_id))
                });
            match (returning, best) {
                (_, None) => kind.default_value(),
                (PracticeReturning::PseudoId, Some(r)) => Value::Int(r.practice_pseudo_id),
                (PracticeReturning::Nuts1RegionName, Some(r)) => {
                    Value::Str(r.practice_nuts1_region_name.clone().unwrap_or_default())
                }
                (PracticeReturning::StpCode, Some(r)) => {
                    Value::Str(r.practice_stp.clone().unwrap_or_default())
                }
            }
        }
        Query::Age { date } => {
            let d = at(date)?;
            match rows.patient {
                None => Value::Int(0),
                Some(p) => {
                    let dob = p.date_of_birth;
                    let mut age = i64::from(d.year()) - i64::from(dob.year());
                    if (dob.month(), dob.day()) > (d.month(), d.day()) {
                        age -= 1;
                    }
                    Value::Int(age)
                }
            }
        }
        Query::Sex => Value::Str(rows.patient.map(|p| p.sex.clone()).unwrap_or_default()),
        Query::DateOfBirth { format } => Value::Str(
            rows.patient
                .map(|p| format.format(p.date_of_birth))
                .unwrap_or_default(),
        ),
        Query::Died {
            window,
            returning,
            format,
        } => {
            let bounds = window_bounds(window, index_date)?;
            let death = rows
                .patient
                .and_then(|p| p.date_of_death)
                .filter(|d| bounds.contains(*d));
            match returning {
                DiedReturning::BinaryFlag => Value::Bool(death.is_some()),
                DiedReturning::DateOfDeath => {
                    Value::Str(death.map(|d| format.format(d)).unwrap_or_default())
                }
            }
        }
        Query::Events {
            codelist,
            window,
            returning,
            find,
            format,
        } => {
            let bounds = window_bounds(window, index_date)?;
            let column = codelist.system;
            let code_of = |e: &ClinicalEvent| -> Option<String> {
                match column {
                    crate::codelist::CodeSystem::Ctv3 => e.ctv3_code.clone(),
                    crate::codelist::CodeSystem::Snomedct => e.snomedct_code.clone(),
                }
            };
            let mut matches: Vec<(NaiveDate, String, Option<f64>)> = rows
                .events
                .iter()
                .filter(|e| bounds.contains(e.date))
                .filter_map(|e| {
                    let code = code_of(e)?;
                    codelist
                        .contains(&code)
                        .then_some((e.date, code, e.numeric_value))
                })
                .collect();
            matches.sort_by(|x, y| {
                x.0.cmp(&y.0)
                    .then_with(|| x.1.cmp(&y.1))
                    .then_with(|| match (x.2, y.2) {
                        (None, None) => std::cmp::Ordering::Equal,
                        (None, Some(_)) => std::cmp::Ordering::Less,
                        (Some(_), None) => std::cmp::Ordering::Greater,
                        (Some(a), Some(b)) => a.total_cmp(&b),
                    })
            });
            let chosen = match find {
                Find::First => matches.first(),
                Find::Last => matches.last(),
            };
            match returning {
                EventsReturning::BinaryFlag => Value::Bool(!matches.is_empty()),
                EventsReturning::NumberOfMatchesInPeriod => Value::Int(matches.len() as i64),
                EventsReturning::Date => {
                    Value::Str(chosen.map(|m| format.format(m.0)).unwrap_or_default())
                }
                EventsReturning::Code => {
                    Value::Str(chosen.map(|m| m.1.clone()).unwrap_or_default())
                }
                EventsReturning::Category => Value::Str(
                    chosen
                        .and_then(|m| codelist.categories.as_ref()?.get(&m.1).cloned())
                        .unwrap_or_default(),
                ),
                EventsReturning::NumericValue => {
                    Value::Float(chosen.and_then(|m| m.2).unwrap_or(0.0))
                }
            }
        }
        Query::Categorised { cases, default } => cases
            .iter()
            .find(|(_, e)| e.eval(var).truthy())
            .map_or_else(|| default.clone(), |(label, _)| label.clone()),
        Query::Satisfying(e) => Value::Bool(e.eval(var).truthy()),
    })
}

/// Do the registrations, merged where they overlap or touch, cover every day of `[a, b]`
/// with one interval (`start <= a` and end null or `> b`)?
fn complete_history(regs: &[&RegRow], a: NaiveDate, b: NaiveDate) -> bool {
    // Brute force over merged intervals: grow from every registration starting on or
    // before `a` until no registration extends it.
    regs.iter().filter(|r| r.start_date <= a).any(|first| {
        let mut end = first.end_date; // None = open
        loop {
            let Some(e) = end else { return true };
            if e > b {
                return true;
            }
            // extend with any registration that starts on or before the current end
            let next = regs
                .iter()
                .filter(|r| r.start_date <= e && r.end_date.is_none_or(|x| x > e))
                .map(|r| r.end_date)
                .max_by(|x, y| match (x, y) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, _) => std::cmp::Ordering::Greater,
                    (_, None) => std::cmp::Ordering::Less,
                    (Some(x), Some(y)) => x.cmp(y),
                });
            match next {
                Some(n) => end = n,
                None => return false,
            }
        }
    })
}
