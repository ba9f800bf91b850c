//! `cargo xtask check` for the files an action names besides `project.yaml`: study
//! definitions (YAML, or Python run through the recording cohortextractor) and the codelists
//! they use.

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

#[cfg(test)]
mod tests {
    use super::*;

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
