//! Benchmark of the synthetic EHR generator: writes N patients (default 1,000,000) with the
//! study's codelist to a temporary folder and reports rows, bytes and wall time.
//!
//! `cargo bench -p cohort --bench synth [-- PATIENTS [FORMAT [SEED [cohort]]]]`; run it under
//! `/usr/bin/time -v` for peak memory. With `cohort`, it then runs `generate_cohort` for the
//! project's study over the generated tables (database mode, 25 monthly index dates) and
//! reports that time too.

use std::time::Instant;

use cohort::lang::CodeSystem;
use cohort::output::OutputFormat;
use cohort::synth::{write_ehr, CodeSet, SynthConfig};

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let patients: usize = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let format: OutputFormat = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(OutputFormat::Parquet);
    let seed: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let cohort = args.get(3).is_some_and(|a| a == "cohort");
    let codes = vec![CodeSet {
        system: CodeSystem::Ctv3,
        codes: [
            "Y2a48", "Y2a47", "YA796", "Y2a49", "Y2a4a", "Y2a4b", "Y2a4c", "Y2a4d",
        ]
        .map(String::from)
        .to_vec(),
    }];
    let config = SynthConfig::new(patients, seed, codes);
    let dir = tempfile::tempdir().expect("temporary folder");
    let started = Instant::now();
    let summary = write_ehr(&config, dir.path(), format, &mut |_, _| {}).expect("generate");
    let elapsed = started.elapsed();
    let bytes: u64 = std::fs::read_dir(dir.path())
        .expect("read output folder")
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "synth: {} patients, {} registrations, {} clinical events ({:.1} per patient), {format}, \
         {:.1} MB in {:.2} s ({} threads)",
        summary.patients,
        summary.practice_registrations,
        summary.clinical_events,
        summary.clinical_events as f64 / summary.patients.max(1) as f64,
        bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        rayon::current_num_threads(),
    );
    println!("peak memory so far: {}", peak_rss());
    if cohort {
        let started = Instant::now();
        let tables = cohort::tables::load_core_tables(dir.path()).expect("load tables");
        println!(
            "load_tables: {} clinical events in {:.2} s (peak memory so far: {})",
            tables.clinical_events.height(),
            started.elapsed().as_secs_f64(),
            peak_rss()
        );
        drop(tables);
        run_cohort(dir.path());
        println!("peak memory: {}", peak_rss());
    }
}

/// The process's peak resident memory (`VmHWM`), as Linux reports it.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// `generate_cohort` over the generated tables in a copy of the project.
fn run_cohort(ehr: &std::path::Path) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let project = tempfile::tempdir().expect("temporary project");
    for sub in ["analysis", "codelists"] {
        std::fs::create_dir_all(project.path().join(sub)).expect("project folders");
    }
    for file in [
        "analysis/study_definition.yaml",
        "codelists/opensafely-pulse-oximetry.csv",
    ] {
        std::fs::copy(root.join(file), project.path().join(file)).expect("copy study");
    }
    let options = cohort::cli::CohortOptions {
        study_definition: Some("study_definition".into()),
        index_date_range: Some("2019-01-01 to 2021-01-01 by month".into()),
        output_dir: Some("output/measures".into()),
        database_url: Some(format!("file://{}", ehr.display())),
        ..Default::default()
    };
    let started = Instant::now();
    let mut log = Vec::new();
    cohort::cli::generate_cohort(&options, project.path(), &mut log).expect("generate_cohort");
    println!(
        "generate_cohort: 25 monthly cohorts from those tables in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    // The progress lines show when the first and the last file were written.
    let log = String::from_utf8_lossy(&log);
    for line in log
        .lines()
        .filter(|l| l.contains(" 1/25 ") || l.contains(" 25/25 "))
    {
        println!("  {line}");
    }
}
