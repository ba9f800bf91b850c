//! The `generate-ehr` command: a synthetic EHR written to a folder, for `cargo xtask`.

use std::io::Write;
use std::path::PathBuf;

use super::{study_code_sets, write_ehr, StudyNeeds, SynthConfig, SynthSummary};
use crate::lang::Runtime;
use crate::output::{OutputError, OutputFormat};
use crate::study::{StudyDefinition, StudyError};

/// The seed when none is given (the same as `generate_cohort`'s dummy data, so
/// `generate-ehr --patients N` writes the tables `--expectations-population N` queries).
pub const DEFAULT_SEED: u64 = crate::expectations::DEFAULT_SEED;

/// Which tables `generate-ehr` writes (always with `patients`, `practice_registrations` and
/// `clinical_events`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TableChoice {
    /// The tables (and columns) the study definition reads; the core three without one.
    #[default]
    Study,
    /// Every table of the contract, with every column.
    All,
    /// These tables (contract names), with every column of the core three.
    Listed(Vec<String>),
}

impl std::str::FromStr for TableChoice {
    type Err = String;

    /// `all`, or a comma-separated list of contract table names.
    fn from_str(s: &str) -> Result<TableChoice, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("all") {
            return Ok(TableChoice::All);
        }
        let names: Vec<String> = s
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect();
        let known: Vec<&str> = ehr::contract::tables()
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        if let Some(bad) = names.iter().find(|n| !known.contains(&n.as_str())) {
            return Err(format!(
                "`{bad}` is not a table of the contract (tables: all, {})",
                known.join(", ")
            ));
        }
        if names.is_empty() {
            return Err("no table named (give `all` or a comma-separated list)".into());
        }
        Ok(TableChoice::Listed(names))
    }
}

/// Why `generate-ehr` failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateEhrError {
    #[error("{0}")]
    Study(#[from] StudyError),
    #[error("{0}")]
    Output(#[from] OutputError),
    #[error("cannot write the log: {0}")]
    Log(#[from] std::io::Error),
}

/// What `generate-ehr` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateEhrOptions {
    /// How many patients.
    pub patients: usize,
    /// The seed ([`DEFAULT_SEED`] when not given).
    pub seed: Option<u64>,
    /// The study definition whose codelists the codes are drawn from, and whose tables are
    /// written with [`TableChoice::Study`].
    pub study_definition: Option<PathBuf>,
    /// Which tables.
    pub tables: TableChoice,
    /// File format.
    pub format: OutputFormat,
    /// The folder written to (created if needed).
    pub output_dir: PathBuf,
}

/// Writes `options.patients` synthetic patients to `options.output_dir`, one file per table
/// in `options.format`: `patients`, `practice_registrations`, `clinical_events` and the other
/// tables `options.tables` asks for, with codes drawn from the codelists of the study
/// definition when given. Progress goes to `log`.
pub fn generate_ehr(
    options: &GenerateEhrOptions,
    log: &mut dyn Write,
) -> Result<SynthSummary, GenerateEhrError> {
    let patients = options.patients;
    let (codes, needs) = match &options.study_definition {
        Some(path) => {
            let study = StudyDefinition::load(path)?;
            let compiled = study.compile(&Runtime::check())?;
            (
                study_code_sets(&study),
                Some(StudyNeeds::of(&compiled.dataset)),
            )
        }
        None => (Vec::new(), None),
    };
    let seed = options.seed.unwrap_or(DEFAULT_SEED);
    let mut config = SynthConfig::new(patients, seed, codes);
    if let Some(needs) = &needs {
        config = config.with_needs(needs);
        if options.tables != TableChoice::Study {
            // The study decides codes and values; the choice decides the tables.
            config.tables.clear();
            config.extended_columns = false;
        }
    }
    match &options.tables {
        TableChoice::Study => {}
        TableChoice::All => config = config.with_all_tables(),
        TableChoice::Listed(tables) => {
            config.tables.extend(tables.iter().cloned());
            config.extended_columns = true;
        }
    }
    let names = config.table_names();
    writeln!(
        log,
        "Generating {patients} patients (seed {seed}, {} study codelist(s)) into {} as {}: {}",
        config.study_codes.len(),
        options.output_dir.display(),
        options.format,
        names.join(", ")
    )?;
    let progress = crate::cli::Progress::new(patients as u64, "patients");
    let mut last = 0usize;
    let mut log_err = None;
    let summary = write_ehr(
        &config,
        &options.output_dir,
        options.format,
        &mut |done, _| {
            progress.bar_inc((done - last) as u64);
            last = done;
            if let Err(e) = progress.drain_to(log) {
                log_err.get_or_insert(e);
            }
        },
    )?;
    progress.finish(log)?;
    if let Some(e) = log_err {
        return Err(e.into());
    }
    let others: Vec<String> = names
        .iter()
        .filter(|t| !super::extra::is_core(t))
        .map(|t| {
            format!(
                ", {} {t}",
                summary.rows.get(*t).copied().unwrap_or_default()
            )
        })
        .collect();
    writeln!(
        log,
        "Wrote {} patients, {} practice registrations, {} clinical events{}",
        summary.patients,
        summary.practice_registrations,
        summary.clinical_events,
        others.concat()
    )?;
    Ok(summary)
}
