//! Evaluation of query-model nodes for one pass (a few index dates) over polars frames.
//!
//! Patients are numbered by *rank* (position in the sorted list of every patient the dataset
//! can see). A patient-level value is a [`PVal`]: a constant, one value per index date of the
//! pass, one per patient, or one per (index date, patient) *slot* in a grid of `k × n`
//! (index-date major, so each date's rows are one slice). A frame is an [`FVal`]: its rows with
//! `#rank` and, once something in it depends on the index date, `#idx` (the row is then a
//! (row, index date) pair). Anything that does not depend on the index date is computed once
//! and shared by every pass.
//!
//! Filters on a table first apply their conditions that do not depend on the index date (so
//! the codelist match of an events query runs once over the table); conditions comparing a
//! row's column with a monotone function of the index date (`date <= index_date + 1 month`)
//! expand each row only to the contiguous run of index dates for which they hold (found by
//! binary search); any other index-dependent condition pairs rows with every date of the pass.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use polars::prelude::*;
use query::check::TypeOf;
use query::model::{
    Aggregate, Comparison, Frame, FrameRef, Function, MatchRule, Position, Series as Node,
    SeriesRef, PATIENT_ID,
};
use query::scalar::{self, Matchers};
use query::{Date, EngineError, Type, Value};

use crate::convert::{self, constant};
use crate::elementwise;

pub(crate) const RANK: &str = "#rank";
pub(crate) const IDX: &str = "#idx";

type R<T> = Result<T, EngineError>;

pub(crate) fn polars_err(e: PolarsError) -> EngineError {
    EngineError::Backend(format!("polars: {e}"))
}

trait OrEngine<T> {
    fn ee(self) -> R<T>;
}

impl<T> OrEngine<T> for PolarsResult<T> {
    fn ee(self) -> R<T> {
        self.map_err(polars_err)
    }
}

/// A patient-level value.
#[derive(Clone)]
pub(crate) enum PVal {
    /// The same for every patient and date.
    Const(Value, #[allow(dead_code)] Type),
    /// One per index date of the pass (length k).
    PerDate(Column),
    /// One per patient (length n).
    PerPatient(Column),
    /// One per (index date, patient) slot, date-major (length k × n).
    Grid(Column),
}

/// A frame's rows: `#rank`, `#idx` when `by_idx`, and the root's columns.
#[derive(Clone)]
pub(crate) struct FVal {
    pub(crate) df: DataFrame,
    pub(crate) by_idx: bool,
}

/// A mutex's guard, also after another thread panicked holding it (the maps it guards hold
/// only finished values).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Values computed once for every pass, by whichever pass (thread) asks first: the others
/// asking for the same key wait for it. Keys are node addresses; the query model is a DAG, so
/// a computation only waits on its descendants and never deadlocks.
pub(crate) struct Memo<V> {
    slots: Mutex<HashMap<usize, Arc<Mutex<Option<V>>>>>,
}

impl<V: Clone> Memo<V> {
    fn new() -> Self {
        Memo {
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn get_or_compute(&self, key: usize, compute: impl FnOnce() -> R<V>) -> R<V> {
        let slot = Arc::clone(lock(&self.slots).entry(key).or_default());
        let mut value = lock(&slot);
        if let Some(v) = &*value {
            return Ok(v.clone());
        }
        let v = compute()?;
        *value = Some(v.clone());
        Ok(v)
    }
}

/// State shared by every pass of one extraction (passes may run on several threads).
pub(crate) struct Shared<'a> {
    /// Tables by name, with the columns the dataset reads, cast to their query types.
    pub(crate) tables: &'a HashMap<String, DataFrame>,
    /// Every patient id, ascending.
    pub(crate) universe: Vec<i64>,
    /// Index-independent values and frames, shared by the passes.
    pvals: Memo<PVal>,
    fvals: Memo<Arc<FVal>>,
    /// The static part of filter chains with index-dependent conditions, by chain.
    statics: Memo<Arc<FVal>>,
}

impl<'a> Shared<'a> {
    pub(crate) fn new(tables: &'a HashMap<String, DataFrame>, universe: Vec<i64>) -> Self {
        Shared {
            tables,
            universe,
            pvals: Memo::new(),
            fvals: Memo::new(),
            statics: Memo::new(),
        }
    }

    fn n(&self) -> usize {
        self.universe.len()
    }
}

/// What one thread has worked out about the dataset's nodes: types, and which depend on the
/// index date or on the current row (memoised by node address).
#[derive(Default)]
pub(crate) struct Analysis {
    types: RefCell<TypeOf>,
    needs_idx_s: RefCell<HashMap<*const Node, bool>>,
    needs_idx_f: RefCell<HashMap<*const Frame, bool>>,
    row_level: RefCell<HashMap<*const Node, bool>>,
}

impl Analysis {
    pub(crate) fn ty(&self, s: &SeriesRef) -> Type {
        self.types.borrow_mut().of(s)
    }

    /// Whether a series depends on the index date.
    pub(crate) fn needs_idx(&self, s: &SeriesRef) -> bool {
        let key = Arc::as_ptr(s);
        if let Some(&b) = self.needs_idx_s.borrow().get(&key) {
            return b;
        }
        let b = match &**s {
            Node::IndexDate => true,
            Node::Value { .. } => false,
            Node::Column { frame, .. } => frame.is_patient_level() && self.frame_needs_idx(frame),
            _ => {
                let (mut series, mut frames) = (Vec::new(), Vec::new());
                query::check::visit_series_children(s, &mut series, &mut frames);
                series.iter().any(|c| self.needs_idx(c))
                    || frames.iter().any(|f| self.frame_needs_idx(f))
            }
        };
        self.needs_idx_s.borrow_mut().insert(key, b);
        b
    }

    /// Whether a frame's rows depend on the index date.
    pub(crate) fn frame_needs_idx(&self, f: &FrameRef) -> bool {
        let key = Arc::as_ptr(f);
        if let Some(&b) = self.needs_idx_f.borrow().get(&key) {
            return b;
        }
        let b = match &**f {
            Frame::Table(_) | Frame::Inline(_) => false,
            Frame::Concat { parts, .. } => parts.iter().any(|(p, series)| {
                self.frame_needs_idx(p) || series.iter().any(|s| self.needs_idx(s))
            }),
            Frame::Filter { source, condition } => {
                self.frame_needs_idx(source) || self.needs_idx(condition)
            }
            Frame::Pick {
                source, sort_by, ..
            } => self.frame_needs_idx(source) || sort_by.iter().any(|s| self.needs_idx(s)),
        };
        self.needs_idx_f.borrow_mut().insert(key, b);
        b
    }

    /// Whether a series needs the current row (a row-level column below it, outside any
    /// aggregate or patient-level frame).
    pub(crate) fn is_row_level(&self, s: &SeriesRef) -> bool {
        let key = Arc::as_ptr(s);
        if let Some(&b) = self.row_level.borrow().get(&key) {
            return b;
        }
        let b = match &**s {
            Node::Value { .. } | Node::IndexDate | Node::Aggregate { .. } => false,
            Node::Column { frame, .. } => !frame.is_patient_level(),
            Node::Function(Function::ExistsMatching { value, .. }) => self.is_row_level(value),
            Node::Function(_) => {
                let (mut series, mut frames) = (Vec::new(), Vec::new());
                query::check::visit_series_children(s, &mut series, &mut frames);
                series.iter().any(|c| self.is_row_level(c))
            }
        };
        self.row_level.borrow_mut().insert(key, b);
        b
    }

    /// Whether a series uses nothing but constants and the index date.
    fn is_date_only(&self, s: &SeriesRef) -> bool {
        match &**s {
            Node::Value { .. } | Node::IndexDate => true,
            Node::Function(f) => {
                !matches!(f, Function::ExistsMatching { .. })
                    && scalar::arguments(f).iter().all(|a| self.is_date_only(a))
            }
            _ => false,
        }
    }

    /// Whether a row-level series reads a patient-level value (so it needs `#rank`).
    fn reads_patient(&self, s: &SeriesRef) -> bool {
        if !self.is_row_level(s) {
            return !matches!(&**s, Node::Value { .. });
        }
        match &**s {
            Node::Column { .. } => false,
            Node::Function(Function::ExistsMatching { .. }) => true,
            _ => {
                let (mut series, mut frames) = (Vec::new(), Vec::new());
                query::check::visit_series_children(s, &mut series, &mut frames);
                series.iter().any(|c| self.reads_patient(c))
            }
        }
    }
}

/// One pass: the index dates `dates` (ascending).
pub(crate) struct Pass<'s, 'a> {
    pub(crate) shared: &'s Shared<'a>,
    pub(crate) dates: Vec<Date>,
    an: Analysis,
    matchers: RefCell<Matchers>,
    pvals: RefCell<HashMap<*const Node, PVal>>,
    fvals: RefCell<HashMap<*const Frame, Arc<FVal>>>,
}

/// The ranks of `pids` in the sorted `universe` (every id must be there).
fn ranks(universe: &[i64], pids: &Int64Chunked) -> R<IdxCa> {
    let mut out: Vec<IdxSize> = Vec::with_capacity(pids.len());
    for pid in pids.iter() {
        let pid = pid.ok_or_else(|| EngineError::Data("a patient_id is null".into()))?;
        match universe.binary_search(&pid) {
            Ok(r) => out.push(r as IdxSize),
            Err(_) => return Err(EngineError::Data(format!("patient {pid} not indexed"))),
        }
    }
    Ok(IdxCa::from_vec(RANK.into(), out))
}

fn take_rows(df: &DataFrame, rows: Vec<IdxSize>) -> R<DataFrame> {
    df.take(&IdxCa::from_vec("#rows".into(), rows)).ee()
}

fn idx_values(df: &DataFrame, name: &str) -> R<Vec<IdxSize>> {
    let c = df.column(name).ee()?;
    let c = c.cast(&IDX_DTYPE).ee()?;
    Ok(c.idx().ee()?.into_no_null_iter().collect())
}

impl<'s, 'a> Pass<'s, 'a> {
    pub(crate) fn new(shared: &'s Shared<'a>, dates: Vec<Date>) -> Self {
        Pass {
            shared,
            dates,
            an: Analysis::default(),
            matchers: RefCell::default(),
            pvals: RefCell::default(),
            fvals: RefCell::default(),
        }
    }

    fn k(&self) -> usize {
        self.dates.len()
    }

    fn n(&self) -> usize {
        self.shared.n()
    }

    // --- patient-level values ------------------------------------------------------------

    /// The value of a patient-level series.
    pub(crate) fn pval(&self, s: &SeriesRef) -> R<PVal> {
        if !self.an.needs_idx(s) {
            return self
                .shared
                .pvals
                .get_or_compute(Arc::as_ptr(s) as usize, || self.compute_pval(s));
        }
        let key = Arc::as_ptr(s);
        if let Some(v) = self.pvals.borrow().get(&key) {
            return Ok(v.clone());
        }
        let v = self.compute_pval(s)?;
        self.pvals.borrow_mut().insert(key, v.clone());
        Ok(v)
    }

    fn compute_pval(&self, s: &SeriesRef) -> R<PVal> {
        let ty = self.an.ty(s);
        match &**s {
            Node::Value { value, ty } => Ok(PVal::Const(value.clone(), *ty)),
            Node::IndexDate => Ok(PVal::PerDate(convert::date_column(
                self.dates.iter().map(|d| Some(d.0)),
            ))),
            Node::Column { frame, column } => {
                let fv = self.fval(frame)?;
                let c = fv.df.column(column).ee()?.clone();
                self.scatter(&fv, &c, &Value::Null, ty)
            }
            Node::Aggregate { frame, function } => {
                let fv = self.fval(frame)?;
                self.aggregate(&fv, function, ty)
            }
            Node::Function(f) => {
                let args = scalar::arguments(f);
                let vals = args
                    .iter()
                    .map(|a| self.pval(a))
                    .collect::<R<Vec<PVal>>>()?;
                let arg_types: Vec<Type> = args.iter().map(|a| self.an.ty(a)).collect();
                self.function(f, &vals, &arg_types, ty)
            }
        }
    }

    /// A function of patient-level values: computed once per shape.
    fn function(&self, f: &Function, vals: &[PVal], arg_types: &[Type], ty: Type) -> R<PVal> {
        if let Function::ExistsMatching { .. } = f {
            return Err(EngineError::Backend(
                "exists-matching outside a row context".into(),
            ));
        }
        if let (Function::YearsBetween(..), [PVal::PerPatient(from), PVal::PerDate(to)]) = (f, vals)
        {
            return Ok(PVal::Grid(self.ages(from, to)?));
        }
        let has = |pred: fn(&PVal) -> bool| vals.iter().any(pred);
        let grid = has(|v| matches!(v, PVal::Grid(_)))
            || (has(|v| matches!(v, PVal::PerDate(_)))
                && has(|v| matches!(v, PVal::PerPatient(_))));
        let (len, shape) = if grid {
            (self.k() * self.n(), 3)
        } else if has(|v| matches!(v, PVal::PerPatient(_))) {
            (self.n(), 2)
        } else if has(|v| matches!(v, PVal::PerDate(_))) {
            (self.k(), 1)
        } else {
            let args: Vec<Value> = vals
                .iter()
                .map(|v| match v {
                    PVal::Const(x, _) => x.clone(),
                    _ => Value::Null,
                })
                .collect();
            return Ok(PVal::Const(
                scalar::apply(f, &args, &mut self.matchers.borrow_mut()),
                ty,
            ));
        };
        let cols = vals
            .iter()
            .zip(arg_types)
            .map(|(v, t)| self.broadcast(v, *t, shape))
            .collect::<R<Vec<Column>>>()?;
        let out = elementwise::apply(
            f,
            &cols,
            arg_types,
            ty,
            len,
            &mut self.matchers.borrow_mut(),
        )
        .ee()?;
        Ok(match shape {
            1 => PVal::PerDate(out),
            2 => PVal::PerPatient(out),
            _ => PVal::Grid(out),
        })
    }

    /// Completed years from each patient's date `from` to each index date `to` of the pass (an
    /// age), on the grid: the dates become `yyyymmdd` numbers once per patient and per date, and
    /// the years of a slot are their difference divided by 10,000, rounded down (as
    /// [`Date::years_until`]).
    fn ages(&self, from: &Column, to: &Column) -> R<Column> {
        let keys = |c: &Column| -> R<Vec<Option<i64>>> {
            let days = c.cast(&DataType::Date).ee()?;
            let days = days.date().ee()?.physical().rechunk();
            Ok(days
                .iter()
                .map(|d| {
                    d.map(|d| {
                        let (y, m, d) = Date(d).ymd();
                        i64::from(y) * 10_000 + i64::from(m) * 100 + i64::from(d)
                    })
                })
                .collect())
        };
        let (from, to) = (keys(from)?, keys(to)?);
        let mut values = Vec::with_capacity(from.len() * to.len());
        let mut valid = Vec::with_capacity(from.len() * to.len());
        for t in &to {
            for f in &from {
                match (f, t) {
                    (Some(f), Some(t)) => {
                        values.push((t - f).div_euclid(10_000));
                        valid.push(true);
                    }
                    _ => {
                        values.push(0);
                        valid.push(false);
                    }
                }
            }
        }
        let mut out = Int64Chunked::from_vec("#v".into(), values);
        if valid.iter().any(|v| !v) {
            let mask = BooleanChunked::from_slice("#valid".into(), &valid);
            out = out.set(&!&mask, None).ee()?;
        }
        Ok(Column::from(out.into_series()))
    }

    /// A value as a column of shape 1 (per date), 2 (per patient) or 3 (grid).
    fn broadcast(&self, v: &PVal, ty: Type, shape: u8) -> R<Column> {
        let (k, n) = (self.k(), self.n());
        let len = match shape {
            1 => k,
            2 => n,
            _ => k * n,
        };
        Ok(match v {
            PVal::Const(x, _) => constant(x, ty, len),
            PVal::PerDate(c) if shape == 1 => c.clone(),
            PVal::PerPatient(c) if shape == 2 => c.clone(),
            PVal::Grid(c) => c.clone(),
            PVal::PerDate(c) => {
                let idx: Vec<IdxSize> = (0..k)
                    .flat_map(|i| std::iter::repeat_n(i as IdxSize, n))
                    .collect();
                c.take_slice(&idx).ee()?
            }
            PVal::PerPatient(c) => {
                let idx: Vec<IdxSize> = (0..k).flat_map(|_| (0..n).map(|r| r as IdxSize)).collect();
                c.take_slice(&idx).ee()?
            }
        })
    }

    /// The patient-level values of a frame's column: each row's value at its slot.
    fn scatter(&self, fv: &FVal, c: &Column, fill: &Value, ty: Type) -> R<PVal> {
        let (len, slots) = self.slots(fv)?;
        let mut map: Vec<Option<IdxSize>> = vec![None; len];
        for (row, &slot) in slots.iter().enumerate() {
            map[slot] = Some(row as IdxSize);
        }
        let map: IdxCa = map.into_iter().collect();
        let mut out = c.take(&map).ee()?;
        if !fill.is_null() {
            out = out.fill_null(FillNullStrategy::Zero).ee()?;
            if let Value::Bool(true) = fill {
                out = constant(fill, ty, len)
                    .zip_with(&out.is_null(), &out)
                    .ee()?;
            }
        }
        let out = out.cast(&convert::dtype(ty)).ee()?;
        Ok(if fv.by_idx {
            PVal::Grid(out)
        } else {
            PVal::PerPatient(out)
        })
    }

    /// Each row's slot (rank, or date × n + rank) and the number of slots.
    fn slots(&self, fv: &FVal) -> R<(usize, Vec<usize>)> {
        let n = self.n();
        let ranks = idx_values(&fv.df, RANK)?;
        if fv.by_idx {
            let idx = idx_values(&fv.df, IDX)?;
            Ok((
                self.k() * n,
                ranks
                    .iter()
                    .zip(&idx)
                    .map(|(&r, &i)| i as usize * n + r as usize)
                    .collect(),
            ))
        } else {
            Ok((n, ranks.iter().map(|&r| r as usize).collect()))
        }
    }

    /// Materialised values of a patient-level value, indexed by grid slot.
    fn values_at_slots(&self, v: &PVal) -> R<Box<dyn Fn(usize) -> Value>> {
        let n = self.n();
        Ok(match v {
            PVal::Const(x, _) => {
                let x = x.clone();
                Box::new(move |_| x.clone())
            }
            PVal::PerDate(c) => {
                let vs = convert::values(c).ee()?;
                Box::new(move |slot| vs[slot / n.max(1)].clone())
            }
            PVal::PerPatient(c) => {
                let vs = convert::values(c).ee()?;
                Box::new(move |slot| vs[slot % n.max(1)].clone())
            }
            PVal::Grid(c) => {
                let vs = convert::values(c).ee()?;
                Box::new(move |slot| vs[slot].clone())
            }
        })
    }

    // --- aggregates ------------------------------------------------------------------------

    fn aggregate(&self, fv: &FVal, function: &Aggregate, ty: Type) -> R<PVal> {
        let (len, slots) = self.slots(fv)?;
        let shape = |c: Column| {
            if fv.by_idx {
                PVal::Grid(c)
            } else {
                PVal::PerPatient(c)
            }
        };
        match function {
            Aggregate::Exists => {
                let mut out = vec![false; len];
                for &s in &slots {
                    out[s] = true;
                }
                Ok(shape(Column::new("#v".into(), out)))
            }
            Aggregate::Count => {
                let mut out = vec![0i64; len];
                for &s in &slots {
                    out[s] += 1;
                }
                Ok(shape(Column::new("#v".into(), out)))
            }
            Aggregate::Min(x)
            | Aggregate::Max(x)
            | Aggregate::Sum(x)
            | Aggregate::Mean(x)
            | Aggregate::CountDistinct(x) => {
                let values = self.row_col(x, fv)?;
                let slot_col = Column::new(
                    "#slot".into(),
                    slots.iter().map(|&s| s as IdxSize).collect::<Vec<_>>(),
                );
                let df = DataFrame::new_infer_height(vec![slot_col, values.with_name("#x".into())])
                    .ee()?;
                let agg = match function {
                    Aggregate::Min(_) => col("#x").min(),
                    Aggregate::Max(_) => col("#x").max(),
                    Aggregate::Sum(_) => col("#x").sum(),
                    Aggregate::Mean(_) => col("#x").cast(DataType::Float64).mean(),
                    _ => col("#x").n_unique().cast(DataType::Int64),
                };
                let grouped = df
                    .lazy()
                    .filter(col("#x").is_not_null())
                    .group_by([col("#slot")])
                    .agg([agg.alias("#v")])
                    .collect()
                    .ee()?;
                let gslots = idx_values(&grouped, "#slot")?;
                let mut map: Vec<Option<IdxSize>> = vec![None; len];
                for (row, &s) in gslots.iter().enumerate() {
                    map[s as usize] = Some(row as IdxSize);
                }
                let map: IdxCa = map.into_iter().collect();
                let mut out = grouped
                    .column("#v")
                    .ee()?
                    .take(&map)
                    .ee()?
                    .cast(&convert::dtype(ty))
                    .ee()?;
                if matches!(function, Aggregate::CountDistinct(_)) {
                    out = out.fill_null(FillNullStrategy::Zero).ee()?;
                }
                Ok(shape(out))
            }
            Aggregate::Mode(x) => {
                let values = convert::values(&self.row_col(x, fv)?).ee()?;
                let mut counts: HashMap<(usize, Value), usize> = HashMap::new();
                for (s, v) in slots.iter().zip(values) {
                    if !v.is_null() {
                        *counts.entry((*s, v)).or_default() += 1;
                    }
                }
                let mut best: HashMap<usize, (usize, Value)> = HashMap::new();
                for ((s, v), c) in counts {
                    let better = match best.get(&s) {
                        None => true,
                        Some((bc, bv)) => c > *bc || (c == *bc && v.total_cmp(bv).is_gt()),
                    };
                    if better {
                        best.insert(s, (c, v));
                    }
                }
                let mut out = vec![Value::Null; len];
                for (s, (_, v)) in best {
                    out[s] = v;
                }
                Ok(shape(convert::from_values(&out, ty)))
            }
            Aggregate::CountEpisodes { date, max_gap_days } => {
                let dates = convert::values(&self.row_col(date, fv)?).ee()?;
                let mut pairs: Vec<(usize, i32)> = slots
                    .iter()
                    .zip(&dates)
                    .filter_map(|(&s, d)| d.as_date().map(|d| (s, d.0)))
                    .collect();
                pairs.sort_unstable();
                let mut out = vec![0i64; len];
                let mut previous: Option<(usize, i32)> = None;
                for (s, d) in pairs {
                    let new = match previous {
                        Some((ps, pd)) if ps == s => i64::from(d - pd) > *max_gap_days,
                        _ => true,
                    };
                    if new {
                        out[s] += 1;
                    }
                    previous = Some((s, d));
                }
                Ok(shape(Column::new("#v".into(), out)))
            }
            Aggregate::SumOfGroupMax { key, value, add } => {
                let keys = convert::values(&self.row_col(key, fv)?).ee()?;
                let vals = convert::values(&self.row_col(value, fv)?).ee()?;
                let mut groups: HashMap<(usize, Value), Option<i64>> = HashMap::new();
                for ((s, k), v) in slots.iter().zip(keys).zip(vals) {
                    let g = groups.entry((*s, k)).or_insert(None);
                    if let Some(v) = v.as_int() {
                        *g = Some(g.map_or(v, |x| x.max(v)));
                    }
                }
                let mut out = vec![0i64; len];
                for ((s, _), m) in groups {
                    if let Some(m) = m {
                        out[s] = out[s].wrapping_add(m.wrapping_add(*add));
                    }
                }
                Ok(shape(Column::new("#v".into(), out)))
            }
            Aggregate::SpanCovered {
                start,
                end,
                from,
                to,
            } => {
                let starts = convert::values(&self.row_col(start, fv)?).ee()?;
                let ends = convert::values(&self.row_col(end, fv)?).ee()?;
                let (pf, pt) = (self.pval(from)?, self.pval(to)?);
                let grid = fv.by_idx
                    || matches!(pf, PVal::Grid(_) | PVal::PerDate(_))
                    || matches!(pt, PVal::Grid(_) | PVal::PerDate(_));
                let (f_at, t_at) = (self.values_at_slots(&pf)?, self.values_at_slots(&pt)?);
                let n = self.n();
                // Rows grouped by rank (and date, when the frame has one).
                let ranks = idx_values(&fv.df, RANK)?;
                let mut by_group: HashMap<usize, Vec<(Date, Option<Date>)>> = HashMap::new();
                for (row, &s) in slots.iter().enumerate() {
                    if let Some(st) = starts[row].as_date() {
                        let group = if fv.by_idx { s } else { ranks[row] as usize };
                        by_group
                            .entry(group)
                            .or_default()
                            .push((st, ends[row].as_date()));
                    }
                }
                let out_len = if grid { self.k() * n } else { n };
                let mut out = vec![false; out_len];
                for (group, mut intervals) in by_group {
                    intervals.sort_by_key(|&(s, _)| s);
                    let merged = merge_intervals(&intervals);
                    let slots_of_group: Vec<usize> = if fv.by_idx || !grid {
                        vec![group]
                    } else {
                        (0..self.k()).map(|i| i * n + group).collect()
                    };
                    for slot in slots_of_group {
                        let (Some(a), Some(b)) = (f_at(slot).as_date(), t_at(slot).as_date())
                        else {
                            continue;
                        };
                        out[slot] = merged
                            .iter()
                            .any(|&(s, e)| s <= a && e.is_none_or(|e| e > b));
                    }
                }
                let c = Column::new("#v".into(), out);
                Ok(if grid {
                    PVal::Grid(c)
                } else {
                    PVal::PerPatient(c)
                })
            }
        }
    }

    // --- row-level values ------------------------------------------------------------------

    /// A series evaluated on every row of `fv`.
    pub(crate) fn row_col(&self, s: &SeriesRef, fv: &FVal) -> R<Column> {
        let len = fv.df.height();
        if !self.an.is_row_level(s) {
            let v = self.pval(s)?;
            return self.gather(&v, fv, self.an.ty(s));
        }
        match &**s {
            Node::Column { column, .. } => Ok(fv.df.column(column).ee()?.clone()),
            Node::Function(Function::ExistsMatching { frame, key, value }) => {
                self.exists_matching(fv, frame, key, value)
            }
            Node::Function(f) => {
                let args = scalar::arguments(f);
                let cols = args
                    .iter()
                    .map(|a| self.row_col(a, fv))
                    .collect::<R<Vec<Column>>>()?;
                let arg_types: Vec<Type> = args.iter().map(|a| self.an.ty(a)).collect();
                elementwise::apply(
                    f,
                    &cols,
                    &arg_types,
                    self.an.ty(s),
                    len,
                    &mut self.matchers.borrow_mut(),
                )
                .ee()
            }
            _ => Err(EngineError::Backend("unexpected row-level series".into())),
        }
    }

    /// A patient-level value on every row of `fv`.
    fn gather(&self, v: &PVal, fv: &FVal, ty: Type) -> R<Column> {
        let len = fv.df.height();
        Ok(match v {
            PVal::Const(x, _) => constant(x, ty, len),
            PVal::PerPatient(c) => c.take(fv.df.column(RANK).ee()?.idx().ee()?).ee()?,
            PVal::PerDate(c) => {
                if !fv.by_idx {
                    return Err(EngineError::Backend(
                        "index-dependent value on rows without index dates".into(),
                    ));
                }
                c.take(fv.df.column(IDX).ee()?.idx().ee()?).ee()?
            }
            PVal::Grid(c) => {
                if !fv.by_idx {
                    return Err(EngineError::Backend(
                        "index-dependent value on rows without index dates".into(),
                    ));
                }
                let (_, slots) = self.slots(fv)?;
                let slots: Vec<IdxSize> = slots.into_iter().map(|s| s as IdxSize).collect();
                c.take_slice(&slots).ee()?
            }
        })
    }

    fn exists_matching(
        &self,
        fv: &FVal,
        frame: &FrameRef,
        key: &SeriesRef,
        value: &SeriesRef,
    ) -> R<Column> {
        let other = self.fval(frame)?;
        let keys = convert::values(&self.row_col(key, &other)?).ee()?;
        let other_ranks = idx_values(&other.df, RANK)?;
        let other_idx = if other.by_idx {
            Some(idx_values(&other.df, IDX)?)
        } else {
            None
        };
        let mut set: HashSet<(IdxSize, IdxSize, Value)> = HashSet::new();
        for (row, k) in keys.into_iter().enumerate() {
            if !k.is_null() {
                let i = other_idx.as_ref().map_or(0, |x| x[row]);
                set.insert((other_ranks[row], i, k));
            }
        }
        let wanted = convert::values(&self.row_col(value, fv)?).ee()?;
        let ranks = idx_values(&fv.df, RANK)?;
        let idx = if fv.by_idx && other.by_idx {
            Some(idx_values(&fv.df, IDX)?)
        } else {
            None
        };
        let out: Vec<bool> = wanted
            .into_iter()
            .enumerate()
            .map(|(row, w)| {
                !w.is_null() && {
                    let i = idx.as_ref().map_or(0, |x| x[row]);
                    set.contains(&(ranks[row], i, w))
                }
            })
            .collect();
        Ok(Column::new("#v".into(), out))
    }

    // --- frames ----------------------------------------------------------------------------

    /// The rows of a frame.
    pub(crate) fn fval(&self, f: &FrameRef) -> R<Arc<FVal>> {
        if !self.an.frame_needs_idx(f) {
            return self
                .shared
                .fvals
                .get_or_compute(Arc::as_ptr(f) as usize, || {
                    self.compute_fval(f).map(Arc::new)
                });
        }
        let key = Arc::as_ptr(f);
        if let Some(v) = self.fvals.borrow().get(&key) {
            return Ok(Arc::clone(v));
        }
        let v = Arc::new(self.compute_fval(f)?);
        self.fvals.borrow_mut().insert(key, Arc::clone(&v));
        Ok(v)
    }

    fn compute_fval(&self, f: &FrameRef) -> R<FVal> {
        match &**f {
            Frame::Filter { .. } => {
                let (root, conjuncts) = chain(f);
                let (dynamic, static_): (Vec<&SeriesRef>, Vec<&SeriesRef>) =
                    conjuncts.into_iter().partition(|c| self.an.needs_idx(c));
                let base = self.static_part(f, root, &static_)?;
                self.apply_dynamic(&base, &dynamic)
            }
            Frame::Pick {
                source,
                sort_by,
                position,
            } => self.pick(source, sort_by, *position),
            _ => self.root(f, &[]),
        }
    }

    /// The rows of a chain's root filtered by its index-independent conditions (shared by
    /// the passes).
    fn static_part(
        &self,
        chain_top: &FrameRef,
        root: &FrameRef,
        conds: &[&SeriesRef],
    ) -> R<Arc<FVal>> {
        self.shared
            .statics
            .get_or_compute(Arc::as_ptr(chain_top) as usize, || {
                if conds.is_empty() {
                    self.fval(root)
                } else {
                    Ok(Arc::new(self.root(root, conds)?))
                }
            })
    }

    /// A root frame's rows, filtered by `conds` (index-independent conditions).
    fn root(&self, f: &FrameRef, conds: &[&SeriesRef]) -> R<FVal> {
        let mut fv = match &**f {
            Frame::Table(schema) => {
                let Some(df) = self.shared.tables.get(&schema.name) else {
                    return Err(EngineError::MissingTable {
                        table: schema.name.clone(),
                        location: String::new(),
                    });
                };
                // Conditions that read only the row run before patients are ranked.
                let (pure, rest): (Vec<&SeriesRef>, Vec<&SeriesRef>) =
                    conds.iter().partition(|c| !self.an.reads_patient(c));
                let mut fv = FVal {
                    df: df.clone(),
                    by_idx: false,
                };
                for c in pure {
                    fv = self.filter_rows(&fv, c)?;
                }
                let pids = fv.df.column(PATIENT_ID).ee()?.i64().ee()?.clone();
                let ranks = ranks(&self.shared.universe, &pids)?;
                if schema.one_row_per_patient {
                    let mut seen = vec![false; self.n()];
                    for (r, pid) in ranks.into_no_null_iter().zip(pids.into_no_null_iter()) {
                        if std::mem::replace(&mut seen[r as usize], true) {
                            return Err(EngineError::Data(format!(
                                "table `{}` has more than one row for patient {pid}",
                                schema.name
                            )));
                        }
                    }
                }
                fv.df.with_column(Column::from(ranks.into_series())).ee()?;
                for c in rest {
                    fv = self.filter_rows(&fv, c)?;
                }
                return Ok(fv);
            }
            Frame::Inline(table) => {
                // Only the rows of the universe's patients (a partitioned run has a part of it).
                let (ranks, rows): (Vec<IdxSize>, Vec<&Vec<Value>>) = table
                    .rows
                    .iter()
                    .filter_map(|(pid, row)| {
                        let r = self.shared.universe.binary_search(pid).ok()?;
                        Some((r as IdxSize, row))
                    })
                    .unzip();
                let mut cols = vec![Column::new(RANK.into(), ranks)];
                for (i, c) in table.schema.columns.iter().enumerate() {
                    let values: Vec<Value> = rows.iter().map(|row| row[i].clone()).collect();
                    cols.push(
                        convert::from_values(&values, c.ty).with_name(c.name.as_str().into()),
                    );
                }
                FVal {
                    df: DataFrame::new_infer_height(cols).ee()?,
                    by_idx: false,
                }
            }
            Frame::Concat { columns, parts } => {
                let mut frames = Vec::new();
                let mut any_idx = false;
                for (part, series) in parts {
                    let fv = self.fval(part)?;
                    let mut cols = vec![fv.df.column(RANK).ee()?.clone()];
                    if fv.by_idx {
                        cols.push(fv.df.column(IDX).ee()?.clone());
                        any_idx = true;
                    }
                    for (s, (name, ty)) in series.iter().zip(columns) {
                        let c = self
                            .row_col(s, &fv)?
                            .cast(&convert::dtype(*ty))
                            .ee()?
                            .with_name(name.as_str().into());
                        cols.push(c);
                    }
                    frames.push(FVal {
                        df: DataFrame::new_infer_height(cols).ee()?,
                        by_idx: fv.by_idx,
                    });
                }
                let mut out: Option<DataFrame> = None;
                for fv in frames {
                    let fv = if any_idx && !fv.by_idx {
                        self.expand(&fv, None)?
                    } else {
                        fv
                    };
                    out = Some(match out {
                        None => fv.df,
                        Some(df) => df.vstack(&fv.df).ee()?,
                    });
                }
                FVal {
                    df: out.unwrap_or_default(),
                    by_idx: any_idx,
                }
            }
            Frame::Pick { .. } | Frame::Filter { .. } => (*self.fval(f)?).clone(),
        };
        for c in conds {
            fv = self.filter_rows(&fv, c)?;
        }
        Ok(fv)
    }

    /// The rows of `fv` for which `c` is true.
    fn filter_rows(&self, fv: &FVal, c: &SeriesRef) -> R<FVal> {
        // A codelist match on a column of a big table: a polars semi join.
        if let Node::Function(Function::InCodelist {
            code,
            codelist,
            rule,
        }) = &**c
        {
            if let (Node::Column { column, .. }, MatchRule::EXACT) = (&**code, *rule) {
                let codes = Column::new(
                    "#code".into(),
                    codelist
                        .codes
                        .keys()
                        .map(String::as_str)
                        .collect::<Vec<_>>(),
                );
                let codes = DataFrame::new_infer_height(vec![codes]).ee()?;
                let df = fv
                    .df
                    .clone()
                    .lazy()
                    .join(
                        codes.lazy(),
                        [col(column.as_str())],
                        [col("#code")],
                        JoinArgs::new(JoinType::Semi),
                    )
                    .collect()
                    .ee()?;
                return Ok(FVal {
                    df,
                    by_idx: fv.by_idx,
                });
            }
        }
        let mask = self.row_col(c, fv)?;
        let mask = mask
            .cast(&DataType::Boolean)
            .ee()?
            .bool()
            .ee()?
            .fill_null_with_values(false)
            .ee()?;
        Ok(FVal {
            df: fv.df.filter(&mask).ee()?,
            by_idx: fv.by_idx,
        })
    }

    /// Applies index-dependent conditions: rows become (row, index date) pairs.
    fn apply_dynamic(&self, base: &FVal, conds: &[&SeriesRef]) -> R<FVal> {
        if conds.is_empty() {
            return Ok(base.clone());
        }
        let mut rest: Vec<&SeriesRef> = Vec::new();
        let mut fv = if base.by_idx {
            rest.extend(conds);
            base.clone()
        } else {
            let mut ranges = Vec::new();
            for c in conds {
                match self.range_condition(c, base)? {
                    Some(r) => ranges.push(r),
                    None => rest.push(c),
                }
            }
            self.expand(base, Some(&ranges))?
        };
        for c in rest {
            fv = self.filter_rows(&fv, c)?;
        }
        Ok(fv)
    }

    /// Rows paired with the index dates of the pass: those within every range, or all.
    fn expand(&self, fv: &FVal, ranges: Option<&[Vec<(u32, u32)>]>) -> R<FVal> {
        let k = self.k() as u32;
        let h = fv.df.height();
        let mut rows: Vec<IdxSize> = Vec::new();
        let mut idx: Vec<IdxSize> = Vec::new();
        for r in 0..h {
            let (mut lo, mut hi) = (0u32, k);
            for range in ranges.unwrap_or(&[]) {
                lo = lo.max(range[r].0);
                hi = hi.min(range[r].1);
            }
            for i in lo..hi {
                rows.push(r as IdxSize);
                idx.push(i as IdxSize);
            }
        }
        let mut df = take_rows(&fv.df, rows)?;
        df.with_column(Column::new(IDX.into(), idx)).ee()?;
        Ok(FVal { df, by_idx: true })
    }

    /// For a condition `x OP f(index date)` (or `x IS NULL OR x OP f(index date)`) with `x`
    /// an index-independent row value and `f` monotone over the pass, each row's run
    /// `[lo, hi)` of index-date positions where it holds.
    fn range_condition(&self, c: &SeriesRef, fv: &FVal) -> R<Option<Vec<(u32, u32)>>> {
        let (null_ok, cmp) = match &**c {
            Node::Function(Function::Or(a, b)) => match (&**a, &**b) {
                (Node::Function(Function::IsNull(x)), Node::Function(Function::Compare(..))) => {
                    (Some(x), b)
                }
                _ => return Ok(None),
            },
            Node::Function(Function::Compare(..)) => (None, c),
            _ => return Ok(None),
        };
        let Node::Function(Function::Compare(op, a, b)) = &**cmp else {
            return Ok(None);
        };
        let sh = &self.an;
        let row_side = |s: &SeriesRef| sh.is_row_level(s) && !sh.needs_idx(s);
        let (op, x, d) = if row_side(a) && sh.is_date_only(b) {
            (*op, a, b)
        } else if row_side(b) && sh.is_date_only(a) {
            (flip(*op), b, a)
        } else {
            return Ok(None);
        };
        if let Some(nx) = null_ok {
            if nx != x {
                return Ok(None);
            }
        }
        let (tx, td) = (sh.ty(x), sh.ty(d));
        if tx != td || !matches!(tx, Type::Date | Type::Int) {
            return Ok(None);
        }
        let key = |v: &Value| -> Option<i64> {
            match v {
                Value::Date(d) => Some(i64::from(d.0)),
                Value::Int(i) => Some(*i),
                _ => None,
            }
        };
        let dv: Vec<Option<i64>> = match self.pval(d)? {
            PVal::Const(v, _) => vec![key(&v); self.k()],
            PVal::PerDate(c) => convert::values(&c).ee()?.iter().map(key).collect(),
            _ => return Ok(None),
        };
        let Some(dv) = dv.into_iter().collect::<Option<Vec<i64>>>() else {
            return Ok(None);
        };
        if dv.windows(2).any(|w| w[0] > w[1]) {
            return Ok(None);
        }
        let k = dv.len() as u32;
        let xs = convert::values(&self.row_col(x, fv)?).ee()?;
        let pp = |pred: &dyn Fn(i64) -> bool| dv.partition_point(|&v| pred(v)) as u32;
        let out = xs
            .iter()
            .map(|v| match key(v) {
                None if null_ok.is_some() => (0, k),
                None => (0, 0),
                Some(x) => match op {
                    Comparison::Ge => (0, pp(&|v| v <= x)),
                    Comparison::Gt => (0, pp(&|v| v < x)),
                    Comparison::Le => (pp(&|v| v < x), k),
                    Comparison::Lt => (pp(&|v| v <= x), k),
                    Comparison::Eq => (pp(&|v| v < x), pp(&|v| v <= x)),
                    Comparison::Ne => (0, k),
                },
            })
            .collect::<Vec<_>>();
        if op == Comparison::Ne {
            return Ok(None);
        }
        Ok(Some(out))
    }

    /// One row per patient (and date) of `source`, first or last by `sort_by`.
    fn pick(&self, source: &FrameRef, sort_by: &[SeriesRef], position: Position) -> R<FVal> {
        // With index-independent keys, sort the source before its index-dependent conditions
        // pair rows with dates: the pairs then keep the key order, and picking is one scan.
        let keys_static = sort_by.iter().all(|k| !self.an.needs_idx(k));
        let (root, conjuncts) = chain(source);
        let (dynamic, static_): (Vec<&SeriesRef>, Vec<&SeriesRef>) =
            conjuncts.into_iter().partition(|c| self.an.needs_idx(c));
        let fv = if keys_static && !matches!(&**source, Frame::Pick { .. }) {
            let base = if static_.is_empty() && !matches!(&**source, Frame::Filter { .. }) {
                self.fval(source)?
            } else {
                self.static_part(source, root, &static_)?
            };
            let sorted = self.sorted(&base, sort_by, false)?;
            self.apply_dynamic(&sorted, &dynamic)?
        } else {
            let fv = self.fval(source)?;
            self.sorted(&fv, sort_by, true)?
        };
        // Rows are now in (rank, [idx], keys) order within each slot: take the first or last.
        let (len, slots) = self.slots(&fv)?;
        let mut chosen: Vec<Option<IdxSize>> = vec![None; len];
        for (row, &s) in slots.iter().enumerate() {
            match position {
                Position::First => {
                    chosen[s].get_or_insert(row as IdxSize);
                }
                Position::Last => chosen[s] = Some(row as IdxSize),
            }
        }
        let rows: Vec<IdxSize> = chosen.into_iter().flatten().collect();
        Ok(FVal {
            df: take_rows(&fv.df, rows)?,
            by_idx: fv.by_idx,
        })
    }

    /// `fv` sorted by rank, then (if `with_idx` and present) index date, then the keys
    /// (ascending, nulls first); stable.
    fn sorted(&self, fv: &FVal, sort_by: &[SeriesRef], with_idx: bool) -> R<FVal> {
        let mut by = vec![fv.df.column(RANK).ee()?.clone()];
        if with_idx && fv.by_idx {
            by.push(fv.df.column(IDX).ee()?.clone());
        }
        for (i, k) in sort_by.iter().enumerate() {
            by.push(self.row_col(k, fv)?.with_name(format!("#k{i}").into()));
        }
        let names: Vec<PlSmallStr> = by.iter().map(|c| c.name().clone()).collect();
        by.push(Column::new(
            "#row".into(),
            (0..fv.df.height() as IdxSize).collect::<Vec<_>>(),
        ));
        let options = SortMultipleOptions::default()
            .with_maintain_order(true)
            .with_nulls_last(false);
        let sorted = DataFrame::new_infer_height(by)
            .ee()?
            .sort(names, options)
            .ee()?;
        let perm = idx_values(&sorted, "#row")?;
        Ok(FVal {
            df: take_rows(&fv.df, perm)?,
            by_idx: fv.by_idx,
        })
    }
}

/// A filter chain: its root (the first non-filter frame) and its conditions, innermost first.
fn chain(f: &FrameRef) -> (&FrameRef, Vec<&SeriesRef>) {
    match &**f {
        Frame::Filter { source, condition } => {
            let (root, mut conds) = chain(source);
            conds.extend(conjuncts(condition));
            (root, conds)
        }
        _ => (f, Vec::new()),
    }
}

fn conjuncts(s: &SeriesRef) -> Vec<&SeriesRef> {
    match &**s {
        Node::Function(Function::And(a, b)) => {
            let mut out = conjuncts(a);
            out.extend(conjuncts(b));
            out
        }
        _ => vec![s],
    }
}

pub(crate) fn flip(op: Comparison) -> Comparison {
    match op {
        Comparison::Lt => Comparison::Gt,
        Comparison::Le => Comparison::Ge,
        Comparison::Gt => Comparison::Lt,
        Comparison::Ge => Comparison::Le,
        other => other,
    }
}

/// Intervals `[start, end)` (sorted by start) merged where they overlap or touch.
fn merge_intervals(sorted: &[(Date, Option<Date>)]) -> Vec<(Date, Option<Date>)> {
    let mut merged: Vec<(Date, Option<Date>)> = Vec::new();
    for &(s, e) in sorted {
        match merged.last_mut() {
            Some((_, last)) if last.is_none_or(|le| s <= le) => {
                *last = match (*last, e) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => merged.push((s, e)),
        }
    }
    merged
}
