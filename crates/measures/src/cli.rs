//! The `generate_measures` command, as cohortextractor runs it ([`MeasuresOptions`]), and the
//! glue from `analysis/study_definition*.yaml` (or `.py`) to [`MeasureSpec`]s.

use std::io::Write;
use std::path::{Path, PathBuf};

use cohort::study::{GroupBy as StudyGroupBy, MeasureDef, StudyDefinition};
use files::study::StudyLanguage;

use crate::error::MeasuresError;
use crate::run::{generate_measures_with, Options};
use crate::spec::{Disclosure, GroupBy, MeasureSpec};

/// The options of `generate_measures` (cohortextractor's flags and ours), typed; relative
/// paths are relative to the project folder. The driver parses argv into them
/// (`xtask/src/images/generate_measures.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasuresOptions {
    /// `--study-definition NAME`; `None` (or `all`) means every `analysis/study_definition*`
    /// (`NAME.yaml`, else `NAME.py`).
    pub study_definition: Option<String>,
    /// `--output-dir DIR`, default `output`.
    pub output_dir: PathBuf,
    /// `--skip-existing`.
    pub skip_existing: bool,
    /// `--param KEY=VALUE` pairs: `cohortextractor.params` of Python study definitions (YAML
    /// ones take none).
    pub params: Vec<(String, String)>,
    /// `--disclosure-control=cohortextractor|opensafely|none`, overriding each measure's own.
    pub disclosure: Option<Disclosure>,
    /// `--long-output FILE`: also write the ehrQL-style long table.
    pub long_output: Option<PathBuf>,
}

impl Default for MeasuresOptions {
    fn default() -> Self {
        MeasuresOptions {
            study_definition: None,
            output_dir: PathBuf::from("output"),
            skip_existing: false,
            params: Vec::new(),
            disclosure: None,
            long_output: None,
        }
    }
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
    load_measures_with_params(path, &[])
}

/// [`load_measures`], with the `--param`s a Python study definition is run with.
pub fn load_measures_with_params(
    path: &Path,
    params: &[(String, String)],
) -> Result<Vec<MeasureSpec>, MeasuresError> {
    let study = StudyDefinition::load_with_params(path, params).map_err(|e| {
        MeasuresError::StudyDefinition {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    })?;
    Ok(study.measures.iter().map(spec_from_def).collect())
}

/// The runner's entry point: `generate_measures` over the study definitions `options` select,
/// relative paths resolved against `project_dir`.
pub fn generate_measures(
    options: &MeasuresOptions,
    project_dir: &Path,
    log: &mut dyn Write,
) -> Result<(), MeasuresError> {
    let args = options;
    let log_io = |e: std::io::Error| MeasuresError::io("<log>", e);
    let definitions = files::study::select_any(
        &project_dir.join("analysis"),
        args.study_definition.as_deref(),
    )
    .map_err(|e| MeasuresError::Usage(e.to_string()))?;
    let any_yaml = definitions
        .iter()
        .any(|d| d.language == StudyLanguage::Yaml);
    if !args.params.is_empty() && any_yaml {
        writeln!(
            log,
            "Ignoring --param {} (YAML study definitions take no parameters)",
            args.params
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
        .map_err(log_io)?;
    }
    // Load every definition before writing anything.
    let mut loaded = Vec::new();
    for definition in definitions {
        let specs = load_measures_with_params(&definition.path, &args.params)?;
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
