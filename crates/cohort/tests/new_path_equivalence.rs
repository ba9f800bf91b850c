//! Temporary: the new study language + polars engine give the old engine's files.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;

#[test]
fn the_study_over_synthetic_data_matches_the_old_engine() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let path = root.join("analysis/study_definition.yaml");
    let old = cohort::study::StudyDefinition::load(&path).unwrap();
    let new = cohort::lang::StudyDefinition::load(&path).unwrap();
    let codes = cohort::synth::study_code_sets(&old);
    let frames =
        cohort::synth::generate_frames(&cohort::synth::SynthConfig::new(5000, 7, codes)).unwrap();
    let dates: Vec<NaiveDate> = (0..25)
        .map(|i| NaiveDate::from_ymd_opt(2019 + i / 12, (i % 12) as u32 + 1, 1).unwrap())
        .collect();
    let ir = old.compile().unwrap();
    let old_out = cohort::engine::extract_all(&ir, &frames, &dates).unwrap();
    let compiled = new.compile(&cohort::lang::Runtime::check()).unwrap();
    let mut tables = HashMap::new();
    tables.insert("patients".to_string(), frames.patients.clone());
    tables.insert(
        "practice_registrations".to_string(),
        frames.practice_registrations.clone(),
    );
    tables.insert(
        "clinical_events".to_string(),
        frames.clinical_events.clone(),
    );
    let engine = engine_polars::PolarsEngine::new(tables, "synthetic");
    use query::Engine;
    let qdates: Vec<query::Date> = dates.iter().map(|d| query::Date::from_naive(*d)).collect();
    let t = std::time::Instant::now();
    let new_out = engine.run_all(&compiled.dataset, &qdates).unwrap();
    eprintln!("polars engine: {:?}", t.elapsed());
    let dir = tempfile::tempdir().unwrap();
    for ((d, old_df), (_, batch)) in old_out.iter().zip(&new_out) {
        let a = dir.path().join(format!("old_{d}.csv"));
        let b = dir.path().join(format!("new_{d}.csv"));
        cohort::output::write_frame(old_df, &a, cohort::output::OutputFormat::Csv).unwrap();
        cohort::output::write_batch(
            batch,
            &compiled.columns,
            &b,
            cohort::output::OutputFormat::Csv,
        )
        .unwrap();
        let (x, y) = (
            std::fs::read_to_string(&a).unwrap(),
            std::fs::read_to_string(&b).unwrap(),
        );
        assert!(
            x == y,
            "{d}: differ\n{}\n---\n{}",
            &x[..x.len().min(600)],
            &y[..y.len().min(600)]
        );
    }
    let interp_tables = cohort::source::frames_to_rows(&frames);
    let _ = interp_tables;
}
