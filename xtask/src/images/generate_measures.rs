//! `cohortextractor:<tag> generate_measures`: cohortextractor's flags and ours, parsed into
//! [`measures::cli::MeasuresOptions`].

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use measures::cli::MeasuresOptions;
use measures::Disclosure;
use pipeline::image::ImageError;

use super::ImageCommand;

/// Computes the measures of the study definitions in `analysis/` from their cohorts:
/// measure_ID_DATE.csv per index date and measure_ID.csv over all dates.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// The study definition whose measures to compute: NAME for analysis/NAME.yaml, or `all`
    /// (the default).
    #[arg(long, value_name = "NAME")]
    pub study_definition: Option<String>,
    /// The folder of the cohorts (input_*.csv …) and of the measure files.
    #[arg(long, value_name = "DIR", default_value_os_t = MeasuresOptions::default().output_dir)]
    pub output_dir: PathBuf,
    /// Reuse the per-date file of a measure when it exists.
    #[arg(long)]
    pub skip_existing: bool,
    /// Parameters for the study definition, KEY=VALUE (accepted; YAML study definitions use
    /// none).
    // Every word of every `--param`, flattened; `images::params` groups them by occurrence.
    #[arg(long, value_name = "KEY=VALUE", num_args = 1.., action = clap::ArgAction::Append)]
    pub param: Vec<String>,
    /// Small-number suppression for every measure, overriding each measure's own:
    /// cohortextractor, opensafely (values of 7 or less to 0, others rounded to 5) or none.
    #[arg(long, value_name = "RULE")]
    pub disclosure_control: Option<Disclosure>,
    /// Also write every measure in one ehrQL-style long table to FILE.
    #[arg(long, value_name = "FILE")]
    pub long_output: Option<PathBuf>,
}

impl ImageCommand for Args {
    const NAME: &'static str = "generate_measures";
    type Options = MeasuresOptions;

    fn options(self, matches: &ArgMatches) -> Result<MeasuresOptions, ImageError> {
        Ok(MeasuresOptions {
            study_definition: self.study_definition,
            output_dir: self.output_dir,
            skip_existing: self.skip_existing,
            params: super::params(Self::NAME, matches)?,
            disclosure: self.disclosure_control,
            long_output: self.long_output,
        })
    }

    fn run(
        options: MeasuresOptions,
        project_dir: &Path,
        log: &mut dyn Write,
        _reads: &mut Vec<PathBuf>,
    ) -> Result<(), ImageError> {
        Ok(measures::cli::generate_measures(
            &options,
            project_dir,
            log,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_help_lists, options_of};
    use super::*;

    #[test]
    fn parses_cohortextractor_flags_and_ours() {
        let a = options_of::<Args>(&[
            "--study-definition",
            "study_definition",
            "--output-dir=output/measures",
            "--skip-existing",
            "--param",
            "a=1",
            "--param",
            "b",
            "=",
            "2",
            "--output-dir",
            "out2",
            "--disclosure-control=opensafely",
            "--long",
            "output/long.csv",
        ])
        .unwrap();
        assert_eq!(a.study_definition.as_deref(), Some("study_definition"));
        assert_eq!(a.output_dir, PathBuf::from("out2"), "last wins");
        assert!(a.skip_existing);
        assert_eq!(
            a.params,
            [("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert_eq!(a.disclosure, Some(Disclosure::OpenSafely));
        assert_eq!(a.long_output, Some(PathBuf::from("output/long.csv")));
        assert_eq!(options_of::<Args>(&[]).unwrap(), MeasuresOptions::default());
    }

    #[test]
    fn rejects_bad_flags() {
        for (bad, want) in [
            (
                &["--output-format", "csv"][..],
                "unexpected argument '--output-format' found",
            ),
            (
                &["--output-dir"],
                "a value is required for '--output-dir <DIR>'",
            ),
            (
                &["--param"],
                "a value is required for '--param <KEY=VALUE>...'",
            ),
            (
                &["--disclosure-control", "strict"],
                "invalid value 'strict' for '--disclosure-control <RULE>'",
            ),
            (&["extra"], "unexpected argument 'extra' found"),
        ] {
            let e = options_of::<Args>(bad).unwrap_err();
            assert!(
                e.starts_with("generate_measures: ") && e.contains(want),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn help_lists_every_flag() {
        assert_help_lists::<Args>(&[
            "--study-definition <NAME>",
            "--output-dir <DIR>",
            "--skip-existing",
            "--param <KEY=VALUE>...",
            "--disclosure-control <RULE>",
            "--long-output <FILE>",
            "[default: output]",
        ]);
    }
}
