//! The fast engine: evaluates an [`ir::Study`] for EVERY index date of a run in one pass over
//! each table, with polars.
//!
//! How: every date expression is evaluated once per index date (sorted ascending); since
//! date expressions are non-decreasing functions of the index date, each registration or
//! clinical event counts for a contiguous run of index dates, found by binary search
//! ([`expand`]). The table rows are paired with those index dates in one pass, and the
//! per-(patient, index date) values come from one sort / group / unique per variable. The
//! population's (patient, index date) pairs are the base frame; every variable is joined onto
//! it (missing → default) or computed on it as a column expression (age, sex, date of
//! birth, death, `categorised_as`, `satisfying`). One final sort by (index date, patient)
//! gives each date's rows, handed to the sink date by date.

mod expand;
mod expr;

use std::collections::HashMap;

use chrono::NaiveDate;
use polars::prelude::*;

use crate::dates::DateExpr;
use crate::expr::ExprType;
use crate::interpret::ExtractError;
use crate::ir::{self, Kind, Query, Registration};
use crate::study::{DiedReturning, EventsReturning, Find, PracticeReturning, Window};
use crate::tables::{date_to_days, names, TableFrames};

pub use expand::DateSeries;

const IDX: &str = "#idx";
const PID: &str = names::PATIENT_ID;
const VALUE: &str = "#value";

/// Evaluates `study` over `tables` for every date of `index_dates` (duplicates ignored) in
/// one pass, then calls `sink(date, frame)` for each date in ascending order.
///
/// Each frame is `patient_id` (Int64) then the output variables in definition order, one row
/// per patient whose population is true on that date, sorted by `patient_id`; bool →
/// Boolean, int → Int64, float → Float64, str and dates → String; no nulls. A date
/// expression giving a day that does not exist for some index date fails before any row
/// is read. The sink's error stops the run and is returned.
pub fn extract<E: From<ExtractError>>(
    study: &ir::Study,
    tables: &TableFrames,
    index_dates: &[NaiveDate],
    sink: &mut dyn FnMut(NaiveDate, DataFrame) -> Result<(), E>,
) -> Result<(), E> {
    extract_in_passes(study, tables, index_dates, usize::MAX, sink)
}

/// [`extract`] with at most `dates_per_pass` index dates per pass over the tables (ascending
/// order): bounds memory to that many dates' cohorts; each pass's dates are handed to the
/// sink as soon as the pass ends.
pub fn extract_in_passes<E: From<ExtractError>>(
    study: &ir::Study,
    tables: &TableFrames,
    index_dates: &[NaiveDate],
    dates_per_pass: usize,
    sink: &mut dyn FnMut(NaiveDate, DataFrame) -> Result<(), E>,
) -> Result<(), E> {
    let mut dates = index_dates.to_vec();
    dates.sort();
    dates.dedup();
    for d in &dates {
        study.check_dates(*d).map_err(ExtractError::from)?;
    }
    for chunk in dates.chunks(dates_per_pass.max(1)) {
        one_pass(study, tables, chunk, sink)?;
    }
    Ok(())
}

fn one_pass<E: From<ExtractError>>(
    study: &ir::Study,
    tables: &TableFrames,
    dates: &[NaiveDate],
    sink: &mut dyn FnMut(NaiveDate, DataFrame) -> Result<(), E>,
) -> Result<(), E> {
    let run = Run {
        study,
        tables,
        days: dates.iter().map(|d| date_to_days(*d)).collect(),
    };
    let all = run.evaluate().map_err(E::from)?;
    let idx: Vec<u32> = all
        .column(IDX)
        .and_then(|c| c.u32().map(|ca| ca.into_no_null_iter().collect()))
        .map_err(|e| E::from(ExtractError::from(e)))?;
    let out = all.drop(IDX).map_err(|e| E::from(ExtractError::from(e)))?;
    for (i, date) in dates.iter().enumerate() {
        let start = idx.partition_point(|&x| x < i as u32);
        let end = idx.partition_point(|&x| x <= i as u32);
        sink(*date, out.slice(start as i64, end - start))?;
    }
    Ok(())
}

/// [`extract`] collecting every date's frame (ascending dates).
pub fn extract_all(
    study: &ir::Study,
    tables: &TableFrames,
    index_dates: &[NaiveDate],
) -> Result<Vec<(NaiveDate, DataFrame)>, ExtractError> {
    let mut out = Vec::new();
    extract(study, tables, index_dates, &mut |d, df| {
        out.push((d, df));
        Ok::<(), ExtractError>(())
    })?;
    Ok(out)
}

struct Run<'a> {
    study: &'a ir::Study,
    tables: &'a TableFrames,
    /// Ascending index dates as days since 1970-01-01.
    days: Vec<i32>,
}

fn internal(msg: String) -> ExtractError {
    ExtractError::Polars(PolarsError::ComputeError(msg.into()))
}

/// The physical (days) values of a Date column.
fn date_values(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i32>>> {
    let c = df.column(name)?.cast(&DataType::Date)?;
    Ok(c.date()?.physical().iter().collect())
}

fn i64_values(df: &DataFrame, name: &str) -> PolarsResult<Vec<Option<i64>>> {
    let c = df.column(name)?.cast(&DataType::Int64)?;
    Ok(c.i64()?.iter().collect())
}

/// A frame of (patient_id, #idx) pairs from row numbers of `df` and index-date positions.
fn pairs_frame(df: &DataFrame, rows: Vec<IdxSize>, idx: Vec<u32>) -> PolarsResult<DataFrame> {
    let rows = IdxCa::from_vec("rows".into(), rows);
    let mut taken = df.take(&rows)?;
    taken.with_column(Column::new(IDX.into(), idx))?;
    Ok(taken)
}

fn kind_dtype(kind: Kind) -> DataType {
    match kind {
        Kind::Bool => DataType::Boolean,
        Kind::Int => DataType::Int64,
        Kind::Float => DataType::Float64,
        Kind::Str => DataType::String,
    }
}

fn kind_expr_type(kind: Kind) -> ExprType {
    match kind {
        Kind::Bool => ExprType::Bool,
        Kind::Int => ExprType::Int,
        Kind::Float => ExprType::Float,
        Kind::Str => ExprType::Str,
    }
}

impl Run<'_> {
    fn k(&self) -> usize {
        self.days.len()
    }

    /// The values of a date expression for each index date (monotone, checked).
    fn series(&self, e: &DateExpr) -> Result<DateSeries, ExtractError> {
        let mut out = Vec::with_capacity(self.k());
        for &d in &self.days {
            let date = crate::tables::days_to_date(d)
                .ok_or_else(|| internal(format!("index date out of range: {d}")))?;
            out.push(date_to_days(e.eval(Some(date))?));
        }
        let s = DateSeries(out);
        if !s.is_monotone() {
            return Err(internal(format!(
                "date expression `{e}` is not monotone in the index date"
            )));
        }
        Ok(s)
    }

    fn window_series(
        &self,
        w: &Window,
    ) -> Result<(Option<DateSeries>, Option<DateSeries>), ExtractError> {
        Ok(match w {
            Window::All => (None, None),
            Window::Between(a, b) => (Some(self.series(a)?), Some(self.series(b)?)),
            Window::OnOrBefore(b) => (None, Some(self.series(b)?)),
            Window::OnOrAfter(a) => (Some(self.series(a)?), None),
        })
    }

    /// (patient_id, #idx) pairs, unique, where the registration test is true.
    fn registered(&self, r: &Registration) -> Result<DataFrame, ExtractError> {
        let regs = &self.tables.practice_registrations;
        let k = self.k();
        let (pids, starts, ends, a, b) = match r {
            Registration::AsOf(d) => {
                let s = self.series(d)?;
                (
                    i64_values(regs, names::PATIENT_ID)?,
                    date_values(regs, names::START_DATE)?,
                    date_values(regs, names::END_DATE)?,
                    s.clone(),
                    s,
                )
            }
            Registration::OnePracticeBetween(a, b) => (
                i64_values(regs, names::PATIENT_ID)?,
                date_values(regs, names::START_DATE)?,
                date_values(regs, names::END_DATE)?,
                self.series(a)?,
                self.series(b)?,
            ),
            Registration::CompleteHistoryBetween(a, b) => {
                let (p, s, e) = merged_registrations(regs)?;
                (p, s, e, self.series(a)?, self.series(b)?)
            }
        };
        // start <= a_i  and  (end null or end > b_i)
        let (rows, idx) = expand::expand(pids.len(), |r| match (pids[r], starts[r]) {
            (Some(_), Some(start)) => (a.first_ge(start), ends[r].map_or(k, |e| b.first_ge(e))),
            _ => (0, 0),
        });
        let pid_col: Vec<Option<i64>> = rows.iter().map(|&r| pids[r as usize]).collect();
        let df = DataFrame::new_infer_height(vec![
            Column::new(PID.into(), pid_col),
            Column::new(IDX.into(), idx),
        ])?;
        Ok(df
            .lazy()
            .unique(None, UniqueKeepStrategy::Any)
            .with_column(lit(true).alias(VALUE))
            .collect()?)
    }

    fn practice(
        &self,
        date: &DateExpr,
        returning: PracticeReturning,
    ) -> Result<DataFrame, ExtractError> {
        let regs = &self.tables.practice_registrations;
        let ds = self.series(date)?;
        let k = self.k();
        let starts = date_values(regs, names::START_DATE)?;
        let ends = date_values(regs, names::END_DATE)?;
        let (rows, idx) = expand::expand(starts.len(), |r| match starts[r] {
            Some(start) => (ds.first_ge(start), ends[r].map_or(k, |e| ds.first_ge(e))),
            None => (0, 0),
        });
        let df = pairs_frame(regs, rows, idx)?;
        let value = match returning {
            PracticeReturning::Nuts1RegionName => col(names::PRACTICE_NUTS1_REGION_NAME)
                .cast(DataType::String)
                .fill_null(lit("")),
            PracticeReturning::StpCode => col(names::PRACTICE_STP)
                .cast(DataType::String)
                .fill_null(lit("")),
            PracticeReturning::PseudoId => col(names::PRACTICE_PSEUDO_ID)
                .cast(DataType::Int64)
                .fill_null(lit(0i64)),
        };
        Ok(df
            .lazy()
            .with_column(
                col(names::END_DATE)
                    .cast(DataType::Date)
                    .cast(DataType::Int32)
                    .fill_null(lit(i32::MAX))
                    .alias("#end_key"),
            )
            .sort(
                [
                    PID,
                    IDX,
                    names::START_DATE,
                    "#end_key",
                    names::PRACTICE_PSEUDO_ID,
                ],
                SortMultipleOptions::default()
                    .with_order_descending_multi([false, false, true, true, false]),
            )
            .unique_stable(Some(cols([PID, IDX])), UniqueKeepStrategy::First)
            .select([col(PID), col(IDX), value.alias(VALUE)])
            .collect()?)
    }

    fn events(
        &self,
        codelist: &crate::codelist::Codelist,
        window: &Window,
        returning: EventsReturning,
        find: Find,
        format: crate::study::DateFormat,
    ) -> Result<DataFrame, ExtractError> {
        let code_col = codelist.system.events_column();
        let codes = DataFrame::new_infer_height(vec![Column::new(
            "#code".into(),
            codelist
                .codes
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        )])?;
        let matching = self
            .tables
            .clinical_events
            .clone()
            .lazy()
            .select([
                col(PID),
                col(names::DATE).cast(DataType::Date),
                col(code_col).cast(DataType::String).alias("#code"),
                col(names::NUMERIC_VALUE).cast(DataType::Float64),
            ])
            .join(
                codes.lazy(),
                [col("#code")],
                [col("#code")],
                JoinArgs::new(JoinType::Semi),
            )
            .collect()?;
        let (lo, hi) = self.window_series(window)?;
        let k = self.k();
        let dates = date_values(&matching, names::DATE)?;
        // lo_i <= date <= hi_i
        let (rows, idx) = expand::expand(dates.len(), |r| match dates[r] {
            Some(d) => (
                hi.as_ref().map_or(0, |h| h.first_ge(d)),
                lo.as_ref().map_or(k, |l| l.first_gt(d)),
            ),
            None => (0, 0),
        });
        let df = pairs_frame(&matching, rows, idx)?.lazy();
        let keys = [col(PID), col(IDX)];
        let out = match returning {
            EventsReturning::BinaryFlag => df
                .select(keys)
                .unique(None, UniqueKeepStrategy::Any)
                .with_column(lit(true).alias(VALUE)),
            EventsReturning::NumberOfMatchesInPeriod => df
                .group_by(keys)
                .agg([len().cast(DataType::Int64).alias(VALUE)]),
            _ => {
                let chosen = df
                    .sort(
                        [PID, IDX, names::DATE, "#code", names::NUMERIC_VALUE],
                        SortMultipleOptions::default(),
                    )
                    .unique_stable(
                        Some(cols([PID, IDX])),
                        match find {
                            Find::First => UniqueKeepStrategy::First,
                            Find::Last => UniqueKeepStrategy::Last,
                        },
                    );
                match returning {
                    EventsReturning::Date => chosen.select([
                        col(PID),
                        col(IDX),
                        col(names::DATE)
                            .dt()
                            .to_string(format.chrono_format())
                            .alias(VALUE),
                    ]),
                    EventsReturning::Code => {
                        chosen.select([col(PID), col(IDX), col("#code").alias(VALUE)])
                    }
                    EventsReturning::NumericValue => chosen.select([
                        col(PID),
                        col(IDX),
                        col(names::NUMERIC_VALUE)
                            .fill_null(lit(0.0f64))
                            .alias(VALUE),
                    ]),
                    _ => {
                        let categories = codelist.categories.clone().unwrap_or_default();
                        let cat_frame = DataFrame::new_infer_height(vec![
                            Column::new(
                                "#code".into(),
                                categories.keys().map(String::as_str).collect::<Vec<_>>(),
                            ),
                            Column::new(
                                VALUE.into(),
                                categories.values().map(String::as_str).collect::<Vec<_>>(),
                            ),
                        ])?;
                        chosen
                            .left_join(cat_frame.lazy(), col("#code"), col("#code"))
                            .select([col(PID), col(IDX), col(VALUE).fill_null(lit(""))])
                    }
                }
            }
        };
        Ok(out.collect()?)
    }

    /// Every patient id in any table, ascending.
    fn universe(&self) -> PolarsResult<Vec<i64>> {
        let mut ids: Vec<i64> = Vec::new();
        for df in [
            &self.tables.patients,
            &self.tables.practice_registrations,
            &self.tables.clinical_events,
        ] {
            ids.extend(i64_values(df, PID)?.into_iter().flatten());
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    fn evaluate(&self) -> Result<DataFrame, ExtractError> {
        let study = self.study;
        let k = self.k();
        // The base: the population's candidate (patient, index date) pairs.
        let base = match &study.population_variable().query {
            Query::Registered(r) => self.registered(r)?.select([PID, IDX])?,
            _ => {
                let ids = self.universe()?;
                let n = ids.len();
                let pid: Vec<i64> = ids
                    .iter()
                    .flat_map(|&p| std::iter::repeat_n(p, k))
                    .collect();
                let idx: Vec<u32> = (0..n).flat_map(|_| 0..k as u32).collect();
                DataFrame::new_infer_height(vec![
                    Column::new(PID.into(), pid),
                    Column::new(IDX.into(), idx),
                ])?
            }
        };

        // Per-index-date date columns used by column-expression variables.
        let mut date_cols: Vec<Column> =
            vec![Column::new(IDX.into(), (0..k as u32).collect::<Vec<_>>())];
        let mut date_col = |name: String, s: &DateSeries| -> PolarsResult<String> {
            date_cols.push(
                Series::new(name.as_str().into(), s.0.clone())
                    .cast(&DataType::Date)?
                    .into(),
            );
            Ok(name)
        };
        let mut var_date_cols: HashMap<usize, (Option<String>, Option<String>)> = HashMap::new();
        for (i, v) in study.variables.iter().enumerate() {
            match &v.query {
                Query::Age { date } => {
                    let n = date_col(format!("#v{i}_d"), &self.series(date)?)?;
                    var_date_cols.insert(i, (Some(n), None));
                }
                Query::Died { window, .. } => {
                    let (lo, hi) = self.window_series(window)?;
                    let lo = lo.map(|s| date_col(format!("#v{i}_lo"), &s)).transpose()?;
                    let hi = hi.map(|s| date_col(format!("#v{i}_hi"), &s)).transpose()?;
                    var_date_cols.insert(i, (lo, hi));
                }
                _ => {}
            }
        }
        let dates_frame = DataFrame::new_infer_height(date_cols)?;

        let patients = self
            .tables
            .patients
            .clone()
            .lazy()
            .select([
                col(PID).cast(DataType::Int64),
                col(names::DATE_OF_BIRTH).cast(DataType::Date).alias("#dob"),
                col(names::SEX).cast(DataType::String).alias("#sex"),
                col(names::DATE_OF_DEATH).cast(DataType::Date).alias("#dod"),
            ])
            .unique_stable(Some(cols([PID])), UniqueKeepStrategy::First);

        let mut wide = base
            .lazy()
            .left_join(patients, col(PID), col(PID))
            .left_join(dates_frame.lazy(), col(IDX), col(IDX));

        let types: HashMap<&str, ExprType> = study
            .variables
            .iter()
            .map(|v| (v.name.as_str(), kind_expr_type(v.kind)))
            .collect();
        let var_type = |n: &str| types.get(n).copied().unwrap_or(ExprType::Int);

        // When the base is the population's own true set, the population is true on it.
        let base_is_population = matches!(study.population_variable().query, Query::Registered(_));
        for (i, v) in study.variables.iter().enumerate() {
            let name = v.name.as_str();
            if i == study.population && base_is_population {
                wide = wide.with_column(lit(true).alias(name));
                continue;
            }
            let default = expr::value_lit(&v.kind.default_value());
            let sparse = match &v.query {
                Query::Registered(r) => Some(self.registered(r)?),
                Query::Practice { date, returning } => Some(self.practice(date, *returning)?),
                Query::Events {
                    codelist,
                    window,
                    returning,
                    find,
                    format,
                } => Some(self.events(codelist, window, *returning, *find, *format)?),
                _ => None,
            };
            if let Some(frame) = sparse {
                let frame = frame
                    .lazy()
                    .select([col(PID), col(IDX), col(VALUE).alias(name)]);
                wide = wide
                    .join(
                        frame,
                        [col(PID), col(IDX)],
                        [col(PID), col(IDX)],
                        JoinArgs::new(JoinType::Left),
                    )
                    .with_column(col(name).fill_null(default).cast(kind_dtype(v.kind)))
                    // Materialise each step: keeps query plans shallow (deep plans of many
                    // joins overflow the stack in debug builds) at no extra cost.
                    .collect()?
                    .lazy();
                continue;
            }
            let column = match &v.query {
                Query::Age { .. } => {
                    let d = col(var_date_cols[&i].0.clone().unwrap_or_default().as_str());
                    let b = col("#dob");
                    let md = |e: Expr| {
                        e.clone().dt().month().cast(DataType::Int32) * lit(100i32)
                            + e.dt().day().cast(DataType::Int32)
                    };
                    (d.clone().dt().year().cast(DataType::Int64)
                        - b.clone().dt().year().cast(DataType::Int64)
                        - when(md(b).gt(md(d))).then(lit(1i64)).otherwise(lit(0i64)))
                    .fill_null(lit(0i64))
                }
                Query::Sex => col("#sex").fill_null(lit("")),
                Query::DateOfBirth { format } => col("#dob")
                    .dt()
                    .to_string(format.chrono_format())
                    .fill_null(lit("")),
                Query::Died {
                    returning, format, ..
                } => {
                    let (lo, hi) = var_date_cols.get(&i).cloned().unwrap_or((None, None));
                    let mut cond = col("#dod").is_not_null();
                    if let Some(lo) = lo {
                        cond = cond.and(col("#dod").gt_eq(col(lo.as_str())));
                    }
                    if let Some(hi) = hi {
                        cond = cond.and(col("#dod").lt_eq(col(hi.as_str())));
                    }
                    let cond = cond.fill_null(lit(false));
                    match returning {
                        DiedReturning::BinaryFlag => cond,
                        DiedReturning::DateOfDeath => when(cond)
                            .then(col("#dod").dt().to_string(format.chrono_format()))
                            .otherwise(lit("")),
                    }
                }
                Query::Categorised { cases, default } => {
                    let mut chain: Option<ChainedThen> = None;
                    let mut single: Option<Then> = None;
                    for (label, e) in cases {
                        let cond = expr::truthy(expr::translate(e, &var_type));
                        let value = expr::value_lit(label);
                        match (single.take(), chain.take()) {
                            (None, None) => single = Some(when(cond).then(value)),
                            (Some(t), None) => chain = Some(t.when(cond).then(value)),
                            (_, Some(c)) => chain = Some(c.when(cond).then(value)),
                        }
                    }
                    let d = expr::value_lit(default);
                    match (single, chain) {
                        (_, Some(c)) => c.otherwise(d),
                        (Some(t), None) => t.otherwise(d),
                        (None, None) => d,
                    }
                }
                Query::Satisfying(e) => expr::truthy(expr::translate(e, &var_type)),
                Query::Registered(_) | Query::Practice { .. } | Query::Events { .. } => {
                    unreachable!("handled as sparse frames above")
                }
            };
            wide = wide
                .with_column(column.cast(kind_dtype(v.kind)).alias(name))
                .collect()?
                .lazy();
        }

        let pop = study.population_variable();
        let mut select = vec![col(PID), col(IDX)];
        for v in study.output_variables() {
            select.push(col(v.name.as_str()).cast(kind_dtype(v.kind)));
        }
        let out = wide
            .filter(expr::truthy((
                col(pop.name.as_str()),
                kind_expr_type(pop.kind),
            )))
            .select(select)
            .sort([IDX, PID], SortMultipleOptions::default())
            .collect()?;
        Ok(out)
    }
}

/// Parallel columns: patient ids, start days, end days (`None` = open).
type Intervals = (Vec<Option<i64>>, Vec<Option<i32>>, Vec<Option<i32>>);

/// The registrations of each patient merged where they overlap or touch: (patient, start,
/// end) with end `None` = open.
fn merged_registrations(regs: &DataFrame) -> Result<Intervals, ExtractError> {
    let sorted = regs
        .clone()
        .lazy()
        .select([
            col(PID).cast(DataType::Int64),
            col(names::START_DATE).cast(DataType::Date),
            col(names::END_DATE).cast(DataType::Date),
        ])
        .filter(
            col(PID)
                .is_not_null()
                .and(col(names::START_DATE).is_not_null()),
        )
        .sort([PID, names::START_DATE], SortMultipleOptions::default())
        .collect()?;
    let pids = i64_values(&sorted, PID)?;
    let starts = date_values(&sorted, names::START_DATE)?;
    let ends = date_values(&sorted, names::END_DATE)?;
    let (mut p_out, mut s_out, mut e_out) = (Vec::new(), Vec::new(), Vec::new());
    let mut current: Option<(Option<i64>, Option<i32>, Option<i32>)> = None;
    for r in 0..pids.len() {
        let (p, s, e) = (pids[r], starts[r], ends[r]);
        if let Some((cp, cs, ce)) = current.as_mut() {
            let touches = *cp == p && ce.is_none_or(|ce| s.is_some_and(|s| s <= ce));
            if touches {
                *ce = match (*ce, e) {
                    (None, _) | (_, None) => None,
                    (Some(a), Some(b)) => Some(a.max(b)),
                };
                continue;
            }
            p_out.push(*cp);
            s_out.push(*cs);
            e_out.push(*ce);
        }
        current = Some((p, s, e));
    }
    if let Some((cp, cs, ce)) = current {
        p_out.push(cp);
        s_out.push(cs);
        e_out.push(ce);
    }
    Ok((p_out, s_out, e_out))
}
