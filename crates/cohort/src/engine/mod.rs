//! The fast engine: evaluates an [`ir::Study`] for EVERY index date of a run in one pass over
//! each table, with polars.
//!
//! How: every date expression is evaluated once per index date (sorted ascending); since
//! date expressions are non-decreasing functions of the index date, each registration or
//! clinical event counts for a contiguous run of index dates, found by binary search
//! ([`DateSeries`]). Each table is read once: registrations are grouped by patient and each
//! (patient, index date) pair is decided in that pass (registered or not; which practice);
//! clinical events are filtered to the codelist once (polars semi join), paired with their
//! index dates, and reduced per (patient, index date) with one polars sort/unique or
//! group-by. The population's (patient, index date) pairs, in (patient, date) order, are the
//! base frame: every other variable's sparse values are scattered onto its rows (missing →
//! default), patient attributes are gathered onto it, and age, date of birth, death,
//! `categorised_as` and `satisfying` are polars column expressions over it. Finally the rows
//! are bucketed by index date (keeping patient order) and handed to the sink date by date.
//! [`extract_in_passes`] bounds memory by running the dates in groups.

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
    // `all` is in (patient, index date) order: a stable sort by index date keeps patient
    // order within each date, and each date's rows are then one slice.
    let all = all
        .sort(
            [IDX],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .map_err(|e| E::from(ExtractError::from(e)))?;
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
        // start <= a_i  and  (end null or end > b_i); rows grouped by patient so each
        // (patient, index date) pair is emitted once, in (patient, index date) order.
        let mut order: Vec<usize> = (0..pids.len())
            .filter(|&r| pids[r].is_some() && starts[r].is_some())
            .collect();
        order.sort_by_key(|&r| pids[r]);
        let (mut out_pid, mut out_idx) = (Vec::new(), Vec::new());
        let mut covered = vec![false; k];
        for group in order.chunk_by(|&x, &y| pids[x] == pids[y]) {
            covered.iter_mut().for_each(|c| *c = false);
            for &r in group {
                let lo = starts[r].map_or(k, |start| a.first_ge(start));
                let hi = ends[r].map_or(k, |e| b.first_ge(e));
                for c in covered.iter_mut().take(hi).skip(lo) {
                    *c = true;
                }
            }
            let pid = pids[group[0]].unwrap_or_default();
            for (i, _) in covered.iter().enumerate().filter(|(_, c)| **c) {
                out_pid.push(pid);
                out_idx.push(i as u32);
            }
        }
        let n = out_pid.len();
        Ok(DataFrame::new_infer_height(vec![
            Column::new(PID.into(), out_pid),
            Column::new(IDX.into(), out_idx),
            Column::new(VALUE.into(), vec![true; n]),
        ])?)
    }

    fn practice(
        &self,
        date: &DateExpr,
        returning: PracticeReturning,
    ) -> Result<DataFrame, ExtractError> {
        let regs = &self.tables.practice_registrations;
        let ds = self.series(date)?;
        let k = self.k();
        let pids = i64_values(regs, names::PATIENT_ID)?;
        let starts = date_values(regs, names::START_DATE)?;
        let ends = date_values(regs, names::END_DATE)?;
        let practices = i64_values(regs, names::PRACTICE_PSEUDO_ID)?;
        // Per patient, registrations in priority order: latest start, latest end (null =
        // latest), lowest practice id; each index date takes the first active one.
        let end_key = |r: usize| ends[r].unwrap_or(i32::MAX);
        let mut order: Vec<usize> = (0..pids.len())
            .filter(|&r| pids[r].is_some() && starts[r].is_some())
            .collect();
        order.sort_by(|&x, &y| {
            pids[x]
                .cmp(&pids[y])
                .then(starts[y].cmp(&starts[x]))
                .then(end_key(y).cmp(&end_key(x)))
                .then(
                    practices[x]
                        .unwrap_or(i64::MAX)
                        .cmp(&practices[y].unwrap_or(i64::MAX)),
                )
        });
        let (mut out_pid, mut out_idx, mut out_row) = (Vec::new(), Vec::new(), Vec::new());
        let mut chosen: Vec<Option<usize>> = vec![None; k];
        for group in order.chunk_by(|&x, &y| pids[x] == pids[y]) {
            chosen.iter_mut().for_each(|c| *c = None);
            for &r in group {
                let lo = starts[r].map_or(k, |start| ds.first_ge(start));
                let hi = ends[r].map_or(k, |e| ds.first_ge(e));
                for c in chosen.iter_mut().take(hi).skip(lo) {
                    c.get_or_insert(r);
                }
            }
            let pid = pids[group[0]].unwrap_or_default();
            for (i, c) in chosen.iter().enumerate() {
                if let Some(r) = c {
                    out_pid.push(pid);
                    out_idx.push(i as u32);
                    out_row.push(*r as IdxSize);
                }
            }
        }
        let (column, dtype) = match returning {
            PracticeReturning::Nuts1RegionName => {
                (names::PRACTICE_NUTS1_REGION_NAME, DataType::String)
            }
            PracticeReturning::StpCode => (names::PRACTICE_STP, DataType::String),
            PracticeReturning::PseudoId => (names::PRACTICE_PSEUDO_ID, DataType::Int64),
        };
        let rows = IdxCa::from_vec("rows".into(), out_row);
        let value = regs
            .column(column)?
            .cast(&dtype)?
            .take(&rows)?
            .with_name(VALUE.into());
        Ok(DataFrame::new_infer_height(vec![
            Column::new(PID.into(), out_pid),
            Column::new(IDX.into(), out_idx),
            value,
        ])?)
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
        // The base: the population's candidate (patient, index date) pairs, sorted by
        // patient then index date. Every variable becomes a column aligned with it.
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
        let base_pid: Vec<i64> = i64_values(&base, PID)?.into_iter().flatten().collect();
        let base_idx: Vec<u32> = base.column(IDX)?.u32()?.into_no_null_iter().collect();
        let n = base_pid.len();
        // The base row of (patient, index date), if any.
        let locate = |pid: i64, idx: u32| -> Option<usize> {
            let mut r = base_pid.partition_point(|&p| p < pid);
            while r < n && base_pid[r] == pid {
                match base_idx[r].cmp(&idx) {
                    std::cmp::Ordering::Equal => return Some(r),
                    std::cmp::Ordering::Greater => return None,
                    std::cmp::Ordering::Less => r += 1,
                }
            }
            None
        };
        let mut wide = base;

        // Patient attributes, gathered onto the base rows (first `patients` row per id).
        let patients = &self.tables.patients;
        let p_ids = i64_values(patients, PID)?;
        let mut p_order: Vec<usize> = (0..p_ids.len()).filter(|&r| p_ids[r].is_some()).collect();
        p_order.sort_by_key(|&r| p_ids[r]);
        p_order.dedup_by_key(|r| p_ids[*r]);
        let sorted_ids: Vec<i64> = p_order.iter().filter_map(|&r| p_ids[r]).collect();
        let mut last: Option<(i64, Option<IdxSize>)> = None;
        let gather_rows: Vec<Option<IdxSize>> = base_pid
            .iter()
            .map(|&pid| match last {
                Some((p, row)) if p == pid => row,
                _ => {
                    let row = sorted_ids
                        .binary_search(&pid)
                        .ok()
                        .map(|j| p_order[j] as IdxSize);
                    last = Some((pid, row));
                    row
                }
            })
            .collect();
        let gather: IdxCa = gather_rows.iter().copied().collect();
        // Date of birth as yyyymmdd, per base row (for ages).
        let dob_keys: Vec<Option<i32>> = {
            let dobs = date_values(patients, names::DATE_OF_BIRTH)?;
            gather_rows
                .iter()
                .map(|r| dobs[(*r)? as usize].and_then(days_to_key))
                .collect()
        };
        for (source, target, dtype) in [
            (names::DATE_OF_BIRTH, "#dob", DataType::Date),
            (names::SEX, "#sex", DataType::String),
            (names::DATE_OF_DEATH, "#dod", DataType::Date),
        ] {
            let c = patients
                .column(source)?
                .cast(&dtype)?
                .take(&gather)?
                .with_name(target.into());
            wide.with_column(c)?;
        }

        // Per-index-date date columns used by column-expression variables.
        let mut var_date_cols: HashMap<usize, (Option<String>, Option<String>)> = HashMap::new();
        let date_column = |wide: &mut DataFrame, name: String, s: &DateSeries| {
            let values: Vec<i32> = base_idx.iter().map(|&i| s.0[i as usize]).collect();
            wide.with_column(Column::from(
                Series::new(name.as_str().into(), values).cast(&DataType::Date)?,
            ))?;
            Ok::<String, PolarsError>(name)
        };
        for (i, v) in study.variables.iter().enumerate() {
            if let Query::Died { window, .. } = &v.query {
                let (lo, hi) = self.window_series(window)?;
                let lo = lo
                    .map(|s| date_column(&mut wide, format!("#v{i}_lo"), &s))
                    .transpose()?;
                let hi = hi
                    .map(|s| date_column(&mut wide, format!("#v{i}_hi"), &s))
                    .transpose()?;
                var_date_cols.insert(i, (lo, hi));
            }
        }

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
                wide.with_column(Column::new(name.into(), vec![true; n]))?;
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
                // Scatter the sparse (patient, index date, value) rows onto the base rows.
                let pids = i64_values(&frame, PID)?;
                let idx = frame.column(IDX)?.cast(&DataType::UInt32)?;
                let idx = idx.u32()?;
                let mut map: Vec<Option<IdxSize>> = vec![None; n];
                let keys: Vec<Option<(i64, u32)>> = pids
                    .iter()
                    .zip(idx.iter())
                    .map(|(p, i)| Some(((*p)?, i?)))
                    .collect();
                if keys.is_sorted() && !keys.first().is_some_and(Option::is_none) {
                    // Sorted like the base (registrations, practices): one linear merge.
                    let mut r = 0;
                    for (j, key) in keys.iter().enumerate() {
                        let Some(key) = key else { continue };
                        while r < n && (base_pid[r], base_idx[r]) < *key {
                            r += 1;
                        }
                        if r < n && (base_pid[r], base_idx[r]) == *key {
                            map[r] = Some(j as IdxSize);
                        }
                    }
                } else {
                    for (j, key) in keys.iter().enumerate() {
                        if let Some(r) = key.and_then(|(p, i)| locate(p, i)) {
                            map[r] = Some(j as IdxSize);
                        }
                    }
                }
                let map: IdxCa = map.into_iter().collect();
                let values = frame.column(VALUE)?.take(&map)?.with_name(name.into());
                wide.with_column(values)?;
                wide = wide
                    .lazy()
                    .with_column(col(name).fill_null(default).cast(kind_dtype(v.kind)))
                    .collect()?;
                continue;
            }
            match &v.query {
                Query::Age { date } => {
                    // Completed years: floor((yyyymmdd(date) - yyyymmdd(dob)) / 10000).
                    let keys: Vec<i32> = self
                        .series(date)?
                        .0
                        .iter()
                        .map(|&d| days_to_key(d).unwrap_or(0))
                        .collect();
                    let ages: Vec<i64> = base_idx
                        .iter()
                        .zip(&dob_keys)
                        .map(|(&i, b)| {
                            b.map_or(0, |b| {
                                (i64::from(keys[i as usize]) - i64::from(b)).div_euclid(10000)
                            })
                        })
                        .collect();
                    wide.with_column(Column::new(name.into(), ages))?;
                    continue;
                }
                Query::Categorised { cases, default } => {
                    // The position of the first true case (cases.len() = DEFAULT), then the
                    // labels: cheaper than a chain of string-valued when/then.
                    let mut position = lit(cases.len() as u32);
                    for (j, (_, e)) in cases.iter().enumerate().rev() {
                        position = when(expr::truthy(expr::translate(e, &var_type)))
                            .then(lit(j as u32))
                            .otherwise(position);
                    }
                    let positions = wide
                        .clone()
                        .lazy()
                        .select([position.cast(DataType::UInt32).alias("#case")])
                        .collect()?;
                    let positions = positions.column("#case")?.u32()?;
                    let label = |p: Option<u32>| {
                        p.and_then(|p| cases.get(p as usize))
                            .map_or(default, |(label, _)| label)
                    };
                    let column = match v.kind {
                        Kind::Int => Column::new(
                            name.into(),
                            positions
                                .iter()
                                .map(|p| match label(p) {
                                    crate::expr::Value::Int(i) => *i,
                                    _ => 0,
                                })
                                .collect::<Vec<i64>>(),
                        ),
                        _ => Column::new(
                            name.into(),
                            positions
                                .iter()
                                .map(|p| match label(p) {
                                    crate::expr::Value::Str(s) => s.as_str(),
                                    _ => "",
                                })
                                .collect::<Vec<&str>>(),
                        ),
                    };
                    wide.with_column(column)?;
                    continue;
                }
                _ => {}
            }
            let column = match &v.query {
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
                Query::Satisfying(e) => expr::truthy(expr::translate(e, &var_type)),
                Query::Registered(_)
                | Query::Practice { .. }
                | Query::Events { .. }
                | Query::Age { .. }
                | Query::Categorised { .. } => {
                    unreachable!("handled above")
                }
            };
            wide = wide
                .lazy()
                .with_column(column.cast(kind_dtype(v.kind)).alias(name))
                .collect()?;
        }

        let pop = study.population_variable();
        let mut select = vec![col(PID), col(IDX)];
        for v in study.output_variables() {
            select.push(col(v.name.as_str()).cast(kind_dtype(v.kind)));
        }
        Ok(wide
            .lazy()
            .filter(expr::truthy((
                col(pop.name.as_str()),
                kind_expr_type(pop.kind),
            )))
            .select(select)
            .collect()?)
    }
}

/// A date (days since 1970-01-01) as the integer yyyymmdd.
fn days_to_key(days: i32) -> Option<i32> {
    use chrono::Datelike;
    let d = crate::tables::days_to_date(days)?;
    Some(d.year() * 10000 + d.month() as i32 * 100 + d.day() as i32)
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
