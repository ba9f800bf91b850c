//! `check`, `run`, `run-all` and `exec`: the `project.yaml` commands, wired to the `pipeline`
//! crate and this project's in-process images.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pipeline::graph::PlanError;
use pipeline::runner::{self, RunError, RunOptions};
use pipeline::{Diagnostic, LoadError, Project};

use files::study::StudyLanguage;

use crate::{images, study_check};

/// Flags shared by `run` and `run-all` (as `opensafely run`).
#[derive(Debug, Clone, clap::Args)]
pub struct RunFlags {
    /// Re-run every dependency of the requested actions, even when up to date.
    #[arg(short = 'f', long)]
    pub force_run_dependencies: bool,
    /// The project folder, holding project.yaml.
    #[arg(long, default_value = ".")]
    pub project_dir: PathBuf,
    /// Keep running actions that do not depend on a failed one.
    #[arg(long)]
    pub continue_on_error: bool,
    /// How many actions may run at once.
    #[arg(short = 'c', long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
}

/// `FILE` as shown in messages: `project.yaml` for the current folder.
fn project_file(dir: &Path) -> String {
    let path = dir.join("project.yaml");
    let shown = path.strip_prefix(".").unwrap_or(&path);
    shown.display().to_string()
}

fn print_diagnostics(file: &str, diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        eprintln!("{}", d.clone().in_file(file));
    }
}

/// Reads and validates `DIR/project.yaml`, printing every diagnostic; `None` when invalid.
fn load(dir: &Path) -> Option<Project> {
    let file = project_file(dir);
    match pipeline::load_project(dir) {
        Ok((project, warnings)) => {
            print_diagnostics(&file, &warnings);
            Some(project)
        }
        Err(err @ LoadError::Read { .. }) => {
            eprintln!("error: {err}");
            None
        }
        Err(LoadError::Invalid(diagnostics)) => {
            print_diagnostics(&file, &diagnostics);
            let n = diagnostics.iter().filter(|d| d.is_error()).count();
            eprintln!(
                "{file} is invalid: {n} error{}",
                if n == 1 { "" } else { "s" }
            );
            None
        }
    }
}

/// `cargo xtask check`: validates `project.yaml` and the YAML study definitions its
/// cohortextractor actions name. Exit 0 valid, 1 invalid.
pub fn check(dir: &Path) -> ExitCode {
    let Some(project) = load(dir) else {
        return ExitCode::FAILURE;
    };
    let mut errors = 0usize;
    let mut seen = BTreeSet::new();
    for action in &project.actions {
        let run = &action.run;
        let study_command = run.image == "cohortextractor"
            && matches!(
                run.args.first().map(String::as_str),
                Some("generate_cohort" | "generate_measures")
            );
        if study_command {
            let name = run.option("--study-definition").unwrap_or("all");
            let params = run_params(&run.args);
            if seen.insert(format!("{name} {params:?}")) {
                errors += check_studies(dir, name, &params, &action.name);
            }
        }
        let charts_command = matches!(
            (run.image.as_str(), run.args.first().map(String::as_str)),
            ("plots", Some("generate_plots")) | ("report", Some("generate_report"))
        );
        if charts_command {
            let study = run
                .option("--study-definition")
                .unwrap_or(images::study::DEFAULT_STUDY_DEFINITION);
            let outputs = run.option("--outputs");
            if seen.insert(format!("outputs {study} {outputs:?}")) {
                if let Err(problems) = study_check::check_outputs(dir, study, outputs) {
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    errors += problems.len();
                }
            }
        }
        if let Some(codelist) = run.option("--codelist") {
            if seen.insert(codelist.to_string()) {
                errors += check_codelist(dir, codelist, &action.name);
            }
        }
    }
    let file = project_file(dir);
    if errors > 0 {
        eprintln!("{file}: the files its actions name have {errors} error(s)");
        return ExitCode::FAILURE;
    }
    println!("{file} is valid ({} actions)", project.actions.len());
    ExitCode::SUCCESS
}

/// The `--param KEY=VALUE` pairs of a run line (`--param X` or `--param=X`; split at the first
/// `=`, as cohortextractor does).
fn run_params(args: &[String]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let value = if arg == "--param" {
            iter.next().map(String::as_str)
        } else {
            arg.strip_prefix("--param=")
        };
        if let Some(v) = value {
            let (k, v) = v.split_once('=').unwrap_or((v, ""));
            out.push((k.to_string(), v.to_string()));
        }
    }
    out
}

/// Checks the study definitions `--study-definition NAME` (or `all`) selects, as
/// `generate_cohort` finds them (`files::study`: `NAME.yaml`, else `NAME.py`, run with the
/// action's `--param`s); returns the number of errors printed.
fn check_studies(dir: &Path, name: &str, params: &[(String, String)], action: &str) -> usize {
    if name != "all" && files::study::study_definition_suffix(name).is_none() {
        eprintln!("{}: error: --study-definition {name} (action {action}) is not a study definition name (study_definition or study_definition_NAME)", project_file(dir));
        return 1;
    }
    let found = files::study::discover(&dir.join("analysis")).unwrap_or_default();
    let selected: Vec<_> = found
        .iter()
        .filter(|f| name == "all" || f.name == name)
        .collect();
    if selected.is_empty() {
        let wanted = if name == "all" {
            "study_definition*"
        } else {
            name
        };
        eprintln!(
            "warning: analysis/{wanted}.yaml (action {action}) does not exist; it may be written by an earlier action"
        );
        return 0;
    }
    let mut errors = 0;
    for definition in selected {
        let shown = format!(
            "analysis/{}.{}",
            definition.name,
            definition.language.extension()
        );
        let has_yaml = found
            .iter()
            .any(|f| f.name == definition.name && f.language == StudyLanguage::Yaml);
        if definition.language == StudyLanguage::Python && has_yaml {
            // generate_cohort reads the YAML file of this name.
            continue;
        }
        if let Err(problems) =
            study_check::check_study_definition_with_params(&dir.join(&shown), params)
        {
            for p in &problems {
                eprintln!("{p}");
            }
            errors += problems.len();
        }
    }
    errors
}

/// Checks a codelist CSV named by an action: readable text with a header line. Returns the
/// number of errors printed.
fn check_codelist(dir: &Path, codelist: &str, action: &str) -> usize {
    let path = dir.join(codelist);
    if !path.is_file() {
        eprintln!("warning: {codelist} (action {action}) does not exist");
        return 0;
    }
    match std::fs::read_to_string(&path) {
        Ok(text) if text.lines().next().is_some_and(|h| !h.trim().is_empty()) => 0,
        Ok(_) => {
            eprintln!("{codelist}:1:1: codelist has no header line (action {action})");
            1
        }
        Err(err) => {
            eprintln!("{codelist}: cannot read codelist (action {action}): {err}");
            1
        }
    }
}

/// `cargo xtask run ACTION…` / `run-all`.
pub fn run(actions: Vec<String>, run_all: bool, flags: RunFlags) -> ExitCode {
    let dir = flags.project_dir.as_path();
    let Some(project) = load(dir) else {
        return ExitCode::FAILURE;
    };
    // `run run_all` is OpenSAFELY's spelling of run-all.
    let run_all = run_all || actions.iter().any(|a| a == "run_all");
    let mut options = RunOptions::new(dir);
    options.actions = actions.into_iter().filter(|a| a != "run_all").collect();
    options.run_all = run_all;
    options.force_run_dependencies = flags.force_run_dependencies;
    options.continue_on_error = flags.continue_on_error;
    options.concurrency = usize::from(flags.concurrency);
    options.live = std::io::stderr().is_terminal();
    let mut out = std::io::stdout();
    match runner::run(&project, &images::registry(), &options, &mut out) {
        Ok(report) => {
            let _ = out.flush();
            if report.success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(RunError::Plan(err @ PlanError::UnknownAction { .. })) => {
            eprintln!("=> UnknownActionError\n   {err}\n\n   Valid action names are:\n     run_all (runs all actions in project)");
            for name in project.action_names() {
                eprintln!("     {name}");
            }
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask exec IMAGE:TAG ARGS…`: one command, run as an action would be.
pub fn exec(image: &str, args: &[String], dir: &Path) -> ExitCode {
    let mut out = std::io::stdout();
    let database_url_set = std::env::var_os("DATABASE_URL").is_some();
    match runner::exec(
        &images::registry(),
        image,
        args,
        dir,
        database_url_set,
        &mut out,
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = out.flush();
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
