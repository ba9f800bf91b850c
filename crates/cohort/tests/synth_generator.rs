//! The synthetic EHR generator: reproducibility, streaming output, and plausibility.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use cohort::lang::CodeSystem;
use cohort::output::OutputFormat;
use cohort::synth::{generate_tables, write_ehr, CodeSet, SynthConfig};
use cohort::tables::load_core_tables as load_tables;
use cohort::tables::EhrTables;

fn pulse_ox() -> Vec<CodeSet> {
    vec![CodeSet {
        system: CodeSystem::Ctv3,
        codes: ["Y2a48", "Y2a47", "YA796", "Y2a49"]
            .map(String::from)
            .to_vec(),
    }]
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn files(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().into_string().unwrap(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn same_size_and_seed_give_identical_files_whatever_the_thread_count() {
    // 4.9 groups of batches, the last batch partial; few events, to stay quick in debug builds.
    let mut config = SynthConfig::new(40_000, 42, pulse_ox());
    config.background_per_month = 0.02;
    for format in [
        OutputFormat::Parquet,
        OutputFormat::Arrow,
        OutputFormat::Csv,
    ] {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let summary = one_thread
            .install(|| write_ehr(&config, a.path(), format, &mut |_, _| {}))
            .unwrap();
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        three
            .install(|| write_ehr(&config, b.path(), format, &mut |_, _| {}))
            .unwrap();
        let (fa, fb) = (files(a.path()), files(b.path()));
        assert_eq!(
            fa.keys().cloned().collect::<Vec<_>>(),
            [
                format!("clinical_events.{format}"),
                format!("patients.{format}"),
                format!("practice_registrations.{format}")
            ]
        );
        assert!(fa == fb, "{format}: outputs differ between runs");
        assert_eq!(summary.patients, 40_000);
    }
}

#[test]
fn streamed_files_load_back_to_the_in_memory_tables() {
    let config = SynthConfig::new(9_000, 3, pulse_ox());
    let in_memory =
        EhrTables::from_frames(&generate_tables(9_000, 3, pulse_ox()).unwrap()).unwrap();
    for format in [
        OutputFormat::CsvGz,
        OutputFormat::Parquet,
        OutputFormat::Arrow,
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut calls = Vec::new();
        let summary = write_ehr(&config, dir.path(), format, &mut |done, total| {
            calls.push((done, total));
        })
        .unwrap();
        assert_eq!(calls.last(), Some(&(9_000, 9_000)));
        assert_eq!(summary.clinical_events, in_memory.clinical_events.len());
        let loaded = EhrTables::from_frames(&load_tables(dir.path()).unwrap()).unwrap();
        assert!(
            loaded == in_memory,
            "{format}: streamed tables differ from in-memory ones"
        );
    }
}

#[test]
fn leaving_out_background_events_keeps_the_patients_and_the_study_events() {
    use cohort::synth::generate_frames;
    use polars::prelude::*;
    // Two batches, the second partial.
    let with = SynthConfig::new(9_000, 3, pulse_ox());
    let mut without = with.clone();
    without.background_events = false;
    let (a, b) = (
        generate_frames(&with).unwrap(),
        generate_frames(&without).unwrap(),
    );
    assert!(a.patients.equals_missing(&b.patients));
    assert!(a
        .practice_registrations
        .equals_missing(&b.practice_registrations));
    let study = &pulse_ox()[0].codes;
    let mask: BooleanChunked = a.clinical_events["ctv3_code"]
        .str()
        .unwrap()
        .iter()
        .map(|c| Some(c.is_some_and(|c| study.iter().any(|s| s == c))))
        .collect();
    let study_events = a.clinical_events.filter(&mask).unwrap();
    assert!(study_events.height() > 500, "{}", study_events.height());
    assert!(a.clinical_events.height() > 10 * study_events.height());
    assert!(
        study_events.equals_missing(&b.clinical_events),
        "{study_events}\n{}",
        b.clinical_events
    );
}

#[test]
fn a_different_seed_gives_different_data() {
    let a = rows_of(500, 1, pulse_ox()).unwrap();
    let b = rows_of(500, 2, pulse_ox()).unwrap();
    assert_eq!(a.patients.len(), 500);
    assert_ne!(a, b);
    assert_eq!(a, rows_of(500, 1, pulse_ox()).unwrap());
}

/// `n` synthetic patients from `seed` in row form.
fn rows_of(
    n: usize,
    seed: u64,
    codes: Vec<CodeSet>,
) -> Result<EhrTables, polars::prelude::PolarsError> {
    EhrTables::from_frames(&generate_tables(n, seed, codes)?)
}

fn sample() -> &'static EhrTables {
    static SAMPLE: std::sync::OnceLock<EhrTables> = std::sync::OnceLock::new();
    SAMPLE.get_or_init(|| rows_of(30_000, 2024, pulse_ox()).unwrap())
}

#[test]
fn the_population_is_plausible() {
    let t = sample();
    let n = t.patients.len() as f64;
    assert_eq!(t.patients.len(), 30_000);
    let ids: Vec<i64> = t.patients.iter().map(|p| p.patient_id).collect();
    assert_eq!(ids, (1..=30_000).collect::<Vec<_>>());

    let share = |f: &dyn Fn(&cohort::tables::Patient) -> bool| {
        t.patients.iter().filter(|p| f(p)).count() as f64 / n
    };
    let female = share(&|p| p.sex == "F");
    assert!((0.49..0.52).contains(&female), "female share {female}");
    assert!(t
        .patients
        .iter()
        .all(|p| ["F", "M", "I", "U"].contains(&p.sex.as_str())));
    assert!(t.patients.iter().all(|p| p.date_of_birth.day() == 1));

    // Ages on 2020-01-01 follow the 2018 pyramid: 0-19 is 15,581/66,434 = 23.5%, 80+ 4.9%.
    let age = |p: &cohort::tables::Patient| {
        let r = d(2020, 1, 1);
        r.year() - p.date_of_birth.year() - i32::from(p.date_of_birth.month() > r.month())
    };
    let young = share(&|p| age(p) < 20);
    let old = share(&|p| age(p) >= 80);
    assert!((0.21..0.26).contains(&young), "0-19 share {young}");
    assert!((0.04..0.06).contains(&old), "80+ share {old}");
    assert!(t.patients.iter().all(|p| (0..110).contains(&age(p))));

    // Deaths: around 1% a year, far more among the old, never before birth or after 2021.
    let dead: Vec<_> = t
        .patients
        .iter()
        .filter(|p| p.date_of_death.is_some())
        .collect();
    let rate = dead.len() as f64 / n;
    assert!((0.03..0.12).contains(&rate), "died 2015-2021: {rate}");
    assert!(dead.iter().all(|p| {
        let death = p.date_of_death.unwrap();
        death >= p.date_of_birth && death < d(2022, 1, 1)
    }));
    let old_death = dead.iter().filter(|p| age(p) >= 80).count() as f64 / (old * n);
    assert!(
        old_death > 5.0 * rate,
        "old death rate {old_death} vs {rate}"
    );
}

#[test]
fn registrations_are_consistent_and_nested_in_regions() {
    let t = sample();
    let mut by_patient: HashMap<i64, Vec<&cohort::tables::Registration>> = HashMap::new();
    let mut practice_region: HashMap<i64, Option<String>> = HashMap::new();
    for r in &t.practice_registrations {
        by_patient.entry(r.patient_id).or_default().push(r);
        let region = practice_region
            .entry(r.practice_pseudo_id)
            .or_insert_with(|| r.practice_nuts1_region_name.clone());
        assert_eq!(
            region, &r.practice_nuts1_region_name,
            "practice in two regions"
        );
        assert!(r
            .practice_stp
            .as_deref()
            .is_some_and(|s| s.starts_with("E54")));
    }
    assert!(practice_region.len() >= 45);
    let dob: HashMap<i64, NaiveDate> = t
        .patients
        .iter()
        .map(|p| (p.patient_id, p.date_of_birth))
        .collect();
    let mut movers = 0;
    for (id, regs) in &by_patient {
        for r in regs {
            assert!(r.start_date >= dob[id]);
            if let Some(end) = r.end_date {
                assert!(end > r.start_date && end < d(2022, 1, 1));
            }
        }
        for pair in regs.windows(2) {
            let end = pair[0]
                .end_date
                .expect("only the last registration may be open");
            assert!(pair[1].start_date >= end, "registrations overlap for {id}");
        }
        movers += usize::from(regs.len() > 1);
    }
    assert!(by_patient.len() as f64 > 0.99 * 30_000.0);
    let movers = movers as f64 / 30_000.0;
    assert!(
        (0.1..0.6).contains(&movers),
        "share with several registrations {movers}"
    );

    // Regions weighted by population: London 8.9/56.0 = 15.9%, North East 4.7%.
    let registered_on = |date: NaiveDate, region: &str| {
        t.practice_registrations
            .iter()
            .filter(|r| {
                r.start_date <= date
                    && r.end_date.is_none_or(|e| e > date)
                    && r.practice_nuts1_region_name.as_deref() == Some(region)
            })
            .count() as f64
    };
    let total: f64 = [
        "North East",
        "North West",
        "Yorkshire and the Humber",
        "East Midlands",
        "West Midlands",
        "East of England",
        "London",
        "South East",
        "South West",
    ]
    .iter()
    .map(|r| registered_on(d(2020, 1, 1), r))
    .sum();
    let london = registered_on(d(2020, 1, 1), "London") / total;
    let north_east = registered_on(d(2020, 1, 1), "North East") / total;
    assert!((0.14..0.18).contains(&london), "London {london}");
    assert!(
        (0.035..0.06).contains(&north_east),
        "North East {north_east}"
    );
    assert!(
        (0.82..0.95).contains(&(total / 30_000.0)),
        "registered on 2020-01-01: {total}"
    );
}

#[test]
fn events_happen_while_registered_and_alive_and_follow_the_rate_profile() {
    let t = sample();
    let per_patient = t.clinical_events.len() as f64 / 30_000.0;
    assert!(
        (24.0..36.0).contains(&per_patient),
        "events per patient {per_patient}"
    );

    let death: HashMap<i64, Option<NaiveDate>> = t
        .patients
        .iter()
        .map(|p| (p.patient_id, p.date_of_death))
        .collect();
    let mut regs: HashMap<i64, Vec<(NaiveDate, Option<NaiveDate>)>> = HashMap::new();
    for r in &t.practice_registrations {
        regs.entry(r.patient_id)
            .or_default()
            .push((r.start_date, r.end_date));
    }
    let study = ["Y2a48", "Y2a47", "YA796", "Y2a49"];
    let mut study_by_month: BTreeMap<(i32, u32), usize> = BTreeMap::new();
    for e in &t.clinical_events {
        assert!(e.date >= d(2018, 1, 1) && e.date < d(2022, 1, 1));
        if let Some(death) = death[&e.patient_id] {
            assert!(e.date <= death, "event after death");
        }
        assert!(
            regs[&e.patient_id]
                .iter()
                .any(|(s, end)| *s <= e.date && end.is_none_or(|end| e.date < end)),
            "event outside registration"
        );
        match e.ctv3_code.as_deref() {
            Some(code) if study.contains(&code) => {
                assert_eq!(e.snomedct_code, None);
                assert_eq!(e.numeric_value, None);
                *study_by_month
                    .entry((e.date.year(), e.date.month()))
                    .or_default() += 1;
            }
            _ => assert!(e.snomedct_code.is_some()),
        }
    }
    let months = |from: (i32, u32), to: (i32, u32)| -> f64 {
        let v: Vec<usize> = study_by_month.range(from..=to).map(|(_, c)| *c).collect();
        v.iter().sum::<usize>() as f64 / 12.0_f64.min(v.len().max(1) as f64)
    };
    let before = months((2019, 1), (2019, 12));
    let after = months((2020, 11), (2021, 1));
    assert!(
        after > 10.0 * before.max(0.5),
        "study codes per month: {before} -> {after}"
    );
    // Roughly 5-10 per 1,000 patients a month at the peak.
    assert!((100.0..400.0).contains(&after), "{after}");
}

#[test]
fn both_engines_agree_on_synthetic_data_for_the_project_study() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let study =
        cohort::study::StudyDefinition::load(&root.join("analysis/study_definition.yaml")).unwrap();
    let compiled = study.compile(&cohort::study::Runtime::check()).unwrap();
    let frames = generate_tables(3_000, 11, cohort::synth::study_code_sets(&study)).unwrap();
    let rows = EhrTables::from_frames(&frames).unwrap();
    let dates = [d(2019, 1, 1), d(2020, 4, 1), d(2021, 1, 1)];
    let batches = crate::spec_support::both_dates(&compiled, &rows, &dates);
    for (date, batch) in dates.iter().zip(batches) {
        assert!(batch.len() > 2_000, "{date}: {} registered", batch.len());
    }
}

#[test]
fn the_generate_ehr_command_uses_the_study_codelists_and_logs_progress() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let mut log = Vec::new();
    let options = cohort::synth::GenerateEhrOptions {
        patients: 2_000,
        seed: None,
        study_definition: Some(root.join("analysis/study_definition.yaml")),
        tables: cohort::synth::TableChoice::Study,
        format: OutputFormat::Csv,
        output_dir: dir.path().join("ehr"),
    };
    let summary = cohort::synth::generate_ehr(&options, &mut log).unwrap();
    let log = String::from_utf8(log).unwrap();
    assert!(log.contains("2000/2000 patients"), "{log}");
    assert!(log.contains("1 study codelist(s)"), "{log}");
    assert!(
        log.contains(&format!("{} clinical events", summary.clinical_events)),
        "{log}"
    );
    let events = std::fs::read_to_string(dir.path().join("ehr/clinical_events.csv")).unwrap();
    assert!(events.starts_with("patient_id,date,ctv3_code,snomedct_code,numeric_value\n"));
    assert!(
        events.contains(",Y2a4"),
        "study codes are drawn from the codelist"
    );
    assert_eq!(events.lines().count(), summary.clinical_events + 1);

    let missing = cohort::synth::GenerateEhrOptions {
        patients: 10,
        seed: Some(1),
        study_definition: Some(dir.path().join("analysis/missing.yaml")),
        output_dir: dir.path().to_path_buf(),
        ..options
    };
    let e = cohort::synth::generate_ehr(&missing, &mut Vec::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.yaml"), "{e}");
}

#[test]
fn a_small_data_set_is_pinned_byte_for_byte() {
    // Any change to the generator's output for a given size and seed shows up here.
    let dir = tempfile::tempdir().unwrap();
    write_ehr(
        &SynthConfig::new(4, 1, pulse_ox()),
        dir.path(),
        OutputFormat::Csv,
        &mut |_, _| {},
    )
    .unwrap();
    let text = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    insta::assert_snapshot!("patients_4_seed_1", text("patients.csv"));
    insta::assert_snapshot!("registrations_4_seed_1", text("practice_registrations.csv"));
    let events = text("clinical_events.csv");
    let head: Vec<&str> = events.lines().take(40).collect();
    insta::assert_snapshot!("events_4_seed_1_head", head.join("\n"));
}
