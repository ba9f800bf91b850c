//! `report:<tag> generate_report`, parsed into [`report::ReportOptions`].

use std::io::Write;
use std::path::{Path, PathBuf};

use pipeline::image::ImageError;
use report::ReportOptions;

/// Writes the study's self-contained HTML report from its measure files and codelist.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// The folder of the measure_*.csv files.
    #[arg(long, value_name = "DIR", default_value_os_t = ReportOptions::default().measures_dir)]
    pub measures_dir: PathBuf,
    /// The codelist CSV shown in the methods (columns code, term and optionally CTV3ID).
    #[arg(long, value_name = "FILE", default_value_os_t = ReportOptions::default().codelist)]
    pub codelist: PathBuf,
    /// The HTML file written.
    #[arg(long, value_name = "FILE", default_value_os_t = ReportOptions::default().output)]
    pub output: PathBuf,
}

impl From<Args> for ReportOptions {
    fn from(args: Args) -> Self {
        ReportOptions {
            measures_dir: args.measures_dir,
            codelist: args.codelist,
            output: args.output,
        }
    }
}

/// The image's entry point: parses `args`, runs.
pub fn run(args: &[String], project_dir: &Path, log: &mut dyn Write) -> Result<(), ImageError> {
    let Some((parsed, _)) = super::parse::<Args>("generate_report", args, log)? else {
        return Ok(());
    };
    Ok(report::generate_report(&parsed.into(), project_dir, log)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<ReportOptions, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (parsed, _) = super::super::parse::<Args>("generate_report", &args, &mut Vec::new())
            .map_err(|e| e.to_string())?
            .expect("not --help");
        Ok(parsed.into())
    }

    #[test]
    fn parses_flags_and_defaults() {
        let a = parse(&[
            "--measures-dir",
            "m",
            "--codelist=c.csv",
            "--output",
            "o.html",
        ])
        .unwrap();
        assert_eq!(
            a,
            ReportOptions {
                measures_dir: "m".into(),
                codelist: "c.csv".into(),
                output: "o.html".into()
            }
        );
        assert_eq!(parse(&[]).unwrap(), ReportOptions::default());
        let e = parse(&["--nope"]).unwrap_err();
        assert!(
            e.starts_with("generate_report: unexpected argument '--nope' found"),
            "{e}"
        );
        let e = parse(&["--codelist"]).unwrap_err();
        assert!(
            e.contains("a value is required for '--codelist <FILE>'"),
            "{e}"
        );
    }

    #[test]
    fn help_lists_every_flag() {
        let mut log = Vec::new();
        run(&["--help".to_string()], Path::new("."), &mut log).unwrap();
        let help = String::from_utf8(log).unwrap();
        for flag in [
            "--measures-dir <DIR>",
            "--codelist <FILE>",
            "--output <FILE>",
        ] {
            assert!(help.contains(flag), "{flag} missing from:\n{help}");
        }
    }
}
