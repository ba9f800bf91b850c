//! `cargo xtask`: the project commands. Thin: parsing arguments and wiring library crates.

pub mod bench_csv_writer;
pub mod database;
pub mod generate_ehr;
pub mod images;
pub mod project_cmds;
pub mod study_check;
pub mod translate;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Project commands for an OpenSAFELY-style study.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Lists the images that run in-process.
    Images,
    /// Validates project.yaml (and the study definitions its actions name); prints every
    /// error with its line and column. Exit 0 valid, 1 invalid.
    Check {
        /// The project folder, holding project.yaml.
        #[arg(long, default_value = ".")]
        project_dir: PathBuf,
    },
    /// Runs the named actions and what they need (stale dependencies only, unless -f).
    Run {
        /// Action names (`run_all` runs every action).
        #[arg(required = true)]
        actions: Vec<String>,
        /// How to run them.
        #[command(flatten)]
        flags: project_cmds::RunFlags,
    },
    /// Runs every action of project.yaml, skipping those whose results are up to date.
    RunAll {
        /// How to run them.
        #[command(flatten)]
        flags: project_cmds::RunFlags,
    },
    /// Runs one command as an action would, e.g. `exec cohortextractor:latest generate_cohort …`.
    Exec {
        /// The project folder (working directory of the command).
        #[arg(long, default_value = ".")]
        project_dir: PathBuf,
        /// IMAGE:TAG, e.g. python:v2.
        image: String,
        /// The command's arguments.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Writes a synthetic EHR (the core tables, and the others a study reads or `--tables` names) to a folder.
    GenerateEhr(generate_ehr::Args),
    /// Prints the SQL that generate_cohort would run in a database (flags as generate_cohort),
    /// for review; runs nothing.
    DumpSql(database::DumpSqlArgs),
    /// Loads a folder of table files into a PostgreSQL schema (the contract's tables, types and
    /// an index on patient_id, with COPY) or a Spark database (Parquet tables).
    LoadEhr(database::LoadEhrArgs),
    /// Writes the YAML study definition equivalent to a cohortextractor `analysis/NAME.py`
    /// (loops unrolled, codelists referenced by file), after running and validating it.
    Translate(translate::Args),
    /// Times `output::write_batch` alone over a folder of cohorts (`benchmarks/compare.py` part w).
    #[command(hide = true)]
    BenchCsvWriter(bench_csv_writer::Args),
}

/// Runs the driver with `args` (the first is the program name) and returns its exit status.
pub fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        Command::Images => {
            for name in images::registry().names() {
                println!("{name}");
            }
            ExitCode::SUCCESS
        }
        Command::Check { project_dir } => project_cmds::check(&project_dir),
        Command::Run { actions, flags } => project_cmds::run(actions, false, flags),
        Command::RunAll { flags } => project_cmds::run(Vec::new(), true, flags),
        Command::Exec {
            project_dir,
            image,
            args,
        } => project_cmds::exec(&image, &args, &project_dir),
        Command::GenerateEhr(args) => generate_ehr::run(args),
        Command::DumpSql(args) => database::dump_sql(args),
        Command::LoadEhr(args) => database::load_ehr(&args),
        Command::Translate(args) => translate::run(&args),
        Command::BenchCsvWriter(args) => bench_csv_writer::run(&args),
    }
}
