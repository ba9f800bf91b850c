//! Streaming the generated tables to files, batch by batch.

use std::fs::File;
use std::io::BufWriter;

use flate2::write::GzEncoder;
use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use super::batch::Batch;
use super::world::World;
use super::SynthConfig;
use crate::output::{CsvWriter, OutputError, OutputFormat};
use crate::tables::{names, table_schema};
use files::PendingFile;
use std::collections::BTreeMap;

/// Row counts of a generated data set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SynthSummary {
    pub patients: usize,
    pub practice_registrations: usize,
    pub clinical_events: usize,
    /// Rows of every table written, by name (the core three included).
    pub rows: BTreeMap<String, usize>,
}

/// Batches generated together before they are written (bounds memory to about twice this
/// many batches: one group being written while the next is generated).
const GROUP: usize = 4;

/// Generates the data set of `config` and writes each of its tables
/// ([`SynthConfig::table_names`]: `patients`, `practice_registrations`, `clinical_events` and
/// any others asked for) to `dir/<table>.<ext>` (created if needed), streaming: at most two
/// groups of batches are in memory at a time. `progress(done, total)` is called with patients
/// written. Each file is written under a temporary name and renamed when complete.
pub fn write_ehr(
    config: &SynthConfig,
    dir: &Path,
    format: OutputFormat,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<SynthSummary, OutputError> {
    std::fs::create_dir_all(dir).map_err(|e| OutputError::io(dir, e))?;
    let world = World::new(config);
    let tables = config.table_names();
    let extended = config.extended_columns;
    let mut pending = Vec::new();
    let mut outs = Vec::new();
    for table in &tables {
        let path = dir.join(format!("{table}.{format}"));
        let (p, file) = PendingFile::create(&path).map_err(|e| OutputError::io(&path, e))?;
        pending.push(p);
        outs.push(BufWriter::with_capacity(1 << 20, file));
    }
    let mut summary = SynthSummary::default();
    {
        let mut sinks = Vec::with_capacity(tables.len());
        for ((out, table), p) in outs.iter_mut().zip(&tables).zip(&pending) {
            let schema = if extended || !super::extra::is_core(table) {
                super::rows::contract_schema(table)
            } else {
                table_schema(table).unwrap_or_default()
            };
            sinks.push(Sink::new(out, &schema, format, p.path())?);
        }
        let n_batches = config.batches();
        let generate = |g: usize| -> PolarsResult<Vec<Vec<(&'static str, DataFrame)>>> {
            let from = g * GROUP;
            let to = (from + GROUP).min(n_batches);
            (from..to)
                .into_par_iter()
                .map(|i| Batch::generate(&world, i).into_tables(&world))
                .collect()
        };
        let polars_err = |source| OutputError::Polars {
            path: dir.to_path_buf(),
            source,
        };
        let n_groups = n_batches.div_ceil(GROUP);
        let mut current = if n_groups > 0 {
            Some(generate(0).map_err(polars_err)?)
        } else {
            None
        };
        let mut g = 0;
        while let Some(group) = current.take() {
            // Write this group while the next one is generated.
            let (written, next) = rayon::join(
                || -> Result<BTreeMap<String, usize>, OutputError> {
                    let mut rows = BTreeMap::new();
                    for frames in &group {
                        for (sink, (table, df)) in sinks.iter_mut().zip(frames) {
                            sink.write(df)?;
                            *rows.entry((*table).to_string()).or_insert(0) += df.height();
                        }
                    }
                    Ok(rows)
                },
                || (g + 1 < n_groups).then(|| generate(g + 1)),
            );
            for (table, n) in written? {
                *summary.rows.entry(table).or_insert(0) += n;
            }
            let count = |t: &str| summary.rows.get(t).copied().unwrap_or(0);
            summary.patients = count(names::PATIENTS);
            summary.practice_registrations = count(names::PRACTICE_REGISTRATIONS);
            summary.clinical_events = count(names::CLINICAL_EVENTS);
            progress(summary.patients, config.patients);
            current = next.transpose().map_err(polars_err)?;
            g += 1;
        }
        for table in &tables {
            summary.rows.entry((*table).to_string()).or_insert(0);
        }
        for sink in sinks {
            sink.finish()?;
        }
    }
    for (out, p) in outs.into_iter().zip(&pending) {
        out.into_inner()
            .map_err(|e| OutputError::io(p.path(), e.into_error()))?;
    }
    for p in pending {
        let path = p.path().to_path_buf();
        p.commit().map_err(|e| OutputError::io(&path, e))?;
    }
    Ok(summary)
}

/// One table's streaming writer.
enum Sink<'a> {
    Parquet(
        Box<polars::io::parquet::write::BatchedWriter<&'a mut BufWriter<File>>>,
        &'a Path,
    ),
    Arrow(
        polars::io::ipc::BatchedWriter<&'a mut BufWriter<File>>,
        &'a Path,
    ),
    Csv(CsvWriter<&'a mut BufWriter<File>>),
    CsvGz(CsvWriter<GzEncoder<&'a mut BufWriter<File>>>, &'a Path),
}

impl<'a> Sink<'a> {
    fn new(
        out: &'a mut BufWriter<File>,
        schema: &Schema,
        format: OutputFormat,
        path: &'a Path,
    ) -> Result<Sink<'a>, OutputError> {
        let schema = schema.clone();
        let err = |source| OutputError::Polars {
            path: path.to_path_buf(),
            source,
        };
        Ok(match format {
            OutputFormat::Parquet => Sink::Parquet(
                Box::new(ParquetWriter::new(out).batched(&schema).map_err(err)?),
                path,
            ),
            OutputFormat::Arrow | OutputFormat::Feather => {
                let arrow_schema = schema.to_arrow(CompatLevel::newest());
                let fields =
                    polars_arrow::io::ipc::write::default_ipc_fields(arrow_schema.iter_values());
                Sink::Arrow(
                    IpcWriter::new(out).batched(&schema, fields).map_err(err)?,
                    path,
                )
            }
            OutputFormat::Csv => {
                let mut w = CsvWriter::new(out, path);
                w.write_header(&DataFrame::empty_with_schema(&schema))?;
                Sink::Csv(w)
            }
            OutputFormat::CsvGz => {
                let gz = GzEncoder::new(out, flate2::Compression::new(6));
                let mut w = CsvWriter::new(gz, path);
                w.write_header(&DataFrame::empty_with_schema(&schema))?;
                Sink::CsvGz(w, path)
            }
        })
    }

    fn write(&mut self, df: &DataFrame) -> Result<(), OutputError> {
        match self {
            Sink::Parquet(w, path) => w.write_batch(df).map_err(|source| OutputError::Polars {
                path: path.to_path_buf(),
                source,
            }),
            Sink::Arrow(w, path) => w.write_batch(df).map_err(|source| OutputError::Polars {
                path: path.to_path_buf(),
                source,
            }),
            Sink::Csv(w) => w.write_rows(df),
            Sink::CsvGz(w, _) => w.write_rows(df),
        }
    }

    fn finish(self) -> Result<(), OutputError> {
        match self {
            Sink::Parquet(w, path) => {
                w.finish()
                    .map(|_| ())
                    .map_err(|source| OutputError::Polars {
                        path: path.to_path_buf(),
                        source,
                    })
            }
            Sink::Arrow(mut w, path) => w.finish().map_err(|source| OutputError::Polars {
                path: path.to_path_buf(),
                source,
            }),
            Sink::Csv(w) => w.into_inner().map(|_| ()),
            Sink::CsvGz(w, path) => w
                .into_inner()?
                .finish()
                .map(|_| ())
                .map_err(|e| OutputError::io(path, e)),
        }
    }
}
