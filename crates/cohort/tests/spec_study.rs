//! The study-definition loader against `spec/study-definition.md`: the project's study, and
//! every kind of error with its file, line and key.

use std::path::{Path, PathBuf};

use cohort::study::{ColumnType, Derived, GroupBy, StudyDefinition};

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Writes `yaml` as `analysis/study_definition.yaml` in a temporary project with the pulse
/// oximetry codelist, and loads it.
fn load(yaml: &str) -> Result<StudyDefinition, String> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("analysis")).unwrap();
    std::fs::create_dir_all(dir.path().join("codelists")).unwrap();
    std::fs::write(
        dir.path().join("codelists/pulse.csv"),
        "code,term,CTV3ID,cat\n1,a,Y2a48,x\n2,b,XaY1,y\n",
    )
    .unwrap();
    let path = dir.path().join("analysis/study_definition.yaml");
    std::fs::write(&path, yaml).unwrap();
    StudyDefinition::load(&path).map_err(|e| {
        // Make messages independent of the temporary folder.
        e.to_string()
            .replace(&format!("{}/", dir.path().display()), "")
    })
}

const HEAD: &str = "\
index_date: 2019-01-01
codelists:
  pulse: {csv: codelists/pulse.csv, system: ctv3, column: CTV3ID}
population:
  registered_as_of: index_date
variables:
";

fn err(variables: &str) -> String {
    load(&format!("{HEAD}{variables}")).unwrap_err()
}

#[test]
fn the_project_study_loads_with_its_columns_measures_and_expectations() {
    let study =
        StudyDefinition::load(&project_root().join("analysis/study_definition.yaml")).unwrap();
    assert_eq!(
        study.index_date,
        chrono::NaiveDate::from_ymd_opt(2019, 1, 1)
    );
    let cols: Vec<(&str, ColumnType)> = study.output_columns();
    assert_eq!(
        cols,
        [
            ("had_pulse_ox", ColumnType::Bool),
            ("region", ColumnType::Str),
            ("age", ColumnType::Int),
            ("age_band", ColumnType::Str),
            ("sex", ColumnType::Str),
        ]
    );
    let codelist = &study.codelists["pulse_oximetry_codes"];
    assert!(codelist.contains("Y2a48"));
    assert!(!codelist.contains("1325191000000108"));
    let age_band = study.variable("age_band").unwrap();
    assert_eq!(age_band.column_type, ColumnType::Str);
    match &age_band.derived {
        Derived::Categorised { cases, default } => {
            assert_eq!(default, "0");
            let labels: Vec<&str> = cases.iter().map(|(l, _)| l.as_str()).collect();
            assert_eq!(
                labels,
                ["0-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+"]
            );
        }
        other => panic!("age_band is {other:?}"),
    }
    let ids: Vec<(&str, &GroupBy)> = study
        .measures
        .iter()
        .map(|m| (m.id.as_str(), &m.group_by))
        .collect();
    assert_eq!(
        ids,
        [
            ("pulse_ox_by_sex", &GroupBy::Variables(vec!["sex".into()])),
            (
                "pulse_ox_by_region",
                &GroupBy::Variables(vec!["region".into()])
            ),
            (
                "pulse_ox_by_age_band",
                &GroupBy::Variables(vec!["age_band".into()])
            ),
            ("pulse_ox_total", &GroupBy::None),
        ]
    );
    assert!(study.measures.iter().all(|m| m.numerator == "had_pulse_ox"
        && m.denominator == "population"
        && !m.small_number_suppression));
    let had = study.variable("had_pulse_ox").unwrap();
    assert_eq!(
        had.return_expectations.as_ref().unwrap()["incidence"],
        serde_yaml::Value::from(0.5)
    );
    let defaults = study.default_expectations.as_ref().unwrap();
    assert_eq!(
        defaults["rate"],
        serde_yaml::Value::from("exponential_increase")
    );
    assert_eq!(
        defaults["date"]["earliest"],
        serde_yaml::Value::from("2019-01-01")
    );
}

#[test]
fn inline_helpers_are_hidden_and_come_before_their_parent() {
    let study = load(&format!(
        "{HEAD}  old:\n    satisfying:\n      expression: age > 80 AND flag\n      variables:\n        age: {{age_as_of: index_date}}\n        flag: {{with_these_clinical_events: {{codelist: pulse}}}}\n  sex:\n    sex:\n"
    ))
    .unwrap();
    let names: Vec<(&str, bool)> = study
        .variables
        .iter()
        .map(|v| (v.name.as_str(), v.hidden))
        .collect();
    assert_eq!(
        names,
        [
            ("age", true),
            ("flag", true),
            ("old", false),
            ("sex", false)
        ]
    );
    assert_eq!(
        study.output_columns(),
        [("old", ColumnType::Bool), ("sex", ColumnType::Str)]
    );
}

#[test]
fn int_keyed_categories_make_an_int_column() {
    let study = load(&format!(
        "{HEAD}  age:\n    age_as_of: index_date\n  old:\n    categorised_as:\n      0: DEFAULT\n      1: age >= 80\n  band:\n    categorised_as: {{'0': DEFAULT, '1': age >= 80}}\n"
    ))
    .unwrap();
    assert_eq!(study.column_type("old"), Some(ColumnType::Int));
    assert_eq!(study.column_type("band"), Some(ColumnType::Str));
}

#[test]
fn errors_name_file_line_column_and_key() {
    let e =
        err("  age_band:\n    categorised_as:\n      \"0\": DEFAULT\n      \"young\": agee < 20\n");
    assert_eq!(
        e,
        "analysis/study_definition.yaml:10:16: variable `age_band`: key `categorised_as`: \
         category `young`: unknown variable `agee` in expression `agee < 20` \
         (known variables: age_band)"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let e = err(
        "  a:\n    age_as_of: index_date + 1 week\n  b:\n    no_such_function: 1\n  c:\n    sex: {foo: 1}\n  d:\n    with_these_clinical_events: {codelist: nope}\n",
    );
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 4, "{e}");
    assert!(lines[0].starts_with("analysis/study_definition.yaml:8:16: variable `a`: key `age_as_of`: argument `date`: invalid date expression `index_date + 1 week`"), "{e}");
    assert!(lines[1].starts_with("analysis/study_definition.yaml:10:5: variable `b`: unknown function `no_such_function`"), "{e}");
    assert_eq!(lines[2], "analysis/study_definition.yaml:12:11: variable `c`: key `sex`: unknown argument `foo` (it takes no arguments)");
    assert_eq!(lines[3], "analysis/study_definition.yaml:14:44: variable `d`: key `with_these_clinical_events`: unknown codelist `nope` (known codelists: pulse)");
}

#[test]
fn structural_errors() {
    let cases: &[(&str, &str)] = &[
        ("  x:\n    sex: {}\n  x:\n    sex: {}\n", "9:3: found duplicate key \"x\" (first defined at line 7, column 3)"),
        ("  patient_id:\n    sex: {}\n", "7:3: variable `patient_id`: the name `patient_id` is reserved"),
        ("  date:\n    sex: {}\n", "the name `date` is reserved"),
        ("  population:\n    sex: {}\n", "the name `population` is reserved"),
        ("  1abc:\n    sex: {}\n", "variable `1abc`: invalid name"),
        ("  x:\n    age_as_of: {}\n", "8:5: variable `x`: key `age_as_of`: missing required argument `date`"),
        ("  x:\n    registered_practice_as_of: {date: index_date}\n", "missing required argument `returning`"),
        ("  x:\n    registered_practice_as_of: {date: index_date, returning: ward}\n", "argument `returning`: unknown value `ward`"),
        ("  x:\n    sex: {}\n  x_date:\n    sex: {}\n  y:\n    with_these_clinical_events: {codelist: pulse, include_date_of_match: true}\n  y_date:\n    sex: {}\n", "variable `y_date`: defined more than once"),
        ("  x:\n    with_these_clinical_events: {codelist: pulse, between: [index_date]}\n", "expected a list of two dates"),
        ("  x:\n    with_these_clinical_events: {codelist: pulse, between: [index_date, index_date], on_or_after: index_date}\n", "only one of `between`, `on_or_before`, `on_or_after`"),
        ("  x:\n    with_these_clinical_events: {codelist: pulse, returning: category}\n", "needs a codelist with a `category_column`"),
        ("  x:\n    with_these_clinical_events: {codelist: pulse, date_format: DD-MM}\n", "argument `date_format`: expected YYYY, YYYY-MM or YYYY-MM-DD"),
        ("  x:\n    sex: {}\n    age_as_of: index_date\n", "9:5: variable `x`: more than one function (`sex` and `age_as_of`)"),
        ("  x:\n    return_expectations: {incidence: 1}\n", "7:3: variable `x`: no function key"),
        ("  x:\n    categorised_as: {a: x > 1, b: DEFAULT}\n", "variable `x`: key `categorised_as`: depends on itself"),
        ("  x:\n    satisfying: y\n  y:\n    satisfying: z\n  z:\n    satisfying: x AND 1\n", "variable `x`: key `satisfying`: depends on itself through x -> y -> z -> x"),
        ("  x:\n    categorised_as: {a: 1 > 0}\n", "no category is DEFAULT"),
        ("  x:\n    categorised_as: {a: DEFAULT, b: DEFAULT}\n", "more than one DEFAULT category (`a` and `b`)"),
        ("  s:\n    sex: {}\n  x:\n    satisfying: s > 1\n", "cannot compare a string with a number in `s > 1`"),
        ("  x:\n    satisfying: (1 > 0\n", "in expression `(1 > 0`: missing `)`"),
    ];
    for (vars, expected) in cases {
        let e = err(vars);
        assert!(
            e.contains(expected),
            "for\n{vars}\nexpected `{expected}` in:\n{e}"
        );
        assert!(e.starts_with("analysis/study_definition.yaml:"), "{e}");
    }
}

#[test]
fn top_level_codelist_and_measure_errors() {
    let e =
        load("index_date: 2019-02-30\npopulation: {registered_as_of: index_date}\nvariablez: {}\n")
            .unwrap_err();
    assert!(
        e.contains("1:13: key `index_date`: expected an ISO date"),
        "{e}"
    );
    assert!(e.contains("3:1: unknown key `variablez`"), "{e}");

    let e = load("codelists:\n  c: {csv: codelists/missing.csv, system: ctv3, column: CTV3ID}\n  d: {csv: codelists/pulse.csv, system: read2, column: CTV3ID}\n  e: {csv: codelists/pulse.csv, system: ctv3, column: nope}\npopulation: {registered_as_of: index_date}\n").unwrap_err();
    assert!(
        e.contains("2:12: codelist `c`: key `csv`:")
            && e.contains("missing.csv: cannot read codelist"),
        "{e}"
    );
    assert!(
        e.contains("3:41: codelist `d`: key `system`: unknown system `read2`"),
        "{e}"
    );
    assert!(
        e.contains("4:12: codelist `e`: key `csv`: codelists/pulse.csv:1: no column `nope`"),
        "{e}"
    );

    let e = load(&format!("{HEAD}  s:\n    sex: {{}}\n  f:\n    age_as_of: index_date\nmeasures:\n  - {{id: a, numerator: f, denominator: population, group_by: [s, zz]}}\n  - {{id: a, numerator: s, denominator: population}}\n  - {{id: 'b-c', numerator: f, denominator: f, group_by: population, extra: 1}}\n")).unwrap_err();
    assert!(
        e.contains(
            "12:66: measure `a`: key `group_by`: unknown variable `zz` (known variables: s, f)"
        ),
        "{e}"
    );
    assert!(
        e.contains("13:10: measure `a`: key `id`: duplicate id (first at line 12)"),
        "{e}"
    );
    assert!(
        e.contains("measure `a`: key `numerator`: variable `s` is a str column"),
        "{e}"
    );
    assert!(
        e.contains("measure `b-c`: key `id`: must match [A-Za-z0-9_]+"),
        "{e}"
    );
    assert!(e.contains("measure `b-c`: unknown key `extra`"), "{e}");
}

#[test]
fn measures_group_by_forms() {
    let study = load(&format!("{HEAD}  s:\n    sex: {{}}\n  f:\n    age_as_of: index_date\nmeasures:\n  - {{id: a, numerator: f, denominator: population, group_by: population}}\n  - {{id: b, numerator: f, denominator: f, group_by: s, small_number_suppression: true}}\n  - {{id: c, numerator: f, denominator: population, group_by: null}}\n")).unwrap();
    let m = &study.measures;
    assert_eq!(m[0].group_by, GroupBy::Population);
    assert_eq!(m[1].group_by, GroupBy::Variables(vec!["s".into()]));
    assert!(m[1].small_number_suppression);
    assert_eq!(m[2].group_by, GroupBy::None);
}

#[test]
fn invalid_yaml_and_missing_file() {
    let e = load("population: [\n").unwrap_err();
    assert!(
        e.starts_with("analysis/study_definition.yaml:2:1: YAML syntax error: "),
        "{e}"
    );
    let e = StudyDefinition::load(Path::new("/nonexistent/analysis/study_definition.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("/nonexistent/analysis/study_definition.yaml: cannot read"),
        "{e}"
    );
    let e = load("index_date: 2019-01-01\n").unwrap_err();
    assert!(e.contains("missing required key `population`"), "{e}");
}
