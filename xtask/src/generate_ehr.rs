//! `cargo xtask generate-ehr`: writes the synthetic EHR tables of `spec/data-sources.md`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cohort::output::OutputFormat;
use cohort::synth::{GenerateEhrOptions, TableChoice};

/// The study definition used for study codes when `--study-definition` is not given and the
/// project has one.
const DEFAULT_STUDY_DEFINITION: &str = "analysis/study_definition.yaml";

/// Arguments of `generate-ehr`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many patients.
    #[arg(long)]
    pub patients: usize,
    /// Seed of the generator: the same patients and seed give byte-identical tables.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Study definition whose codelists the clinical events draw from (default:
    /// analysis/study_definition.yaml when it exists).
    #[arg(long)]
    pub study_definition: Option<PathBuf>,
    /// Which tables besides patients, practice_registrations and clinical_events: `all` (every
    /// table of the contract, every column), or a comma-separated list of table names
    /// (default: the tables and columns the study definition reads).
    #[arg(long)]
    pub tables: Option<TableChoice>,
    /// Table file format: parquet, arrow, csv or csv.gz.
    #[arg(long, default_value = "parquet")]
    pub format: OutputFormat,
    /// Folder to write the tables into.
    #[arg(long)]
    pub output_dir: PathBuf,
}

/// Runs `generate-ehr`.
pub fn run(args: Args) -> ExitCode {
    let study = args.study_definition.or_else(|| {
        let default = Path::new(DEFAULT_STUDY_DEFINITION);
        default.is_file().then(|| default.to_path_buf())
    });
    let mut log = std::io::stderr();
    let options = GenerateEhrOptions {
        patients: args.patients,
        seed: args.seed,
        study_definition: study,
        tables: args.tables.unwrap_or_default(),
        format: args.format,
        output_dir: args.output_dir,
    };
    match cohort::synth::generate_ehr(&options, &mut log) {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
