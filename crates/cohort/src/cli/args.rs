//! `generate_cohort` command-line arguments (cohortextractor's flags).

use std::path::PathBuf;

use crate::output::OutputFormat;

/// How dummy data is made in `--expectations-population` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DummyData {
    /// A synthetic EHR of N patients, queried like a database (the default).
    Synthetic,
    /// cohortextractor's expectations framework.
    Expectations,
}

/// Parsed `generate_cohort` arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct Args {
    /// `--study-definition NAME` (`None` or `all` = every study definition in `analysis/`).
    pub study_definition: Option<String>,
    pub index_date_range: Option<String>,
    /// The last `--output-dir` given.
    pub output_dir: Option<PathBuf>,
    pub output_format: Option<OutputFormat>,
    pub output_file: Option<PathBuf>,
    pub skip_existing: bool,
    pub expectations_population: Option<usize>,
    pub dummy_data: DummyData,
    pub dummy_data_file: Option<PathBuf>,
    pub database_url: Option<String>,
    pub seed: Option<u64>,
    /// `--param KEY=VALUE` pairs (accepted for compatibility; study definitions do not use
    /// them).
    pub params: Vec<(String, String)>,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            study_definition: None,
            index_date_range: None,
            output_dir: None,
            output_format: None,
            output_file: None,
            skip_existing: false,
            expectations_population: None,
            dummy_data: DummyData::Synthetic,
            dummy_data_file: None,
            database_url: None,
            seed: None,
            params: Vec::new(),
        }
    }
}

/// Flags that take a value.
const VALUE_FLAGS: [&str; 11] = [
    "--study-definition",
    "--index-date-range",
    "--output-dir",
    "--output-format",
    "--output-file",
    "--expectations-population",
    "--dummy-data",
    "--dummy-data-file",
    "--database-url",
    "--seed",
    "--temp-database-name",
];

/// Flags without a value.
const SWITCHES: [&str; 2] = ["--skip-existing", "--with-end-date-fix"];

impl Args {
    /// Parses the arguments after `generate_cohort` (`--flag value` or `--flag=value`).
    pub fn parse(args: &[String]) -> Result<Args, String> {
        let mut out = Args::default();
        let mut i = 0;
        while i < args.len() {
            let arg = &args[i];
            i += 1;
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
                _ => (arg.as_str(), None),
            };
            if SWITCHES.contains(&flag) {
                if inline.is_some() {
                    return Err(format!("{flag} takes no value"));
                }
                if flag == "--skip-existing" {
                    out.skip_existing = true;
                }
                continue;
            }
            if flag == "--param" {
                // nargs="+": every following argument up to the next flag; parts are joined
                // and split at the first `=`.
                let mut parts: Vec<String> = inline.into_iter().collect();
                while i < args.len() && !args[i].starts_with("--") {
                    parts.push(args[i].clone());
                    i += 1;
                }
                let joined = parts.join("");
                let (k, v) = joined
                    .split_once('=')
                    .ok_or_else(|| format!("--param expects KEY=VALUE, got `{joined}`"))?;
                out.params
                    .push((k.trim().to_string(), v.trim().to_string()));
                continue;
            }
            if !VALUE_FLAGS.contains(&flag) {
                return Err(if flag.starts_with('-') {
                    format!(
                        "unknown option `{flag}` (known: {}, {}, --param)",
                        VALUE_FLAGS.join(", "),
                        SWITCHES.join(", ")
                    )
                } else {
                    format!("unexpected argument `{arg}`")
                });
            }
            let value = match inline {
                Some(v) => v,
                None => {
                    let v = args
                        .get(i)
                        .filter(|v| !v.starts_with("--"))
                        .ok_or_else(|| format!("{flag} needs a value"))?;
                    i += 1;
                    v.clone()
                }
            };
            match flag {
                "--study-definition" => out.study_definition = Some(value),
                "--index-date-range" => out.index_date_range = Some(value),
                "--output-dir" => out.output_dir = Some(PathBuf::from(value)),
                "--output-format" => {
                    out.output_format =
                        Some(value.parse().map_err(|e| format!("--output-format: {e}"))?)
                }
                "--output-file" => out.output_file = Some(PathBuf::from(value)),
                "--expectations-population" => {
                    out.expectations_population = Some(value.trim().parse().map_err(|_| {
                        format!("--expectations-population: `{value}` is not a whole number")
                    })?)
                }
                "--dummy-data" => {
                    out.dummy_data = match value.as_str() {
                        "synthetic" => DummyData::Synthetic,
                        "expectations" => DummyData::Expectations,
                        other => {
                            return Err(format!(
                        "--dummy-data: unknown mode `{other}` (expected synthetic or expectations)"
                    ))
                        }
                    }
                }
                "--dummy-data-file" => out.dummy_data_file = Some(PathBuf::from(value)),
                "--database-url" => out.database_url = Some(value),
                "--seed" => {
                    out.seed = Some(
                        value
                            .trim()
                            .parse()
                            .map_err(|_| format!("--seed: `{value}` is not a whole number"))?,
                    )
                }
                _ => {} // --temp-database-name: accepted, unused
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_study_run_line_with_the_runner_additions() {
        let a = parse(&[
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
    }

    #[test]
    fn other_flags() {
        let a = parse(&[
            "--output-format",
            "feather",
            "--skip-existing",
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
        ])
        .unwrap();
        assert_eq!(a.output_format, Some(OutputFormat::Arrow));
        assert!(a.skip_existing);
        assert_eq!(a.dummy_data, DummyData::Expectations);
        assert_eq!(a.seed, Some(9));
        assert_eq!(
            a.params,
            [("a".into(), "1".into()), ("b".into(), "2".into())]
        );
        assert_eq!(a.database_url.as_deref(), Some("file://x"));
    }

    #[test]
    fn bad_arguments() {
        for (args, want) in [
            (&["--nope"][..], "unknown option `--nope`"),
            (&["--output-dir"][..], "--output-dir needs a value"),
            (
                &["--expectations-population", "ten"][..],
                "not a whole number",
            ),
            (&["--dummy-data=random"][..], "unknown mode `random`"),
            (&["--output-format", "dta"][..], "dta"),
            (&["--skip-existing=yes"][..], "takes no value"),
            (&["stray"][..], "unexpected argument `stray`"),
            (&["--param", "novalue"][..], "KEY=VALUE"),
        ] {
            let e = parse(args).unwrap_err();
            assert!(e.contains(want), "{args:?}: {e}");
        }
    }
}
