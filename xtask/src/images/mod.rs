//! The in-process images of this project, by name, and their command lines.
//!
//! Each library crate exposes an entry point that takes typed options; the argv of an action's
//! `run` line is parsed here, by clap, with the argparse behaviours cohortextractor's users rely
//! on: `--flag=value` and `--flag value`, unique prefixes of long flags (`--study` for
//! `--study-definition`), and the last value winning when a flag is repeated (the runner adds
//! its own `--output-dir`). `--help` on any command lists its flags.
//!
//! | image | command | options | entry point |
//! |---|---|---|---|
//! | `cohortextractor:<tag>` | `generate_cohort …` | [`generate_cohort::Args`] | [`cohort::cli::generate_cohort`] |
//! | `cohortextractor:<tag>` | `generate_measures …` | [`generate_measures::Args`] | [`measures::cli::generate_measures`] |
//! | `plots:<tag>` | `generate_plots …` | [`generate_plots::Args`] | [`plots::cli::generate_plots`] |
//! | `report:<tag>` | `generate_report …` | [`generate_report::Args`] | [`report::cli::generate_report`] |
//!
//! Plots and report get the study definition's measures and codelists from [`study`], which
//! loads it with `cohort`; each command reports the files it read beyond its arguments (the
//! study definition, the outputs file, codelists) so the runner re-runs it when they change.

pub mod generate_cohort;
pub mod generate_measures;
pub mod generate_plots;
pub mod generate_report;
pub mod study;

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::error::ErrorKind;
use clap::{ArgMatches, ColorChoice, CommandFactory, FromArgMatches};
use pipeline::image::{ImageError, ImageRegistry, Invocation};

/// A command of an image: the arguments after the command name, the project folder, the log,
/// and the files it read that its arguments do not name (for the runner's fingerprints).
type EntryPoint = fn(&[String], &Path, &mut dyn Write, &mut Vec<PathBuf>) -> Result<(), ImageError>;

/// Every image this project runs in-process.
pub fn registry() -> ImageRegistry {
    let mut registry = ImageRegistry::new();
    registry.register(
        "cohortextractor",
        reporting_python_modules(commands(&[
            (generate_cohort::Args::NAME, entry::<generate_cohort::Args>),
            (
                generate_measures::Args::NAME,
                entry::<generate_measures::Args>,
            ),
        ])),
    );
    registry.register(
        "plots",
        commands(&[(generate_plots::Args::NAME, entry::<generate_plots::Args>)]),
    );
    registry.register(
        "report",
        commands(&[(generate_report::Args::NAME, entry::<generate_report::Args>)]),
    );
    registry
}

/// The command line of one image command, and how it becomes the library's options.
pub trait ImageCommand: CommandFactory + FromArgMatches {
    /// The command's name, e.g. `generate_cohort`.
    const NAME: &'static str;
    /// The typed options the library takes.
    type Options;
    /// The options, from the parsed arguments (and the matches, for `--param`).
    fn options(self, matches: &ArgMatches) -> Result<Self::Options, ImageError>;
    /// Runs the library's entry point; files it read that the arguments do not name go to
    /// `reads`.
    fn run(
        options: Self::Options,
        project_dir: &Path,
        log: &mut dyn Write,
        reads: &mut Vec<PathBuf>,
    ) -> Result<(), ImageError>;
}

/// Parses `args` as `T` and runs it; `--help` only prints the help.
fn entry<T: ImageCommand>(
    args: &[String],
    project_dir: &Path,
    log: &mut dyn Write,
    reads: &mut Vec<PathBuf>,
) -> Result<(), ImageError> {
    match options::<T>(args, log)? {
        Some(options) => T::run(options, project_dir, log, reads),
        None => Ok(()),
    }
}

/// The options `args` give `T`; `None` when they ask for `--help`, which is written to `log`.
pub fn options<T: ImageCommand>(
    args: &[String],
    log: &mut dyn Write,
) -> Result<Option<T::Options>, ImageError> {
    match parse::<T>(T::NAME, args, log)? {
        Some((parsed, matches)) => parsed.options(&matches).map(Some),
        None => Ok(None),
    }
}

/// Parses the arguments of `command` into `T` (and the matches, for what `T` cannot hold:
/// [`params`]), with the argparse behaviours above. `None` when the arguments asked for
/// `--help`, which is written to `log`.
fn parse<T: CommandFactory + FromArgMatches>(
    command: &'static str,
    args: &[String],
    log: &mut dyn Write,
) -> Result<Option<(T, ArgMatches)>, ImageError> {
    let parsed = T::command()
        .name(command)
        .bin_name(command)
        .infer_long_args(true)
        .args_override_self(true)
        .color(ColorChoice::Never)
        .try_get_matches_from(std::iter::once(command.to_string()).chain(args.iter().cloned()))
        .and_then(|matches| Ok((T::from_arg_matches(&matches)?, matches)));
    match parsed {
        Ok(parsed) => Ok(Some(parsed)),
        Err(err) if err.kind() == ErrorKind::DisplayHelp => {
            write!(log, "{err}")?;
            Ok(None)
        }
        Err(err) => Err(usage(command, &err.to_string())),
    }
}

/// A usage error of `command`: clap's message (what is wrong, the usage line, the pointer to
/// `--help`) after the command's name.
fn usage(command: &str, message: &str) -> ImageError {
    let message = message.trim_end();
    let message = message.strip_prefix("error: ").unwrap_or(message);
    format!("{command}: {message}").into()
}

/// `--param KEY=VALUE` as cohortextractor reads it (argparse `nargs="+"`, `action="append"`):
/// each occurrence's words are joined and split at the first `=`. (The words of one
/// occurrence are grouped only in the matches: clap's derive flattens them.)
fn params(command: &str, matches: &ArgMatches) -> Result<Vec<(String, String)>, ImageError> {
    let Some(occurrences) = matches.get_occurrences::<String>("param") else {
        return Ok(Vec::new());
    };
    occurrences
        .map(|words| {
            let joined: String = words.map(String::as_str).collect();
            match joined.split_once('=') {
                Some((k, v)) => Ok((k.trim().to_string(), v.trim().to_string())),
                None => Err(usage(
                    command,
                    &format!("--param expects KEY=VALUE, got `{joined}`"),
                )),
            }
        })
        .collect()
}

/// An image whose first argument names one of `commands`.
fn commands(
    commands: &'static [(&'static str, EntryPoint)],
) -> impl Fn(Invocation<'_>) -> Result<(), ImageError> + Send + Sync {
    move |inv: Invocation<'_>| {
        let Some((name, rest)) = inv.args.split_first() else {
            return Err(unknown(inv.image, inv.tag, commands, "no command given"));
        };
        match commands.iter().find(|(command, _)| command == name) {
            Some((_, run)) => run(rest, inv.project_dir, inv.log, inv.reads),
            None => Err(unknown(
                inv.image,
                inv.tag,
                commands,
                &format!("unknown command `{name}`"),
            )),
        }
    }
}

/// `run`, reporting as read the `analysis/*.py` files of a project with Python study
/// definitions: the modules (e.g. `codelists.py`) a study may import, so that a change to one
/// makes the action stale.
fn reporting_python_modules(
    run: impl Fn(Invocation<'_>) -> Result<(), ImageError> + Send + Sync,
) -> impl Fn(Invocation<'_>) -> Result<(), ImageError> + Send + Sync {
    move |inv: Invocation<'_>| {
        let result = run(Invocation {
            image: inv.image,
            tag: inv.tag,
            args: inv.args,
            project_dir: inv.project_dir,
            log: &mut *inv.log,
            reads: &mut *inv.reads,
        });
        inv.reads.extend(python_modules(inv.project_dir));
        result
    }
}

/// The `analysis/*.py` files of `project_dir`, when one of them is a study definition.
fn python_modules(project_dir: &Path) -> Vec<std::path::PathBuf> {
    let analysis = project_dir.join("analysis");
    let Ok(entries) = std::fs::read_dir(&analysis) else {
        return Vec::new();
    };
    let mut modules: Vec<std::path::PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "py"))
        .collect();
    modules.sort();
    let any_study = modules.iter().any(|p| {
        p.file_stem()
            .and_then(|s| s.to_str())
            .is_some_and(|s| files::study::study_definition_suffix(s).is_some())
    });
    if !any_study {
        return Vec::new();
    }
    modules
        .into_iter()
        .filter_map(|p| p.strip_prefix(project_dir).ok().map(Path::to_path_buf))
        .collect()
}

fn unknown(image: &str, tag: &str, commands: &[(&str, EntryPoint)], problem: &str) -> ImageError {
    let known: Vec<&str> = commands.iter().map(|(name, _)| *name).collect();
    format!(
        "{image}:{tag}: {problem}; the commands of this image are: {}",
        known.join(", ")
    )
    .into()
}

#[cfg(test)]
mod test_support {
    use super::*;

    /// The options `args` give `T`, or the error's message.
    pub(super) fn options_of<T: ImageCommand>(args: &[&str]) -> Result<T::Options, String> {
        let args: Vec<String> = args.iter().map(|s| (*s).to_string()).collect();
        options::<T>(&args, &mut Vec::new())
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "--help".to_string())
    }

    /// What `--help` prints for `T`, checked to list every `flags`.
    pub(super) fn assert_help_lists<T: ImageCommand>(flags: &[&str]) {
        let mut log = Vec::new();
        assert!(options::<T>(&["--help".to_string()], &mut log)
            .unwrap()
            .is_none());
        let help = String::from_utf8(log).unwrap();
        assert!(
            help.contains(&format!("Usage: {} [OPTIONS]", T::NAME)),
            "{help}"
        );
        for flag in flags {
            assert!(help.contains(flag), "{flag} missing from:\n{help}");
        }
    }
}

#[cfg(test)]
mod python_module_tests {
    use super::*;

    #[test]
    fn a_python_study_reports_its_analysis_modules_as_read() {
        let dir = tempfile::tempdir().unwrap();
        let analysis = dir.path().join("analysis");
        std::fs::create_dir(&analysis).unwrap();
        std::fs::write(analysis.join("codelists.py"), "").unwrap();
        std::fs::write(analysis.join("notes.txt"), "").unwrap();
        assert!(python_modules(dir.path()).is_empty(), "no study definition");
        std::fs::write(analysis.join("study_definition.py"), "").unwrap();
        let run = reporting_python_modules(|_inv: Invocation<'_>| Ok(()));
        let mut reads = Vec::new();
        let mut log = Vec::new();
        run(Invocation {
            image: "cohortextractor",
            tag: "latest",
            args: &[],
            project_dir: dir.path(),
            log: &mut log,
            reads: &mut reads,
        })
        .unwrap();
        assert_eq!(
            reads,
            [
                Path::new("analysis/codelists.py"),
                Path::new("analysis/study_definition.py")
            ]
        );
    }
}
