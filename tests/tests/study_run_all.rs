//! The study run end to end through the driver, as a user runs `cargo xtask run-all` on a
//! fresh clone: every output of the original pipeline, consistent across stages, and a second
//! run that re-runs nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use crate::support::{copy_dir, repo_root};

/// A copy of the study (project.yaml, analysis/, codelists/) in a fresh folder.
fn study_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root();
    fs::copy(root.join("project.yaml"), dir.path().join("project.yaml")).unwrap();
    copy_dir(&root.join("analysis"), &dir.path().join("analysis"));
    copy_dir(&root.join("codelists"), &dir.path().join("codelists"));
    dir
}

fn run_all(dir: &Path) -> ExitCode {
    xtask::main([
        "cargo xtask",
        "run-all",
        "--project-dir",
        dir.to_str().unwrap(),
    ])
}

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let text = fs::read_to_string(path).unwrap();
    text.lines()
        .map(|line| line.split(',').map(str::to_string).collect())
        .collect()
}

fn modified_times(dir: &Path) -> BTreeMap<PathBuf, SystemTime> {
    let mut times = BTreeMap::new();
    let mut stack = vec![dir.join("output")];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                times.insert(entry.path(), entry.metadata().unwrap().modified().unwrap());
            }
        }
    }
    times
}

fn monthly_dates() -> Vec<String> {
    let mut dates = Vec::new();
    for year in 2019..=2021 {
        for month in 1..=12 {
            if year == 2021 && month > 1 {
                break;
            }
            dates.push(format!("{year}-{month:02}-01"));
        }
    }
    dates
}

#[test]
fn run_all_produces_every_output_of_the_original_pipeline_and_then_nothing_reruns() {
    let study = study_copy();
    let dir = study.path();
    assert_eq!(run_all(dir), ExitCode::SUCCESS);

    let measures = dir.join("output/measures");
    let dates = monthly_dates();
    assert_eq!(dates.len(), 25);

    // generate_study_population: 25 cohorts, one per month.
    let mut cohort_sizes = BTreeMap::new();
    let mut cohort_numerators = BTreeMap::new();
    for date in &dates {
        let rows = csv_rows(&measures.join(format!("input_{date}.csv")));
        assert_eq!(
            rows[0],
            [
                "patient_id",
                "had_pulse_ox",
                "region",
                "age",
                "age_band",
                "sex"
            ]
        );
        let ids: Vec<i64> = rows[1..].iter().map(|r| r[0].parse().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "sorted by patient_id");
        for row in &rows[1..] {
            // age_band is derived from age in the same row (not sampled independently).
            let age: i64 = row[3].parse().unwrap();
            let band = &row[4];
            let expected = match age {
                0..=19 => "0-19",
                20..=29 => "20-29",
                30..=39 => "30-39",
                40..=49 => "40-49",
                50..=59 => "50-59",
                60..=69 => "60-69",
                70..=79 => "70-79",
                80..=119 => "80+",
                _ => "0",
            };
            assert_eq!(band, expected, "age {age} in band {band} on {date}");
        }
        cohort_sizes.insert(date.clone(), rows.len() - 1);
        let flagged = rows[1..].iter().filter(|r| r[1] == "1").count();
        cohort_numerators.insert(date.clone(), flagged);
    }
    assert!(
        cohort_sizes.values().all(|n| *n > 5_000),
        "{cohort_sizes:?}"
    );

    // generate_measures: per-date and combined files, totals agreeing with the cohorts.
    for id in [
        "pulse_ox_by_sex",
        "pulse_ox_by_region",
        "pulse_ox_by_age_band",
        "pulse_ox_total",
    ] {
        assert!(measures.join(format!("measure_{id}.csv")).is_file(), "{id}");
        for date in &dates {
            assert!(measures.join(format!("measure_{id}_{date}.csv")).is_file());
        }
    }
    let total = csv_rows(&measures.join("measure_pulse_ox_total.csv"));
    assert_eq!(total[0], ["had_pulse_ox", "population", "value", "date"]);
    assert_eq!(total.len(), 26, "one total row per date");
    for row in &total[1..] {
        let date = &row[3];
        assert_eq!(row[1].parse::<usize>().unwrap(), cohort_sizes[date]);
        assert_eq!(row[0], format!("{}.0", cohort_numerators[date]));
    }
    // Every patient is in exactly one sex group, so the groups add up to the total.
    let by_sex = csv_rows(&measures.join("measure_pulse_ox_by_sex.csv"));
    for date in &dates {
        let population: usize = by_sex[1..]
            .iter()
            .filter(|r| &r[4] == date)
            .map(|r| r[2].parse::<usize>().unwrap())
            .sum();
        assert_eq!(population, cohort_sizes[date], "{date}");
    }
    // The service change shows: far more codes in late 2020 than in 2019.
    let early: usize = dates[..12].iter().map(|d| cohort_numerators[d]).sum();
    let late: usize = dates[19..].iter().map(|d| cohort_numerators[d]).sum();
    assert!(late > 5 * early.max(1), "early {early}, late {late}");

    // generate_plots: four JPEGs.
    for name in ["population", "sex", "region", "age"] {
        let bytes = fs::read(dir.join(format!("output/figures/{name}_rates.jpeg"))).unwrap();
        assert_eq!(&bytes[..3], [0xFF, 0xD8, 0xFF], "{name}: a JPEG");
        assert!(bytes.len() > 10_000, "{name}: {} bytes", bytes.len());
    }

    // generate_notebook: the self-contained report.
    let html = fs::read_to_string(dir.join("output/pulse_oximetry_SRO.html")).unwrap();
    assert!(html.contains("Changes occurring in pulse oximetry related to COVID-19"));
    assert!(html.contains("<svg"));
    assert!(!html.contains("http://") && !html.contains("https://cdn"));

    // The run is recorded.
    let manifest = fs::read_to_string(dir.join("metadata/manifest.json")).unwrap();
    assert!(manifest.contains("output/pulse_oximetry_SRO.html"));
    for action in [
        "generate_study_population",
        "generate_measures",
        "generate_plots",
        "generate_notebook",
    ] {
        assert!(
            dir.join(format!("metadata/{action}.log")).is_file(),
            "{action}"
        );
    }

    // A second run re-runs nothing: every output keeps its modification time.
    let before = modified_times(dir);
    assert_eq!(run_all(dir), ExitCode::SUCCESS);
    assert_eq!(modified_times(dir), before);

    // Editing the codelist makes the extraction (and what depends on it) stale.
    let codelist = dir.join("codelists/opensafely-pulse-oximetry.csv");
    let text = fs::read_to_string(&codelist).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.pop();
    fs::write(&codelist, lines.join("\n") + "\n").unwrap();
    assert_eq!(run_all(dir), ExitCode::SUCCESS);
    let after = modified_times(dir);
    let cohort_file = measures.join("input_2020-06-01.csv");
    assert_ne!(after[&cohort_file], before[&cohort_file]);
    let report = dir.join("output/pulse_oximetry_SRO.html");
    assert_ne!(after[&report], before[&report]);

    // Editing the outputs file re-runs the figures and the report (the images report reading
    // it), and nothing before them.
    let outputs = dir.join("analysis/outputs.yaml");
    let text = fs::read_to_string(&outputs).unwrap();
    assert!(text.contains("caption: Rate by sex\n"));
    fs::write(
        &outputs,
        text.replace("caption: Rate by sex\n", "caption: Rate by sex (F and M)\n"),
    )
    .unwrap();
    assert_eq!(run_all(dir), ExitCode::SUCCESS);
    let edited = modified_times(dir);
    let figure = dir.join("output/figures/sex_rates.jpeg");
    assert_ne!(edited[&report], after[&report]);
    assert_ne!(edited[&figure], after[&figure]);
    assert_eq!(edited[&cohort_file], after[&cohort_file]);
    assert!(fs::read_to_string(&report)
        .unwrap()
        .contains("<figcaption>Rate by sex (F and M)</figcaption>"));
}
