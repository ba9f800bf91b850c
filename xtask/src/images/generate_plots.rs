//! `plots:<tag> generate_plots`, parsed into [`plots::PlotsOptions`]; the study definition is
//! loaded here ([`super::study`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use pipeline::image::ImageError;
use plots::PlotsOptions;

use super::study::DEFAULT_STUDY_DEFINITION;
use super::ImageCommand;

/// Draws one JPEG chart per measure of the study definition, or per chart of the outputs file.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// The study definition whose measures to draw: NAME for analysis/NAME.yaml.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_STUDY_DEFINITION)]
    pub study_definition: String,
    /// The folder of the measure_*.csv files.
    #[arg(long, value_name = "DIR", default_value_os_t = PlotsOptions::default().measures_dir)]
    pub measures_dir: PathBuf,
    /// The folder the JPEGs are written to (created if needed).
    #[arg(long, value_name = "DIR", default_value_os_t = PlotsOptions::default().output_dir)]
    pub output_dir: PathBuf,
    /// The outputs file (titles, files, groups, …) [default: analysis/outputs.yaml when it
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
    pub plots: PlotsOptions,
}

impl ImageCommand for Args {
    const NAME: &'static str = "generate_plots";
    type Options = Options;

    fn options(self, _: &ArgMatches) -> Result<Options, ImageError> {
        Ok(Options {
            study_definition: self.study_definition,
            plots: PlotsOptions {
                measures_dir: self.measures_dir,
                output_dir: self.output_dir,
                outputs: self.outputs,
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
        let outputs = plots::generate_plots(&options.plots, &study, project_dir, log)?;
        reads.extend(outputs);
        Ok(())
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
        assert_eq!(a.plots.measures_dir, PathBuf::from("m"));
        assert_eq!(a.plots.output_dir, PathBuf::from("g"));
        assert_eq!(a.study_definition, "study_definition");
        assert_eq!(
            options_of::<Args>(&["--measures=m"])
                .unwrap()
                .plots
                .measures_dir,
            PathBuf::from("m")
        );
        assert_eq!(
            options_of::<Args>(&[]).unwrap().plots,
            PlotsOptions::default()
        );
        let a = options_of::<Args>(&[
            "--outputs",
            "o.yaml",
            "--study-definition=study_definition_x",
        ])
        .unwrap();
        assert_eq!(a.plots.outputs, Some(PathBuf::from("o.yaml")));
        assert_eq!(a.study_definition, "study_definition_x");
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
            "--study-definition <NAME>",
            "--measures-dir <DIR>",
            "--output-dir <DIR>",
            "--outputs <FILE>",
            "[default: output/figures]",
        ]);
    }
}
