//! The polars engine: evaluates a [`query::Dataset`] over tables held as polars frames, for
//! every index date of a run, in passes of a few dates (bounding memory), computing what does
//! not depend on the index date once for all passes. Passes run on as many threads as the
//! machine has cores, each aiming at its share of the rows of a pass, and hand their batches
//! on in date order. See [`eval`] for how.

mod convert;
mod elementwise;
mod eval;
mod partitioned;

pub use partitioned::{append_batch, apply_prefilter, rows_in_range, PartitionedEngine};

/// A polars column as the query model's column data, cast to `ty` (NaN read as null).
pub use convert::to_column_data as column_data;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use polars::prelude::*;
use query::check::{check_dataset, columns_read, inline_tables, tables_read, TypeOf};
use query::{Batch, Dataset, Date, Engine, EngineError, Sink};

use eval::{polars_err, PVal, Pass, Shared};

/// Rows (patient × index date pairs) a pass aims at: bounds a pass's memory to a few hundred
/// megabytes whatever the number of patients.
pub const ROWS_PER_PASS: usize = 2_500_000;

/// The polars engine over tables by name.
pub struct PolarsEngine {
    tables: HashMap<String, DataFrame>,
    location: String,
    rows_per_pass: usize,
    /// Only these patients are evaluated (a partition of a partitioned run).
    patients: Option<std::ops::Range<i64>>,
    /// Patients of the universe besides those of the tables read (rows a source dropped).
    extra_patients: Vec<i64>,
    /// Passes evaluated at once, on as many threads.
    workers: usize,
}

impl PolarsEngine {
    /// An engine over `tables` (columns of the query types: Int64, Float64, Boolean, String,
    /// Date); `location` names where they came from, for messages.
    pub fn new(tables: HashMap<String, DataFrame>, location: impl Into<String>) -> Self {
        PolarsEngine {
            tables,
            location: location.into(),
            rows_per_pass: ROWS_PER_PASS,
            patients: None,
            extra_patients: Vec::new(),
            workers: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }

    /// Restricts the run to the patients with ids in `range` (one partition of a partitioned
    /// run): table rows and inline-table rows of other patients are ignored, so each patient
    /// belongs to exactly one partition.
    pub fn with_patient_range(mut self, range: std::ops::Range<i64>) -> Self {
        self.patients = Some(range);
        self
    }

    /// Adds `ids` to the patient universe (the patients of the tables read): the patients of
    /// rows a source dropped on load because no result can use them (a
    /// [`query::check::CodePrefilter`]), who must still be output.
    pub fn with_extra_patients(mut self, ids: Vec<i64>) -> Self {
        self.extra_patients = ids;
        self
    }

    /// Sets how many passes are evaluated at once (on as many threads; default: the
    /// machine's cores). The rows of the passes running at once share the rows per pass.
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = workers.max(1);
        self
    }

    /// Sets the number of (patient, index date) pairs a pass aims at.
    pub fn with_rows_per_pass(mut self, rows: usize) -> Self {
        self.rows_per_pass = rows.max(1);
        self
    }
}

/// How many of `n_dates` index dates are evaluated per pass for `n_patients` patients: as
/// many as keep a pass near `rows_per_pass` rows, balanced so the passes have about the same
/// size.
pub fn dates_per_pass(n_patients: usize, n_dates: usize, rows_per_pass: usize) -> usize {
    let n_dates = n_dates.max(1);
    let fit = (rows_per_pass / n_patients.max(1)).clamp(1, n_dates);
    let passes = n_dates.div_ceil(fit);
    n_dates.div_ceil(passes)
}

impl Engine for PolarsEngine {
    fn name(&self) -> &str {
        "polars"
    }

    fn run(
        &self,
        dataset: &Dataset,
        index_dates: &[Date],
        sink: &mut Sink<'_>,
    ) -> Result<(), EngineError> {
        check_dataset(dataset)?;
        let needed = columns_read(dataset);
        let mut prepared = HashMap::new();
        let mut universe: Vec<i64> = Vec::new();
        for schema in tables_read(dataset) {
            let Some(df) = self.tables.get(&schema.name) else {
                return Err(EngineError::MissingTable {
                    table: schema.name.clone(),
                    location: self.location.clone(),
                });
            };
            let missing = |column: &str| EngineError::MissingColumn {
                table: schema.name.clone(),
                column: column.to_string(),
                location: self.location.clone(),
            };
            let pid = df
                .column(query::PATIENT_ID)
                .map_err(|_| missing(query::PATIENT_ID))?
                .cast(&DataType::Int64)
                .map_err(polars_err)?;
            let in_range = match &self.patients {
                Some(r) => {
                    let ids = pid.i64().map_err(polars_err)?;
                    let outside = ids.min().is_some_and(|m| m < r.start)
                        || ids.max().is_some_and(|m| m >= r.end);
                    outside.then(|| {
                        ids.iter()
                            .map(|v| v.is_some_and(|v| r.contains(&v)))
                            .collect::<BooleanChunked>()
                    })
                }
                None => None,
            };
            let pid = match &in_range {
                Some(mask) => pid.filter(mask).map_err(polars_err)?,
                None => pid,
            };
            let mut cols = vec![pid.clone()];
            for name in needed.get(&schema.name).into_iter().flatten() {
                let ty = schema
                    .column(name)
                    .map(|c| c.ty)
                    .ok_or_else(|| missing(name))?;
                let c = df.column(name).map_err(|_| missing(name))?;
                let c = match &in_range {
                    Some(mask) => c.filter(mask).map_err(polars_err)?,
                    None => c.clone(),
                };
                cols.push(c.cast(&convert::dtype(ty)).map_err(polars_err)?);
            }
            prepared.insert(
                schema.name.clone(),
                DataFrame::new_infer_height(cols).map_err(polars_err)?,
            );
            let ids = pid.drop_nulls().unique().map_err(polars_err)?;
            universe.extend(ids.i64().map_err(polars_err)?.into_no_null_iter());
        }
        for t in inline_tables(dataset) {
            universe.extend(t.rows.iter().map(|(pid, _)| *pid));
        }
        universe.extend_from_slice(&self.extra_patients);
        if let Some(r) = &self.patients {
            universe.retain(|p| r.contains(p));
        }
        universe.sort_unstable();
        universe.dedup();
        let n = universe.len();
        let shared = Shared::new(&prepared, universe);
        let mut types = TypeOf::new();
        let column_types: Vec<query::Type> =
            dataset.columns.iter().map(|(_, s)| types.of(s)).collect();
        let workers = self.workers.min(index_dates.len()).max(1);
        // Each of the passes running at once aims at its share of the rows, so memory stays
        // as for one pass; the number of passes is a multiple of the workers (balanced).
        let per_pass = dates_per_pass(n, index_dates.len(), self.rows_per_pass / workers);
        let passes = index_dates.len().div_ceil(per_pass).div_ceil(workers) * workers;
        let chunks = balanced_chunks(index_dates, passes);
        let run_pass = |chunk: &[Date]| evaluate_pass(&shared, dataset, chunk, &column_types);
        if workers == 1 || chunks.len() == 1 {
            for chunk in &chunks {
                for (date, batch) in run_pass(chunk)? {
                    sink(date, batch)?;
                }
            }
            return Ok(());
        }
        // Passes on `workers` threads; their batches reach the sink on this thread, in date
        // order. Few results wait: each worker takes its next pass only once the channel has
        // room, and a failure stops the others at their next pass.
        let next = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, PassResult)>(workers);
            for _ in 0..workers {
                let (tx, next, chunks, run_pass) = (tx.clone(), &next, &chunks, &run_pass);
                scope.spawn(move || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(chunk) = chunks.get(i) else { break };
                    if tx.send((i, run_pass(chunk))).is_err() {
                        break;
                    }
                });
            }
            drop(tx);
            let mut waiting = std::collections::BTreeMap::new();
            let mut due = 0;
            let delivered = (|| {
                for (i, result) in &rx {
                    waiting.insert(i, result);
                    while let Some(result) = waiting.remove(&due) {
                        for (date, batch) in result? {
                            sink(date, batch)?;
                        }
                        due += 1;
                    }
                }
                Ok(())
            })();
            if delivered.is_err() {
                next.store(chunks.len(), Ordering::Relaxed);
            }
            drop(rx);
            delivered
        })
    }
}

/// `dates` cut into `parts` runs of consecutive dates whose lengths differ by at most one
/// (fewer when there are fewer dates; none without dates).
fn balanced_chunks(dates: &[Date], parts: usize) -> Vec<&[Date]> {
    if dates.is_empty() {
        return Vec::new();
    }
    let parts = parts.clamp(1, dates.len());
    let (size, longer) = (dates.len() / parts, dates.len() % parts);
    let mut chunks = Vec::with_capacity(parts);
    let mut start = 0;
    for i in 0..parts {
        let end = start + size + usize::from(i < longer);
        chunks.push(&dates[start..end]);
        start = end;
    }
    chunks
}

/// The batches of one pass, by index date.
type PassResult = Result<Vec<(Date, Batch)>, EngineError>;

/// Evaluates the population and the columns of `dataset` for the index dates of one pass.
fn evaluate_pass(
    shared: &Shared<'_>,
    dataset: &Dataset,
    chunk: &[Date],
    column_types: &[query::Type],
) -> PassResult {
    let n = shared.universe.len();
    let pass = Pass::new(shared, chunk.to_vec());
    let population = pass.pval(&dataset.population)?;
    let columns = dataset
        .columns
        .iter()
        .map(|(_, s)| pass.pval(s))
        .collect::<Result<Vec<PVal>, EngineError>>()?;
    let mut batches = Vec::with_capacity(chunk.len());
    for (i, &date) in chunk.iter().enumerate() {
        let selected = selected_ranks(&population, i, n)?;
        let patient_ids = selected
            .iter()
            .map(|&r| shared.universe[r as usize])
            .collect();
        let mut out = Vec::with_capacity(columns.len());
        for (pv, &ty) in columns.iter().zip(column_types) {
            out.push(column_at(pv, ty, i, n, &selected)?);
        }
        batches.push((
            date,
            Batch {
                patient_ids,
                columns: out,
            },
        ));
    }
    Ok(batches)
}

/// The ranks of the patients for whom the population is true on date `i` of the pass.
fn selected_ranks(population: &PVal, i: usize, n: usize) -> Result<Vec<IdxSize>, EngineError> {
    let flags: Vec<Option<bool>> = match population {
        PVal::Const(v, _) => vec![v.as_bool(); n],
        PVal::PerDate(c) => {
            let v = c.bool().map_err(polars_err)?.get(i);
            vec![v; n]
        }
        PVal::PerPatient(c) => c.bool().map_err(polars_err)?.iter().collect(),
        PVal::Grid(c) => c
            .slice((i * n) as i64, n)
            .bool()
            .map_err(polars_err)?
            .iter()
            .collect(),
    };
    Ok(flags
        .iter()
        .enumerate()
        .filter(|(_, f)| **f == Some(true))
        .map(|(r, _)| r as IdxSize)
        .collect())
}

/// A column's values for the selected patients on date `i` of the pass.
fn column_at(
    pv: &PVal,
    ty: query::Type,
    i: usize,
    n: usize,
    selected: &[IdxSize],
) -> Result<query::ColumnData, EngineError> {
    let c = match pv {
        PVal::Const(v, _) => convert::constant(v, ty, selected.len()),
        PVal::PerDate(c) => {
            let idx = vec![i as IdxSize; selected.len()];
            c.take_slice(&idx).map_err(polars_err)?
        }
        PVal::PerPatient(c) => c.take_slice(selected).map_err(polars_err)?,
        PVal::Grid(c) => {
            let idx: Vec<IdxSize> = selected.iter().map(|&r| (i * n) as IdxSize + r).collect();
            c.take_slice(&idx).map_err(polars_err)?
        }
    };
    convert::to_column_data(&c, ty).map_err(polars_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_chunks_cover_the_dates_in_order_with_lengths_within_one() {
        let dates: Vec<Date> = (0..25).map(Date).collect();
        for parts in 1..=30 {
            let chunks = balanced_chunks(&dates, parts);
            assert_eq!(chunks.len(), parts.min(25), "{parts} parts");
            assert_eq!(chunks.concat(), dates, "{parts} parts");
            let (min, max) = (
                chunks.iter().map(|c| c.len()).min().unwrap(),
                chunks.iter().map(|c| c.len()).max().unwrap(),
            );
            assert!(max - min <= 1, "{parts} parts: lengths {min}..{max}");
        }
        assert!(balanced_chunks(&[], 3).iter().all(|c| c.is_empty()));
    }
}
