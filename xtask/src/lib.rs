//! `cargo xtask`: the project commands. Thin: parsing arguments and wiring library crates.

pub mod images;
pub mod study_check;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// Project commands for an OpenSAFELY-style study.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Lists the images that run in-process.
    Images,
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
    }
}
