//! The synthetic EHR generator: a seeded, plausible population written as the tables of
//! `spec/data-sources.md`.
//!
//! Patients are generated in fixed-size batches, each from its own RNG derived from
//! `(seed, batch index)`, so batches can be generated in parallel and the output is
//! byte-identical for the same `patients` and `seed` whatever the thread count. Tables are
//! streamed batch by batch ([`write_ehr`]) or collected in memory ([`generate_tables`]).
//!
//! What is generated: ages from the UK 2018 population pyramid, the UK sex ratio, practices
//! nested in England's regions (weighted by population) and STPs; registrations that start,
//! move between practices (~5% a year), leave, and end at death; deaths from an age-dependent
//! hazard; clinical events from a background set of routine codes (~30 per patient over
//! 2018-2021, fewer in spring 2020) plus the study's codes at a rate that changes over time
//! ([`RateProfile::service_change`] by default). Events only happen while a patient is
//! registered and alive.

mod batch;
mod command;
pub(crate) use batch::mix;
mod extra;
mod needs;
mod population;
mod profile;
mod rows;
mod world;
mod write;

use polars::prelude::*;
use rayon::prelude::*;

pub use command::{generate_ehr, GenerateEhrError, GenerateEhrOptions, TableChoice, DEFAULT_SEED};
pub use needs::StudyNeeds;
pub use population::AGE_BANDS_2018;
pub use profile::RateProfile;
pub use write::{write_ehr, SynthSummary};

use crate::lang::CodeSystem;
use crate::tables::TableFrames;
use batch::Batch;
use world::World;

/// Patients per batch: fixed, so the output does not depend on how batches are scheduled.
pub const BATCH_SIZE: usize = 8192;

/// Codes of one codelist of the study, to draw study events from.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeSet {
    pub system: CodeSystem,
    pub codes: Vec<String>,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SynthConfig {
    pub patients: usize,
    pub seed: u64,
    /// The study's codelists; each gets events at `study_rate`.
    pub study_codes: Vec<CodeSet>,
    /// Monthly rate of each codelist's events per registered patient.
    pub study_rate: RateProfile,
    /// Average background (routine) events per patient-month, before the time profile.
    pub background_per_month: f64,
    /// Shape of the background rate over time (1.0 = average).
    pub background_shape: RateProfile,
    /// Whether to generate background events at all: a study that reads `clinical_events`
    /// only through its codelists cannot see them, so a dummy run in memory leaves them out
    /// (the patients and the study's events are the same either way).
    pub background_events: bool,
    /// Tables to write besides `patients`, `practice_registrations` and `clinical_events`
    /// (contract names; others are ignored).
    pub tables: std::collections::BTreeSet<String>,
    /// Also write the core tables' later contract columns (`practice_msoa_code`,
    /// `practice_systmone_go_live_date`, `lower_bound`, `upper_bound`, `comparator`).
    pub extended_columns: bool,
    /// Give the study codes' clinical events numeric values (a study code in the codelist of
    /// a routine measurement takes its distribution).
    pub study_values: bool,
    /// The codes the study looks for, per table and column, for the other tables' codes.
    pub needs: StudyNeeds,
}

impl SynthConfig {
    /// `patients` patients from `seed`, with the default profiles (about 30 background events
    /// per patient over 2018-2021; study codes following [`RateProfile::service_change`]).
    pub fn new(patients: usize, seed: u64, study_codes: Vec<CodeSet>) -> SynthConfig {
        SynthConfig {
            patients,
            seed,
            study_codes,
            study_rate: RateProfile::service_change(),
            background_per_month: 0.72,
            background_shape: RateProfile::background_shape(),
            background_events: true,
            tables: std::collections::BTreeSet::new(),
            extended_columns: false,
            study_values: false,
            needs: StudyNeeds::default(),
        }
    }

    /// This configuration generating what `needs` reads: the tables beyond the core three,
    /// the core tables' later columns if any is read, clinical values if they are read, and
    /// codes from the codelists each table's columns are matched against.
    pub fn with_needs(mut self, needs: &StudyNeeds) -> SynthConfig {
        let (tables, extended, values) = extra::settings(needs);
        self.tables.extend(tables);
        self.extended_columns |= extended;
        self.study_values |= values;
        self.needs.merge(needs.clone());
        self
    }

    /// This configuration generating every table of the contract, with every column.
    pub fn with_all_tables(mut self) -> SynthConfig {
        self.tables
            .extend(ehr::contract::tables().iter().map(|t| t.name.clone()));
        self.extended_columns = true;
        self
    }

    /// The tables written, in output order: the core three, then the others in contract
    /// order.
    pub fn table_names(&self) -> Vec<&'static str> {
        ehr::contract::tables()
            .iter()
            .map(|t| t.name.as_str())
            .filter(|t| extra::is_core(t) || self.tables.contains(*t))
            .collect()
    }

    /// Number of batches.
    pub fn batches(&self) -> usize {
        self.patients.div_ceil(BATCH_SIZE)
    }
}

/// The code sets of a study definition's CTV3 and SNOMED CT codelists (in name order): the
/// codes its clinical events are drawn from.
pub fn study_code_sets(study: &crate::lang::StudyDefinition) -> Vec<CodeSet> {
    study
        .codelists
        .values()
        .filter(|c| matches!(c.system, CodeSystem::Ctv3 | CodeSystem::Snomedct))
        .map(|c| CodeSet {
            system: c.system,
            codes: c.codes.keys().cloned().collect(),
        })
        .collect()
}

/// Generates the whole data set in memory as frames (for tests and dummy-data runs).
pub fn generate_frames(config: &SynthConfig) -> PolarsResult<TableFrames> {
    let world = World::new(config);
    let batches: Vec<Batch> = (0..config.batches())
        .into_par_iter()
        .map(|i| Batch::generate(&world, i))
        .collect();
    if batches.is_empty() {
        return Ok(TableFrames::empty());
    }
    batch::frames(&batches, &world)
}

/// Generates every table of `config` in memory, by name (each column in one chunk).
pub fn generate_all(
    config: &SynthConfig,
) -> PolarsResult<std::collections::BTreeMap<String, DataFrame>> {
    let world = World::new(config);
    let batches: Vec<Batch> = (0..config.batches())
        .into_par_iter()
        .map(|i| Batch::generate(&world, i))
        .collect();
    Ok(batch::all_frames(batches, &world)?
        .into_iter()
        .map(|(t, df)| (t.to_string(), df))
        .collect())
}

/// `n` patients from `seed` with events from `codes`, default profiles, in memory.
pub fn generate_tables(n: usize, seed: u64, codes: Vec<CodeSet>) -> PolarsResult<TableFrames> {
    generate_frames(&SynthConfig::new(n, seed, codes))
}
