//! `cargo xtask check` for the files an action names besides `project.yaml`: study
//! definitions (YAML, or Python run through the recording cohortextractor) and the codelists
//! they use, and the outputs file of the plots and report.

use std::path::Path;

use cohort::study::{Runtime, StudyDefinition};

/// Checks the YAML study definition at `path` (and the codelists it loads) as
/// `generate_cohort` would: every problem found, each naming the file, line and key.
pub fn check_study_definition(path: &Path) -> Result<(), Vec<String>> {
    check_study_definition_with_params(path, &[])
}

/// [`check_study_definition`] for a YAML or Python (`.py`, run with `params`) definition.
pub fn check_study_definition_with_params(
    path: &Path,
    params: &[(String, String)],
) -> Result<(), Vec<String>> {
    let study = StudyDefinition::load_with_params(path, params).map_err(|err| {
        err.problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    })?;
    let compiled = study.compile(&Runtime::check()).map_err(|err| {
        err.problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    })?;
    if let Some(index_date) = study.index_date {
        compiled
            .check_dates(index_date)
            .map_err(|err| vec![err.to_string()])?;
    }
    Ok(())
}

/// Checks the outputs file plots and report read (`--outputs FILE`, else
/// `analysis/outputs.yaml` when it exists) against the measures and codelists of the study
/// definition `name`, as those images would. A study definition that does not load is left to
/// [`check_study_definition`].
pub fn check_outputs(dir: &Path, name: &str, outputs: Option<&str>) -> Result<(), Vec<String>> {
    let Ok((study, _)) = crate::images::study::load(dir, name) else {
        return Ok(());
    };
    charts::plan_for(&study, dir, outputs.map(Path::new))
        .map(|_| ())
        .map_err(|e| e.0.iter().map(ToString::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outputs_file_of_this_repository_is_valid_and_a_bad_one_is_named() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        check_outputs(&root, "study_definition", None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for folder in ["analysis", "codelists"] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
            for entry in std::fs::read_dir(root.join(folder)).unwrap() {
                let entry = entry.unwrap();
                std::fs::copy(
                    entry.path(),
                    dir.path().join(folder).join(entry.file_name()),
                )
                .unwrap();
            }
        }
        let outputs = dir.path().join("analysis/outputs.yaml");
        let text = std::fs::read_to_string(&outputs).unwrap();
        std::fs::write(
            &outputs,
            text.replace("measure: pulse_ox_by_sex", "measure: pulse_ox_by_sx"),
        )
        .unwrap();
        let problems = check_outputs(dir.path(), "study_definition", None).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].starts_with("analysis/outputs.yaml:")
                && problems[0].contains("unknown measure `pulse_ox_by_sx`")
                && problems[0].ends_with("did you mean `pulse_ox_by_sex`?"),
            "{problems:?}"
        );
    }

    #[test]
    fn the_study_definition_of_this_repository_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../analysis/study_definition.yaml");
        assert_eq!(check_study_definition(&path), Ok(()));
    }

    #[test]
    fn problems_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("study_definition.yaml");
        std::fs::write(
            &path,
            "index_date: 2019-01-01\npopulation:\n  registered_as_of: index_date\nvariables:\n  age:\n    age_as_off: index_date\n",
        )
        .unwrap();
        let problems = check_study_definition(&path).unwrap_err();
        assert!(!problems.is_empty());
        let text = problems.join("\n");
        assert!(text.contains("study_definition.yaml:6"), "{text}");
        assert!(text.contains("age_as_off"), "{text}");
    }

    #[test]
    fn python_definitions_are_run_and_checked_at_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("analysis")).unwrap();
        let path = dir.path().join("analysis/study_definition.py");
        std::fs::write(
            &path,
            "from cohortextractor import StudyDefinition, patients, params\n\
             study = StudyDefinition(\n    index_date=params['start'],\n    population=patients.registered_as_of('index_date'),\n\
             \x20   age=patients.age_as_off('index_date'),\n)\n",
        )
        .unwrap();
        let start = [("start".to_string(), "2020-01-01".to_string())];
        let problems = check_study_definition_with_params(&path, &start).unwrap_err();
        let text = problems.join("\n");
        assert!(text.contains("study_definition.py:5: "), "{text}");
        assert!(text.contains("age_as_off"), "{text}");
        let problems = check_study_definition(&path).unwrap_err();
        assert!(
            problems[0].contains("MissingParameterError"),
            "{problems:?}"
        );
        std::fs::write(
            &path,
            std::fs::read_to_string(&path)
                .unwrap()
                .replace("age_as_off", "age_as_of"),
        )
        .unwrap();
        assert_eq!(check_study_definition_with_params(&path, &start), Ok(()));
    }
}
