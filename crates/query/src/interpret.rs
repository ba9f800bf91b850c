//! The reference interpreter: evaluates a dataset patient by patient, row by row, straight from
//! the semantics documented on the nodes. Slow and obviously correct: every other engine is
//! tested against it.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use crate::batch::{Batch, ColumnData};
use crate::check::{check_dataset, TypeOf};
use crate::data::Tables;
use crate::engine::{Engine, EngineError, Sink};
use crate::model::*;
use crate::scalar::{self, Matchers};
use crate::value::{Date, Type, Value};

/// The reference interpreter over in-memory [`Tables`].
pub struct Interpreter {
    tables: Tables,
}

impl Interpreter {
    /// An interpreter over `tables`.
    pub fn new(tables: Tables) -> Self {
        Interpreter { tables }
    }
}

/// A row of a root frame: its values and where each column is.
#[derive(Clone)]
struct Row {
    layout: Rc<HashMap<String, usize>>,
    values: Rc<[Value]>,
}

impl Row {
    fn get(&self, column: &str) -> Value {
        self.layout
            .get(column)
            .map_or(Value::Null, |&i| self.values[i].clone())
    }
}

/// A table's rows by patient, in table order.
struct IndexedTable {
    by_patient: HashMap<i64, Vec<Row>>,
}

impl Engine for Interpreter {
    fn name(&self) -> &str {
        "interpreter"
    }

    fn run(
        &self,
        dataset: &Dataset,
        index_dates: &[Date],
        sink: &mut Sink<'_>,
    ) -> Result<(), EngineError> {
        check_dataset(dataset)?;
        let mut tables = HashMap::new();
        let mut patients = BTreeSet::new();
        let columns_read = crate::check::columns_read(dataset);
        for schema in crate::check::tables_read(dataset) {
            let Some(table) = self.tables.get(&schema.name) else {
                return Err(EngineError::MissingTable {
                    table: schema.name.clone(),
                    location: String::new(),
                });
            };
            let mut layout = HashMap::new();
            layout.insert(PATIENT_ID.to_string(), 0);
            for (i, c) in table.schema.columns.iter().enumerate() {
                layout.insert(c.name.clone(), i + 1);
            }
            for c in columns_read.get(&schema.name).into_iter().flatten() {
                if !layout.contains_key(c) {
                    return Err(EngineError::MissingColumn {
                        table: schema.name.clone(),
                        column: c.clone(),
                        location: String::new(),
                    });
                }
            }
            let layout = Rc::new(layout);
            let mut by_patient: HashMap<i64, Vec<Row>> = HashMap::new();
            for (pid, values) in &table.rows {
                let mut all = Vec::with_capacity(values.len() + 1);
                all.push(Value::Int(*pid));
                all.extend(values.iter().cloned());
                let rows = by_patient.entry(*pid).or_default();
                if schema.one_row_per_patient && !rows.is_empty() {
                    return Err(EngineError::Data(format!(
                        "table `{}` has more than one row for patient {pid}",
                        schema.name
                    )));
                }
                rows.push(Row {
                    layout: Rc::clone(&layout),
                    values: all.into(),
                });
                patients.insert(*pid);
            }
            tables.insert(schema.name.clone(), IndexedTable { by_patient });
        }
        for t in crate::check::inline_tables(dataset) {
            patients.extend(t.rows.iter().map(|(pid, _)| *pid));
        }
        let mut types = TypeOf::new();
        let column_types: Vec<Type> = dataset.columns.iter().map(|(_, s)| types.of(s)).collect();
        let shared = Shared {
            tables,
            matchers: RefCell::new(Matchers::default()),
            layouts: RefCell::new(HashMap::new()),
            row_level: RefCell::new(HashMap::new()),
        };
        for &date in index_dates {
            let mut ids = Vec::new();
            let mut columns: Vec<ColumnData> =
                column_types.iter().map(|&t| ColumnData::new(t)).collect();
            for &pid in &patients {
                let cx = Patient {
                    shared: &shared,
                    pid,
                    date,
                    values: RefCell::new(HashMap::new()),
                    frames: RefCell::new(HashMap::new()),
                };
                if cx.value(&dataset.population, None)?.as_bool() != Some(true) {
                    continue;
                }
                ids.push(pid);
                for ((_, s), column) in dataset.columns.iter().zip(&mut columns) {
                    column.push(&cx.value(s, None)?);
                }
            }
            sink(
                date,
                Batch {
                    patient_ids: ids,
                    columns,
                },
            )?;
        }
        Ok(())
    }
}

struct Shared {
    tables: HashMap<String, IndexedTable>,
    matchers: RefCell<Matchers>,
    /// Layouts of concat rows, by concat node.
    layouts: RefCell<HashMap<*const Frame, Rc<HashMap<String, usize>>>>,
    /// Whether each series needs the current row.
    row_level: RefCell<HashMap<*const Series, bool>>,
}

impl Shared {
    /// Whether `s` needs the current row (a row-level column below it, not under an aggregate
    /// or a patient-level frame).
    fn is_row_level(&self, s: &SeriesRef) -> bool {
        let key = Arc::as_ptr(s);
        if let Some(&b) = self.row_level.borrow().get(&key) {
            return b;
        }
        let b = match &**s {
            Series::Value { .. } | Series::IndexDate | Series::Aggregate { .. } => false,
            Series::Column { frame, .. } => !frame.is_patient_level(),
            Series::Function(Function::ExistsMatching { value, .. }) => self.is_row_level(value),
            Series::Function(_) => {
                let (mut series, mut frames) = (Vec::new(), Vec::new());
                crate::check::visit_series_children(s, &mut series, &mut frames);
                series.into_iter().any(|c| self.is_row_level(c))
            }
        };
        self.row_level.borrow_mut().insert(key, b);
        b
    }
}

/// Evaluation for one patient and one index date.
struct Patient<'a> {
    shared: &'a Shared,
    pid: i64,
    date: Date,
    /// Patient-level values, by node.
    values: RefCell<HashMap<*const Series, Value>>,
    /// Frame rows, by node.
    frames: RefCell<HashMap<*const Frame, Rc<Vec<Row>>>>,
}

type R<T> = Result<T, EngineError>;

impl Patient<'_> {
    /// The rows of `frame` for this patient.
    fn rows(&self, frame: &FrameRef) -> R<Rc<Vec<Row>>> {
        let key = Arc::as_ptr(frame);
        if let Some(rows) = self.frames.borrow().get(&key) {
            return Ok(Rc::clone(rows));
        }
        let rows: Vec<Row> = match &**frame {
            Frame::Table(schema) => self
                .shared
                .tables
                .get(&schema.name)
                .and_then(|t| t.by_patient.get(&self.pid))
                .cloned()
                .unwrap_or_default(),
            Frame::Inline(table) => {
                let layout = self.layout(
                    frame,
                    &table
                        .schema
                        .columns
                        .iter()
                        .map(|c| c.name.clone())
                        .collect::<Vec<_>>(),
                );
                table
                    .rows
                    .iter()
                    .filter(|(pid, _)| *pid == self.pid)
                    .map(|(pid, values)| {
                        let mut all = vec![Value::Int(*pid)];
                        all.extend(values.iter().cloned());
                        Row {
                            layout: Rc::clone(&layout),
                            values: all.into(),
                        }
                    })
                    .collect()
            }
            Frame::Concat { columns, parts } => {
                let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
                let layout = self.layout(frame, &names);
                let mut out = Vec::new();
                for (part, series) in parts {
                    for row in self.rows(part)?.iter() {
                        let mut all = vec![Value::Int(self.pid)];
                        for s in series {
                            all.push(self.value(s, Some(row))?);
                        }
                        out.push(Row {
                            layout: Rc::clone(&layout),
                            values: all.into(),
                        });
                    }
                }
                out
            }
            Frame::Filter { source, condition } => {
                let mut out = Vec::new();
                for row in self.rows(source)?.iter() {
                    if self.value(condition, Some(row))?.as_bool() == Some(true) {
                        out.push(row.clone());
                    }
                }
                out
            }
            Frame::Pick {
                source,
                sort_by,
                position,
            } => {
                let mut keyed = Vec::new();
                for row in self.rows(source)?.iter() {
                    let keys = sort_by
                        .iter()
                        .map(|k| self.value(k, Some(row)))
                        .collect::<R<Vec<Value>>>()?;
                    keyed.push((keys, row.clone()));
                }
                keyed.sort_by(|(a, _), (b, _)| {
                    a.iter()
                        .zip(b)
                        .map(|(x, y)| x.total_cmp(y))
                        .find(|o| o.is_ne())
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
                let chosen = match position {
                    Position::First => keyed.into_iter().next(),
                    Position::Last => keyed.into_iter().next_back(),
                };
                chosen.map(|(_, row)| row).into_iter().collect()
            }
        };
        let rows = Rc::new(rows);
        self.frames.borrow_mut().insert(key, Rc::clone(&rows));
        Ok(rows)
    }

    fn layout(&self, frame: &FrameRef, names: &[String]) -> Rc<HashMap<String, usize>> {
        let mut layouts = self.shared.layouts.borrow_mut();
        Rc::clone(layouts.entry(Arc::as_ptr(frame)).or_insert_with(|| {
            let mut m = HashMap::new();
            m.insert(PATIENT_ID.to_string(), 0);
            for (i, n) in names.iter().enumerate() {
                m.insert(n.clone(), i + 1);
            }
            Rc::new(m)
        }))
    }

    /// The value of `s` for this patient, on `row` when it is row-level.
    fn value(&self, s: &SeriesRef, row: Option<&Row>) -> R<Value> {
        let row_level = row.is_some() && self.shared.is_row_level(s);
        let key = Arc::as_ptr(s);
        if !row_level {
            if let Some(v) = self.values.borrow().get(&key) {
                return Ok(v.clone());
            }
        }
        let row = if row_level { row } else { None };
        let v = self.compute(s, row)?;
        if !row_level {
            self.values.borrow_mut().insert(key, v.clone());
        }
        Ok(v)
    }

    fn compute(&self, s: &Series, row: Option<&Row>) -> R<Value> {
        Ok(match s {
            Series::Value { value, .. } => value.clone(),
            Series::IndexDate => Value::Date(self.date),
            Series::Column { frame, column } => {
                if frame.is_patient_level() {
                    self.rows(frame)?
                        .first()
                        .map_or(Value::Null, |r| r.get(column))
                } else {
                    row.map_or(Value::Null, |r| r.get(column))
                }
            }
            Series::Aggregate { frame, function } => self.aggregate(frame, function)?,
            Series::Function(f) => self.function(f, row)?,
        })
    }

    fn aggregate(&self, frame: &FrameRef, function: &Aggregate) -> R<Value> {
        let rows = self.rows(frame)?;
        let values = |s: &SeriesRef| -> R<Vec<Value>> {
            let mut out = Vec::new();
            for r in rows.iter() {
                let v = self.value(s, Some(r))?;
                if !v.is_null() {
                    out.push(v);
                }
            }
            Ok(out)
        };
        Ok(match function {
            Aggregate::Exists => Value::Bool(!rows.is_empty()),
            Aggregate::Count => Value::Int(rows.len() as i64),
            Aggregate::Min(s) => values(s)?
                .into_iter()
                .min_by(Value::total_cmp)
                .unwrap_or(Value::Null),
            Aggregate::Max(s) => values(s)?
                .into_iter()
                .max_by(Value::total_cmp)
                .unwrap_or(Value::Null),
            Aggregate::Sum(s) => {
                let vs = values(s)?;
                if vs.is_empty() {
                    Value::Null
                } else if vs.iter().all(|v| matches!(v, Value::Int(_))) {
                    Value::Int(
                        vs.iter()
                            .filter_map(Value::as_int)
                            .fold(0i64, i64::wrapping_add),
                    )
                } else {
                    Value::Float(vs.iter().filter_map(Value::as_f64).sum())
                }
            }
            Aggregate::Mean(s) => {
                let vs = values(s)?;
                if vs.is_empty() {
                    Value::Null
                } else {
                    let sum: f64 = vs.iter().filter_map(Value::as_f64).sum();
                    Value::Float(sum / vs.len() as f64)
                }
            }
            Aggregate::CountDistinct(s) => {
                let vs: HashSet<Value> = values(s)?.into_iter().collect();
                Value::Int(vs.len() as i64)
            }
            Aggregate::Mode(s) => {
                let mut counts: HashMap<Value, usize> = HashMap::new();
                for v in values(s)? {
                    *counts.entry(v).or_default() += 1;
                }
                counts
                    .into_iter()
                    .max_by(|(va, ca), (vb, cb)| ca.cmp(cb).then_with(|| va.total_cmp(vb)))
                    .map_or(Value::Null, |(v, _)| v)
            }
            Aggregate::CountEpisodes { date, max_gap_days } => {
                let mut dates: Vec<Date> =
                    values(date)?.iter().filter_map(Value::as_date).collect();
                dates.sort();
                let mut episodes = 0i64;
                let mut previous: Option<Date> = None;
                for d in dates {
                    if previous.is_none_or(|p| i64::from(d.0 - p.0) > *max_gap_days) {
                        episodes += 1;
                    }
                    previous = Some(d);
                }
                Value::Int(episodes)
            }
            Aggregate::SpanCovered {
                start,
                end,
                from,
                to,
            } => {
                let (Some(from), Some(to)) = (
                    self.value(from, None)?.as_date(),
                    self.value(to, None)?.as_date(),
                ) else {
                    return Ok(Value::Bool(false));
                };
                let mut intervals: Vec<(Date, Option<Date>)> = Vec::new();
                for r in rows.iter() {
                    if let Some(s) = self.value(start, Some(r))?.as_date() {
                        intervals.push((s, self.value(end, Some(r))?.as_date()));
                    }
                }
                intervals.sort_by_key(|&(s, _)| s);
                // Merge where they overlap or touch.
                let mut merged: Vec<(Date, Option<Date>)> = Vec::new();
                for (s, e) in intervals {
                    match merged.last_mut() {
                        Some((_, last_end)) if last_end.is_none_or(|le| s <= le) => {
                            *last_end = match (*last_end, e) {
                                (Some(a), Some(b)) => Some(a.max(b)),
                                _ => None,
                            };
                        }
                        _ => merged.push((s, e)),
                    }
                }
                Value::Bool(
                    merged
                        .iter()
                        .any(|&(s, e)| s <= from && e.is_none_or(|e| e > to)),
                )
            }
            Aggregate::SumOfGroupMax { key, value, add } => {
                let mut groups: HashMap<Value, Option<i64>> = HashMap::new();
                for r in rows.iter() {
                    let k = self.value(key, Some(r))?;
                    let v = self.value(value, Some(r))?.as_int();
                    let g = groups.entry(k).or_insert(None);
                    if let Some(v) = v {
                        *g = Some(g.map_or(v, |x| x.max(v)));
                    }
                }
                Value::Int(
                    groups
                        .values()
                        .flatten()
                        .fold(0i64, |acc, m| acc.wrapping_add(m.wrapping_add(*add))),
                )
            }
        })
    }

    fn function(&self, f: &Function, row: Option<&Row>) -> R<Value> {
        if let Function::ExistsMatching { frame, key, value } = f {
            let wanted = self.value(value, row)?;
            if wanted.is_null() {
                return Ok(Value::Bool(false));
            }
            for r in self.rows(frame)?.iter() {
                if self.value(key, Some(r))? == wanted {
                    return Ok(Value::Bool(true));
                }
            }
            return Ok(Value::Bool(false));
        }
        let args = scalar::arguments(f)
            .into_iter()
            .map(|a| self.value(a, row))
            .collect::<R<Vec<Value>>>()?;
        Ok(scalar::apply(
            f,
            &args,
            &mut self.shared.matchers.borrow_mut(),
        ))
    }
}
