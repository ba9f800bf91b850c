//! One `generate_measures` run: discover inputs, read each once, evaluate every measure,
//! then write everything.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::compute::{compute, MeasureResult};
use crate::discover::{discover_inputs, InputFile};
use crate::error::MeasuresError;
use crate::frame::{read_frame, ColumnUse};
use crate::output::{combine, long_table, LineEnding, Table};
use crate::spec::{validate_all, Disclosure, MeasureSpec, POPULATION};
use files::names::measure_file_name;

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the `input*` files are and the `measure_*` files go.
    pub output_dir: PathBuf,
    /// Study-definition suffix: `""` for `study_definition`, `_x` for `study_definition_x`.
    pub suffix: String,
    /// Keep existing per-date files instead of recomputing them (they are still combined).
    pub skip_existing: bool,
    /// Overrides every measure's own disclosure control.
    pub disclosure: Option<Disclosure>,
    /// Also write the ehrQL-style long file here.
    pub long_output: Option<PathBuf>,
}

impl Options {
    /// Defaults for `output_dir`: no suffix, recompute everything, per-measure disclosure
    /// control, no long file.
    pub fn new(output_dir: impl Into<PathBuf>) -> Self {
        Options {
            output_dir: output_dir.into(),
            suffix: String::new(),
            skip_existing: false,
            disclosure: None,
            long_output: None,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The input files read (or whose outputs were reused), by date.
    pub inputs: Vec<PathBuf>,
    /// Every file written, in the order written.
    pub written: Vec<PathBuf>,
}

/// The columns `specs` need from an input file, each once.
pub fn column_uses<'a>(specs: impl IntoIterator<Item = &'a MeasureSpec>) -> Vec<ColumnUse> {
    let mut uses: Vec<ColumnUse> = Vec::new();
    let mut add = |name: &str, numeric: bool, role: String| {
        if let Some(u) = uses.iter_mut().find(|u| u.name == name) {
            u.numeric |= numeric;
            u.categorical |= !numeric;
        } else {
            uses.push(ColumnUse {
                name: name.to_string(),
                numeric,
                categorical: !numeric,
                role,
            });
        }
    };
    for spec in specs {
        for (what, name) in [
            ("numerator", &spec.numerator),
            ("denominator", &spec.denominator),
        ] {
            if name != POPULATION {
                add(name, true, format!("{what} of measure '{}'", spec.id));
            }
        }
        for g in spec.group_columns() {
            add(g, false, format!("group_by of measure '{}'", spec.id));
        }
    }
    uses
}

/// The per-date output of measure `id` for `date`.
pub fn per_date_path(dir: &Path, id: &str, date: &str) -> PathBuf {
    dir.join(measure_file_name(id, Some(date)))
}

/// The combined output of measure `id`.
pub fn combined_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(measure_file_name(id, None))
}

/// The results of every measure for one input file.
struct DateOutputs {
    date: String,
    /// Per measure: the table, its numbers, whether it was computed now (else reused).
    measures: Vec<(Table, MeasureResult, bool)>,
    log: Vec<String>,
}

fn process_input(
    input: &InputFile,
    specs: &[MeasureSpec],
    opts: &Options,
) -> Result<DateOutputs, MeasuresError> {
    let mut log = Vec::new();
    let reuse: Vec<bool> = specs
        .iter()
        .map(|s| opts.skip_existing && per_date_path(&opts.output_dir, &s.id, &input.date).exists())
        .collect();
    let to_compute: Vec<&MeasureSpec> = specs
        .iter()
        .zip(&reuse)
        .filter(|(_, r)| !**r)
        .map(|(s, _)| s)
        .collect();
    let frame = if to_compute.is_empty() {
        None
    } else {
        let frame = read_frame(input, &column_uses(to_compute.iter().copied()))?;
        log.push(format!(
            "Read {} ({} rows)",
            input.path.display(),
            frame.rows
        ));
        Some(frame)
    };
    let mut measures = Vec::with_capacity(specs.len());
    for (spec, reused) in specs.iter().zip(reuse) {
        if reused {
            let path = per_date_path(&opts.output_dir, &spec.id, &input.date);
            let table = Table::read_csv(&path)?;
            let result = MeasureResult::from_table(spec, &table, &path)?;
            log.push(format!("Kept existing {}", path.display()));
            measures.push((table, result, false));
        } else if let Some(frame) = &frame {
            let disclosure = opts.disclosure.unwrap_or(spec.disclosure);
            let result = compute(spec, frame, disclosure, &mut |m| {
                log.push(format!("{m} ({})", input.date));
            })?;
            measures.push((result.to_table(spec), result, true));
        }
    }
    Ok(DateOutputs {
        date: input.date.clone(),
        measures,
        log,
    })
}

/// Processes the inputs on up to `available_parallelism` threads (plain threads: polars'
/// parquet reader called from inside a rayon pool kept ~1 GB more resident on 25 files of
/// 1M rows), results in input order.
fn process_all(
    inputs: &[InputFile],
    specs: &[MeasureSpec],
    opts: &Options,
) -> Vec<Result<DateOutputs, MeasuresError>> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(inputs.len())
        .max(1);
    let next = AtomicUsize::new(0);
    // After an error no new file is started (the first error in date order is reported).
    let failed = AtomicBool::new(false);
    let mut results: Vec<(usize, Result<DateOutputs, MeasuresError>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(input) = inputs.get(i) else { break };
                        let result = process_input(input, specs, opts);
                        if result.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        done.push((i, result));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(done) => done,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Runs `specs` over the input files of `opts.output_dir`. Everything is computed before
/// anything is written; every file is written to a temporary name and renamed.
pub fn generate_measures_with(
    specs: &[MeasureSpec],
    opts: &Options,
    log: &mut dyn Write,
) -> Result<Summary, MeasuresError> {
    validate_all(specs)?;
    let inputs = discover_inputs(&opts.output_dir, &opts.suffix)?;
    let log_io = |e: std::io::Error| MeasuresError::io("<log>", e);
    let results = process_all(&inputs, specs, opts);
    let mut dates = Vec::with_capacity(results.len());
    for result in results {
        let outputs = result?;
        for line in &outputs.log {
            writeln!(log, "{line}").map_err(log_io)?;
        }
        dates.push(outputs);
    }

    // Everything is known: build the files, then write them.
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for (m, spec) in specs.iter().enumerate() {
        for d in &dates {
            let (table, _, computed) = &d.measures[m];
            if *computed {
                files.push((
                    per_date_path(&opts.output_dir, &spec.id, &d.date),
                    table.to_csv(LineEnding::Lf),
                ));
            }
        }
        let per_date: Vec<(&str, &Table)> = dates
            .iter()
            .map(|d| (d.date.as_str(), &d.measures[m].0))
            .collect();
        let combined = combine(&per_date).map_err(|message| MeasuresError::InvalidMeasure {
            id: spec.id.clone(),
            message,
        })?;
        files.push((
            combined_path(&opts.output_dir, &spec.id),
            combined.to_csv(LineEnding::CrLf),
        ));
    }
    if let Some(path) = &opts.long_output {
        let measures: Vec<(&MeasureSpec, Vec<(&str, &MeasureResult)>)> = specs
            .iter()
            .enumerate()
            .map(|(m, spec)| {
                let per_date = dates
                    .iter()
                    .map(|d| (d.date.as_str(), &d.measures[m].1))
                    .collect();
                (spec, per_date)
            })
            .collect();
        files.push((path.clone(), long_table(&measures).to_csv(LineEnding::Lf)));
    }

    let mut summary = Summary {
        inputs: inputs.into_iter().map(|i| i.path).collect(),
        written: Vec::new(),
    };
    for (path, contents) in files {
        files::write_atomic(&path, contents.as_bytes()).map_err(|e| MeasuresError::io(&path, e))?;
        summary.written.push(path);
    }
    writeln!(
        log,
        "Wrote {} files for {} measures over {} input files",
        summary.written.len(),
        specs.len(),
        summary.inputs.len()
    )
    .map_err(log_io)?;
    Ok(summary)
}
