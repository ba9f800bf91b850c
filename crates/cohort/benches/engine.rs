//! Benchmark of the two cohort engines on the project's study over the synthetic EHR for the
//! study's 25 monthly index dates (2019-01-01 … 2021-01-01).
//!
//! `cargo bench -p cohort --bench engine [-- PATIENTS [INTERPRETER_PATIENTS] [--tables DIR]]`
//! (defaults 1,000,000 and 20,000). The polars engine runs all 25 dates over PATIENTS (or
//! over the tables of folder DIR, e.g. Parquet written by `xtask generate-ehr`), in passes of
//! the size it chooses, then again in one pass; the reference interpreter runs over the first
//! INTERPRETER_PATIENTS-patient data set (0 skips it), and both are checked to agree there.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use cohort::study::{Runtime, StudyDefinition};
use cohort::synth::{generate_frames, study_code_sets, SynthConfig};
use cohort::tables::TableFrames;
use polars::prelude::DataFrame;
use query::{Date, Engine};

fn index_dates() -> Vec<Date> {
    (0..25)
        .filter_map(|m| Date::from_ymd(2019 + m / 12, (m % 12 + 1) as u32, 1))
        .collect()
}

fn by_name(frames: TableFrames) -> HashMap<String, DataFrame> {
    let mut out = HashMap::new();
    out.insert("patients".to_string(), frames.patients);
    out.insert(
        "practice_registrations".to_string(),
        frames.practice_registrations,
    );
    out.insert("clinical_events".to_string(), frames.clinical_events);
    out
}

fn main() {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let tables_dir = raw
        .iter()
        .position(|a| a == "--tables")
        .and_then(|i| raw.get(i + 1))
        .cloned();
    let args: Vec<usize> = raw.iter().filter_map(|a| a.parse().ok()).collect();
    let patients = args.first().copied().unwrap_or(1_000_000);
    let interp_patients = args.get(1).copied().unwrap_or(20_000);

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let definition = StudyDefinition::load(&root.join("analysis/study_definition.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let study = definition.compile(&Runtime::check()).expect("compile");
    let dates = index_dates();

    let generate = |n: usize| {
        let started = Instant::now();
        let frames = generate_frames(&SynthConfig::new(n, 1, study_code_sets(&definition)))
            .expect("generate");
        println!(
            "generated {n} patients: {} registrations, {} clinical events in {:.2} s",
            frames.practice_registrations.height(),
            frames.clinical_events.height(),
            started.elapsed().as_secs_f64()
        );
        frames
    };

    let frames = match &tables_dir {
        Some(dir) => {
            let started = Instant::now();
            let frames =
                cohort::tables::load_core_tables(Path::new(dir)).unwrap_or_else(|e| panic!("{e}"));
            println!(
                "loaded {dir}: {} patients, {} registrations, {} clinical events in {:.2} s",
                frames.patients.height(),
                frames.practice_registrations.height(),
                frames.clinical_events.height(),
                started.elapsed().as_secs_f64()
            );
            frames
        }
        None => generate(patients),
    };
    let patients = frames.patients.height();
    let frames = by_name(frames);
    let auto = engine_polars::dates_per_pass(patients, dates.len(), engine_polars::ROWS_PER_PASS);
    for per_pass in [auto, dates.len()] {
        let engine = engine_polars::PolarsEngine::new(frames.clone(), "bench")
            .with_rows_per_pass(per_pass * patients.max(1));
        let started = Instant::now();
        let mut rows = 0usize;
        engine
            .run(&study.dataset, &dates, &mut |_, batch| {
                rows += batch.len();
                Ok(())
            })
            .expect("engine");
        let secs = started.elapsed().as_secs_f64();
        println!(
            "engine: {patients} patients x {} index dates, {per_pass} per pass: {rows} output \
             rows in {secs:.2} s ({:.2} s per date)",
            dates.len(),
            secs / dates.len() as f64
        );
    }
    drop(frames);

    if interp_patients == 0 {
        return;
    }
    let small = by_name(generate(interp_patients));
    let started = Instant::now();
    let fast = engine_polars::PolarsEngine::new(small.clone(), "bench")
        .run_all(&study.dataset, &dates)
        .expect("engine");
    let engine_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let reference = query::Interpreter::new(ehr::rows::to_tables(&small).expect("rows"))
        .run_all(&study.dataset, &dates)
        .expect("interpreter");
    let secs = started.elapsed().as_secs_f64();
    assert!(reference == fast, "engines disagree");
    let rows: usize = reference.iter().map(|(_, b)| b.len()).sum();
    println!(
        "interpreter: {interp_patients} patients x {} index dates: {rows} output rows \
         in {secs:.2} s (engine on the same data: {engine_secs:.2} s); results identical",
        dates.len()
    );
}
