//! `report:<tag> generate_report`, parsed into [`report::ReportOptions`].

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use pipeline::image::ImageError;
use report::ReportOptions;

use super::ImageCommand;

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

impl ImageCommand for Args {
    const NAME: &'static str = "generate_report";
    type Options = ReportOptions;

    fn options(self, _: &ArgMatches) -> Result<ReportOptions, ImageError> {
        Ok(ReportOptions {
            measures_dir: self.measures_dir,
            codelist: self.codelist,
            output: self.output,
        })
    }

    fn run(
        options: ReportOptions,
        project_dir: &Path,
        log: &mut dyn Write,
    ) -> Result<(), ImageError> {
        Ok(report::generate_report(&options, project_dir, log)?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_help_lists, options_of};
    use super::*;

    #[test]
    fn parses_flags_and_defaults() {
        let a = options_of::<Args>(&[
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
        assert_eq!(options_of::<Args>(&[]).unwrap(), ReportOptions::default());
        let e = options_of::<Args>(&["--nope"]).unwrap_err();
        assert!(
            e.starts_with("generate_report: unexpected argument '--nope' found"),
            "{e}"
        );
        let e = options_of::<Args>(&["--codelist"]).unwrap_err();
        assert!(
            e.contains("a value is required for '--codelist <FILE>'"),
            "{e}"
        );
    }

    #[test]
    fn help_lists_every_flag() {
        assert_help_lists::<Args>(&[
            "--measures-dir <DIR>",
            "--codelist <FILE>",
            "--output <FILE>",
        ]);
    }
}
