//! The in-process images of this project, by name. Each library crate exposes entry points
//! that take only std types; they are registered here.
//!
//! | image | command | entry point |
//! |---|---|---|
//! | `cohortextractor:<tag>` | `generate_cohort …` | [`cohort::cli::generate_cohort`] |
//! | `cohortextractor:<tag>` | `generate_measures …` | [`measures::cli::generate_measures`] |
//! | `plots:<tag>` | `generate_plots …` | [`plots::cli::generate_plots`] |
//! | `report:<tag>` | `generate_report …` | [`report::cli::generate_report`] |

use std::io::Write;
use std::path::Path;

use pipeline::image::{ImageError, ImageRegistry, Invocation};

/// An entry point of a library crate: arguments after the command name, the project folder,
/// and the log.
type EntryPoint = fn(&[String], &Path, &mut dyn Write) -> Result<(), ImageError>;

/// Every image this project runs in-process.
pub fn registry() -> ImageRegistry {
    let mut registry = ImageRegistry::new();
    registry.register(
        "cohortextractor",
        commands(&[
            ("generate_cohort", |args, dir, log| {
                Ok(cohort::cli::generate_cohort(args, dir, log)?)
            }),
            ("generate_measures", |args, dir, log| {
                Ok(measures::cli::generate_measures(args, dir, log)?)
            }),
        ]),
    );
    registry.register(
        "plots",
        commands(&[("generate_plots", |args, dir, log| {
            Ok(plots::cli::generate_plots(args, dir, log)?)
        })]),
    );
    registry.register(
        "report",
        commands(&[("generate_report", |args, dir, log| {
            Ok(report::cli::generate_report(args, dir, log)?)
        })]),
    );
    registry
}

/// An image whose first argument names one of `commands`.
fn commands(
    commands: &'static [(&'static str, EntryPoint)],
) -> impl Fn(Invocation<'_>) -> Result<(), ImageError> + Send + Sync {
    move |inv: Invocation<'_>| {
        let Some((name, rest)) = inv.args.split_first() else {
            return Err(usage(inv.image, inv.tag, commands, "no command given"));
        };
        match commands.iter().find(|(command, _)| command == name) {
            Some((_, run)) => run(rest, inv.project_dir, inv.log),
            None => Err(usage(
                inv.image,
                inv.tag,
                commands,
                &format!("unknown command `{name}`"),
            )),
        }
    }
}

fn usage(image: &str, tag: &str, commands: &[(&str, EntryPoint)], problem: &str) -> ImageError {
    let known: Vec<&str> = commands.iter().map(|(name, _)| *name).collect();
    format!(
        "{image}:{tag}: {problem}; the commands of this image are: {}",
        known.join(", ")
    )
    .into()
}
