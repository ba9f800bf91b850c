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
//! `categorised_as` and `satisfying` are polars column expressions over it. The base is put
//! in (index date, patient) order up front (a counting sort, applied to every gathered
//! column), so each date's rows are one slice of the result, handed to the sink date by date.
//! [`extract`] runs the dates in passes of [`auto_dates_per_pass`] dates (about
//! [`ROWS_PER_PASS`] rows each) to bound memory; what depends only on the tables (codelist
//! matches, registrations in patient and priority order, the patient index) is computed once
//! and shared by the passes.

mod expand;
mod expr;

use std::cell::{OnceCell, RefCell};
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
const ROW: &str = "#row";

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
    let per_pass = auto_dates_per_pass(tables.patients.height(), index_dates.len());
    extract_in_passes(study, tables, index_dates, per_pass, sink)
}

/// Rows (patient × index date pairs) a pass aims at: bounds the memory of a pass to a few
/// hundred megabytes whatever the number of patients.
pub const ROWS_PER_PASS: usize = 2_500_000;

/// How many of `n_dates` index dates [`extract`] evaluates per pass over tables of
/// `n_patients` patients: as many as keep a pass near [`ROWS_PER_PASS`] rows, balanced so
/// that the passes have about the same size.
pub fn auto_dates_per_pass(n_patients: usize, n_dates: usize) -> usize {
    let n_dates = n_dates.max(1);
    let fit = (ROWS_PER_PASS / n_patients.max(1)).clamp(1, n_dates);
    let passes = n_dates.div_ceil(fit);
    n_dates.div_ceil(passes)
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
    let cache = Cache::default();
    for chunk in dates.chunks(dates_per_pass.max(1)) {
        one_pass(study, tables, &cache, chunk, sink)?;
    }
    Ok(())
}

fn one_pass<E: From<ExtractError>>(
    study: &ir::Study,
    tables: &TableFrames,
    cache: &Cache,
    dates: &[NaiveDate],
    sink: &mut dyn FnMut(NaiveDate, DataFrame) -> Result<(), E>,
) -> Result<(), E> {
    let run = Run {
        study,
        tables,
        cache,
        days: dates.iter().map(|d| date_to_days(*d)).collect(),
    };
    // `all` is in (index date, patient) order: each date's rows are one slice.
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

/// Table-derived data shared by the passes of one extraction.
#[derive(Default)]
struct Cache {
    /// Clinical events matching a codelist (keyed by the codelist's address in the study).
    events: RefCell<HashMap<usize, DataFrame>>,
    registrations: OnceCell<Registrations>,
    /// Registration rows in practice priority order (see [`Run::practice`]).
    practice_order: OnceCell<Vec<usize>>,
    patients: OnceCell<PatientIndex>,
    /// Table columns gathered from, cast and in one chunk (keyed by table and column).
    columns: RefCell<HashMap<(&'static str, &'static str), Column>>,
}

/// The practice_registrations columns the engine reads, and the usable rows (patient and
/// start present) sorted by patient (stable).
struct Registrations {
    pids: Vec<Option<i64>>,
    starts: Vec<Option<i32>>,
    ends: Vec<Option<i32>>,
    practices: Vec<Option<i64>>,
    by_patient: Vec<usize>,
}

/// The first `patients` row of each patient id: `rows[j]` holds `ids[j]` (ascending).
struct PatientIndex {
    ids: Vec<i64>,
    rows: Vec<usize>,
}

/// The value in `cell`, computing it first if needed.
fn cached<T>(
    cell: &OnceCell<T>,
    f: impl FnOnce() -> Result<T, ExtractError>,
) -> Result<&T, ExtractError> {
    if cell.get().is_none() {
        let value = f()?;
        let _ = cell.set(value);
    }
    cell.get()
        .ok_or_else(|| internal("cache not filled".to_string()))
}

struct Run<'a> {
    study: &'a ir::Study,
    tables: &'a TableFrames,
    cache: &'a Cache,
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
        let k = self.k();
        let merged;
        let (pids, starts, ends, order, a, b) = match r {
            Registration::AsOf(d) => {
                let s = self.series(d)?;
                let regs = self.registrations()?;
                (
                    &regs.pids,
                    &regs.starts,
                    &regs.ends,
                    &regs.by_patient,
                    s.clone(),
                    s,
                )
            }
            Registration::OnePracticeBetween(a, b) => {
                let regs = self.registrations()?;
                (
                    &regs.pids,
                    &regs.starts,
                    &regs.ends,
                    &regs.by_patient,
                    self.series(a)?,
                    self.series(b)?,
                )
            }
            Registration::CompleteHistoryBetween(a, b) => {
                let (p, s, e) = merged_registrations(&self.tables.practice_registrations)?;
                let order = usable_by_patient(&p, &s);
                merged = (p, s, e, order);
                (
                    &merged.0,
                    &merged.1,
                    &merged.2,
                    &merged.3,
                    self.series(a)?,
                    self.series(b)?,
                )
            }
        };
        // start <= a_i  and  (end null or end > b_i); rows grouped by patient so each
        // (patient, index date) pair is emitted once, in (patient, index date) order.
        let (mut out_pid, mut out_idx) = (Vec::new(), Vec::new());
        let mut covered = vec![false; k];
        for group in order.chunk_by(|&x, &y| pids[x] == pids[y]) {
            covered.fill(false);
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

    /// (patient_id, #idx, #row) for each pair with a practice, `#row` being the chosen
    /// registration's row, and the registrations' column of the returned value.
    fn practice(
        &self,
        date: &DateExpr,
        returning: PracticeReturning,
    ) -> Result<(DataFrame, Column), ExtractError> {
        let ds = self.series(date)?;
        let k = self.k();
        let Registrations {
            pids,
            starts,
            ends,
            practices,
            by_patient,
        } = self.registrations()?;
        // Per patient, registrations in priority order: latest start, latest end (null =
        // latest), lowest practice id; each index date takes the first active one.
        let order = cached(&self.cache.practice_order, || {
            let end_key = |r: usize| ends[r].unwrap_or(i32::MAX);
            let mut order = by_patient.clone();
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
            Ok(order)
        })?;
        let (mut out_pid, mut out_idx, mut out_row) = (Vec::new(), Vec::new(), Vec::<u32>::new());
        let mut chosen: Vec<Option<usize>> = vec![None; k];
        for group in order.chunk_by(|&x, &y| pids[x] == pids[y]) {
            chosen.fill(None);
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
                    out_row.push(*r as u32);
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
        let source = self.table_column(names::PRACTICE_REGISTRATIONS, column, &dtype)?;
        let frame = DataFrame::new_infer_height(vec![
            Column::new(PID.into(), out_pid),
            Column::new(IDX.into(), out_idx),
            Column::new(ROW.into(), out_row),
        ])?;
        Ok((frame, source))
    }

    fn events(
        &self,
        codelist: &crate::codelist::Codelist,
        window: &Window,
        returning: EventsReturning,
        find: Find,
        format: crate::study::DateFormat,
    ) -> Result<DataFrame, ExtractError> {
        let matching = self.matching_events(codelist)?;
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

    /// Column `name` of `table`, cast to `dtype` and in one chunk (fast to gather from),
    /// computed once per extraction.
    fn table_column(
        &self,
        table: &'static str,
        name: &'static str,
        dtype: &DataType,
    ) -> PolarsResult<Column> {
        if let Some(c) = self.cache.columns.borrow().get(&(table, name)) {
            return Ok(c.clone());
        }
        let frame = match table {
            names::PATIENTS => &self.tables.patients,
            names::PRACTICE_REGISTRATIONS => &self.tables.practice_registrations,
            _ => &self.tables.clinical_events,
        };
        let c = Column::from(
            frame
                .column(name)?
                .cast(dtype)?
                .as_materialized_series()
                .rechunk(),
        );
        self.cache
            .columns
            .borrow_mut()
            .insert((table, name), c.clone());
        Ok(c)
    }

    fn registrations(&self) -> Result<&Registrations, ExtractError> {
        cached(&self.cache.registrations, || {
            let regs = &self.tables.practice_registrations;
            let pids = i64_values(regs, names::PATIENT_ID)?;
            let starts = date_values(regs, names::START_DATE)?;
            let by_patient = usable_by_patient(&pids, &starts);
            Ok(Registrations {
                ends: date_values(regs, names::END_DATE)?,
                practices: i64_values(regs, names::PRACTICE_PSEUDO_ID)?,
                pids,
                starts,
                by_patient,
            })
        })
    }

    fn patient_index(&self) -> Result<&PatientIndex, ExtractError> {
        cached(&self.cache.patients, || {
            let p_ids = i64_values(&self.tables.patients, PID)?;
            let mut rows: Vec<usize> = (0..p_ids.len()).filter(|&r| p_ids[r].is_some()).collect();
            rows.sort_by_key(|&r| p_ids[r]);
            rows.dedup_by_key(|r| p_ids[*r]);
            let ids = rows.iter().filter_map(|&r| p_ids[r]).collect();
            Ok(PatientIndex { ids, rows })
        })
    }

    /// The clinical events whose code is in `codelist` (patient, date, `#code`, numeric
    /// value), computed once per extraction.
    fn matching_events(
        &self,
        codelist: &crate::codelist::Codelist,
    ) -> Result<DataFrame, ExtractError> {
        let key = std::ptr::from_ref(codelist) as usize;
        if let Some(df) = self.cache.events.borrow().get(&key) {
            return Ok(df.clone());
        }
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
        self.cache.events.borrow_mut().insert(key, matching.clone());
        Ok(matching)
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
        // `pi_*`: the base in (patient, index date) order, as the sparse frames come.
        let pi_pid: Vec<i64> = i64_values(&base, PID)?.into_iter().flatten().collect();
        let pi_idx: Vec<u32> = base.column(IDX)?.u32()?.into_no_null_iter().collect();
        drop(base);
        let n = pi_pid.len();
        // The output order is (index date, patient), so that each date's rows are one slice:
        // final row j is base row `order[j]`.
        let order = by_index_date(&pi_idx, k);
        let base_idx = permute(&pi_idx, &order);
        let mut wide = DataFrame::new_infer_height(vec![
            Column::new(PID.into(), permute(&pi_pid, &order)),
            Column::new(IDX.into(), base_idx.clone()),
        ])?;
        // The base row of (patient, index date), if any.
        let locate = |pid: i64, idx: u32| -> Option<usize> {
            let mut r = pi_pid.partition_point(|&p| p < pid);
            while r < n && pi_pid[r] == pid {
                match pi_idx[r].cmp(&idx) {
                    std::cmp::Ordering::Equal => return Some(r),
                    std::cmp::Ordering::Greater => return None,
                    std::cmp::Ordering::Less => r += 1,
                }
            }
            None
        };
        // For each final row, the row of a sparse (patient, index date, …) frame with its
        // keys, if any.
        let scatter = |frame: &DataFrame| -> PolarsResult<Vec<Option<IdxSize>>> {
            let pids = frame.column(PID)?.cast(&DataType::Int64)?;
            let pids = pids.i64()?;
            let idx = frame.column(IDX)?.cast(&DataType::UInt32)?;
            let idx = idx.u32()?;
            let mut map: Vec<Option<IdxSize>> = vec![None; n];
            let sorted = pids.null_count() == 0
                && idx.null_count() == 0
                && pids
                    .into_no_null_iter()
                    .zip(idx.into_no_null_iter())
                    .is_sorted();
            if sorted {
                // Sorted like the base (registrations, practices): one linear merge.
                let mut r = 0;
                for (j, key) in pids
                    .into_no_null_iter()
                    .zip(idx.into_no_null_iter())
                    .enumerate()
                {
                    while r < n && (pi_pid[r], pi_idx[r]) < key {
                        r += 1;
                    }
                    if r < n && (pi_pid[r], pi_idx[r]) == key {
                        map[r] = Some(j as IdxSize);
                    }
                }
            } else {
                for (j, (p, i)) in pids.iter().zip(idx.iter()).enumerate() {
                    if let Some(r) = p.zip(i).and_then(|(p, i)| locate(p, i)) {
                        map[r] = Some(j as IdxSize);
                    }
                }
            }
            Ok(order.iter().map(|&r| map[r as usize]).collect())
        };

        // Patient attributes, gathered onto the base rows (first `patients` row per id).
        let uses = |f: fn(&Query) -> bool| study.variables.iter().any(|v| f(&v.query));
        let patients = &self.tables.patients;
        let PatientIndex {
            ids: sorted_ids,
            rows: p_order,
        } = self.patient_index()?;
        let gather_rows: Vec<Option<IdxSize>> = {
            // Both id lists ascending: one linear merge.
            let mut j = 0;
            let by_patient: Vec<Option<IdxSize>> = pi_pid
                .iter()
                .map(|&pid| {
                    while j < sorted_ids.len() && sorted_ids[j] < pid {
                        j += 1;
                    }
                    (j < sorted_ids.len() && sorted_ids[j] == pid).then(|| p_order[j] as IdxSize)
                })
                .collect();
            permute(&by_patient, &order)
        };
        // Date of birth as yyyymmdd, per base row (for ages).
        let dob_keys: Vec<Option<i32>> = if uses(|q| matches!(q, Query::Age { .. })) {
            let keys: Vec<Option<i32>> = date_values(patients, names::DATE_OF_BIRTH)?
                .into_iter()
                .map(|d| d.and_then(days_to_key))
                .collect();
            gather_rows.iter().map(|r| keys[(*r)? as usize]).collect()
        } else {
            Vec::new()
        };
        let gather: IdxCa = gather_rows.iter().copied().collect();
        drop(gather_rows);
        for (source, target, dtype, used) in [
            (
                names::DATE_OF_BIRTH,
                "#dob",
                DataType::Date,
                uses(|q| matches!(q, Query::DateOfBirth { .. })),
            ),
            (
                names::SEX,
                "#sex",
                DataType::String,
                uses(|q| matches!(q, Query::Sex)),
            ),
            (
                names::DATE_OF_DEATH,
                "#dod",
                DataType::Date,
                uses(|q| matches!(q, Query::Died { .. })),
            ),
        ] {
            if !used {
                continue;
            }
            let c = self
                .table_column(names::PATIENTS, source, &dtype)?
                .take(&gather)?
                .with_name(target.into());
            wide.with_column(c)?;
        }
        drop(gather);

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
            // Sparse (patient, index date, value) rows: either a VALUE column or, to gather
            // once, a `#row` column of rows of a source column.
            let sparse = match &v.query {
                Query::Registered(r) => Some((self.registered(r)?, None)),
                Query::Practice { date, returning } => {
                    let (frame, source) = self.practice(date, *returning)?;
                    Some((frame, Some(source)))
                }
                Query::Events {
                    codelist,
                    window,
                    returning,
                    find,
                    format,
                } => Some((
                    self.events(codelist, window, *returning, *find, *format)?,
                    None,
                )),
                _ => None,
            };
            if let Some((frame, source)) = sparse {
                let map = scatter(&frame)?;
                let values = match source {
                    Some(source) => {
                        let rows: Vec<u32> =
                            frame.column(ROW)?.u32()?.into_no_null_iter().collect();
                        let rows: IdxCa = map
                            .into_iter()
                            .map(|j| j.map(|j| rows[j as usize]))
                            .collect();
                        source.take(&rows)?
                    }
                    None => {
                        let map: IdxCa = map.into_iter().collect();
                        frame.column(VALUE)?.take(&map)?
                    }
                };
                drop(frame);
                let filled = DataFrame::new_infer_height(vec![values.with_name(name.into())])?
                    .lazy()
                    .select([col(name).fill_null(default).cast(kind_dtype(v.kind))])
                    .collect()?;
                wide.with_column(filled.column(name)?.clone())?;
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
                    let positions = case_positions(&wide, cases, &var_type, MAX_DOMAIN)?;
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
        let wide = wide.lazy();
        let wide = if base_is_population {
            wide
        } else {
            wide.filter(expr::truthy((
                col(pop.name.as_str()),
                kind_expr_type(pop.kind),
            )))
        };
        Ok(wide.select(select).collect()?)
    }
}

/// Largest range of values of a single integer variable that `categorised_as` evaluates
/// once per value rather than once per row.
const MAX_DOMAIN: i64 = 1 << 16;

/// The position of the first true case (`cases.len()` if none) per row of `wide`. When the
/// cases read one integer variable only (e.g. age bands) whose values span fewer than
/// `max_domain` integers, they are evaluated once per value of that span and looked up per
/// row.
fn case_positions(
    wide: &DataFrame,
    cases: &[(crate::expr::Value, crate::expr::Expr)],
    var_type: &dyn Fn(&str) -> ExprType,
    max_domain: i64,
) -> PolarsResult<UInt32Chunked> {
    let mut position = lit(cases.len() as u32);
    for (j, (_, e)) in cases.iter().enumerate().rev() {
        position = when(expr::truthy(expr::translate(e, var_type)))
            .then(lit(j as u32))
            .otherwise(position);
    }
    let position = position.cast(DataType::UInt32).alias("#case");
    let mut vars: Vec<&str> = cases.iter().flat_map(|(_, e)| e.names()).collect();
    vars.sort_unstable();
    vars.dedup();
    if let [var] = vars[..] {
        let values = wide.column(var)?;
        if var_type(var) == ExprType::Int
            && values.dtype() == &DataType::Int64
            && values.null_count() == 0
        {
            let values = values.i64()?;
            if let (Some(min), Some(max)) = (values.min(), values.max()) {
                if max.saturating_sub(min) < max_domain {
                    let domain = DataFrame::new_infer_height(vec![Column::new(
                        var.into(),
                        (min..=max).collect::<Vec<i64>>(),
                    )])?
                    .lazy()
                    .select([position])
                    .collect()?;
                    let table: Vec<Option<u32>> = domain.column("#case")?.u32()?.iter().collect();
                    return Ok(values
                        .into_no_null_iter()
                        .map(|v| table[(v - min) as usize])
                        .collect());
                }
            }
        }
    }
    let out = wide.clone().lazy().select([position]).collect()?;
    Ok(out.column("#case")?.u32()?.clone())
}

/// The rows with a patient and a start, sorted by patient (stable).
fn usable_by_patient(pids: &[Option<i64>], starts: &[Option<i32>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..pids.len())
        .filter(|&r| pids[r].is_some() && starts[r].is_some())
        .collect();
    order.sort_by_key(|&r| pids[r]);
    order
}

/// The row numbers of `idx` (index-date positions below `k`) sorted by index date, keeping
/// their order within a date (a counting sort).
fn by_index_date(idx: &[u32], k: usize) -> Vec<u32> {
    let mut next = vec![0usize; k + 1];
    for &i in idx {
        next[i as usize + 1] += 1;
    }
    for i in 0..k {
        next[i + 1] += next[i];
    }
    let mut order = vec![0u32; idx.len()];
    for (r, &i) in idx.iter().enumerate() {
        order[next[i as usize]] = r as u32;
        next[i as usize] += 1;
    }
    order
}

/// `v` reordered: element j is `v[order[j]]`.
fn permute<T: Copy>(v: &[T], order: &[u32]) -> Vec<T> {
    order.iter().map(|&r| v[r as usize]).collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Expr as CohortExpr, Value};

    #[test]
    fn passes_are_balanced_and_bounded() {
        assert_eq!(auto_dates_per_pass(1_000_000, 25), 2);
        assert_eq!(auto_dates_per_pass(100, 25), 25);
        assert_eq!(auto_dates_per_pass(0, 25), 25);
        assert_eq!(auto_dates_per_pass(3 * ROWS_PER_PASS, 25), 1);
        // 12 dates fit; 3 passes of at most 9 rather than 12 + 12 + 1.
        assert_eq!(auto_dates_per_pass(ROWS_PER_PASS / 12, 25), 9);
        assert_eq!(auto_dates_per_pass(10, 0), 1);
    }

    #[test]
    fn counting_sort_by_index_date_is_stable() {
        assert_eq!(by_index_date(&[2, 0, 1, 0, 2], 3), vec![1, 3, 2, 0, 4]);
        assert_eq!(by_index_date(&[], 4), Vec::<u32>::new());
        assert_eq!(permute(&[10, 20, 30], &[2, 0, 1]), vec![30, 10, 20]);
    }

    #[test]
    fn case_positions_by_value_match_row_by_row() {
        let case = |label: &str, text: &str| {
            (
                Value::Str(label.to_string()),
                CohortExpr::parse(text).expect("parse"),
            )
        };
        let cases = vec![
            case("young", "age >= 0 AND age < 20"),
            case("mid", "age >= 20 AND age < 60 OR age = 100"),
            case("old", "age >= 60 AND age < 120"),
        ];
        let ages: Vec<i64> = (-3..130).rev().chain([7, 7, 100]).collect();
        let wide = DataFrame::new_infer_height(vec![
            Column::new("age".into(), ages.clone()),
            Column::new("other".into(), vec![1i64; ages.len()]),
        ])
        .expect("frame");
        let var_type = |_: &str| ExprType::Int;
        let by_value = case_positions(&wide, &cases, &var_type, MAX_DOMAIN).expect("by value");
        let by_row = case_positions(&wide, &cases, &var_type, 0).expect("by row");
        assert!(by_value.equal_missing(&by_row).all());
        let expect = |a: i64| match a {
            0..20 => 0,
            20..60 | 100 => 1,
            60..120 => 2,
            _ => 3,
        };
        let want: Vec<u32> = ages.iter().map(|&a| expect(a)).collect();
        let got: Vec<u32> = by_value.into_no_null_iter().collect();
        assert_eq!(got, want);
    }
}
