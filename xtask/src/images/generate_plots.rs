//! `plots:<tag> generate_plots`, parsed into [`plots::PlotsOptions`].

use std::io::Write;
use std::path::{Path, PathBuf};

use pipeline::image::ImageError;
use plots::PlotsOptions;

/// Draws the study's four JPEG charts from its measure files.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// The folder of the measure_*.csv files.
    #[arg(long, value_name = "DIR", default_value_os_t = PlotsOptions::default().measures_dir)]
    pub measures_dir: PathBuf,
    /// The folder the JPEGs are written to (created if needed).
    #[arg(long, value_name = "DIR", default_value_os_t = PlotsOptions::default().output_dir)]
    pub output_dir: PathBuf,
}

impl From<Args> for PlotsOptions {
    fn from(args: Args) -> Self {
        PlotsOptions {
            measures_dir: args.measures_dir,
            output_dir: args.output_dir,
        }
    }
}

/// The image's entry point: parses `args`, runs.
pub fn run(args: &[String], project_dir: &Path, log: &mut dyn Write) -> Result<(), ImageError> {
    let Some((parsed, _)) = super::parse::<Args>("generate_plots", args, log)? else {
        return Ok(());
    };
    Ok(plots::generate_plots(&parsed.into(), project_dir, log)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<PlotsOptions, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (parsed, _) = super::super::parse::<Args>("generate_plots", &args, &mut Vec::new())
            .map_err(|e| e.to_string())?
            .expect("not --help");
        Ok(parsed.into())
    }

    #[test]
    fn parses_both_flag_forms_and_defaults() {
        let a = parse(&["--measures-dir", "m", "--output-dir=f", "--output-dir", "g"]).unwrap();
        assert_eq!(a.measures_dir, PathBuf::from("m"));
        assert_eq!(a.output_dir, PathBuf::from("g"));
        assert_eq!(
            parse(&["--measures=m"]).unwrap().measures_dir,
            PathBuf::from("m")
        );
        assert_eq!(parse(&[]).unwrap(), PlotsOptions::default());
    }

    #[test]
    fn rejects_unknown_and_valueless_flags() {
        let e = parse(&["--bogus"]).unwrap_err();
        assert!(
            e.starts_with("generate_plots: unexpected argument '--bogus' found"),
            "{e}"
        );
        let e = parse(&["--output-dir"]).unwrap_err();
        assert!(
            e.contains("a value is required for '--output-dir <DIR>'"),
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
            "--output-dir <DIR>",
            "[default: output/figures]",
        ] {
            assert!(help.contains(flag), "{flag} missing from:\n{help}");
        }
    }
}
