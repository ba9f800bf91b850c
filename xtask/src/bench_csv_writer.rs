//! `xtask bench-csv-writer` (hidden): the CSV writer alone, for `benchmarks/compare.py` part w
//! (issue 16).
//!
//! Reads every `input_*.csv` of INPUT_DIR (for example DuckDB's cohorts of part c) into the
//! engine's batch form with the study's column types (not timed); then each of RUNS runs
//! writes all of them to OUTPUT_DIR with `output::write_batch`, the files in parallel on the
//! thread pool as `generate_cohort` does, and times only that. Prints `csv_writer: run N: S s`
//! per run and the median. In the release driver, so no bench-profile build of polars.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use cohort::lang::{ColumnType, OutputColumn};
use cohort::output::{write_batch, OutputFormat};
use cohort::study::{Runtime, StudyDefinition};
use query::{Batch, ColumnData, Date, StrColumn};

/// Arguments of `bench-csv-writer`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder of `input_*.csv` cohorts (no quoted fields).
    pub input_dir: PathBuf,
    /// Folder the files are written to (created; files overwritten).
    pub output_dir: PathBuf,
    /// How many timed runs.
    #[arg(default_value_t = 3)]
    pub runs: usize,
    /// The study definition giving the columns and their types.
    #[arg(long, default_value = "analysis/study_definition.yaml")]
    pub study_definition: PathBuf,
}

/// Runs `bench-csv-writer`.
pub fn run(args: &Args) -> ExitCode {
    match bench(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("csv_writer: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn bench(args: &Args) -> Result<(), String> {
    if args.runs == 0 {
        return Err("RUNS must be at least 1".to_string());
    }
    let definition = StudyDefinition::load(&args.study_definition).map_err(|e| e.to_string())?;
    let study = definition
        .compile(&Runtime::check())
        .map_err(|e| e.to_string())?;
    let input = &args.input_dir;
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(input)
        .map_err(|e| format!("cannot list {}: {e}", input.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("input_") && Path::new(n).extension().is_some_and(|e| e == "csv")
            })
        })
        .collect();
    inputs.sort();
    if inputs.is_empty() {
        return Err(format!("no input_*.csv files in {}", input.display()));
    }
    let started = Instant::now();
    let batches = inputs
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap_or_default();
            Ok((args.output_dir.join(name), read_cohort(p, &study.columns)?))
        })
        .collect::<Result<Vec<(PathBuf, Batch)>, String>>()?;
    let rows: usize = batches.iter().map(|(_, b)| b.len()).sum();
    println!(
        "csv_writer: read {} files, {rows} rows in {:.2} s (not timed)",
        batches.len(),
        started.elapsed().as_secs_f64()
    );
    std::fs::create_dir_all(&args.output_dir)
        .map_err(|e| format!("cannot create {}: {e}", args.output_dir.display()))?;
    let columns = &study.columns;
    let mut times = Vec::new();
    for run in 1..=args.runs {
        let started = Instant::now();
        let (done, results) = std::sync::mpsc::channel();
        rayon::scope(|scope| {
            for (path, batch) in &batches {
                let done = done.clone();
                scope.spawn(move |_| {
                    // The receiver outlives the scope.
                    let _ = done.send(write_batch(batch, columns, path, OutputFormat::Csv));
                });
            }
        });
        drop(done);
        for result in results {
            result.map_err(|e| e.to_string())?;
        }
        let seconds = started.elapsed().as_secs_f64();
        println!("csv_writer: run {run}: {seconds:.3} s");
        times.push(seconds);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "csv_writer: median {:.3} s over {} run(s), {} threads",
        times[times.len() / 2],
        args.runs,
        rayon::current_num_threads()
    );
    Ok(())
}

/// Reads one cohort file into a batch; `columns` gives the types after `patient_id`.
fn read_cohort(path: &Path, columns: &[OutputColumn]) -> Result<Batch, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let want: Vec<&str> = std::iter::once("patient_id")
        .chain(columns.iter().map(|c| c.name.as_str()))
        .collect();
    if header != want {
        return Err(format!(
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
            return Err(format!("{}: quoted fields are not supported here", at()));
        }
        let mut cells = line.split(',');
        let id = cells.next().unwrap_or_default();
        ids.push(
            id.parse()
                .map_err(|_| format!("{}: patient_id {id:?}", at()))?,
        );
        for (column, c) in data.iter_mut().zip(columns) {
            let cell = cells
                .next()
                .ok_or_else(|| format!("{}: too few fields", at()))?;
            let bad = || format!("{}: {} {cell:?}", at(), c.name);
            match column {
                ColumnData::Bool(v) => v.push(match cell {
                    "" => None,
                    "0" => Some(false),
                    "1" => Some(true),
                    _ => return Err(bad()),
                }),
                ColumnData::Int(v) => v.push(parse_cell(cell).map_err(|()| bad())?),
                ColumnData::Float(v) => v.push(parse_cell(cell).map_err(|()| bad())?),
                ColumnData::Str(v) => v.push(Some(cell)),
                ColumnData::Date(v) => v.push(if cell.is_empty() {
                    None
                } else {
                    Some(Date::parse_iso(cell).ok_or_else(bad)?)
                }),
            }
        }
        if cells.next().is_some() {
            return Err(format!("{}: too many fields", at()));
        }
    }
    Ok(Batch {
        patient_ids: ids,
        columns: data,
    })
}

/// An empty cell is null; anything else must parse.
fn parse_cell<T: std::str::FromStr>(cell: &str) -> Result<Option<T>, ()> {
    if cell.is_empty() {
        Ok(None)
    } else {
        cell.parse().map(Some).map_err(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "patient_id,had_pulse_ox,region,age,age_band,sex\n";

    /// Arguments over the repository's study, reading `input` and writing `output`.
    fn args(input: &Path, output: &Path, runs: usize) -> Args {
        Args {
            input_dir: input.to_path_buf(),
            output_dir: output.to_path_buf(),
            runs,
            study_definition: Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../analysis/study_definition.yaml"),
        }
    }

    /// `bench` over one `input_2020-01-01.csv` holding `body` after the header.
    fn bench_one(body: &str) -> (tempfile::TempDir, Result<(), String>) {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("in");
        std::fs::create_dir(&input).unwrap();
        std::fs::write(
            input.join("input_2020-01-01.csv"),
            format!("{HEADER}{body}"),
        )
        .unwrap();
        let result = bench(&args(&input, &tmp.path().join("out"), 2));
        (tmp, result)
    }

    #[test]
    fn writes_the_rows_back_byte_for_byte() {
        let body = "1,0,London,45,40-49,M\n2,1,,0,0,\n7,0,North East,120,80+,F\n";
        let (tmp, result) = bench_one(body);
        result.unwrap();
        let written = std::fs::read_to_string(tmp.path().join("out/input_2020-01-01.csv")).unwrap();
        assert_eq!(written, format!("{HEADER}{body}"));
    }

    #[test]
    fn bad_input_is_an_error_naming_the_place() {
        for (body, want) in [
            ("1,0,\"London\",45,40-49,M\n", "line 2: quoted fields"),
            ("1,0,London,forty,40-49,M\n", "line 2: age \"forty\""),
            ("1,2,London,45,40-49,M\n", "line 2: had_pulse_ox \"2\""),
            ("x,0,London,45,40-49,M\n", "line 2: patient_id \"x\""),
            ("1,0,London,45\n", "line 2: too few fields"),
            ("1,0,London,45,40-49,M,extra\n", "line 2: too many fields"),
        ] {
            let (_tmp, result) = bench_one(body);
            let err = result.unwrap_err();
            assert!(err.contains(want), "{body:?}: {err}");
        }
    }

    #[test]
    fn a_folder_without_cohorts_or_other_columns_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let err = bench(&args(tmp.path(), &out, 1)).unwrap_err();
        assert!(err.contains("no input_*.csv files"), "{err}");
        std::fs::write(
            tmp.path().join("input_2020-01-01.csv"),
            "patient_id,age\n1,45\n",
        )
        .unwrap();
        let err = bench(&args(tmp.path(), &out, 1)).unwrap_err();
        assert!(
            err.contains("columns [\"patient_id\", \"age\"], expected"),
            "{err}"
        );
        let err = bench(&args(tmp.path(), &out, 0)).unwrap_err();
        assert!(err.contains("RUNS must be at least 1"), "{err}");
    }
}
