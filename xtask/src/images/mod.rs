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

pub mod generate_cohort;
pub mod generate_measures;
pub mod generate_plots;
pub mod generate_report;

use std::io::Write;
use std::path::Path;

use clap::error::ErrorKind;
use clap::{ArgMatches, ColorChoice, CommandFactory, FromArgMatches};
use pipeline::image::{ImageError, ImageRegistry, Invocation};

/// A command of an image: the arguments after the command name, the project folder, the log.
type EntryPoint = fn(&[String], &Path, &mut dyn Write) -> Result<(), ImageError>;

/// Every image this project runs in-process.
pub fn registry() -> ImageRegistry {
    let mut registry = ImageRegistry::new();
    registry.register(
        "cohortextractor",
        commands(&[
            ("generate_cohort", generate_cohort::run),
            ("generate_measures", generate_measures::run),
        ]),
    );
    registry.register(
        "plots",
        commands(&[("generate_plots", generate_plots::run)]),
    );
    registry.register(
        "report",
        commands(&[("generate_report", generate_report::run)]),
    );
    registry
}

/// Parses the arguments of `command` into `T` (and the matches, for what `T` cannot hold:
/// [`params`]), with the argparse behaviours above. `None` when the arguments asked for
/// `--help`, which is written to `log`.
pub fn parse<T: CommandFactory + FromArgMatches>(
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
            Some((_, run)) => run(rest, inv.project_dir, inv.log),
            None => Err(unknown(
                inv.image,
                inv.tag,
                commands,
                &format!("unknown command `{name}`"),
            )),
        }
    }
}

fn unknown(image: &str, tag: &str, commands: &[(&str, EntryPoint)], problem: &str) -> ImageError {
    let known: Vec<&str> = commands.iter().map(|(name, _)| *name).collect();
    format!(
        "{image}:{tag}: {problem}; the commands of this image are: {}",
        known.join(", ")
    )
    .into()
}
