//! `cohortextractor:<tag> generate_cohort`: cohortextractor's flags, parsed into
//! [`cohort::cli::CohortOptions`].

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use cohort::cli::{CohortOptions, DummyData};
use cohort::output::OutputFormat;
use ehr::DataSource;
use pipeline::image::ImageError;

use super::ImageCommand;

/// Extracts the cohorts of the study definitions in `analysis/`: one file per study
/// definition and index date.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// The study definition to run: NAME for analysis/NAME.yaml, or `all` (the default).
    #[arg(long, value_name = "NAME")]
    pub study_definition: Option<String>,
    /// Index dates: "DATE", "DATE to DATE" (monthly) or "DATE to DATE by week|month"; a DATE is
    /// YYYY-MM-DD or `today`. Default: the study's `index_date`.
    #[arg(long, value_name = "RANGE")]
    pub index_date_range: Option<String>,
    /// The folder of the outputs (default: output).
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// The format of the outputs: csv (default), csv.gz, parquet, arrow or feather.
    #[arg(long, value_name = "FORMAT")]
    pub output_format: Option<OutputFormat>,
    /// The outputs' folder, name and format in one (e.g. output/cohort.parquet) instead of
    /// input[_SUFFIX]_DATE.csv; needs a single study definition.
    #[arg(long, value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// Keep the file of an index date when it exists.
    #[arg(long)]
    pub skip_existing: bool,
    /// Dummy data of N patients (the runner passes the project's population_size when no
    /// database is configured).
    #[arg(long, value_name = "N")]
    pub expectations_population: Option<usize>,
    /// How dummy data is made.
    #[arg(long, value_name = "MODE", value_enum, default_value_t = DummyDataArg::Synthetic)]
    pub dummy_data: DummyDataArg,
    /// Copy FILE (checked against the study's columns) as the output of every index date.
    #[arg(long, value_name = "FILE")]
    pub dummy_data_file: Option<PathBuf>,
    /// The tables: a folder (file://PATH or a path) of patients, practice_registrations and
    /// clinical_events. Default: the DATABASE_URL environment variable.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// The seed of dummy data.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Parameters for the study definition, KEY=VALUE (accepted; YAML study definitions use
    /// none).
    // Every word of every `--param`, flattened; `images::params` groups them by occurrence.
    #[arg(long, value_name = "KEY=VALUE", num_args = 1.., action = clap::ArgAction::Append)]
    pub param: Vec<String>,
    /// About the memory a folder source's tables may take at once (e.g. 2GB, 500MB): they are
    /// read in that many patient partitions. Default: a quarter of the available memory, at
    /// most 1GB.
    #[arg(long, value_name = "SIZE", value_parser = cohort::cli::parse_memory_budget)]
    pub memory_budget: Option<u64>,
    /// Accepted for compatibility with cohortextractor; unused.
    #[arg(long, value_name = "NAME")]
    pub temp_database_name: Option<String>,
    /// Accepted for compatibility with cohortextractor (ignored there too).
    #[arg(long)]
    pub with_end_date_fix: bool,
}

/// `--dummy-data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DummyDataArg {
    /// A seeded synthetic EHR queried like a database, so every column agrees with every other.
    Synthetic,
    /// cohortextractor's sampling of each column from `return_expectations`.
    Expectations,
}

impl ImageCommand for Args {
    const NAME: &'static str = "generate_cohort";
    type Options = CohortOptions;

    fn options(self, matches: &ArgMatches) -> Result<CohortOptions, ImageError> {
        Ok(CohortOptions {
            study_definition: self.study_definition,
            index_date_range: self.index_date_range,
            output_dir: self.output_dir,
            output_format: self.output_format,
            output_file: self.output_file,
            skip_existing: self.skip_existing,
            expectations_population: self.expectations_population,
            dummy_data: match self.dummy_data {
                DummyDataArg::Synthetic => DummyData::Synthetic,
                DummyDataArg::Expectations => DummyData::Expectations,
            },
            dummy_data_file: self.dummy_data_file,
            database_url: self.database_url,
            seed: self.seed,
            params: super::params(Self::NAME, matches)?,
            memory_budget: self.memory_budget,
        })
    }

    /// Runs with the tables of `--database-url`, else of `DATABASE_URL`.
    fn run(
        mut options: CohortOptions,
        project_dir: &Path,
        log: &mut dyn Write,
        _reads: &mut Vec<PathBuf>,
    ) -> Result<(), ImageError> {
        options.database_url = DataSource::url_from_flag_or_env(options.database_url.as_deref());
        Ok(cohort::cli::generate_cohort(&options, project_dir, log)?)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{assert_help_lists, options_of};
    use super::*;

    #[test]
    fn the_study_run_line_with_the_runner_additions() {
        // As the runner runs the study: its own --output-dir and --expectations-population
        // after the action's, `=` and space forms mixed; argparse keeps the last value.
        let a = options_of::<Args>(&[
            "--study-definition",
            "study_definition",
            "--index-date-range",
            "2019-01-01 to 2021-01-01 by month",
            "--output-dir=output/measures",
            "--expectations-population=10000",
            "--output-dir=output/final",
        ])
        .unwrap();
        assert_eq!(a.study_definition.as_deref(), Some("study_definition"));
        assert_eq!(
            a.index_date_range.as_deref(),
            Some("2019-01-01 to 2021-01-01 by month")
        );
        assert_eq!(
            a.output_dir,
            Some(PathBuf::from("output/final")),
            "last wins"
        );
        assert_eq!(a.expectations_population, Some(10_000));
        assert_eq!(a.dummy_data, DummyData::Synthetic);
        assert_eq!(options_of::<Args>(&[]).unwrap(), CohortOptions::default());
    }

    #[test]
    fn other_flags_prefixes_and_params() {
        let a = options_of::<Args>(&[
            "--output-format",
            "feather",
            "--skip",
            "--dummy-data=expectations",
            "--seed",
            "9",
            "--param",
            "a=1",
            "--param",
            "b",
            "=",
            "2",
            "--database-url",
            "file://x",
            "--temp-database-name",
            "t",
            "--with-end-date-fix",
            "--study=study_definition_x",
            "--memory-budget",
            "500MB",
        ])
        .unwrap();
        assert_eq!(a.memory_budget, Some(500 << 20));
        assert_eq!(a.output_format, Some(OutputFormat::Feather));
        assert!(
            a.skip_existing,
            "--skip is a unique prefix of --skip-existing"
        );
        assert_eq!(a.dummy_data, DummyData::Expectations);
        assert_eq!(a.seed, Some(9));
        assert_eq!(
            a.params,
            [("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert_eq!(a.database_url.as_deref(), Some("file://x"));
        assert_eq!(a.study_definition.as_deref(), Some("study_definition_x"));
    }

    #[test]
    fn bad_arguments_say_what_and_how() {
        for (args, want) in [
            (
                &["--nope"][..],
                "generate_cohort: unexpected argument '--nope' found",
            ),
            (
                &["--output-dir"][..],
                "a value is required for '--output-dir <DIR>'",
            ),
            (
                &["--expectations-population", "ten"][..],
                "invalid value 'ten' for '--expectations-population <N>'",
            ),
            (
                &["--dummy-data=random"][..],
                "invalid value 'random' for '--dummy-data",
            ),
            (
                &["--output-format", "dta"][..],
                "unknown output format `dta` (expected csv, csv.gz, parquet, arrow or feather)",
            ),
            (
                &["--skip-existing=yes"][..],
                "unexpected value 'yes' for '--skip-existing'",
            ),
            (&["stray"][..], "unexpected argument 'stray' found"),
            (
                &["--param", "novalue"][..],
                "--param expects KEY=VALUE, got `novalue`",
            ),
            (&["--output=x"][..], "unexpected argument '--output' found"),
            (
                &["--memory-budget", "2parsecs"][..],
                "invalid value '2parsecs' for '--memory-budget <SIZE>': --memory-budget `2parsecs`: unknown unit `parsecs`",
            ),
            (
                &["--memory-budget=0"][..],
                "expected a positive size such as 2GB or 500MB",
            ),
        ] {
            let e = options_of::<Args>(args).unwrap_err();
            assert!(e.contains(want), "{args:?}: {e}");
            assert!(e.starts_with("generate_cohort: "), "{args:?}: {e}");
        }
        let e = options_of::<Args>(&["--nope"]).unwrap_err();
        assert!(e.contains("Usage: generate_cohort [OPTIONS]"), "{e}");
    }

    #[test]
    fn help_lists_every_flag() {
        assert_help_lists::<Args>(&[
            "Extracts the cohorts",
            "--study-definition <NAME>",
            "--index-date-range <RANGE>",
            "--output-dir <DIR>",
            "--output-format <FORMAT>",
            "--output-file <FILE>",
            "--skip-existing",
            "--expectations-population <N>",
            "--dummy-data <MODE>",
            "--dummy-data-file <FILE>",
            "--database-url <URL>",
            "--seed <N>",
            "--param <KEY=VALUE>...",
            "--memory-budget <SIZE>",
        ]);
    }
}
