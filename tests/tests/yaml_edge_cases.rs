//! `project.yaml` and study definitions are read by one YAML reader: the same YAML gives the
//! same values and the same diagnostics in both.
//!
//! Each case is a fragment placed at the same lines and columns of a `project.yaml` (inside an
//! action's `config`, which is free-form) and of a study definition (inside a variable's
//! `return_expectations`, likewise), so the diagnostics must agree to the character once the
//! file names are set aside.

use std::path::Path;

use cohort::study::StudyDefinition;

const STUDY_FILE: &str = "analysis/study_definition.yaml";

/// A project.yaml with `fragment` (lines indented by 8) as `config.nested`, from line 8.
fn project_yaml(fragment: &str) -> String {
    format!(
        "version: '5'\n# line 2: the fragment starts on line 8, as in the study definition\nactions:\n  a:\n    outputs: {{highly_sensitive: {{a: a.csv}}}}\n    config:\n      nested:\n{fragment}    run: python:v2 a.py\n"
    )
}

/// A study definition with `fragment` as `return_expectations.nested` of variable `a`, from
/// line 8.
fn study_yaml(fragment: &str) -> String {
    format!(
        "index_date: 2020-01-01\npopulation: {{registered_as_of: index_date}}\nvariables:\n  a:\n    sex: {{}}\n    return_expectations:\n      nested:\n{fragment}"
    )
}

/// The diagnostics without their file names.
fn positions_and_messages(diagnostics: &[yaml::Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d.clone().in_file("").to_string())
        .collect()
}

/// What each reader made of `fragment`: the value of `nested` (as JSON) or the diagnostics.
fn both(
    fragment: &str,
) -> (
    Result<serde_json::Value, Vec<String>>,
    Result<serde_json::Value, Vec<String>>,
) {
    let validation = pipeline::validate(&project_yaml(fragment));
    let project = match &validation.project {
        Some(p) if validation.diagnostics.is_empty() => {
            let config = p.action("a").unwrap().config.as_deref().unwrap();
            let config: serde_json::Value = serde_json::from_str(config).unwrap();
            Ok(config["nested"].clone())
        }
        _ => Err(positions_and_messages(&validation.diagnostics)),
    };
    let study = match StudyDefinition::from_yaml(
        &study_yaml(fragment),
        Path::new(STUDY_FILE),
        Path::new("."),
    ) {
        Ok(s) => {
            let expectations = s
                .variable("a")
                .unwrap()
                .return_expectations
                .clone()
                .unwrap();
            Ok(serde_json::to_value(&expectations["nested"]).unwrap())
        }
        Err(e) => {
            assert!(e.problems.iter().all(|p| p.file == Path::new(STUDY_FILE)));
            Err(positions_and_messages(&e.problems))
        }
    };
    (project, study)
}

#[test]
fn core_schema_scalars_resolve_alike() {
    let fragment = "        hex: 0x1F\n        octal: 0o17\n        decimal: 017\n        tilde: ~\n        yes: yes\n        no: no\n        on: on\n        float: 1e-5\n        bool: true\n";
    let (project, study) = both(fragment);
    let want = serde_json::json!({
        "hex": 31, "octal": 15, "decimal": 17, "tilde": null,
        "yes": "yes", "no": "no", "on": "on", "float": 1e-5, "bool": true,
    });
    assert_eq!(project, Ok(want.clone()));
    assert_eq!(study, Ok(want));
}

#[test]
fn a_duplicate_key_in_a_nested_mapping_is_the_same_diagnostic() {
    let (project, study) = both("        k: 1\n        k: 2\n");
    let want =
        vec!["9:9: found duplicate key \"k\" (first defined at line 8, column 9)".to_string()];
    assert_eq!(project, Err(want.clone()));
    assert_eq!(study, Err(want));
}

#[test]
fn a_tab_in_the_indentation_is_the_same_diagnostic() {
    let (project, study) = both("        k: 1\n\tj: 2\n");
    let want = vec![
        "9:1: tab character used for indentation (YAML indentation must use spaces)".to_string(),
    ];
    assert_eq!(project, Err(want.clone()));
    assert_eq!(study, Err(want));
}

#[test]
fn yes_is_not_a_boolean_in_a_study_definition_either() {
    // YAML 1.2: `yes` is a string, so a flag written `yes` is rejected, not read as true.
    let text = "index_date: 2020-01-01\npopulation: {registered_as_of: index_date}\nvariables:\n  n:\n    age_as_of: index_date\nmeasures:\n  - {id: m, numerator: n, denominator: population, small_number_suppression: yes}\n";
    let e = StudyDefinition::from_yaml(text, Path::new(STUDY_FILE), Path::new("."))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "analysis/study_definition.yaml:7:78: measure `m`: key `small_number_suppression`: expected true or false"
    );
}
