//! The `generate-ehr` command: a synthetic EHR written to a folder, for `cargo xtask`.

use std::io::Write;
use std::path::Path;

use super::{study_code_sets, write_ehr, SynthConfig, SynthSummary};
use crate::output::{OutputError, OutputFormat};
use crate::study::{StudyDefinition, StudyError};

/// The seed when none is given (the same as `generate_cohort`'s dummy data, so
/// `generate-ehr --patients N` writes the tables `--expectations-population N` queries).
pub const DEFAULT_SEED: u64 = crate::expectations::DEFAULT_SEED;

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

/// Writes `patients` synthetic patients (seed `seed`, default [`DEFAULT_SEED`]) to
/// `output_dir` as `patients`, `practice_registrations` and `clinical_events` files in
/// `format`, drawing study events from the codelists of `study_definition` when given.
/// Progress goes to `log`.
pub fn generate_ehr(
    patients: usize,
    seed: Option<u64>,
    study_definition: Option<&Path>,
    format: OutputFormat,
    output_dir: &Path,
    log: &mut dyn Write,
) -> Result<SynthSummary, GenerateEhrError> {
    let codes = match study_definition {
        Some(path) => study_code_sets(&StudyDefinition::load(path)?),
        None => Vec::new(),
    };
    let seed = seed.unwrap_or(DEFAULT_SEED);
    writeln!(
        log,
        "Generating {patients} patients (seed {seed}, {} study codelist(s)) into {} as {format}",
        codes.len(),
        output_dir.display()
    )?;
    let config = SynthConfig::new(patients, seed, codes);
    let progress = crate::cli::Progress::new(patients as u64, "patients");
    let mut last = 0usize;
    let mut log_err = None;
    let summary = write_ehr(&config, output_dir, format, &mut |done, _| {
        progress.bar_inc((done - last) as u64);
        last = done;
        if let Err(e) = progress.drain_to(log) {
            log_err.get_or_insert(e);
        }
    })?;
    progress.finish(log)?;
    if let Some(e) = log_err {
        return Err(e.into());
    }
    writeln!(
        log,
        "Wrote {} patients, {} practice registrations, {} clinical events",
        summary.patients, summary.practice_registrations, summary.clinical_events
    )?;
    Ok(summary)
}
