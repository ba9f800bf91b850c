//! The polars engine run patient partition by partition over in-memory tables: the same
//! per-partition path as a partitioned folder run (patient-id ranges, codelist prefilters,
//! extra patients), with partitions as small as wanted, so that the spec and property tests
//! exercise its boundaries.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use polars::prelude::*;
use query::check::{check_dataset, code_prefilters, inline_tables, tables_read, CodePrefilter};
use query::{Batch, ColumnData, Dataset, Date, Engine, EngineError, Sink};

use crate::eval::polars_err;
use crate::PolarsEngine;

/// The polars engine over tables by name, run in partitions of at most `patients_per_partition`
/// patients, the date batches of the partitions joined in patient order.
pub struct PartitionedEngine {
    tables: HashMap<String, DataFrame>,
    location: String,
    patients_per_partition: usize,
    rows_per_pass: usize,
    workers: Option<usize>,
}

impl PartitionedEngine {
    /// An engine over `tables` (as [`PolarsEngine::new`]) running partitions of at most
    /// `patients_per_partition` patients.
    pub fn new(
        tables: HashMap<String, DataFrame>,
        location: impl Into<String>,
        patients_per_partition: usize,
    ) -> Self {
        PartitionedEngine {
            tables,
            location: location.into(),
            patients_per_partition: patients_per_partition.max(1),
            rows_per_pass: crate::ROWS_PER_PASS,
            workers: None,
        }
    }

    /// Sets how many passes of a partition are evaluated at once ([`PolarsEngine::with_workers`]).
    pub fn with_workers(mut self, workers: usize) -> Self {
        self.workers = Some(workers);
        self
    }

    /// Sets the number of (patient, index date) pairs a pass aims at.
    pub fn with_rows_per_pass(mut self, rows: usize) -> Self {
        self.rows_per_pass = rows.max(1);
        self
    }
}

/// The rows of `df` whose `patient_id` is in `range`.
pub fn rows_in_range(df: &DataFrame, range: &Range<i64>) -> PolarsResult<DataFrame> {
    let pid = df
        .column(query::PATIENT_ID)?
        .as_materialized_series()
        .cast(&DataType::Int64)?;
    let mask: BooleanChunked = pid
        .i64()?
        .iter()
        .map(|v| v.is_some_and(|v| range.contains(&v)))
        .collect();
    df.filter(&mask)
}

/// Cuts `df` to the rows `prefilter` keeps; returns them and the distinct patients of the
/// rows dropped (who stay in the universe: [`PolarsEngine::with_extra_patients`]).
pub fn apply_prefilter(
    df: &DataFrame,
    prefilter: &CodePrefilter,
) -> PolarsResult<(DataFrame, Vec<i64>)> {
    let codes = df
        .column(&prefilter.column)?
        .as_materialized_series()
        .str()?
        .clone();
    let mask: BooleanChunked = codes.iter().map(|v| prefilter.keeps(v)).collect();
    let pid = df
        .column(query::PATIENT_ID)?
        .as_materialized_series()
        .cast(&DataType::Int64)?;
    let mut dropped: Vec<i64> = pid
        .i64()?
        .iter()
        .zip(mask.iter())
        .filter_map(|(p, keep)| if keep == Some(true) { None } else { p })
        .collect();
    dropped.sort_unstable();
    dropped.dedup();
    Ok((df.filter(&mask)?, dropped))
}

/// Appends `more`'s rows (later patients) to `batch`.
pub fn append_batch(batch: &mut Batch, more: Batch) {
    batch.patient_ids.extend(more.patient_ids);
    for (into, from) in batch.columns.iter_mut().zip(more.columns) {
        match (into, from) {
            (ColumnData::Bool(a), ColumnData::Bool(b)) => a.extend(b),
            (ColumnData::Int(a), ColumnData::Int(b)) => a.extend(b),
            (ColumnData::Float(a), ColumnData::Float(b)) => a.extend(b),
            (ColumnData::Date(a), ColumnData::Date(b)) => a.extend(b),
            (ColumnData::Str(a), ColumnData::Str(b)) => {
                for i in 0..b.len() {
                    a.push(b.get(i));
                }
            }
            (into, from) => unreachable!(
                "one dataset column has one type: {:?} vs {:?}",
                into.ty(),
                from.ty()
            ),
        }
    }
}

impl Engine for PartitionedEngine {
    fn name(&self) -> &str {
        "polars-partitioned"
    }

    fn run(
        &self,
        dataset: &Dataset,
        index_dates: &[Date],
        sink: &mut Sink<'_>,
    ) -> Result<(), EngineError> {
        check_dataset(dataset)?;
        let read = tables_read(dataset);
        let mut ids: Vec<i64> = Vec::new();
        for schema in &read {
            if let Some(df) = self.tables.get(&schema.name) {
                if let Ok(c) = df.column(query::PATIENT_ID) {
                    let c = c.cast(&DataType::Int64).map_err(polars_err)?;
                    ids.extend(c.i64().map_err(polars_err)?.iter().flatten());
                }
            }
        }
        for t in inline_tables(dataset) {
            ids.extend(t.rows.iter().map(|(p, _)| *p));
        }
        ids.sort_unstable();
        ids.dedup();
        // Partition k covers [ids[k·p], ids[(k+1)·p]); the last one is open-ended.
        let starts: Vec<i64> = ids
            .iter()
            .step_by(self.patients_per_partition)
            .copied()
            .collect();
        let mut ranges: Vec<Range<i64>> = starts.windows(2).map(|w| w[0]..w[1]).collect();
        ranges.push(starts.last().copied().unwrap_or(0)..i64::MAX);
        let prefilters = code_prefilters(dataset);
        let mut out: BTreeMap<Date, Batch> = BTreeMap::new();
        for range in ranges {
            let mut tables = HashMap::new();
            let mut extra = Vec::new();
            for schema in &read {
                // A missing table or column is the partition engine's error to report.
                let Some(df) = self.tables.get(&schema.name) else {
                    continue;
                };
                let mut part = rows_in_range(df, &range).map_err(polars_err)?;
                if let Some(p) = prefilters.get(&schema.name) {
                    if df.column(&p.column).is_ok() {
                        let (kept, dropped) = apply_prefilter(&part, p).map_err(polars_err)?;
                        part = kept;
                        extra.extend(dropped);
                    }
                }
                tables.insert(schema.name.clone(), part);
            }
            let mut engine = PolarsEngine::new(tables, self.location.clone())
                .with_rows_per_pass(self.rows_per_pass)
                .with_patient_range(range)
                .with_extra_patients(extra);
            if let Some(w) = self.workers {
                engine = engine.with_workers(w);
            }
            engine.run(dataset, index_dates, &mut |date, batch| {
                match out.get_mut(&date) {
                    Some(b) => append_batch(b, batch),
                    None => {
                        out.insert(date, batch);
                    }
                }
                Ok(())
            })?;
        }
        for date in index_dates {
            if let Some(batch) = out.remove(date) {
                sink(*date, batch)?;
            }
        }
        Ok(())
    }
}
