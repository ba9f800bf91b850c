//! Realistic 25-month measure files for tests (also used by the report crate's tests).
//!
//! The numbers follow the shape of the real study: little pulse oximetry coding before the
//! COVID Oximetry @home roll-out (a few a month, so the smaller groups are redacted in some
//! months), then a steep rise from mid 2020. Small groups (sex `I`/`U`, age band `0`) are present so filtering is
//! exercised. Files are written as cohortextractor wrote combined measure files: CRLF line
//! endings, float numerators, int populations, `date` last.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

/// Sorted as cohortextractor sorts group values (code point order).
pub(crate) const REGIONS: [&str; 9] = [
    "East Midlands",
    "East of England",
    "London",
    "North East",
    "North West",
    "South East",
    "South West",
    "West Midlands",
    "Yorkshire and the Humber",
];
pub(crate) const AGE_BANDS: [&str; 9] = [
    "0", "0-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+",
];
pub(crate) const SEXES: [&str; 4] = ["F", "I", "M", "U"];

/// `2019-01-01` … `2021-01-01`.
pub(crate) fn months() -> Vec<String> {
    (0..25)
        .map(|i| format!("{}-{:02}-01", 2019 + i / 12, i % 12 + 1))
        .collect()
}

/// Patients with a code in month `m` (0 = Jan 2019) for a group of relative size `weight`.
fn numerator(m: usize, weight: f64, salt: usize) -> f64 {
    if m < 17 {
        // Before the roll-out: a few a month, so small groups are redacted in some months.
        (weight * 6.0).round() + ((m * 7 + salt * 3) % 4) as f64
    } else {
        let t = (m - 16) as f64;
        (weight * t * t * 9.0 + ((m + salt) % 5) as f64).round()
    }
}

fn population(m: usize, weight: f64) -> u64 {
    (weight * 40_000.0) as u64 + (m as u64) * 37
}

fn value_cell(n: f64, d: u64) -> String {
    if d == 0 {
        String::new()
    } else {
        format!("{:?}", n / d as f64)
    }
}

fn grouped(column: &str, groups: &[(&str, f64)]) -> String {
    let mut out = format!("{column},had_pulse_ox,population,value,date\r\n");
    for (m, date) in months().iter().enumerate() {
        for (salt, (g, w)) in groups.iter().enumerate() {
            let (n, d) = if *w == 0.0 {
                (((m + salt) % 3) as f64, (m % 4) as u64)
            } else {
                (numerator(m, *w, salt), population(m, *w))
            };
            write!(out, "{g},{n:?},{d},{},{date}\r\n", value_cell(n, d)).unwrap();
        }
    }
    out
}

pub(crate) fn sex_csv() -> String {
    grouped("sex", &[("F", 1.02), ("I", 0.0), ("M", 0.98), ("U", 0.0)])
}

pub(crate) fn region_csv() -> String {
    let weights = [0.9, 1.1, 1.6, 0.5, 1.3, 1.7, 1.0, 1.05, 0.95];
    let groups: Vec<(&str, f64)> = REGIONS.iter().copied().zip(weights).collect();
    grouped("region", &groups)
}

pub(crate) fn age_band_csv() -> String {
    let weights = [0.0, 0.4, 0.5, 0.6, 0.8, 1.0, 1.4, 1.8, 2.2];
    let groups: Vec<(&str, f64)> = AGE_BANDS.iter().copied().zip(weights).collect();
    grouped("age_band", &groups)
}

/// One total row per month (the project's measure format).
pub(crate) fn total_csv() -> String {
    let mut out = String::from("had_pulse_ox,population,value,date\r\n");
    for (m, date) in months().iter().enumerate() {
        let n = numerator(m, 2.0, 0) + numerator(m, 2.0, 2);
        let d = population(m, 2.0) * 2;
        write!(out, "{n:?},{d},{},{date}\r\n", value_cell(n, d)).unwrap();
    }
    out
}

/// Writes the four measure files of the study into `dir`.
pub(crate) fn write_study_measures(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, text) in [
        ("measure_pulse_ox_by_sex.csv", sex_csv()),
        ("measure_pulse_ox_by_region.csv", region_csv()),
        ("measure_pulse_ox_by_age_band.csv", age_band_csv()),
        ("measure_pulse_ox_total.csv", total_csv()),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

/// The combined cohortextractor reference measures (3 months), copies of those in
/// `crates/measures/tests/data/cohortextractor-measures`.
pub(crate) fn fixtures_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../plots/tests/fixtures")
        .canonicalize()
        .unwrap()
}

/// The pulse oximetry study as the driver loads it from `analysis/study_definition.yaml`
/// (measures in file order, its one codelist).
pub(crate) fn pulse_ox_study() -> charts::Study {
    use charts::{Measure, Study, StudyCodelist};
    Study {
        name: "pulse-oximetry".into(),
        definition: "analysis/study_definition.yaml".into(),
        index_date: chrono::NaiveDate::from_ymd_opt(2019, 1, 1),
        measures: vec![
            Measure::new("pulse_ox_by_sex", "had_pulse_ox", "population").grouped(&["sex"]),
            Measure::new("pulse_ox_by_region", "had_pulse_ox", "population").grouped(&["region"]),
            Measure::new("pulse_ox_by_age_band", "had_pulse_ox", "population")
                .grouped(&["age_band"]),
            Measure::new("pulse_ox_total", "had_pulse_ox", "population"),
        ],
        codelists: vec![StudyCodelist {
            name: "pulse_oximetry_codes".into(),
            system: "ctv3".into(),
            csv: Some("codelists/opensafely-pulse-oximetry.csv".into()),
            column: Some("CTV3ID".into()),
            codes: Vec::new(),
        }],
    }
}

/// The repository's own outputs file, `analysis/outputs.yaml`.
pub(crate) fn study_outputs_file() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../analysis/outputs.yaml")
}

/// Copies the repository's outputs file into `project/analysis/`.
pub(crate) fn write_outputs_file(project: &Path) {
    std::fs::create_dir_all(project.join("analysis")).unwrap();
    std::fs::copy(study_outputs_file(), project.join("analysis/outputs.yaml")).unwrap();
}

/// The study's charts as its outputs file plans them.
pub(crate) fn study_plan() -> charts::Plan {
    let outputs =
        charts::Outputs::read(&study_outputs_file(), Path::new("analysis/outputs.yaml")).unwrap();
    charts::plan(&pulse_ox_study(), Some(outputs)).unwrap()
}

/// The chart of measure `id` in the study's plan, read from `measures`.
pub(crate) fn study_chart(measures: &Path, id: &str) -> charts::LoadedChart {
    let plan = study_plan();
    let spec = plan.charts.iter().find(|c| c.measure.id == id).unwrap();
    spec.load(measures, plan.redact_at_or_below).unwrap()
}

/// The line data of a loaded chart.
pub(crate) fn lines(chart: &charts::LoadedChart) -> &charts::data::ChartData {
    match &chart.body {
        charts::Body::Lines(d) => d,
        charts::Body::Deciles(_) => panic!("a deciles chart"),
    }
}
