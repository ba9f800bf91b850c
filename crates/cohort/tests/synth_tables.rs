//! The synthetic generator's tables beyond the core three: the contract (types, nulls, value
//! rules, one-row tables), consistency with the core tables (nothing after death, addresses
//! covering registrations, deaths in both sources but for a small share), the study's codes,
//! reproducibility, and the core tables unchanged by asking for more.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use cohort::output::OutputFormat;
use cohort::synth::{
    generate_all, study_code_sets, write_ehr, GenerateEhrOptions, StudyNeeds, SynthConfig,
    TableChoice,
};
use polars::prelude::*;
use proptest::prelude::*;

fn vocabulary_study() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/vocabulary_study/analysis/study_definition.yaml")
}

/// The vocabulary study's code sets and needs.
fn vocabulary_config(patients: usize, seed: u64) -> SynthConfig {
    let study = cohort::study::StudyDefinition::load(&vocabulary_study()).unwrap();
    let compiled = study.compile(&cohort::study::Runtime::check()).unwrap();
    SynthConfig::new(patients, seed, study_code_sets(&study))
        .with_needs(&StudyNeeds::of(&compiled.dataset))
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
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

/// Every column of every contract table in `dir`, loaded and checked by the table folder.
fn load_all(dir: &Path) -> HashMap<String, DataFrame> {
    let folder = ehr::TableFolder::open(dir).unwrap();
    let needed: BTreeMap<String, BTreeSet<String>> = ehr::contract::tables()
        .iter()
        .filter(|t| dir.join(format!("{}.csv", t.name)).exists())
        .map(|t| {
            (
                t.name.clone(),
                t.columns.iter().map(|c| c.name.clone()).collect(),
            )
        })
        .collect();
    folder.load(&needed).unwrap()
}

fn days(df: &DataFrame, column: &str) -> Vec<Option<i32>> {
    df.column(column)
        .unwrap()
        .date()
        .unwrap()
        .physical()
        .iter()
        .collect()
}

fn ids(df: &DataFrame) -> Vec<i64> {
    df.column("patient_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .map(Option::unwrap_or_default)
        .collect()
}

fn strs(df: &DataFrame, column: &str) -> Vec<Option<String>> {
    df.column(column)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(String::from))
        .collect()
}

fn day(y: i32, m: u32, d: u32) -> i32 {
    cohort::tables::date_to_days(chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap())
}

/// Checks the consistency rules of `tables.md` §0 and the plausibility rules of issue 11 on
/// generated tables; returns the deaths in both sources and in one only, or a description of
/// the first broken rule.
fn check_consistency(t: &HashMap<String, DataFrame>) -> Result<(usize, usize), String> {
    let patients = &t["patients"];
    let pc_death: HashMap<i64, Option<i32>> = ids(patients)
        .into_iter()
        .zip(days(patients, "date_of_death"))
        .collect();
    let dob: HashMap<i64, i32> = ids(patients)
        .into_iter()
        .zip(days(patients, "date_of_birth"))
        .map(|(i, d)| (i, d.unwrap_or_default()))
        .collect();
    let mut ons: HashMap<i64, i32> = HashMap::new();
    let deaths = &t["ons_deaths"];
    for (id, d) in ids(deaths).into_iter().zip(days(deaths, "date")) {
        let d = d.ok_or("ons_deaths.date is null")?;
        if let Some(&previous) = ons.get(&id) {
            if previous != d {
                return Err(format!("patient {id}: two ONS death dates"));
            }
        }
        ons.insert(id, d);
    }
    // Deaths in both sources with the same date, but for a small share in only one.
    let mut both = 0usize;
    let mut one = 0usize;
    for (id, pc) in &pc_death {
        match (pc, ons.get(id)) {
            (Some(a), Some(b)) if a == b => both += 1,
            (Some(a), Some(b)) => return Err(format!("patient {id}: died {a} and {b}")),
            (Some(_), None) | (None, Some(_)) => one += 1,
            (None, None) => {}
        }
    }
    if both > 200 && one * 12 > both {
        return Err(format!("{one} deaths in one source only, {both} in both"));
    }
    let death = |id: i64| -> Option<i32> {
        match (pc_death.get(&id).copied().flatten(), ons.get(&id)) {
            (Some(a), Some(&b)) => Some(a.min(b)),
            (a, b) => a.or(b.copied()),
        }
    };
    // Nothing after death, nothing before birth.
    for (table, columns) in [
        ("apcs", &["admission_date", "discharge_date"][..]),
        ("emergency_care_attendances", &["arrival_date"][..]),
        ("opa", &["appointment_date"][..]),
        ("sgss_covid_all_tests", &["specimen_taken_date"][..]),
        (
            "sgss_covid_earliest_specimens",
            &["specimen_taken_date"][..],
        ),
        ("vaccinations", &["date"][..]),
        ("medications", &["date"][..]),
        ("appointments", &["start_date", "seen_date"][..]),
        ("decision_support_values", &["calculation_date"][..]),
    ] {
        let df = &t[table];
        let who = ids(df);
        for c in columns {
            for (id, d) in who.iter().zip(days(df, c)) {
                let Some(d) = d else { continue };
                if death(*id).is_some_and(|x| d > x) {
                    return Err(format!("{table}.{c}: patient {id} on day {d} after death"));
                }
                if d < dob[id] {
                    return Err(format!("{table}.{c}: patient {id} before birth"));
                }
            }
        }
    }
    // Discharge on or after admission; length of stay in nights.
    let apcs = &t["apcs"];
    let stay: Vec<Option<i64>> = apcs
        .column("length_of_stay")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    for ((a, d), los) in days(apcs, "admission_date")
        .into_iter()
        .zip(days(apcs, "discharge_date"))
        .zip(stay)
    {
        if let (Some(a), Some(d)) = (a, d) {
            if d < a || los != Some(i64::from(d - a)) {
                return Err(format!("spell {a}..{d} with length of stay {los:?}"));
            }
        }
    }
    // Addresses cover every registration's start.
    let addresses = &t["addresses"];
    let mut periods: HashMap<i64, Vec<(i32, Option<i32>)>> = HashMap::new();
    for ((id, s), e) in ids(addresses)
        .into_iter()
        .zip(days(addresses, "start_date"))
        .zip(days(addresses, "end_date"))
    {
        periods
            .entry(id)
            .or_default()
            .push((s.unwrap_or_default(), e));
    }
    let regs = &t["practice_registrations"];
    for (id, s) in ids(regs).into_iter().zip(days(regs, "start_date")) {
        let s = s.unwrap_or_default();
        let covered = periods
            .get(&id)
            .is_some_and(|ps| ps.iter().any(|&(a, b)| a <= s && b.is_none_or(|b| b > s)));
        if !covered {
            return Err(format!("patient {id}: no address on registration day {s}"));
        }
    }
    // IMD arrives rounded; flu vaccines are given in their season.
    for v in addresses
        .column("imd_rounded")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .flatten()
    {
        if v % 100 != 0 || !(0..=32_800).contains(&v) {
            return Err(format!("imd_rounded {v}"));
        }
    }
    let vaccinations = &t["vaccinations"];
    for (target, d) in strs(vaccinations, "target_disease")
        .into_iter()
        .zip(days(vaccinations, "date"))
    {
        let d = d.unwrap_or_default();
        let date = cohort::tables::days_to_date(d).unwrap();
        use chrono::Datelike;
        match target.as_deref() {
            Some("INFLUENZA") if (4..=8).contains(&date.month()) => {
                return Err(format!("a flu vaccine on {date}"));
            }
            Some("SARS-2 CORONAVIRUS") if d < day(2020, 12, 8) => {
                return Err(format!("a COVID-19 vaccine on {date}"));
            }
            _ => {}
        }
    }
    Ok((both, one))
}

fn written(config: &SynthConfig) -> (tempfile::TempDir, HashMap<String, DataFrame>) {
    let dir = tempfile::tempdir().unwrap();
    write_ehr(config, dir.path(), OutputFormat::Csv, &mut |_, _| {}).unwrap();
    let tables = load_all(dir.path());
    (dir, tables)
}

#[test]
fn every_table_satisfies_the_contract_and_is_consistent_and_plausible() {
    let config = vocabulary_config(12_000, 7).with_all_tables();
    let (_dir, t) = written(&config);
    assert_eq!(t.len(), ehr::contract::tables().len(), "{:?}", t.keys());
    let (both, one) = check_consistency(&t).unwrap();
    assert!(
        both > 100 && one > 0,
        "{both} deaths in both sources, {one} in one"
    );
    let n = t["patients"].height() as f64;
    for (table, at_least) in [
        ("addresses", n),
        ("medications", n),
        ("apcs", 0.1 * n),
        ("emergency_care_attendances", 0.2 * n),
        ("opa", 0.5 * n),
        ("ons_deaths", 0.01 * n),
        ("vaccinations", 0.5 * n),
        ("appointments", 2.0 * n),
        ("sgss_covid_all_tests", 0.05 * n),
        ("sgss_covid_earliest_specimens", 0.02 * n),
        ("household_memberships_2020", 0.8 * n),
        ("decision_support_values", 0.2 * n),
        ("icnarc", 1.0),
        ("cpns", 1.0),
    ] {
        let rows = t[table].height() as f64;
        assert!(rows >= at_least, "{table}: {rows} rows for {n} patients");
    }
    // Care homes: about 1% of patients, mostly over 80.
    let addresses = &t["addresses"];
    let care: BTreeSet<i64> = ids(addresses)
        .into_iter()
        .zip(
            addresses
                .column("care_home_is_potential_match")
                .unwrap()
                .bool()
                .unwrap()
                .iter(),
        )
        .filter_map(|(id, c)| c.unwrap_or(false).then_some(id))
        .collect();
    let share = care.len() as f64 / n;
    assert!((0.004..0.02).contains(&share), "care homes {share}");
    let patients = &t["patients"];
    let dob: HashMap<i64, i32> = ids(patients)
        .into_iter()
        .zip(days(patients, "date_of_birth"))
        .map(|(i, d)| (i, d.unwrap()))
        .collect();
    let over_80 = care.iter().filter(|id| dob[id] <= day(1940, 1, 1)).count();
    assert!(
        over_80 * 10 >= care.len() * 7,
        "{over_80} of {} over 80",
        care.len()
    );
    // IMD and rural-urban classes spread as in England.
    let imd: Vec<i64> = addresses
        .column("imd_rounded")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    let below_middle = imd.iter().filter(|v| **v < 16_400).count() as f64 / imd.len() as f64;
    assert!((0.45..0.55).contains(&below_middle), "{below_middle}");
    let classes: BTreeSet<i64> = addresses
        .column("rural_urban_classification")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .collect();
    assert_eq!(classes, (1..=8).collect());
    // Medications are issued repeatedly, with the study's dm+d codes among them.
    let meds = &t["medications"];
    let codes = strs(meds, "dmd_code");
    let salbutamol = codes
        .iter()
        .filter(|c| c.as_deref() == Some("39113611000001102"))
        .count();
    assert!(salbutamol > 100, "{salbutamol} salbutamol issues");
    let per_patient =
        meds.height() as f64 / ids(meds).into_iter().collect::<BTreeSet<_>>().len() as f64;
    assert!(
        per_patient > 5.0,
        "{per_patient} issues per treated patient"
    );
    // Spells carry the study's ICD-10 codes (as recorded, 4 characters), and U07 only from
    // March 2020.
    let apcs = &t["apcs"];
    let diagnoses = strs(apcs, "primary_diagnosis");
    assert!(diagnoses
        .iter()
        .flatten()
        .any(|c| c.starts_with("J12") && c.len() == 4));
    for (c, d) in diagnoses.iter().zip(days(apcs, "admission_date")) {
        if c.as_deref().is_some_and(|c| c.starts_with("U07")) {
            assert!(d.unwrap() >= day(2020, 3, 1));
        }
    }
    assert!(strs(apcs, "all_diagnoses")
        .iter()
        .flatten()
        .all(|c| c.starts_with("||")));
    // A&E diagnoses from the study's SNOMED CT codelist.
    let ec = &t["emergency_care_attendances"];
    assert!(strs(ec, "diagnosis_01")
        .iter()
        .flatten()
        .any(|c| c == "233604007" || c == "195662009"));
    // COVID-19 on death certificates from 2020.
    let deaths = &t["ons_deaths"];
    assert!(strs(deaths, "underlying_cause_of_death")
        .iter()
        .flatten()
        .any(|c| c == "U071"));
    // The study's measurement codes have values, with reference ranges and comparators.
    let events = &t["clinical_events"];
    let values: Vec<Option<f64>> = events
        .column("numeric_value")
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect();
    let hba1c = strs(events, "ctv3_code")
        .iter()
        .zip(&values)
        .filter(|(c, v)| c.as_deref() == Some("XaPbt") && v.is_some())
        .count();
    assert!(hba1c > 50, "{hba1c} HbA1c values");
    assert!(events.column("comparator").unwrap().null_count() < events.height());
}

#[test]
fn asking_for_more_tables_leaves_the_core_tables_unchanged() {
    let base = SynthConfig::new(3_000, 42, vocabulary_config(1, 1).study_codes);
    let a = tempfile::tempdir().unwrap();
    write_ehr(&base, a.path(), OutputFormat::Csv, &mut |_, _| {}).unwrap();
    let b = tempfile::tempdir().unwrap();
    let mut more = base.clone();
    more.tables.insert("apcs".into());
    more.tables.insert("addresses".into());
    write_ehr(&more, b.path(), OutputFormat::Csv, &mut |_, _| {}).unwrap();
    let (fa, fb) = (files(a.path()), files(b.path()));
    for name in [
        "patients.csv",
        "practice_registrations.csv",
        "clinical_events.csv",
    ] {
        assert!(fa[name] == fb[name], "{name} changed");
    }
    assert!(fb.contains_key("apcs.csv") && fb.contains_key("addresses.csv"));
    // With every table and column, the core columns still hold the same values.
    let all = base.clone().with_all_tables();
    let c = tempfile::tempdir().unwrap();
    write_ehr(&all, c.path(), OutputFormat::Csv, &mut |_, _| {}).unwrap();
    let core = |dir: &Path| {
        cohort::tables::EhrTables::from_frames(&cohort::tables::load_core_tables(dir).unwrap())
            .unwrap()
    };
    assert!(core(a.path()) == core(c.path()));
    assert!(files(c.path())["patients.csv"] == fa["patients.csv"]);
    // And each table is the same whichever others are generated.
    assert!(files(c.path())["apcs.csv"] == fb["apcs.csv"]);
}

#[test]
fn every_table_is_byte_identical_for_the_same_seed_whatever_the_thread_count() {
    let mut config = vocabulary_config(20_000, 3).with_all_tables();
    config.background_per_month = 0.02;
    let run = |threads: usize, format: OutputFormat| {
        let dir = tempfile::tempdir().unwrap();
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| write_ehr(&config, dir.path(), format, &mut |_, _| {}))
            .unwrap();
        files(dir.path())
    };
    for format in [OutputFormat::Parquet, OutputFormat::Csv] {
        let (one, three) = (run(1, format), run(3, format));
        assert_eq!(one.len(), ehr::contract::tables().len());
        assert!(one == three, "{format}: outputs differ between runs");
    }
}

#[test]
fn in_memory_tables_equal_the_written_ones() {
    let config = vocabulary_config(9_000, 5);
    let memory = generate_all(&config).unwrap();
    let (_dir, loaded) = written(&config);
    let study_tables: BTreeSet<String> = config
        .table_names()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        memory.keys().cloned().collect::<BTreeSet<_>>(),
        study_tables
    );
    for (table, df) in &memory {
        let back = &loaded[table];
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(ToString::to_string)
            .collect();
        let back = back.select(names).unwrap();
        assert!(df.equals_missing(&back), "{table}:\n{df}\n{back}");
    }
    // The study reads most tables but not CPNS or ICNARC.
    assert!(!memory.contains_key("cpns") && memory.contains_key("apcs"));
}

#[test]
fn generate_ehr_writes_the_tables_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = Vec::new();
    let options = GenerateEhrOptions {
        patients: 500,
        seed: None,
        study_definition: Some(vocabulary_study()),
        tables: TableChoice::All,
        format: OutputFormat::Csv,
        output_dir: dir.path().join("ehr"),
    };
    let summary = cohort::synth::generate_ehr(&options, &mut log).unwrap();
    let log = String::from_utf8(log).unwrap();
    assert_eq!(
        files(&dir.path().join("ehr")).len(),
        ehr::contract::tables().len()
    );
    assert!(
        log.contains(&format!("{} apcs", summary.rows["apcs"])),
        "{log}"
    );
    let listed = GenerateEhrOptions {
        tables: "apcs, ons_deaths".parse().unwrap(),
        study_definition: None,
        output_dir: dir.path().join("two"),
        ..options
    };
    cohort::synth::generate_ehr(&listed, &mut Vec::new()).unwrap();
    assert_eq!(
        files(&dir.path().join("two"))
            .into_keys()
            .collect::<Vec<_>>(),
        [
            "apcs.csv",
            "clinical_events.csv",
            "ons_deaths.csv",
            "patients.csv",
            "practice_registrations.csv"
        ]
    );
    let e = "apcs,hospital".parse::<TableChoice>().unwrap_err();
    assert!(e.contains("`hospital` is not a table"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    /// Any seed and size give tables within the contract and consistent with each other.
    #[test]
    fn any_seed_gives_consistent_tables(seed in any::<u64>(), patients in 1usize..600) {
        let config = vocabulary_config(patients, seed).with_all_tables();
        let (_dir, t) = written(&config);
        prop_assert_eq!(t["patients"].height(), patients);
        if let Err(e) = check_consistency(&t) {
            prop_assert!(false, "{}", e);
        }
    }
}
