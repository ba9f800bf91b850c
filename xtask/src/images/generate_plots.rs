//! `plots:<tag> generate_plots`, parsed into [`plots::PlotsOptions`].

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use pipeline::image::ImageError;
use plots::PlotsOptions;

use super::ImageCommand;

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

impl ImageCommand for Args {
    const NAME: &'static str = "generate_plots";
    type Options = PlotsOptions;

    fn options(self, _: &ArgMatches) -> Result<PlotsOptions, ImageError> {
        Ok(PlotsOptions {
            measures_dir: self.measures_dir,
            output_dir: self.output_dir,
        })
    }

    fn run(
        options: PlotsOptions,
        project_dir: &Path,
        log: &mut dyn Write,
    ) -> Result<(), ImageError> {
        Ok(plots::generate_plots(&options, project_dir, log)?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_help_lists, options_of};
    use super::*;

    #[test]
    fn parses_both_flag_forms_and_defaults() {
        let a = options_of::<Args>(&["--measures-dir", "m", "--output-dir=f", "--output-dir", "g"])
            .unwrap();
        assert_eq!(a.measures_dir, PathBuf::from("m"));
        assert_eq!(a.output_dir, PathBuf::from("g"));
        assert_eq!(
            options_of::<Args>(&["--measures=m"]).unwrap().measures_dir,
            PathBuf::from("m")
        );
        assert_eq!(options_of::<Args>(&[]).unwrap(), PlotsOptions::default());
    }

    #[test]
    fn rejects_unknown_and_valueless_flags() {
        let e = options_of::<Args>(&["--bogus"]).unwrap_err();
        assert!(
            e.starts_with("generate_plots: unexpected argument '--bogus' found"),
            "{e}"
        );
        let e = options_of::<Args>(&["--output-dir"]).unwrap_err();
        assert!(
            e.contains("a value is required for '--output-dir <DIR>'"),
            "{e}"
        );
    }

    #[test]
    fn help_lists_every_flag() {
        assert_help_lists::<Args>(&[
            "--measures-dir <DIR>",
            "--output-dir <DIR>",
            "[default: output/figures]",
        ]);
    }
}
