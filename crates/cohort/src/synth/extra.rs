//! The tables beyond the core three (`tables.md`), generated for each batch after its core
//! tables and consistently with them: addresses cover the registrations, nobody has a hospital
//! spell, A&E attendance, test, vaccination, appointment or prescription after death, deaths
//! are in `ons_deaths` and `patients.date_of_death` alike except for a small share in only one
//! of them, and codes come from the study's codelists (per table and column, as the compiled
//! study looks for them) plus background codes.
//!
//! Every table has its own random stream per batch, derived from `(seed, batch, table)`, and
//! the core tables' stream is untouched: the core tables are byte-identical whether or not
//! other tables are generated, and each table is the same whichever other tables are asked
//! for. What several tables share (deaths, care homes, ethnicity, COVID-19 deaths) is drawn
//! first, per patient, from a stream of its own.

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Normal};
use rand_pcg::Pcg64;

use super::batch::{mix, poisson};
use super::needs::StudyNeeds;
use super::population::BACKGROUND_CODES;
use super::profile::{ymd, RateProfile};
use super::rows::{Rows, V};
use super::world::{Cumulative, Weighted, World};
use super::SynthConfig;
use crate::tables::date_to_days;
use ehr::contract::names::*;

fn day(y: i32, m: u32, d: u32) -> i32 {
    date_to_days(ymd(y, m, d))
}

fn chance(rng: &mut Pcg64, p: f64) -> bool {
    rng.random::<f64>() < p
}

/// A day in `[a, b)` (`a` when the range is empty).
fn uniform_day(rng: &mut Pcg64, a: i32, b: i32) -> i32 {
    if b <= a {
        a
    } else {
        rng.random_range(a..b)
    }
}

/// One of `items`, with probability proportional to its weight.
fn pick<T: Copy>(rng: &mut Pcg64, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut u = rng.random::<f64>() * total;
    for (item, w) in items {
        if u < *w {
            return *item;
        }
        u -= w;
    }
    items[items.len() - 1].0
}

/// A code of `list`, earlier codes more often (as in real data).
fn zipf<'a>(rng: &mut Pcg64, list: &'a [String]) -> &'a str {
    let total: f64 = (0..list.len()).map(|k| 1.0 / (k as f64 + 1.0)).sum();
    let mut u = rng.random::<f64>() * total;
    for (k, c) in list.iter().enumerate() {
        let w = 1.0 / (k as f64 + 1.0);
        if u < w {
            return c;
        }
        u -= w;
    }
    list.last().map_or("", String::as_str)
}

/// An ICD-10 code as recorded (4 characters): a 3-character category gets a subdivision.
fn icd10(rng: &mut Pcg64, code: &str) -> String {
    if code.len() == 3 {
        format!("{code}{}", rng.random_range(0..10))
    } else {
        code.to_string()
    }
}

/// COVID-19 codes do not occur before March 2020.
fn possible_on(code: &str, date: i32) -> bool {
    !code.to_ascii_uppercase().starts_with("U07") || date >= day(2020, 3, 1)
}

/// A code of one of the study's `lists`, if any fits `date`.
fn study_code(rng: &mut Pcg64, lists: &[Vec<String>], date: i32) -> Option<String> {
    let usable: Vec<&Vec<String>> = lists
        .iter()
        .filter(|l| l.iter().any(|c| possible_on(c, date)))
        .collect();
    if usable.is_empty() {
        return None;
    }
    let list = usable[rng.random_range(0..usable.len())];
    for _ in 0..8 {
        let c = zipf(rng, list);
        if possible_on(c, date) {
            return Some(c.to_string());
        }
    }
    list.iter().find(|c| possible_on(c, date)).cloned()
}

// ---------------------------------------------------------------------------------------------
// Background codes and value lists.

const BACKGROUND_ICD10: [&str; 20] = [
    "R074", "R69X", "I214", "J189", "J440", "N390", "K590", "R55X", "S720", "I10X", "E119", "C509",
    "M179", "K802", "Z511", "H269", "I48X", "R104", "A099", "L031",
];
const COMORBIDITIES: [&str; 8] = [
    "I10X", "E119", "J449", "N183", "F03X", "Z867", "I251", "E785",
];
const BACKGROUND_CAUSES: [&str; 12] = [
    "I219", "C349", "J189", "F03X", "I64X", "J449", "C509", "I250", "G309", "C189", "C61X", "K746",
];
const BACKGROUND_OPCS4: [&str; 10] = [
    "W401", "H229", "M459", "C751", "Q555", "X292", "U051", "Y531", "G451", "H251",
];
/// Common repeat medicines (dm+d VMP codes).
const BACKGROUND_DMD: [&str; 10] = [
    "320000005",
    "319996000",
    "317919004",
    "322236009",
    "325252005",
    "318135000",
    "321153003",
    "330076005",
    "324357001",
    "318420003",
];
/// Common A&E diagnoses (SNOMED CT, ECDS subset).
const BACKGROUND_ECDS: [&str; 10] = [
    "22298006",
    "125605004",
    "40733004",
    "68566005",
    "57676002",
    "271807003",
    "21522001",
    "29857009",
    "386661006",
    "230690007",
];
/// ECDS discharge destinations (SNOMED CT).
const EC_DESTINATIONS: [(&str, f64); 5] = [
    ("306689006", 60.0),
    ("306706006", 25.0),
    ("1066331000000109", 8.0),
    ("50861005", 5.0),
    ("19712007", 2.0),
];
const TREATMENT_FUNCTIONS: [&str; 12] = [
    "100", "101", "110", "120", "130", "301", "320", "330", "340", "370", "502", "300",
];

/// 2001 census ethnic categories, by share of England's population (2011 census).
const ETHNICITIES: [(&str, f64); 16] = [
    ("A", 79.8),
    ("B", 1.0),
    ("C", 4.6),
    ("D", 0.8),
    ("E", 0.3),
    ("F", 0.6),
    ("G", 0.5),
    ("H", 2.6),
    ("J", 2.1),
    ("K", 0.8),
    ("L", 1.5),
    ("M", 1.1),
    ("N", 1.8),
    ("P", 0.5),
    ("R", 0.7),
    ("S", 1.0),
];

/// ONS rural-urban classification 2011 (1 urban major conurbation … 8 rural village and
/// dispersed in a sparse setting), by share of England's population.
const RURAL_URBAN: [(i64, f64); 8] = [
    (1, 35.0),
    (2, 3.5),
    (3, 43.0),
    (4, 0.5),
    (5, 9.0),
    (6, 0.5),
    (7, 8.0),
    (8, 0.5),
];

/// Appointment statuses, whether the patient was seen, and their shares.
const APPOINTMENT_STATUSES: [((&str, bool), f64); 13] = [
    (("Finished", true), 78.0),
    (("Arrived", true), 2.0),
    (("In Progress", true), 0.5),
    (("Visit", true), 1.5),
    (("Waiting", true), 0.5),
    (("Patient Walked Out", true), 0.3),
    (("Did Not Attend", false), 6.0),
    (("Cancelled by Patient", false), 6.0),
    (("Cancelled by Unit", false), 4.0),
    (("Cancelled by Other Service", false), 0.5),
    (("No Access Visit", false), 0.2),
    (("Blocked", false), 0.2),
    (("Booked", false), 0.3),
];

const FLU_CHILD: &str =
    "Fluenz Tetra vaccine nasal suspension 0.2ml unit dose (AstraZeneca UK Ltd)";
const FLU_OLDER: &str =
    "Adjuvanted Trivalent Influenza Vaccine (aTIV) suspension for injection 0.5ml pre-filled syringes (Seqirus UK Ltd)";
const FLU_ADULT: &str =
    "Quadrivalent Influenza Vaccine (QIVe) suspension for injection 0.5ml pre-filled syringes (Sanofi Pasteur)";
const PFIZER: &str =
    "COVID-19 mRNA Vaccine Comirnaty 30micrograms/0.3ml dose conc for susp for inj MDV (Pfizer)";
const ASTRAZENECA: &str = "COVID-19 Vaccine Vaxzevria 0.5ml inj multidose vials (AstraZeneca)";
const MODERNA: &str = "COVID-19 mRNA Vaccine Spikevax 0.1mg/0.5mL dose disp for inj MDV (Moderna)";
const PRESCHOOL_BOOSTER: &str =
    "Repevax vaccine suspension for injection 0.5ml pre-filled syringes (Sanofi Pasteur)";

// ---------------------------------------------------------------------------------------------
// What is shared by every batch.

/// The part of the [`World`] the additional tables need.
pub(crate) struct ExtraWorld {
    /// The tables to generate beyond the core three, in contract order.
    pub tables: Vec<&'static str>,
    /// Write the core tables' later columns (`practice_msoa_code`, reference ranges, …).
    pub extended: bool,
    /// Give the study's clinical codes numeric values.
    pub study_values: bool,
    pub practice_msoa: Vec<String>,
    pub practice_go_live: Vec<Option<i32>>,
    /// Per entry of `World::codes`: the value distribution of a study code's events.
    pub code_values: Vec<Option<(f64, f64)>>,
    meds: Vec<Vec<String>>,
    apcs_diagnoses: Vec<Vec<String>>,
    apcs_procedures: Vec<Vec<String>>,
    ec_diagnoses: Vec<Vec<String>>,
    death_causes: Vec<Vec<String>>,
    opa_procedures: Vec<Vec<String>>,
    opa_functions: Vec<Vec<String>>,
    tests: Cumulative,
    positivity: RateProfile,
    ethnicities: Weighted,
}

/// The patients' MSOA codes are drawn from England's 6,791 MSOAs.
fn msoa(rng: &mut Pcg64) -> String {
    format!("E02{:06}", rng.random_range(1..=6791))
}

impl ExtraWorld {
    /// `None` when the configuration asks for the core tables only.
    pub fn new(config: &SynthConfig, world: &World) -> Option<ExtraWorld> {
        let tables: Vec<&'static str> = ehr::contract::tables()
            .iter()
            .map(|t| t.name.as_str())
            .filter(|t| config.tables.contains(*t) && !is_core(t))
            .collect();
        if tables.is_empty() && !config.extended_columns && !config.study_values {
            return None;
        }
        let mut rng = Pcg64::seed_from_u64(mix(config.seed, u64::MAX - 1));
        let practice_msoa = world.practices.iter().map(|_| msoa(&mut rng)).collect();
        // Most practices have used SystmOne for years; some moved to it recently.
        let practice_go_live = world
            .practices
            .iter()
            .map(|_| {
                if chance(&mut rng, 0.02) {
                    None
                } else if chance(&mut rng, 0.15) {
                    Some(uniform_day(&mut rng, day(2018, 1, 1), day(2021, 6, 1)))
                } else {
                    Some(uniform_day(&mut rng, day(2000, 1, 1), day(2015, 1, 1)))
                }
            })
            .collect();
        let mut code_values = vec![None; world.codes.len()];
        for (set, (members, _)) in config.study_codes.iter().zip(&world.study_codes) {
            // A study codelist holding a routine measurement takes its distribution.
            let known = BACKGROUND_CODES
                .iter()
                .find(|b| {
                    b.value.is_some() && set.codes.iter().any(|c| c == b.ctv3 || c == b.snomedct)
                })
                .and_then(|b| b.value);
            for &m in members {
                code_values[m] = Some(known.unwrap_or((50.0, 15.0)));
            }
        }
        let needs = &config.needs;
        let ec_columns: Vec<String> = (1..=24).map(|i| format!("diagnosis_{i:02}")).collect();
        let ec_refs: Vec<&str> = ec_columns.iter().map(String::as_str).collect();
        let mut cause_columns: Vec<String> =
            (1..=15).map(|i| format!("cause_of_death_{i:02}")).collect();
        cause_columns.push("underlying_cause_of_death".into());
        let cause_refs: Vec<&str> = cause_columns.iter().map(String::as_str).collect();
        let (start, end) = (world.event_start, world.data_end);
        let tests = RateProfile::new(vec![
            (ymd(2020, 2, 29), 0.0),
            (ymd(2020, 3, 1), 0.002),
            (ymd(2020, 5, 1), 0.01),
            (ymd(2020, 9, 1), 0.04),
            (ymd(2021, 1, 1), 0.09),
            (ymd(2021, 6, 1), 0.1),
            (ymd(2021, 12, 31), 0.14),
        ])
        .unwrap_or_else(|_| RateProfile::flat(0.0));
        let positivity = RateProfile::new(vec![
            (ymd(2020, 3, 15), 0.25),
            (ymd(2020, 6, 1), 0.02),
            (ymd(2020, 8, 1), 0.01),
            (ymd(2020, 11, 1), 0.08),
            (ymd(2021, 1, 5), 0.12),
            (ymd(2021, 5, 1), 0.01),
            (ymd(2021, 7, 15), 0.07),
            (ymd(2021, 12, 31), 0.15),
        ])
        .unwrap_or_else(|_| RateProfile::flat(0.05));
        Some(ExtraWorld {
            tables,
            extended: config.extended_columns,
            study_values: config.study_values,
            practice_msoa,
            practice_go_live,
            code_values,
            meds: needs.lists(MEDICATIONS, &["dmd_code"]),
            apcs_diagnoses: needs.lists(APCS, &["all_diagnoses", "primary_diagnosis"]),
            apcs_procedures: needs.lists(APCS, &["all_procedures"]),
            ec_diagnoses: needs.lists(EMERGENCY_CARE_ATTENDANCES, &ec_refs),
            death_causes: needs.lists(ONS_DEATHS, &cause_refs),
            opa_procedures: needs.lists(OPA, &["primary_procedure_code"]),
            opa_functions: needs.lists(OPA, &["treatment_function_code"]),
            tests: Cumulative {
                c: tests.cumulative(start, end),
            },
            positivity,
            ethnicities: Weighted::new(ETHNICITIES.iter().map(|(_, w)| *w)),
        })
    }

    fn wants(&self, table: &str) -> bool {
        self.tables.contains(&table)
    }
}

/// Whether `table` is one of the three core tables.
pub(crate) fn is_core(table: &str) -> bool {
    [PATIENTS, PRACTICE_REGISTRATIONS, CLINICAL_EVENTS].contains(&table)
}

/// What a study reads, as generator settings: the tables beyond the core three, whether it
/// reads the core tables' later columns, and whether it reads clinical values.
pub(crate) fn settings(needs: &StudyNeeds) -> (Vec<String>, bool, bool) {
    let core_columns = |t: &str| -> Vec<&'static str> {
        crate::tables::table_columns(t)
            .map(|cols| cols.iter().map(|(c, _)| *c).collect())
            .unwrap_or_default()
    };
    let mut tables = Vec::new();
    let mut extended = false;
    for (t, cols) in &needs.tables {
        if is_core(t) {
            let core = core_columns(t);
            extended |= cols.iter().any(|c| !core.contains(&c.as_str()));
        } else if ehr::contract::table(t).is_some() {
            tables.push(t.clone());
        }
    }
    let values = needs
        .tables
        .get(CLINICAL_EVENTS)
        .is_some_and(|c| c.contains("numeric_value"));
    (tables, extended, values)
}

// ---------------------------------------------------------------------------------------------
// Per patient.

/// What every additional table of one patient depends on.
struct Person {
    id: i64,
    dob: i32,
    female: bool,
    /// Age on 2020-01-01, in years.
    age: f64,
    /// Registrations `[start, end)` (an open one ends at the end of the data).
    regs: Vec<(i32, i32)>,
    /// The first day the patient is no longer alive (or the end of the data).
    end: i32,
    /// The date of death, from either source.
    death: Option<i32>,
    /// Whether the death is in `ons_deaths` (it may be in primary care only), and twice.
    ons_rows: u8,
    covid_death: bool,
    hospital_death: bool,
    care_home_from: Option<i32>,
    ethnicity: &'static str,
    activity: f64,
}

impl Person {
    fn registered_on(&self, d: i32) -> bool {
        self.regs.iter().any(|&(s, e)| s <= d && d < e)
    }

    fn age_on(&self, d: i32) -> f64 {
        f64::from(d - self.dob) / 365.25
    }

    /// The first day something can happen to the patient in the data.
    fn from(&self, world: &World) -> i32 {
        self.dob.max(world.event_start)
    }

    /// An ethnic category as a hospital records it: usually the patient's, sometimes not
    /// stated, unknown, missing or different.
    fn recorded_ethnicity(&self, rng: &mut Pcg64) -> V {
        let u = rng.random::<f64>();
        if u < 0.1 {
            V::N
        } else if u < 0.14 {
            V::S("Z")
        } else if u < 0.16 {
            V::S("99")
        } else if u < 0.18 {
            V::S(ETHNICITIES[rng.random_range(0..ETHNICITIES.len())].0)
        } else {
            V::S(self.ethnicity)
        }
    }
}

/// The person-level draws, from their own stream (the same whatever tables are generated).
#[allow(clippy::too_many_arguments)]
fn person(
    world: &World,
    x: &ExtraWorld,
    rng: &mut Pcg64,
    id: i64,
    dob: i32,
    female: bool,
    pc_death: Option<i32>,
    regs: Vec<(i32, i32)>,
) -> Person {
    let data_end = world.data_end;
    let age = f64::from(day(2020, 1, 1) - dob) / 365.25;
    let mut death = pc_death;
    let mut ons_rows = 0;
    if let Some(d) = pc_death {
        // Registration lag: a few recent deaths are not in ONS data yet, and a few never.
        let missing = if d >= data_end - 60 { 0.2 } else { 0.01 };
        if !chance(rng, missing) {
            ons_rows = if chance(rng, 0.005) { 2 } else { 1 };
        }
    } else if let Some(&(_, last_end)) = regs.last() {
        // Died after leaving the practice's list: in ONS data only.
        if last_end < data_end {
            let years = f64::from(data_end - last_end) / 365.25;
            let hazard = (-10.3 + 0.088 * age.max(0.0)).exp().min(0.6);
            if chance(rng, (0.3 * hazard * years).min(0.9)) {
                death = Some(uniform_day(rng, last_end, data_end));
                ons_rows = 1;
            }
        }
    }
    let end = death.map_or(data_end, |d| d + 1);
    let covid_share = |d: i32| {
        if d < day(2020, 3, 15) {
            0.0
        } else if d < day(2020, 7, 1) {
            0.25
        } else if d < day(2020, 10, 1) {
            0.03
        } else if d < day(2021, 3, 1) {
            0.3
        } else {
            0.05
        }
    };
    let covid_death = death.is_some_and(|d| chance(rng, covid_share(d)));
    let care_p = if age >= 80.0 {
        0.15
    } else if age >= 65.0 {
        0.01
    } else if age >= 18.0 {
        0.0005
    } else {
        0.0
    };
    let care_home_from = chance(rng, care_p).then(|| {
        let earliest = (dob + (65.0 * 365.25) as i32).max(day(2012, 1, 1));
        uniform_day(
            rng,
            earliest,
            day(2021, 6, 1).min(end - 1).max(earliest + 1),
        )
    });
    let hospital_death = death.is_some() && care_home_from.is_none() && chance(rng, 0.45)
        || covid_death && chance(rng, 0.7);
    let ethnicity = ETHNICITIES[x.ethnicities.sample(rng)].0;
    let spread: f64 = rand_distr::StandardNormal.sample(rng);
    let activity = super::world::age_activity(age.max(0.0) as u32) / world.activity_mean
        * (0.5 * spread - 0.125).exp();
    Person {
        id,
        dob,
        female,
        age,
        regs,
        end,
        death,
        ons_rows,
        covid_death,
        hospital_death,
        care_home_from,
        ethnicity,
        activity,
    }
}

/// The generated rows of one batch: one [`Rows`] per table of `x.tables`.
pub(crate) struct Tables {
    pub rows: Vec<Rows>,
}

impl Tables {
    fn get(&mut self, table: &str) -> Option<&mut Rows> {
        self.rows.iter_mut().find(|r| r.table == table)
    }
}

/// The additional tables of one batch. `patients` are `(id, dob, female, death)` and
/// `registrations` `(id, start, end)`, in patient order, as the core tables hold them.
pub(crate) fn generate(
    world: &World,
    x: &ExtraWorld,
    index: usize,
    patients: &[(i64, i32, bool, Option<i32>)],
    registrations: &[(i64, i32, Option<i32>)],
) -> Tables {
    let stream = |salt: u64| Pcg64::seed_from_u64(mix(mix(world.seed, index as u64), salt));
    let mut people_rng = stream(1);
    let mut people = Vec::with_capacity(patients.len());
    let mut r = 0;
    for &(id, dob, female, death) in patients {
        let mut regs = Vec::new();
        while r < registrations.len() && registrations[r].0 == id {
            let (_, s, e) = registrations[r];
            regs.push((s, e.unwrap_or(world.data_end)));
            r += 1;
        }
        people.push(person(
            world,
            x,
            &mut people_rng,
            id,
            dob,
            female,
            death,
            regs,
        ));
    }
    let mut out = Tables {
        rows: x.tables.iter().map(|t| Rows::new(t)).collect(),
    };
    let mut msoa_on_household_day: Vec<Option<String>> = vec![None; people.len()];
    if x.wants(ADDRESSES) || x.wants(HOUSEHOLD_MEMBERSHIPS_2020) {
        let mut rng = stream(3);
        let mut rows = Rows::new(ADDRESSES);
        for (k, p) in people.iter().enumerate() {
            msoa_on_household_day[k] = addresses(world, p, &mut rng, &mut rows);
        }
        if let Some(slot) = out.get(ADDRESSES) {
            *slot = rows;
        }
    }
    let mut each = |table: &str, salt: u64, f: &mut dyn FnMut(&Person, &mut Pcg64, &mut Rows)| {
        if let Some(rows) = out.get(table) {
            let mut rng = stream(salt);
            for p in &people {
                f(p, &mut rng, rows);
            }
        }
    };
    each(MEDICATIONS, 4, &mut |p, rng, rows| {
        medications(world, x, p, rng, rows);
    });
    each(EMERGENCY_CARE_ATTENDANCES, 6, &mut |p, rng, rows| {
        emergency_care(world, x, p, rng, rows);
    });
    each(OPA, 7, &mut |p, rng, rows| {
        outpatients(world, x, p, rng, rows);
    });
    each(VACCINATIONS, 9, &mut |p, rng, rows| {
        vaccinations(world, p, rng, rows);
    });
    each(APPOINTMENTS, 10, &mut |p, rng, rows| {
        appointments(world, p, rng, rows);
    });
    each(DECISION_SUPPORT_VALUES, 12, &mut |p, rng, rows| {
        frailty(p, rng, rows);
    });
    // Tests feed both SGSS tables and COVID-19 admissions; spells feed ICU admissions;
    // deaths feed CPNS.
    let mut first_positive = vec![None; people.len()];
    let hospital = x.wants(APCS) || x.wants(ICNARC);
    if hospital || x.wants(SGSS_COVID_ALL_TESTS) || x.wants(SGSS_COVID_EARLIEST_SPECIMENS) {
        let mut rng = stream(8);
        let mut all = Rows::new(SGSS_COVID_ALL_TESTS);
        let mut earliest = Rows::new(SGSS_COVID_EARLIEST_SPECIMENS);
        for (k, p) in people.iter().enumerate() {
            first_positive[k] = tests(world, x, p, &mut rng, &mut all, &mut earliest);
        }
        if let Some(slot) = out.get(SGSS_COVID_ALL_TESTS) {
            *slot = all;
        }
        if let Some(slot) = out.get(SGSS_COVID_EARLIEST_SPECIMENS) {
            *slot = earliest;
        }
    }
    if hospital {
        let mut rng = stream(5);
        let mut apcs_rows = Rows::new(APCS);
        let mut icu = Rows::new(ICNARC);
        for (p, positive) in people.iter().zip(&first_positive) {
            spells(world, x, p, *positive, &mut rng, &mut apcs_rows, &mut icu);
        }
        if let Some(slot) = out.get(APCS) {
            *slot = apcs_rows;
        }
        if let Some(slot) = out.get(ICNARC) {
            *slot = icu;
        }
    }
    if x.wants(ONS_DEATHS) || x.wants(CPNS) {
        let mut rng = stream(13);
        let mut ons = Rows::new(ONS_DEATHS);
        let mut cpns = Rows::new(CPNS);
        for p in &people {
            deaths(x, p, &mut rng, &mut ons, &mut cpns);
        }
        if let Some(slot) = out.get(ONS_DEATHS) {
            *slot = ons;
        }
        if let Some(slot) = out.get(CPNS) {
            *slot = cpns;
        }
    }
    if let Some(rows) = out.get(HOUSEHOLD_MEMBERSHIPS_2020) {
        let mut rng = stream(11);
        households(index, &people, &msoa_on_household_day, &mut rng, rows);
    }
    out
}

/// Address periods covering the patient's registrations (and before), the last one open; a
/// care-home resident moves into the care home. Returns the MSOA of the address on
/// 2020-02-01.
fn addresses(world: &World, p: &Person, rng: &mut Pcg64, rows: &mut Rows) -> Option<String> {
    let first = p.regs.first().map_or(p.dob, |r| r.0);
    let start = if chance(rng, 0.08) {
        day(1900, 1, 1)
    } else {
        uniform_day(rng, (first - 3650).max(p.dob), first + 1)
    };
    let cover_end = p.end.min(world.data_end);
    let mut periods: Vec<(i32, Option<i32>, bool)> = Vec::new();
    let mut current = start.min(first);
    loop {
        let years = -(1.0 - rng.random::<f64>()).ln() * 9.0;
        let next = current.saturating_add((years * 365.25).max(30.0) as i32);
        if next >= cover_end || periods.len() >= 60 {
            periods.push((current, None, false));
            break;
        }
        periods.push((current, Some(next), false));
        current = next;
    }
    if let Some(c) = p.care_home_from.filter(|&c| c > start && c < cover_end) {
        periods.retain(|&(s, _, _)| s < c);
        if let Some(last) = periods.last_mut() {
            last.1 = Some(c);
        }
        periods.push((c, None, true));
    }
    let household_day = day(2020, 2, 1);
    let mut msoa_then = None;
    for (k, (s, e, care_home)) in periods.into_iter().enumerate() {
        let has_postcode = care_home || !chance(rng, 0.01);
        let msoa_code = has_postcode.then(|| msoa(rng));
        let imd = (has_postcode && !chance(rng, 0.02)).then(|| {
            let rank: i64 = rng.random_range(1..=32_844);
            (((rank + 50) / 100) * 100).min(32_800)
        });
        let ruc = (has_postcode && !chance(rng, 0.02)).then(|| pick(rng, &RURAL_URBAN));
        let (nursing, no_nursing) = if care_home {
            let n = chance(rng, 0.5);
            let both = chance(rng, 0.1);
            (Some(n || both), Some(!n || both))
        } else {
            (None, None)
        };
        if s <= household_day && e.is_none_or(|e| e > household_day) {
            msoa_then.clone_from(&msoa_code);
        }
        rows.push(
            p.id,
            vec![
                V::I(p.id * 64 + k as i64),
                V::D(s),
                V::opt_d(e),
                V::opt_i(ruc),
                V::opt_i(imd),
                msoa_code.map_or(V::N, V::O),
                V::B(has_postcode),
                V::B(care_home),
                nursing.map_or(V::N, V::B),
                no_nursing.map_or(V::N, V::B),
            ],
        );
    }
    msoa_then
}

/// Whether `d` is a day a prescription can be issued: registered and alive.
fn can_issue(p: &Person, d: i32) -> bool {
    d < p.end && p.registered_on(d)
}

/// Courses of repeat prescriptions: background medicines, more with age, and each of the
/// study's dm+d codelists for some patients; issued every four weeks or so.
fn medications(world: &World, x: &ExtraWorld, p: &Person, rng: &mut Pcg64, rows: &mut Rows) {
    let from = p.from(world);
    if from >= p.end {
        return;
    }
    let mut courses: Vec<String> = Vec::new();
    for _ in 0..poisson(0.1 + p.age.max(0.0) / 70.0, rng) {
        courses.push(BACKGROUND_DMD[rng.random_range(0..BACKGROUND_DMD.len())].to_string());
    }
    for list in &x.meds {
        if !list.is_empty() && chance(rng, 0.15) {
            courses.push(zipf(rng, list).to_string());
        }
    }
    for code in courses {
        let mut d = uniform_day(rng, from - 700, p.end);
        let length = (-(1.0 - rng.random::<f64>()).ln() * 600.0) as i32 + 28;
        let stop = d + length;
        let every = if chance(rng, 0.2) { 56 } else { 28 };
        while d < stop && d < p.end {
            if d >= from && can_issue(p, d) {
                rows.push(p.id, vec![V::D(d), V::O(code.clone())]);
            }
            d += every + rng.random_range(-4..8);
        }
    }
}

/// Hospital spells (and the ICU admissions of those with critical care): more with age,
/// maternity spells, COVID-19 admissions within two weeks of a first positive test (more
/// with age), a final spell for deaths in hospital; discharge on or after admission and
/// never after death.
fn spells(
    world: &World,
    x: &ExtraWorld,
    p: &Person,
    positive: Option<i32>,
    rng: &mut Pcg64,
    rows: &mut Rows,
    icu: &mut Rows,
) {
    let from = p.from(world);
    if from >= p.end {
        return;
    }
    let years = f64::from(p.end - from) / 365.25;
    let rate = 0.04 + 0.004 * p.age.max(0.0);
    let maternity = p.female && (18.0..42.0).contains(&p.age);
    let mut starts: Vec<(i32, u8)> = Vec::new();
    for _ in 0..poisson(rate * years, rng).min(100) {
        starts.push((uniform_day(rng, from, p.end), 0));
    }
    if maternity {
        for _ in 0..poisson(0.05 * years, rng).min(5) {
            starts.push((uniform_day(rng, from, p.end), 1));
        }
    }
    if let Some(d) = p.death.filter(|_| p.hospital_death) {
        starts.push(((d - rng.random_range(0..21)).max(from).min(d), 2));
    }
    if let Some(t) = positive {
        let admitted = t + rng.random_range(0..15);
        if admitted < p.end && chance(rng, (0.03 + p.age.max(0.0) / 400.0).min(0.4)) {
            starts.push((admitted, 3));
        }
    }
    starts.sort_unstable();
    for (k, (admitted, kind)) in starts.into_iter().enumerate() {
        let elective = kind == 0 && chance(rng, 0.4);
        let method = match kind {
            1 => "31",
            2 | 3 => "21",
            _ if elective => pick(rng, &[("11", 5.0), ("12", 4.0), ("13", 1.0)]),
            _ if chance(rng, 0.05) => "81",
            _ => pick(
                rng,
                &[
                    ("21", 60.0),
                    ("22", 10.0),
                    ("23", 5.0),
                    ("24", 5.0),
                    ("28", 15.0),
                    ("2A", 2.0),
                    ("2B", 2.0),
                    ("2D", 1.0),
                ],
            ),
        };
        let nights = match kind {
            1 => rng.random_range(0..4),
            _ if elective && chance(rng, 0.6) => 0,
            _ if elective => 1 + (-(1.0 - rng.random::<f64>()).ln() * 3.0) as i32,
            _ if chance(rng, 0.25) => 0,
            _ => 1 + (-(1.0 - rng.random::<f64>()).ln() * 6.0) as i32,
        }
        .min(120);
        let dies_here = kind == 2;
        let last_day = p.end - 1;
        let mut discharge = Some(admitted + nights);
        if dies_here || discharge.is_some_and(|d| d > last_day && p.death.is_some()) {
            discharge = Some(last_day.max(admitted));
        }
        if discharge.is_some_and(|d| d >= world.data_end) {
            discharge = None; // still in hospital when the data ends
        }
        let died = discharge.is_some_and(|d| p.death == Some(d));
        let in_care_home = p.care_home_from.is_some_and(|c| c <= admitted);
        let length = discharge.map(|d| i64::from(d - admitted));
        let critical = ((kind == 0 || kind == 3) && !elective && nights > 0 && chance(rng, 0.06))
            .then(|| rng.random_range(1..=nights.min(14)));
        let diagnosis = if kind == 1 {
            ["O800", "O829", "O702"][rng.random_range(0..3)].to_string()
        } else if (kind == 3 || p.covid_death && dies_here) && possible_on("U071", admitted) {
            "U071".to_string()
        } else if chance(rng, 0.15) {
            study_code(rng, &x.apcs_diagnoses, admitted)
                .map_or_else(|| BACKGROUND_ICD10[0].to_string(), |c| icd10(rng, &c))
        } else {
            BACKGROUND_ICD10[rng.random_range(0..BACKGROUND_ICD10.len())].to_string()
        };
        let mut codes = vec![diagnosis.clone()];
        for _ in 0..rng.random_range(0..4) {
            codes.push(COMORBIDITIES[rng.random_range(0..COMORBIDITIES.len())].to_string());
        }
        if chance(rng, 0.05) {
            if let Some(c) = study_code(rng, &x.apcs_diagnoses, admitted) {
                codes.push(icd10(rng, &c));
            }
        }
        let all_diagnoses = if codes.len() > 2 && chance(rng, 0.1) {
            format!("||{} ||{}", codes[..2].join(" ,"), codes[2..].join(" ,"))
        } else {
            format!("||{}", codes.join(" ,"))
        };
        let procedures = if chance(rng, if elective { 0.85 } else { 0.4 }) {
            let first = if chance(rng, 0.15) {
                study_code(rng, &x.apcs_procedures, admitted)
            } else {
                None
            }
            .unwrap_or_else(|| {
                BACKGROUND_OPCS4[rng.random_range(0..BACKGROUND_OPCS4.len())].to_string()
            });
            Some(if chance(rng, 0.3) {
                let second = BACKGROUND_OPCS4[rng.random_range(0..BACKGROUND_OPCS4.len())];
                format!("||{first} ,{second}")
            } else {
                format!("||{first}")
            })
        } else {
            None
        };
        let function = if kind == 1 {
            "501"
        } else if p.age < 16.0 {
            "420"
        } else if elective {
            ["100", "101", "110", "130", "301", "502"][rng.random_range(0..6)]
        } else if p.age >= 75.0 && chance(rng, 0.3) {
            "430"
        } else {
            pick(
                rng,
                &[("300", 40.0), ("180", 15.0), ("320", 10.0), ("340", 10.0)],
            )
        };
        let source = if in_care_home && chance(rng, 0.7) {
            pick(rng, &[("54", 1.0), ("65", 1.0), ("85", 1.0)])
        } else {
            pick(rng, &[("19", 90.0), ("51", 5.0), ("29", 3.0)])
        };
        let destination = if died {
            Some("79")
        } else if discharge.is_none() {
            None
        } else if in_care_home {
            Some("54")
        } else {
            Some(pick(
                rng,
                &[("19", 92.0), ("51", 3.0), ("29", 3.0), ("65", 2.0)],
            ))
        };
        let class = if elective && nights == 0 { "2" } else { "1" };
        let wait = elective.then(|| rng.random_range(0..300).to_string());
        let cc_days = if chance(rng, 0.03) {
            None
        } else {
            Some(i64::from(critical.unwrap_or(0)))
        };
        let ident = p.id * 256 + k as i64;
        rows.push(
            p.id,
            vec![
                V::I(ident),
                V::D(admitted),
                V::opt_d(discharge),
                V::S(method),
                V::S(source),
                V::opt_s(destination),
                V::S(class),
                V::S(function),
                V::S(if chance(rng, 0.02) { "02" } else { "01" }),
                wait.map_or(V::N, V::O),
                V::opt_i(length),
                V::opt_i(cc_days),
                V::O(diagnosis),
                V::O(all_diagnoses),
                procedures.map_or(V::N, V::O),
                p.recorded_ethnicity(rng),
            ],
        );
        if let Some(days) = critical {
            let last = discharge.unwrap_or(admitted + nights);
            let icu_day = (admitted + rng.random_range(0..2)).min(last);
            let basic = rng.random_range(0..=days);
            icu.push(
                p.id,
                vec![
                    V::D(icu_day),
                    if chance(rng, 0.5) {
                        V::D(icu_day)
                    } else {
                        V::N
                    },
                    V::I(i64::from(basic)),
                    V::I(i64::from(days - basic)),
                ],
            );
        }
    }
}

/// A&E attendances: more for young children and older people.
fn emergency_care(world: &World, x: &ExtraWorld, p: &Person, rng: &mut Pcg64, rows: &mut Rows) {
    let from = p.from(world);
    if from >= p.end {
        return;
    }
    let years = f64::from(p.end - from) / 365.25;
    let mut rate = 0.2;
    if p.age < 5.0 {
        rate += 0.25;
    }
    if p.age >= 75.0 {
        rate += 0.25;
    }
    let mut days: Vec<i32> = (0..poisson(rate * years, rng).min(200))
        .map(|_| uniform_day(rng, from, p.end))
        .collect();
    days.sort_unstable();
    for (k, arrived) in days.into_iter().enumerate() {
        let mut values = vec![
            V::I(p.id * 256 + k as i64),
            V::D(arrived),
            V::S(pick(rng, &EC_DESTINATIONS)),
        ];
        let n = 1 + usize::from(chance(rng, 0.3)) + usize::from(chance(rng, 0.1));
        for i in 0..24 {
            values.push(if i >= n {
                V::N
            } else if i == 0 && chance(rng, 0.15) {
                study_code(rng, &x.ec_diagnoses, arrived).map_or(V::S(BACKGROUND_ECDS[0]), V::O)
            } else {
                V::S(BACKGROUND_ECDS[rng.random_range(0..BACKGROUND_ECDS.len())])
            });
        }
        values.push(p.recorded_ethnicity(rng));
        rows.push(p.id, values);
    }
}

/// Outpatient appointments: more with age; by telephone more often from the first lockdown.
fn outpatients(world: &World, x: &ExtraWorld, p: &Person, rng: &mut Pcg64, rows: &mut Rows) {
    let from = p.from(world);
    if from >= p.end {
        return;
    }
    let years = f64::from(p.end - from) / 365.25;
    let rate = 0.4 + 0.015 * p.age.max(0.0);
    let mut days: Vec<i32> = (0..poisson(rate * years, rng).min(200))
        .map(|_| uniform_day(rng, from, p.end))
        .collect();
    days.sort_unstable();
    for (k, d) in days.into_iter().enumerate() {
        let status = if chance(rng, 0.02) {
            V::N
        } else {
            V::S(pick(
                rng,
                &[
                    ("5", 80.0),
                    ("6", 3.0),
                    ("7", 5.0),
                    ("2", 4.0),
                    ("3", 6.0),
                    ("4", 1.0),
                    ("0", 1.0),
                ],
            ))
        };
        let first = pick(
            rng,
            &[
                ("1", 35.0),
                ("2", 55.0),
                ("3", 3.0),
                ("4", 5.0),
                ("5", 1.0),
                ("9", 1.0),
            ],
        );
        let medium = if d < day(2020, 3, 23) {
            pick(rng, &[("01", 93.0), ("02", 5.0), ("03", 1.0), ("98", 1.0)])
        } else {
            pick(
                rng,
                &[
                    ("01", 55.0),
                    ("02", 35.0),
                    ("03", 5.0),
                    ("04", 3.0),
                    ("98", 2.0),
                ],
            )
        };
        let function = if chance(rng, 0.15) {
            study_code(rng, &x.opa_functions, d)
        } else {
            None
        }
        .map_or_else(
            || V::S(TREATMENT_FUNCTIONS[rng.random_range(0..TREATMENT_FUNCTIONS.len())]),
            V::O,
        );
        let procedure = if chance(rng, 0.25) {
            if chance(rng, 0.2) {
                study_code(rng, &x.opa_procedures, d)
            } else {
                None
            }
            .map_or_else(
                || V::S(BACKGROUND_OPCS4[rng.random_range(0..BACKGROUND_OPCS4.len())]),
                V::O,
            )
        } else {
            V::N
        };
        rows.push(
            p.id,
            vec![
                V::I(p.id * 256 + k as i64),
                V::D(d),
                status,
                V::S(first),
                V::S(medium),
                function,
                procedure,
                p.recorded_ethnicity(rng),
            ],
        );
    }
}

/// Flu vaccines each autumn (most of those over 65 and in care homes, many young children, a
/// few others), COVID-19 vaccines from December 2020 in order of age, and a pre-school
/// booster (one vaccination, four target diseases).
fn vaccinations(world: &World, p: &Person, rng: &mut Pcg64, rows: &mut Rows) {
    let from = p.from(world);
    let mut given: Vec<(i32, &'static str, &'static str)> = Vec::new();
    for season in 2017..=2021 {
        let start = day(season, 9, 1);
        let age = p.age_on(start);
        let in_care_home = p.care_home_from.is_some_and(|c| c <= start);
        let (uptake, product) = if in_care_home {
            (0.85, FLU_OLDER)
        } else if age >= 65.0 {
            (0.72, FLU_OLDER)
        } else if (2.0..11.0).contains(&age) {
            (0.5, FLU_CHILD)
        } else if age >= 18.0 {
            (0.12 + 0.004 * (age - 18.0), FLU_ADULT)
        } else {
            (0.0, FLU_ADULT)
        };
        if chance(rng, uptake) {
            let d = if chance(rng, 0.75) {
                uniform_day(rng, day(season, 9, 15), day(season, 12, 1))
            } else {
                uniform_day(rng, day(season, 12, 1), day(season + 1, 3, 31))
            };
            given.push((d, "INFLUENZA", product));
        }
    }
    let age = p.age_on(day(2020, 12, 8));
    let in_care_home = p.care_home_from.is_some_and(|c| c <= day(2020, 12, 8));
    let (first_from, window, uptake) = if in_care_home || age >= 80.0 {
        (day(2020, 12, 8), 50, 0.95)
    } else if age >= 70.0 {
        (day(2021, 1, 10), 35, 0.93)
    } else if age >= 60.0 {
        (day(2021, 2, 10), 30, 0.9)
    } else if age >= 50.0 {
        (day(2021, 3, 10), 30, 0.87)
    } else if age >= 40.0 {
        (day(2021, 4, 15), 40, 0.8)
    } else if age >= 18.0 {
        (day(2021, 5, 20), 60, 0.68)
    } else if age >= 12.0 {
        (day(2021, 8, 10), 90, 0.5)
    } else {
        (0, 0, 0.0)
    };
    if chance(rng, uptake) {
        let d1 = first_from + rng.random_range(0..window.max(1));
        let product = if d1 < day(2021, 1, 4) || age < 40.0 {
            if chance(rng, 0.8) {
                PFIZER
            } else {
                MODERNA
            }
        } else if chance(rng, 0.5) {
            ASTRAZENECA
        } else {
            PFIZER
        };
        given.push((d1, "SARS-2 CORONAVIRUS", product));
        if chance(rng, 0.92) {
            let d2 = d1 + rng.random_range(56..85);
            given.push((d2, "SARS-2 CORONAVIRUS", product));
            if (age >= 50.0 || in_care_home) && chance(rng, 0.8) {
                let d3 = (d2 + rng.random_range(182..220)).max(day(2021, 9, 16));
                given.push((d3, "SARS-2 CORONAVIRUS", PFIZER));
            }
        }
    }
    given.sort_unstable();
    let booster = p.dob + 3 * 365 + 120 + rng.random_range(0..60);
    let booster = chance(rng, 0.85).then_some(booster);
    let mut k = 0;
    let mut push = |d: i32, targets: &[&'static str], product: &'static str| {
        if d >= from && d < p.end && k < 64 {
            for t in targets {
                rows.push(
                    p.id,
                    vec![V::I(p.id * 64 + k), V::D(d), V::S(t), V::S(product)],
                );
            }
            k += 1;
        }
    };
    if let Some(b) = booster {
        push(
            b,
            &["DIPHTHERIA", "TETANUS", "PERTUSSIS", "POLIOMYELITIS"],
            PRESCHOOL_BOOSTER,
        );
    }
    for (d, target, product) in given {
        push(d, &[target], product);
    }
}

/// GP appointments while registered and alive, at the background rate's shape.
fn appointments(world: &World, p: &Person, rng: &mut Pcg64, rows: &mut Rows) {
    let start = world.event_start;
    let mut days = Vec::new();
    for &(s, e) in &p.regs {
        let (s, e) = (s.max(start), e.min(p.end));
        if e <= s {
            continue;
        }
        let expected = 0.4 * p.activity * world.background_rate.between(s, e, start);
        for _ in 0..poisson(expected, rng).min(2000) {
            days.push(world.background_rate.sample_day(s, e, start, rng));
        }
    }
    days.sort_unstable();
    for d in days {
        let (status, seen) = pick(rng, &APPOINTMENT_STATUSES);
        let booked = (!chance(rng, 0.02)).then(|| d - rng.random_range(0..28));
        rows.push(
            p.id,
            vec![
                V::opt_d(booked),
                V::D(d),
                if seen { V::D(d) } else { V::N },
                V::S(status),
            ],
        );
    }
}

/// The electronic frailty index, calculated on 2020-12-08 for adults over 50 registered then.
fn frailty(p: &Person, rng: &mut Pcg64, rows: &mut Rows) {
    let d = day(2020, 12, 8);
    let age = p.age_on(d);
    if age < 50.0 || d >= p.end || !p.registered_on(d) {
        return;
    }
    let mean = (age - 50.0) / 4.0 + if p.care_home_from.is_some() { 6.0 } else { 0.0 };
    let deficits = Normal::new(mean, 2.5)
        .map_or(mean, |n| n.sample(rng))
        .round()
        .clamp(0.0, 36.0);
    rows.push(
        p.id,
        vec![
            V::D(d),
            if chance(rng, 0.01) {
                V::N
            } else {
                V::F(deficits / 36.0)
            },
            V::S("UK Electronic Frailty Index (eFI)"),
            V::S("1.0"),
        ],
    );
}

/// SARS-CoV-2 tests from March 2020, positives by the epidemic's waves (and a positive test
/// before each COVID-19 death): every test in `all`, the earliest positive and negative in
/// `earliest`. Returns the day of the first positive test.
fn tests(
    world: &World,
    x: &ExtraWorld,
    p: &Person,
    rng: &mut Pcg64,
    all: &mut Rows,
    earliest: &mut Rows,
) -> Option<i32> {
    let start = world.event_start;
    let from = p.from(world);
    if from >= p.end {
        return None;
    }
    let more = if p.care_home_from.is_some() || p.age >= 80.0 {
        2.5
    } else {
        1.0
    };
    let expected = more * x.tests.between(from, p.end, start);
    let mut tests: Vec<(i32, bool)> = (0..poisson(expected, rng).min(500))
        .map(|_| {
            let d = x.tests.sample_day(from, p.end, start, rng);
            (d, chance(rng, x.positivity.rate_at(d)))
        })
        .collect();
    if let Some(d) = p.death.filter(|_| p.covid_death) {
        tests.push(((d - rng.random_range(2..21)).max(from), true));
    }
    tests.sort_unstable();
    let alpha = |d: i32| d >= day(2020, 11, 15) && d < day(2021, 5, 1);
    let omicron = |d: i32| d >= day(2021, 12, 1);
    let sgtf = |rng: &mut Pcg64, d: i32| -> V {
        if d < day(2020, 10, 1) || chance(rng, 0.2) {
            return V::N;
        }
        if chance(rng, 0.05) {
            return V::I(9);
        }
        if chance(rng, 0.01) {
            return V::I([2, 4, 8][rng.random_range(0..3)]);
        }
        let p_fail = if alpha(d) || omicron(d) { 0.75 } else { 0.05 };
        V::I(i64::from(chance(rng, p_fail)))
    };
    let mut first_positive = None;
    let mut first_negative = None;
    for &(d, positive) in &tests {
        let report = (!chance(rng, 0.02)).then(|| d + rng.random_range(1..4));
        let (symptomatic, status, variant, method) = if positive {
            let s = pick(rng, &[(Some(true), 5.0), (Some(false), 3.0), (None, 2.0)]);
            let variant = (d >= day(2021, 1, 1) && chance(rng, 0.1)).then(|| {
                if chance(rng, 0.05) {
                    "(blank)"
                } else if d < day(2021, 5, 1) {
                    if chance(rng, 0.5) {
                        "VOC-20DEC-01 detected"
                    } else {
                        "B.1.1.7"
                    }
                } else if omicron(d) {
                    "B.1.1.529"
                } else {
                    "B.1.617.2"
                }
            });
            let method = variant.map(|_| {
                pick(
                    rng,
                    &[
                        ("Reflex Assay", 5.0),
                        ("Private Lab Sequencing", 3.0),
                        ("Sanger Provisional Result", 2.0),
                    ],
                )
            });
            (s, sgtf(rng, d), variant, method)
        } else {
            let s = pick(rng, &[(Some(true), 2.0), (Some(false), 5.0), (None, 3.0)]);
            (s, V::N, None, None)
        };
        if positive && first_positive.is_none() {
            first_positive = Some(d);
        }
        if !positive && first_negative.is_none() {
            first_negative = Some(d);
        }
        all.push(
            p.id,
            vec![
                V::D(d),
                V::B(positive),
                V::opt_d(report),
                symptomatic.map_or(V::N, V::B),
                status,
                V::opt_s(variant),
                V::opt_s(method),
            ],
        );
    }
    if let Some(d) = first_negative {
        earliest.push(p.id, vec![V::D(d), V::B(false), V::N, V::N]);
    }
    if let Some(d) = first_positive {
        let category = if d < day(2021, 1, 1) {
            "PCR_Only"
        } else {
            pick(
                rng,
                &[
                    ("PCR_Only", 70.0),
                    ("LFT_WithPCR", 15.0),
                    ("LFT_Only", 15.0),
                ],
            )
        };
        let status = sgtf(rng, d);
        earliest.push(p.id, vec![V::D(d), V::B(true), status, V::S(category)]);
    }
    first_positive
}

/// ONS death registrations (with causes and place) and CPNS hospital COVID-19 deaths.
fn deaths(x: &ExtraWorld, p: &Person, rng: &mut Pcg64, ons: &mut Rows, cpns: &mut Rows) {
    let Some(d) = p.death else {
        return;
    };
    let underlying = if p.covid_death {
        if chance(rng, 0.95) { "U071" } else { "U072" }.to_string()
    } else if chance(rng, 0.15) {
        study_code(rng, &x.death_causes, d).unwrap_or_else(|| BACKGROUND_CAUSES[0].to_string())
    } else {
        BACKGROUND_CAUSES[rng.random_range(0..BACKGROUND_CAUSES.len())].to_string()
    };
    let mut causes = vec![underlying.clone()];
    for _ in 0..rng.random_range(0..4) {
        causes.push(COMORBIDITIES[rng.random_range(0..COMORBIDITIES.len())].to_string());
    }
    let place = if p.hospital_death {
        "Hospital"
    } else if p.care_home_from.is_some_and(|c| c <= d) {
        if chance(rng, 0.85) {
            "Care Home"
        } else {
            "Hospital"
        }
    } else {
        pick(
            rng,
            &[
                ("Home", 70.0),
                ("Hospice", 22.0),
                ("Elsewhere", 5.0),
                ("Other communal establishment", 3.0),
            ],
        )
    };
    for _ in 0..p.ons_rows {
        let mut values = vec![V::D(d), V::O(underlying.clone())];
        for i in 0..15 {
            values.push(causes.get(i).map_or(V::N, |c| V::O(c.clone())));
        }
        values.push(V::S(place));
        ons.push(p.id, values);
    }
    if p.covid_death && place == "Hospital" && chance(rng, 0.9) {
        cpns.push(p.id, vec![V::D(d)]);
    }
}

/// Households on 2020-02-01 of the patients registered then: consecutive patients share a
/// household of a drawn size; care-home residents live in large ones.
fn households(
    index: usize,
    people: &[Person],
    msoas: &[Option<String>],
    rng: &mut Pcg64,
    rows: &mut Rows,
) {
    let d = day(2020, 2, 1);
    let base = (index * super::BATCH_SIZE) as i64;
    let mut next_id = 0i64;
    let mut current: Option<(i64, i64, usize, Option<String>)> = None; // id, size, left, msoa
    for (k, p) in people.iter().enumerate() {
        if d >= p.end || !p.registered_on(d) {
            continue;
        }
        let no_fixed_abode = chance(rng, 0.005);
        let care_home = p.care_home_from.is_some_and(|c| c <= d);
        let (id, size, msoa) = if care_home {
            next_id += 1;
            (base + next_id, rng.random_range(20..80), msoas[k].clone())
        } else {
            if current.as_ref().is_none_or(|c| c.2 == 0) {
                next_id += 1;
                let size = pick(
                    rng,
                    &[
                        (1, 30.0),
                        (2, 35.0),
                        (3, 15.0),
                        (4, 13.0),
                        (5, 5.0),
                        (6, 2.0),
                    ],
                );
                current = Some((base + next_id, size, size as usize, msoas[k].clone()));
            }
            let Some(c) = current.as_mut() else {
                continue;
            };
            c.2 -= 1;
            (c.0, c.1, c.3.clone())
        };
        let mixed = chance(rng, 0.08);
        rows.push(
            p.id,
            vec![
                V::I(id),
                if no_fixed_abode { V::N } else { V::I(size) },
                V::B(chance(rng, 0.0005)),
                V::B(mixed),
                V::I(if mixed { rng.random_range(30..95) } else { 100 }),
                msoa.map_or(V::N, V::O),
                V::B(no_fixed_abode),
            ],
        );
    }
}

/// The later columns of `clinical_events`: lower bound, upper bound, comparator.
pub(crate) type EventExtras = (
    Vec<Option<f64>>,
    Vec<Option<f64>>,
    Vec<Option<&'static str>>,
);

/// Numeric values of the study's clinical codes (where the study reads values) and the
/// reference ranges and comparators of every value: `(value, lower, upper, comparator)` per
/// event, in event order.
pub(crate) fn event_values(
    world: &World,
    x: &ExtraWorld,
    index: usize,
    codes: &[u32],
    values: &mut [Option<f64>],
) -> EventExtras {
    let mut rng = Pcg64::seed_from_u64(mix(mix(world.seed, index as u64), 2));
    let n = codes.len();
    let (mut lower, mut upper, mut comparator) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (code, value) in codes.iter().zip(values.iter_mut()) {
        let code = *code as usize;
        let dist = world.codes[code]
            .value
            .or(x.code_values.get(code).copied().flatten());
        if x.study_values && value.is_none() && world.codes[code].value.is_none() {
            if let Some((mean, sd)) = dist {
                if chance(&mut rng, 0.9) {
                    let v = Normal::new(mean, sd).map_or(mean, |n| n.sample(&mut rng));
                    *value = Some((v.max(0.0) * 10.0).round() / 10.0);
                }
            }
        }
        match (value.is_some(), dist) {
            (true, Some((mean, sd))) if x.extended => {
                let u = rng.random::<f64>();
                let (lo, hi) = if u < 0.1 {
                    (None, None)
                } else if u < 0.25 {
                    (Some(-1.0), Some(-1.0))
                } else {
                    (
                        Some(((mean - 2.0 * sd).max(0.0) * 10.0).round() / 10.0),
                        Some(((mean + 2.0 * sd) * 10.0).round() / 10.0),
                    )
                };
                lower.push(lo);
                upper.push(hi);
                comparator.push(if chance(&mut rng, 0.08) {
                    None
                } else {
                    Some(pick(
                        &mut rng,
                        &[
                            ("=", 85.0),
                            ("~", 2.0),
                            ("<", 3.0),
                            (">", 2.0),
                            ("<=", 1.0),
                            (">=", 1.0),
                        ],
                    ))
                });
            }
            _ => {
                lower.push(None);
                upper.push(None);
                comparator.push(None);
            }
        }
    }
    (lower, upper, comparator)
}
