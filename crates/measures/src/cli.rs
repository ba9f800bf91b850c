//! The `generate_measures` command line, as cohortextractor takes it, and the glue from
//! `analysis/study_definition*.yaml` to [`MeasureSpec`]s.

use std::io::Write;
use std::path::{Path, PathBuf};

use cohort::study::{GroupBy as StudyGroupBy, MeasureDef, StudyDefinition};
use files::study::StudyLanguage;

use crate::error::MeasuresError;
use crate::run::{generate_measures_with, Options};
use crate::spec::{Disclosure, GroupBy, MeasureSpec};

/// Parsed `generate_measures` arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    /// `--study-definition NAME`; `None` (or `all`) means every `analysis/study_definition*.yaml`.
    pub study_definition: Option<String>,
    /// `--output-dir DIR` (last wins), default `output`.
    pub output_dir: PathBuf,
    /// `--skip-existing`.
    pub skip_existing: bool,
    /// `--param K=V` values (accepted for compatibility; YAML study definitions take none).
    pub params: Vec<String>,
    /// `--disclosure-control=cohortextractor|opensafely|none`, overriding each measure's own.
    pub disclosure: Option<Disclosure>,
    /// `--long-output FILE`: also write the ehrQL-style long table.
    pub long_output: Option<PathBuf>,
}

const USAGE: &str = "usage: generate_measures [--study-definition NAME] [--output-dir DIR] \
[--skip-existing] [--param K=V ...] [--disclosure-control cohortextractor|opensafely|none] \
[--long-output FILE]";

/// Parses the arguments after `generate_measures` (`--flag value` and `--flag=value`).
pub fn parse_args(args: &[String]) -> Result<Args, MeasuresError> {
    let usage = |msg: String| MeasuresError::Usage(format!("{msg}\n{USAGE}"));
    let mut out = Args {
        study_definition: None,
        output_dir: PathBuf::from("output"),
        skip_existing: false,
        params: Vec::new(),
        disclosure: None,
        long_output: None,
    };
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let value = |i: &mut usize| -> Result<String, MeasuresError> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            match args.get(*i) {
                Some(v) if !v.starts_with("--") => {
                    *i += 1;
                    Ok(v.clone())
                }
                _ => Err(usage(format!("{flag} expects a value"))),
            }
        };
        match flag {
            "--study-definition" => {
                let name = value(&mut i)?;
                out.study_definition = (name != "all").then_some(name);
            }
            "--output-dir" => out.output_dir = PathBuf::from(value(&mut i)?),
            "--skip-existing" if inline.is_none() => out.skip_existing = true,
            "--param" => {
                // argparse nargs="+": one or more words, joined.
                let mut words = Vec::new();
                if let Some(v) = inline.clone() {
                    words.push(v);
                }
                while let Some(w) = args.get(i).filter(|w| !w.starts_with("--")) {
                    words.push(w.clone());
                    i += 1;
                }
                if words.is_empty() {
                    return Err(usage("--param expects KEY=VALUE".into()));
                }
                out.params.push(words.join(""));
            }
            "--disclosure-control" => {
                out.disclosure = Some(value(&mut i)?.parse().map_err(usage)?);
            }
            "--long-output" => out.long_output = Some(PathBuf::from(value(&mut i)?)),
            other => return Err(usage(format!("unrecognized argument '{other}'"))),
        }
    }
    Ok(out)
}

/// A study definition's measure as a [`MeasureSpec`].
pub fn spec_from_def(def: &MeasureDef) -> MeasureSpec {
    MeasureSpec {
        id: def.id.clone(),
        numerator: def.numerator.clone(),
        denominator: def.denominator.clone(),
        group_by: match &def.group_by {
            StudyGroupBy::Variables(v) if !v.is_empty() => GroupBy::Variables(v.clone()),
            _ => GroupBy::Total,
        },
        disclosure: if def.small_number_suppression {
            Disclosure::Cohortextractor
        } else {
            Disclosure::None
        },
    }
}

/// Loads the measures of a study definition file.
pub fn load_measures(path: &Path) -> Result<Vec<MeasureSpec>, MeasuresError> {
    let study = StudyDefinition::load(path).map_err(|e| MeasuresError::StudyDefinition {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(study.measures.iter().map(spec_from_def).collect())
}

/// The runner's entry point: `generate_measures` with cohortextractor's flags (`args` is what
/// follows `generate_measures` on the run line), relative paths resolved against
/// `project_dir`.
pub fn generate_measures(
    args: &[String],
    project_dir: &Path,
    log: &mut dyn Write,
) -> Result<(), MeasuresError> {
    let args = parse_args(args)?;
    let log_io = |e: std::io::Error| MeasuresError::io("<log>", e);
    if !args.params.is_empty() {
        writeln!(
            log,
            "Ignoring --param {} (YAML study definitions take no parameters)",
            args.params.join(" ")
        )
        .map_err(log_io)?;
    }
    let definitions = files::study::select(
        &project_dir.join("analysis"),
        args.study_definition.as_deref(),
        StudyLanguage::Yaml,
    )
    .map_err(|e| MeasuresError::Usage(e.to_string()))?;
    // Load every definition before writing anything.
    let mut loaded = Vec::new();
    for definition in definitions {
        let specs = load_measures(&definition.path)?;
        loaded.push((definition, specs));
    }
    for (definition, specs) in loaded {
        let path = &definition.path;
        if specs.is_empty() {
            writeln!(log, "{}: no measures", path.display()).map_err(log_io)?;
            continue;
        }
        let suffix = definition.suffix().to_string();
        let opts = Options {
            output_dir: project_dir.join(&args.output_dir),
            suffix,
            skip_existing: args.skip_existing,
            disclosure: args.disclosure,
            long_output: args.long_output.as_ref().map(|p| project_dir.join(p)),
        };
        writeln!(log, "Generating measures of {}", path.display()).map_err(log_io)?;
        generate_measures_with(&specs, &opts, log)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_cohortextractor_flags() {
        let a = parse_args(&args(&[
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
            "--long-output",
            "output/long.csv",
        ]))
        .unwrap();
        assert_eq!(a.study_definition.as_deref(), Some("study_definition"));
        assert_eq!(a.output_dir, PathBuf::from("out2"));
        assert!(a.skip_existing);
        assert_eq!(a.params, ["a=1", "b=2"]);
        assert_eq!(a.disclosure, Some(Disclosure::OpenSafely));
        assert_eq!(a.long_output, Some(PathBuf::from("output/long.csv")));

        let d = parse_args(&[]).unwrap();
        assert_eq!(d.output_dir, PathBuf::from("output"));
        assert_eq!(d.study_definition, None);
        assert_eq!(
            parse_args(&args(&["--study-definition=all"]))
                .unwrap()
                .study_definition,
            None
        );
    }

    #[test]
    fn rejects_bad_flags() {
        for bad in [
            &["--output-format", "csv"][..],
            &["--output-dir"],
            &["--param"],
            &["--disclosure-control", "strict"],
            &["extra"],
        ] {
            let err = parse_args(&args(bad)).unwrap_err();
            assert!(matches!(err, MeasuresError::Usage(_)), "{bad:?}: {err}");
        }
    }
}
