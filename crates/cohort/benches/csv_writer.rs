//! Benchmark of the CSV writer alone (issue 16): writes the rows of a folder of
//! `input_<date>.csv` cohorts again, as `generate_cohort` writes them, and times only the
//! writing.
//!
//! `cargo bench -p cohort --bench csv_writer -- INPUT_DIR OUTPUT_DIR [RUNS]` (default 3 runs).
//! Each `input_*.csv` of INPUT_DIR (for example DuckDB's cohorts of `benchmarks/compare.py`
//! part c) is read into the engine's batch form with the project study's column types (not
//! timed); then every run writes all of them to OUTPUT_DIR with `output::write_batch`, the
//! files in parallel on the thread pool as `generate_cohort` does. Prints each run's time and
//! the median; `benchmarks/compare.py --parts w` runs it next to DuckDB's own writer.

use std::path::{Path, PathBuf};
use std::time::Instant;

use cohort::lang::{ColumnType, OutputColumn};
use cohort::output::{write_batch, OutputFormat};
use cohort::study::{Runtime, StudyDefinition};
use query::{Batch, ColumnData, Date, StrColumn};

fn fail(msg: String) -> ! {
    eprintln!("csv_writer: {msg}");
    std::process::exit(1)
}

/// Reads one cohort file into a batch; `columns` gives the types after `patient_id`.
fn read_cohort(path: &Path, columns: &[OutputColumn]) -> Batch {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| fail(format!("cannot read {}: {e}", path.display())));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let want: Vec<&str> = std::iter::once("patient_id")
        .chain(columns.iter().map(|c| c.name.as_str()))
        .collect();
    if header != want {
        fail(format!(
            "{}: columns {header:?}, expected {want:?}",
            path.display()
        ));
    }
    let mut ids = Vec::new();
    let mut data: Vec<ColumnData> = columns
        .iter()
        .map(|c| match c.ty {
            ColumnType::Bool => ColumnData::Bool(Vec::new()),
            ColumnType::Int => ColumnData::Int(Vec::new()),
            ColumnType::Float => ColumnData::Float(Vec::new()),
            ColumnType::Str => ColumnData::Str(StrColumn::new()),
            ColumnType::Date => ColumnData::Date(Vec::new()),
        })
        .collect();
    for (i, line) in lines.enumerate() {
        let at = || format!("{} line {}", path.display(), i + 2);
        if line.contains('"') {
            fail(format!("{}: quoted fields are not supported here", at()));
        }
        let mut cells = line.split(',');
        let id = cells.next().unwrap_or_default();
        ids.push(
            id.parse()
                .unwrap_or_else(|_| fail(format!("{}: patient_id {id:?}", at()))),
        );
        for (column, c) in data.iter_mut().zip(columns) {
            let cell = cells
                .next()
                .unwrap_or_else(|| fail(format!("{}: too few fields", at())));
            let bad = || -> ! { fail(format!("{}: {} {cell:?}", at(), c.name)) };
            match column {
                ColumnData::Bool(v) => v.push(match cell {
                    "" => None,
                    "0" => Some(false),
                    "1" => Some(true),
                    _ => bad(),
                }),
                ColumnData::Int(v) => {
                    v.push((!cell.is_empty()).then(|| cell.parse().unwrap_or_else(|_| bad())));
                }
                ColumnData::Float(v) => {
                    v.push((!cell.is_empty()).then(|| cell.parse().unwrap_or_else(|_| bad())));
                }
                ColumnData::Str(v) => v.push(Some(cell)),
                ColumnData::Date(v) => v.push((!cell.is_empty()).then(|| {
                    let d = chrono::NaiveDate::parse_from_str(cell, "%Y-%m-%d")
                        .unwrap_or_else(|_| bad());
                    Date::from_naive(d)
                })),
            }
        }
        if cells.next().is_some() {
            fail(format!("{}: too many fields", at()));
        }
    }
    Batch {
        patient_ids: ids,
        columns: data,
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (Some(input), Some(output)) = (args.first(), args.get(1)) else {
        fail("usage: csv_writer INPUT_DIR OUTPUT_DIR [RUNS]".to_string());
    };
    let runs: usize = args.get(2).map_or(3, |r| {
        r.parse()
            .unwrap_or_else(|_| fail(format!("RUNS {r:?} is not a number")))
    });
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let definition = StudyDefinition::load(&root.join("analysis/study_definition.yaml"))
        .unwrap_or_else(|e| fail(e.to_string()));
    let study = definition
        .compile(&Runtime::check())
        .unwrap_or_else(|e| fail(e.to_string()));
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(input)
        .unwrap_or_else(|e| fail(format!("cannot list {input}: {e}")))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("input_") && Path::new(n).extension().is_some_and(|e| e == "csv")
            })
        })
        .collect();
    inputs.sort();
    if inputs.is_empty() {
        fail(format!("no input_*.csv files in {input}"));
    }
    let started = Instant::now();
    let batches: Vec<(PathBuf, Batch)> = inputs
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap_or_default();
            (Path::new(output).join(name), read_cohort(p, &study.columns))
        })
        .collect();
    let rows: usize = batches.iter().map(|(_, b)| b.len()).sum();
    println!(
        "csv_writer: read {} files, {rows} rows in {:.2} s (not timed)",
        batches.len(),
        started.elapsed().as_secs_f64()
    );
    std::fs::create_dir_all(output)
        .unwrap_or_else(|e| fail(format!("cannot create {output}: {e}")));
    let columns = &study.columns;
    let mut times = Vec::new();
    for run in 1..=runs {
        let started = Instant::now();
        let (done, results) = std::sync::mpsc::channel();
        rayon::scope(|scope| {
            for (path, batch) in &batches {
                let done = done.clone();
                scope.spawn(move |_| {
                    let _ = done.send(write_batch(batch, columns, path, OutputFormat::Csv));
                });
            }
        });
        drop(done);
        for result in results {
            result.unwrap_or_else(|e| fail(e.to_string()));
        }
        let seconds = started.elapsed().as_secs_f64();
        println!("csv_writer: run {run}: {seconds:.3} s");
        times.push(seconds);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "csv_writer: median {:.3} s over {runs} run(s), {} threads",
        times[times.len() / 2],
        rayon::current_num_threads()
    );
}
