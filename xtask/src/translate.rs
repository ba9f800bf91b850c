//! `cargo xtask translate analysis/study_definition.py`: writes the equivalent YAML study
//! definition (loops unrolled, codelists referenced by file), a migration path from
//! cohortextractor's Python to this project's YAML.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `translate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Python study definition (`analysis/NAME.py` of a study folder).
    pub study_definition: PathBuf,
    /// Where to write the YAML (default: the same name with `.yaml`, next to it).
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// `KEY=VALUE`: `cohortextractor.params` while the study runs (repeatable).
    #[arg(long = "param", value_parser = parse_param)]
    pub params: Vec<(String, String)>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `KEY=VALUE` split at the first `=` (`KEY` alone is an empty value, as in cohortextractor).
fn parse_param(s: &str) -> Result<(String, String), String> {
    let (k, v) = s.split_once('=').unwrap_or((s, ""));
    if k.is_empty() {
        return Err(format!("`{s}`: expected KEY=VALUE"));
    }
    Ok((k.to_string(), v.to_string()))
}

/// Translates `args.study_definition`: the YAML text and where it was written, or every
/// problem found (nothing is written then).
pub fn translate(args: &Args) -> Result<PathBuf, Vec<String>> {
    let path = &args.study_definition;
    if path.extension().is_none_or(|e| e != "py") {
        return Err(vec![format!(
            "{}: not a Python study definition (analysis/NAME.py)",
            path.display()
        )]);
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| path.with_extension("yaml"));
    if output.exists() && !args.force {
        return Err(vec![format!(
            "{} exists; give --force to replace it",
            output.display()
        )]);
    }
    let text = cohort::pyfront::translate(path, &args.params).map_err(|e| {
        e.problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    })?;
    write(&output, &text)?;
    Ok(output)
}

fn write(output: &Path, text: &str) -> Result<(), Vec<String>> {
    files::atomic::write_atomic(output, text.as_bytes())
        .map_err(|e| vec![format!("cannot write {}: {e}", output.display())])
}

/// Runs `translate`.
pub fn run(args: &Args) -> ExitCode {
    match translate(args) {
        Ok(output) => {
            println!("wrote {}", output.display());
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in problems {
                eprintln!("{p}");
            }
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn study() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("analysis")).unwrap();
        std::fs::create_dir_all(dir.path().join("codelists")).unwrap();
        std::fs::write(
            dir.path().join("codelists/flu.csv"),
            "code,term\nA1,a\nB2,b\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("analysis/study_definition.py"),
            "from cohortextractor import StudyDefinition, codelist_from_csv, patients, params\n\
             flu = codelist_from_csv('codelists/flu.csv', system='ctv3', column='code')\n\
             study = StudyDefinition(\n    index_date=params['date'],\n    population=patients.registered_as_of('index_date'),\n\
             \x20   **{'flu_%d' % y: patients.with_these_clinical_events(flu, on_or_after='index_date - %d years' % y) for y in (1, 2)},\n)\n",
        )
        .unwrap();
        dir
    }

    fn args(dir: &Path, params: &[(&str, &str)]) -> Args {
        Args {
            study_definition: dir.join("analysis/study_definition.py"),
            output: None,
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            force: false,
        }
    }

    #[test]
    fn writes_the_yaml_with_loops_unrolled_and_codelists_by_file() {
        let dir = study();
        let out = translate(&args(dir.path(), &[("date", "2020-01-01")])).unwrap();
        assert_eq!(out, dir.path().join("analysis/study_definition.yaml"));
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains("index_date: 2020-01-01\n"), "{text}");
        assert!(
            text.contains("flu: {csv: codelists/flu.csv, system: ctv3, column: code}\n"),
            "{text}"
        );
        assert!(
            text.contains("  flu_1:\n") && text.contains("  flu_2:\n"),
            "{text}"
        );
        assert!(text.contains("on_or_after: index_date - 2 years"), "{text}");
        // It is a valid study definition of its own, and it is not replaced without --force.
        assert_eq!(crate::study_check::check_study_definition(&out), Ok(()));
        let again = translate(&args(dir.path(), &[("date", "2020-01-01")])).unwrap_err();
        assert!(again[0].contains("--force"), "{again:?}");
    }

    #[test]
    fn a_failing_study_writes_nothing() {
        let dir = study();
        let problems = translate(&args(dir.path(), &[])).unwrap_err();
        let text = problems.join("\n");
        assert!(text.contains("study_definition.py:4: "), "{text}");
        assert!(text.contains("MissingParameterError"), "{text}");
        assert!(!dir.path().join("analysis/study_definition.yaml").exists());
    }
}
