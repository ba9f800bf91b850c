//! `report:<tag> generate_report`, parsed into [`report::ReportOptions`]; the study definition
//! is loaded here ([`super::study`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use pipeline::image::ImageError;
use report::ReportOptions;

use super::study::DEFAULT_STUDY_DEFINITION;
use super::ImageCommand;

/// Writes the study's self-contained HTML report: a section per measure of the study
/// definition, or per chart of the outputs file, and the methods with the study's codelists.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// The study definition whose measures to report: NAME for analysis/NAME.yaml.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_STUDY_DEFINITION)]
    pub study_definition: String,
    /// The folder of the measure_*.csv files.
    #[arg(long, value_name = "DIR", default_value_os_t = ReportOptions::default().measures_dir)]
    pub measures_dir: PathBuf,
    /// Show this codelist CSV instead of the study definition's codelists.
    #[arg(long, value_name = "FILE")]
    pub codelist: Option<PathBuf>,
    /// The HTML file written.
    #[arg(long, value_name = "FILE", default_value_os_t = ReportOptions::default().output)]
    pub output: PathBuf,
    /// The outputs file (title, texts, charts, …) [default: analysis/outputs.yaml when it
    /// exists].
    #[arg(long, value_name = "FILE")]
    pub outputs: Option<PathBuf>,
}

/// The options and the study definition's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The study definition.
    pub study_definition: String,
    /// The library's options.
    pub report: ReportOptions,
}

impl ImageCommand for Args {
    const NAME: &'static str = "generate_report";
    type Options = Options;

    fn options(self, _: &ArgMatches) -> Result<Options, ImageError> {
        Ok(Options {
            study_definition: self.study_definition,
            report: ReportOptions {
                measures_dir: self.measures_dir,
                output: self.output,
                outputs: self.outputs,
                codelist: self.codelist,
            },
        })
    }

    fn run(
        options: Options,
        project_dir: &Path,
        log: &mut dyn Write,
        reads: &mut Vec<PathBuf>,
    ) -> Result<(), ImageError> {
        let (study, read) = super::study::load(project_dir, &options.study_definition)?;
        reads.extend(read);
        let read = report::generate_report(&options.report, &study, project_dir, log)?;
        reads.extend(read);
        Ok(())
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
            "--outputs",
            "x.yaml",
        ])
        .unwrap();
        assert_eq!(
            a.report,
            ReportOptions {
                measures_dir: "m".into(),
                codelist: Some("c.csv".into()),
                output: "o.html".into(),
                outputs: Some("x.yaml".into()),
            }
        );
        assert_eq!(
            options_of::<Args>(&[]).unwrap().report,
            ReportOptions::default()
        );
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
            "--study-definition <NAME>",
            "--measures-dir <DIR>",
            "--codelist <FILE>",
            "--output <FILE>",
            "--outputs <FILE>",
        ]);
    }
}
