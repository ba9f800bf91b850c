//! Reference Appendix A: OpenSAFELY's validator on ~75 synthetic projects. Where OpenSAFELY
//! reports an error we report the same text first; where it crashes or accepts a broken
//! project (cycles, tabs, v6, duplicate keys) we report a clean error instead.

use pipeline::{validate, Pos, Validation};

const A: &str = "  a:\n    run: python:v2 analysis/a.py\n    outputs:\n      highly_sensitive:\n        t: output/a.csv\n";

fn project(version: &str, top: &str, actions: &str) -> String {
    format!("version: {version}\n{top}actions:\n{actions}")
}

fn v4(actions: &str) -> String {
    project("4", "", actions)
}

fn v3(actions: &str) -> String {
    project("3", "expectations:\n  population_size: 1000\n", actions)
}

fn action(name: &str, run: &str, outputs: &str) -> String {
    format!("  {name}:\n    run: {run}\n    outputs:\n{outputs}")
}

fn level(level: &str, pattern: &str) -> String {
    format!("      {level}:\n        t: {pattern}\n")
}

fn path_case(level_name: &str, pattern: &str) -> String {
    v4(&action("a", "python:v2 a.py", &level(level_name, pattern)))
}

fn high(pattern: &str) -> String {
    path_case("highly_sensitive", pattern)
}

fn moderately(pattern: &str) -> String {
    path_case("moderately_sensitive", pattern)
}

/// Asserts the first error is `expected` (or no error for `None`) and whether there is a
/// warning.
#[track_caller]
fn check(name: &str, text: &str, expected: Option<&str>, warns: bool) -> Validation {
    let v = validate(text);
    let errors: Vec<_> = v.errors().collect();
    match expected {
        None => assert!(
            errors.is_empty(),
            "{name}: unexpected errors {errors:#?}\n{text}"
        ),
        Some(msg) => {
            assert!(!errors.is_empty(), "{name}: no error\n{text}");
            assert_eq!(errors[0].message, msg, "{name}\n{text}");
        }
    }
    assert_eq!(
        v.warnings().next().is_some(),
        warns,
        "{name}: warnings {:?}",
        v.diagnostics
    );
    v
}

#[track_caller]
fn single(name: &str, text: &str, expected: &str, warns: bool) {
    let v = check(name, text, Some(expected), warns);
    assert_eq!(v.errors().count(), 1, "{name}: {:#?}", v.diagnostics);
}

#[test]
fn versions_and_top_level() {
    check("ok_v1", &project("1", "", A), None, true);
    check("ok_v3", &v3(A), None, true);
    single(
        "v3_no_expect",
        &project("3", "", A),
        "Project must include `expectations` section",
        true,
    );
    single(
        "v4_with_expect",
        &project("4", "expectations:\n  population_size: 1000\n", A),
        "Project includes `expectations` section, which is not supported in this version. This section is only applicable to deprecated cohortextractor actions; you can safely remove it.",
        true,
    );
    check("ok_v4", &v4(A), None, true);
    check("ok_v5", &project("5", "", A), None, false);
    check("ok_v5_string", &project("'5.0'", "", A), None, false);
    check("float_version", &project("3.5", "", A), None, true);
    single(
        "v6",
        &project("6", "", A),
        "The latest version is v5, but got v6.0",
        false,
    );
    single(
        "no_version",
        &format!("actions:\n{A}"),
        "Project file must have a `version` attribute specifying which version of the project configuration format it uses (current latest version is 5)",
        false,
    );
    single(
        "bad_version",
        &project("abc", "", A),
        "`version` must be a number between 1 and 5",
        false,
    );
    single(
        "zero_version",
        &project("0", "", A),
        "`version` must be a number between 1 and 5",
        false,
    );
    single(
        "no_actions",
        "version: 4\n",
        "Project `actions` section must be a dictionary of key/value pairs",
        true,
    );
    single(
        "actions_list",
        "version: 4\nactions:\n  - a\n",
        "Project `actions` section must be a dictionary of key/value pairs",
        true,
    );
    single(
        "unknown_top",
        &project("5", "foo: 1\n", A),
        "Unexpected parameters (foo) in project",
        false,
    );
}

#[test]
fn old_version_warning_text() {
    let v = validate(&project(
        "'3.0'",
        "expectations:\n  population_size: 10\n",
        A,
    ));
    let w: Vec<_> = v.warnings().map(|d| d.message.as_str()).collect();
    assert_eq!(
        w,
        ["Your project file is using an old version (3.0); consider updating to version 5"]
    );
    assert_eq!(v.project.unwrap().population_size, Some(10));
    // Versions 1 and 2 ignore expectations and use 1000, whatever is written.
    let v = validate(&project("1", "expectations:\n  population_size: abc\n", A));
    assert_eq!(v.project.unwrap().population_size, Some(1000));
}

#[test]
fn cohortextractor_latest_and_run_all() {
    let gen = action(
        "gen",
        "cohortextractor:latest generate_cohort --study-definition study_definition",
        &level("highly_sensitive", "output/input.csv"),
    );
    single(
        "v4_cohortextractor",
        &v4(&gen),
        "Action gen uses cohortextractor actions, which are not supported in this version.",
        true,
    );
    check("v3_cohortextractor", &v3(&gen), None, true);
    single(
        "v5_latest",
        &project("5", "", &action("a", "python:latest a.py", &level("highly_sensitive", "output/a.csv"))),
        "Action a uses `python:latest`, which is not supported. Provide a version e.g. `:v2` instead",
        false,
    );
    let run_all = action(
        "run_all",
        "python:v2 x.py",
        &level("highly_sensitive", "output/x.csv"),
    );
    single(
        "v5_run_all",
        &project("5", "", &format!("{A}{run_all}")),
        "`run_all` is a reserved action name and is not allowed for user-defined actions.",
        false,
    );
    let v = check("v4_run_all", &v4(&format!("{A}{run_all}")), None, true);
    assert!(v.warnings().any(|w| w
        .message
        .starts_with("`run_all` is a reserved action name; user-defined")));
    let p = v.project.unwrap();
    assert_eq!(p.action_names().collect::<Vec<_>>(), ["a"]);
    // An action that needs the ignored `run_all` still gets planned.
    let v = check(
        "needs_run_all",
        &v4(&format!("{A}    needs: [run_all]\n{run_all}")),
        None,
        true,
    );
    let p = v.project.unwrap();
    assert_eq!(
        pipeline::graph::plan(&p, &["a".to_string()]).unwrap(),
        ["a"]
    );
}

#[test]
fn action_shape() {
    single(
        "unknown_action_key",
        &v4(&format!("{A}    foo: 1\n")),
        "Unexpected parameters (foo) in action a",
        true,
    );
    single(
        "missing_run",
        &v4("  a:\n    outputs:\n      highly_sensitive:\n        t: output/a.csv\n"),
        "Action a must contain a configuration for 'run'",
        true,
    );
    single(
        "missing_outputs",
        &v4("  a:\n    run: python:v2 a.py\n"),
        "Action a must contain a configuration for 'outputs'",
        true,
    );
    single(
        "empty_run",
        &v4(&action(
            "a",
            "''",
            &level("highly_sensitive", "output/a.csv"),
        )),
        "run must have a value, a has an empty run key",
        true,
    );
    single(
        "no_version_tag",
        &v4(&action(
            "a",
            "python a.py",
            &level("highly_sensitive", "output/a.csv"),
        )),
        "Action command python must have a version specified in the form :vN (e.g. python:v2)",
        true,
    );
    single(
        "bad_version_tag",
        &v4(&action(
            "a",
            "python:3.8 a.py",
            &level("highly_sensitive", "output/a.csv"),
        )),
        "Action command python must have a version specified in the form :vN (e.g. python:v2)",
        true,
    );
    single(
        "double_tag",
        &v4(&action(
            "a",
            "python:v2:v3 a.py",
            &level("highly_sensitive", "output/a.csv"),
        )),
        "Action command python must have a version specified in the form :vN (e.g. python:v2)",
        true,
    );
    check(
        "unknown_image",
        &v4(&action(
            "a",
            "deciles-charts:v0.0.33 --x",
            &level("highly_sensitive", "output/a.csv"),
        )),
        None,
        true,
    );
    check(
        "pre_tag",
        &v4(&action(
            "a",
            "python:v2-pre a.py",
            &level("highly_sensitive", "output/a.csv"),
        )),
        None,
        true,
    );
    check(
        "py_v1",
        &v4(&action(
            "a",
            "python:v1 a.py",
            &level("highly_sensitive", "output/a.csv"),
        )),
        None,
        true,
    );
    check(
        "empty_image",
        &v4(&action(
            "a",
            ":v2 a.py",
            &level("highly_sensitive", "output/a.csv"),
        )),
        None,
        true,
    );
    single(
        "config_list",
        &v4(&format!("{A}    config: [1, 2]\n")),
        "`config` section for action a must be a dictionary of key/value pairs",
        true,
    );
    check(
        "dummy_data",
        &v4(&format!("{A}    dummy_data_file: dummy/a.csv\n")),
        None,
        true,
    );
    single(
        "dummy_data_list",
        &v4(&format!("{A}    dummy_data_file: [a]\n")),
        "`dummy_data_file` section for action a must be a string",
        true,
    );
    single(
        "action_none",
        &v4("  a:\n"),
        "Configuration for action a must be a dictionary of key/value pairs",
        true,
    );
    single(
        "run_not_string",
        &v4(&action(
            "a",
            "[python:v2]",
            &level("highly_sensitive", "output/a.csv"),
        )),
        "`run` section for action a must be a string",
        true,
    );
}

#[test]
fn needs() {
    let b = action(
        "b",
        "python:v2 b.py",
        &level("highly_sensitive", "output/b.csv"),
    );
    let c = action(
        "c",
        "python:v2 c.py",
        &level("highly_sensitive", "output/c.csv"),
    );
    let v = check(
        "unknown_needs",
        &v4(&format!("{A}    needs: [b]\n{c}")),
        Some("Action `a` references an unknown action in its `needs` list: b"),
        true,
    );
    assert_eq!(v.errors().count(), 1);
    single(
        "needs_space",
        &v4(&format!("{A}    needs: [b c]\n{b}{c}")),
        "`needs` actions should be separated with commas, but a needs `b c`",
        true,
    );
    single(
        "needs_string",
        &v4(&format!("{A}    needs: b\n{b}")),
        "`needs` section for action a must be a list",
        true,
    );
    single(
        "cycle",
        &v4(&format!("{A}    needs: [b]\n{b}    needs: [a]\n")),
        "dependency cycle: a -> b -> a",
        true,
    );
    single(
        "self_need",
        &v4(&format!("{A}    needs: [a]\n")),
        "dependency cycle: a -> a",
        true,
    );
    single(
        "needs_number",
        &v4(&format!("{A}    needs: [1]\n")),
        "`needs` entries for action a must be action names, but one is an integer",
        true,
    );
    check(
        "needs_duplicates_ok",
        &v4(&format!("{A}    needs: [b, b]\n{b}")),
        None,
        true,
    );
}

#[test]
fn duplicates() {
    let v = check(
        "dup_action",
        &v4(&format!("{A}{A}")),
        Some("found duplicate key \"a\" (first defined at line 3, column 3)"),
        true,
    );
    assert_eq!(v.errors().next().unwrap().pos, Pos::new(8, 3));
    let b_same = action(
        "b",
        "python:v2 analysis/a.py",
        &level("highly_sensitive", "output/b.csv"),
    );
    single(
        "dup_run",
        &v4(&format!("{A}{b_same}")),
        "Action b has the same 'run' command as other actions: a",
        true,
    );
    let b_spaces = action(
        "b",
        "python:v2  analysis/a.py",
        &level("highly_sensitive", "output/b.csv"),
    );
    check(
        "dup_run_raw_string",
        &v4(&format!("{A}{b_spaces}")),
        None,
        true,
    );
    let b_out = action(
        "b",
        "python:v2 b.py",
        &level("highly_sensitive", "output/a.csv"),
    );
    single(
        "dup_output_v4",
        &v4(&format!("{A}{b_out}")),
        "Output path output/a.csv is not unique",
        true,
    );
    check(
        "dup_output_v1",
        &project("1", "", &format!("{A}{b_out}")),
        None,
        true,
    );
}

#[test]
fn output_levels() {
    single(
        "no_output_level",
        &v4("  a:\n    run: python:v2 a.py\n    outputs: {}\n"),
        "must specify at least one output of: highly_sensitive, moderately_sensitive, minimally_sensitive",
        true,
    );
    single(
        "bad_output_level",
        &path_case("low_sensitive", "output/a.csv"),
        "must specify at least one output of: highly_sensitive, moderately_sensitive, minimally_sensitive",
        true,
    );
    single(
        "extra_output_level",
        &v4(&action(
            "a",
            "python:v2 a.py",
            &format!(
                "{}{}",
                level("highly_sensitive", "output/a.csv"),
                level("low", "output/b.csv")
            ),
        )),
        "Unexpected parameters (low) in `outputs` section for action a",
        true,
    );
    single(
        "level_not_dict",
        &v4("  a:\n    run: python:v2 a.py\n    outputs:\n      highly_sensitive: output/a.csv\n"),
        "`highly_sensitive` section for action a must be a dictionary of key/value pairs",
        true,
    );
    single(
        "pattern_not_string",
        &high("[a]"),
        "`t` output for action a must be a string",
        true,
    );
    single(
        "outputs_list",
        &v4("  a:\n    run: python:v2 a.py\n    outputs: [a]\n"),
        "`outputs` section for action a must be a dictionary of key/value pairs",
        true,
    );
}

#[test]
fn output_paths() {
    let cases: &[(&str, String, Option<&str>)] = &[
        ("path_abs", high("/tmp/a.csv"), Some("Output path /tmp/a.csv is invalid: is an absolute path")),
        ("path_dotdot", high("output/../a.csv"), Some("Output path output/../a.csv is invalid: is not in standard form (contains double slashes or '..' elements)")),
        ("path_dblslash", high("output//a.csv"), Some("Output path output//a.csv is invalid: is not in standard form (contains double slashes or '..' elements)")),
        ("path_dotslash", high("./output/a.csv"), Some("Output path ./output/a.csv is invalid: is not in standard form (contains double slashes or '..' elements)")),
        ("path_backslash", high("output\\a.csv"), Some("Output path output\\a.csv is invalid: contains back slashes (use forward slashes only)")),
        ("path_starstar", high("output/**/a.csv"), Some("Output path output/**/a.csv is invalid: contains '**' (only the * wildcard character is supported)")),
        ("path_qmark", high("output/a?.csv"), Some("Output path output/a?.csv is invalid: contains '?' (only the * wildcard character is supported)")),
        ("path_bracket", high("'output/[ab].csv'"), Some("Output path output/[ab].csv is invalid: contains '[' (only the * wildcard character is supported)")),
        ("path_noext", high("output/a"), Some("Output path output/a is invalid: output paths must have a file type extension at the end")),
        ("path_starext", high("output/a.*"), Some("Output path output/a.* is invalid: output paths must have a file type extension at the end")),
        ("path_metadata", high("metadata/a.csv"), Some("Output path metadata/a.csv is invalid: should not include the metadata directory")),
        ("path_toplevel", high("a.csv"), None),
        ("path_rds_mod", moderately("output/a.rds"), Some("Output path output/a.rds is invalid: output/a.rds is not an allowed file type for moderately_sensitive outputs")),
        ("path_rds_min", path_case("minimally_sensitive", "output/a.rds"), None),
        ("path_pdf_mod", moderately("output/a.pdf"), Some("Output path output/a.pdf is invalid: output/a.pdf is not an allowed file type for moderately_sensitive outputs")),
        ("path_gz_mod", moderately("output/a.csv.gz"), Some("Output path output/a.csv.gz is invalid: output/a.csv.gz is not an allowed file type for moderately_sensitive outputs")),
        ("path_glob_dir", moderately("output/*/a.csv"), None),
        ("path_winabs", high("c:/a.csv"), Some("Output path c:/a.csv is invalid: is an absolute path")),
        ("path_trailing_slash", high("output/"), Some("Output path output/ is invalid: output paths must have a file type extension at the end")),
        ("path_upper", moderately("output/A.CSV"), Some("Output path output/A.CSV is invalid: output/A.CSV is not an allowed file type for moderately_sensitive outputs")),
        ("path_html_mod", moderately("output/a.html"), None),
        ("path_dta_high", high("output/a.dta"), None),
    ];
    for (name, text, expected) in cases {
        match expected {
            Some(msg) => single(name, text, msg, true),
            None => {
                check(name, text, None, true);
            }
        }
    }
}

#[test]
fn extractor_rules() {
    let dataset = |run: &str, outputs: &str| v4(&action("a", run, outputs));
    single(
        "ehrql_mod",
        &dataset(
            "ehrql:v1 generate-dataset analysis/d.py --output output/d.csv",
            &level("moderately_sensitive", "output/d.csv"),
        ),
        "`a` action uses `generate-dataset` and so all outputs must be labelled `highly_sensitive`",
        true,
    );
    single(
        "ehrql_nooutput",
        &dataset("ehrql:v1 generate-dataset analysis/d.py", &level("highly_sensitive", "output/d.csv")),
        "`a` action does not provide an `--output` argument specifying where the results of `generate-dataset` should be stored",
        true,
    );
    single(
        "ehrql_mismatch",
        &dataset("ehrql:v1 generate-dataset analysis/d.py --output output/d.csv.gz", &level("highly_sensitive", "output/d.csv")),
        "output specification must match the `--output` argument in the `run` command\n              got: output/d.csv\nbut was expecting: output/d.csv.gz",
        true,
    );
    check(
        "ehrql_multi",
        &dataset(
            "ehrql:v1 generate-dataset analysis/d.py --output=output/d.csv",
            "      highly_sensitive:\n        d: output/d.csv\n        e: output/e.csv\n",
        ),
        None,
        true,
    );
    check(
        "ehrql_dir",
        &dataset(
            "ehrql:v1 generate-dataset analysis/d.py --output output/ds/:csv",
            &level("highly_sensitive", "output/ds/*.csv"),
        ),
        None,
        true,
    );
    single(
        "ehrql_dir_mismatch",
        &dataset("ehrql:v1 generate-dataset analysis/d.py --output output/ds:csv", &level("highly_sensitive", "output/ds/*.arrow")),
        "output specification must match the `--output` argument in the `run` command\n              got: output/ds/*.arrow\nbut was expecting: output/ds/:csv",
        true,
    );
    check(
        "measures_noout",
        &dataset(
            "ehrql:v1 generate-measures analysis/m.py",
            &level("moderately_sensitive", "output/m.csv"),
        ),
        None,
        true,
    );
    let cx = |run: &str, outputs: &str| v3(&action("a", run, outputs));
    single(
        "cx_two_levels",
        &cx(
            "cohortextractor:latest generate_cohort",
            &format!(
                "{}{}",
                level("highly_sensitive", "output/a.csv"),
                level("moderately_sensitive", "output/b.csv")
            ),
        ),
        "A `generate_cohort` action must have exactly one output; a had 2",
        true,
    );
    let two_dirs = "      highly_sensitive:\n        a: output/a.csv\n        b: other/b.csv\n";
    single(
        "cx_two_dirs",
        &cx("cohortextractor:latest generate_cohort", two_dirs),
        "generate_cohort command should produce output in only one directory, found 2:\n - output/\n - other/",
        true,
    );
    check(
        "cx_two_dirs_outdir",
        &cx(
            "cohortextractor:latest generate_cohort --output-dir=output",
            two_dirs,
        ),
        None,
        true,
    );
}

#[test]
fn expectations() {
    single(
        "expect_bad",
        &project("3", "expectations:\n  population_size: lots\n", A),
        "Project expectations population size must be a number",
        true,
    );
    let v = check(
        "expect_missing_pop",
        &project("3", "expectations:\n  other: 1\n", A),
        Some("Project `expectations` section must include `population_size` section"),
        true,
    );
    assert_eq!(v.errors().count(), 2);
    single(
        "expect_missing_pop_only",
        &project("3", "expectations: {}\n", A),
        "Project `expectations` section must include `population_size` section",
        true,
    );
    single(
        "expect_extra",
        &project("3", "expectations:\n  population_size: 10\n  foo: 1\n", A),
        "Unexpected parameters (foo) in project `expectations` section",
        true,
    );
    single(
        "expect_list",
        &project("3", "expectations: [1]\n", A),
        "Project `expectations` section must be a dictionary of key/value pairs",
        true,
    );
    let v = check(
        "expect_string_number",
        &project("3", "expectations:\n  population_size: '10_000'\n", A),
        None,
        true,
    );
    assert_eq!(v.project.unwrap().population_size, Some(10_000));
}

#[test]
fn malformed_input_is_a_clean_error() {
    let v = check(
        "multi_errors",
        &project(
            "4",
            "foo: 1\n",
            &format!("{A}    needs: [nope]\n    bar: 2\n"),
        ),
        Some("Unexpected parameters (foo) in project"),
        true,
    );
    assert_eq!(v.errors().count(), 3, "{:#?}", v.diagnostics);
    let v = check(
        "yaml_syntax",
        "version: 4\nactions: [\n\n",
        Some("YAML syntax error: while parsing a node, did not find expected node content"),
        false,
    );
    assert_eq!(v.errors().next().unwrap().pos.line, 4);
    let v = check(
        "tab_indent",
        "version: 4\nactions:\n\ta:\n",
        Some("tab character used for indentation"),
        false,
    );
    assert_eq!(v.errors().next().unwrap().pos, Pos::new(3, 1));
    for (name, text) in [
        ("empty", ""),
        ("comments_only", "# nothing\n\n"),
        ("null_doc", "~\n"),
    ] {
        let v = validate(text);
        assert!(!v.is_valid(), "{name}");
        assert_eq!(v.errors().count(), 1, "{name}");
    }
    single(
        "top_list",
        "- a\n- b\n",
        "project.yaml must be a mapping with `version` and `actions`, but it is a list",
        false,
    );
    single(
        "top_scalar",
        "hello\n",
        "project.yaml must be a mapping with `version` and `actions`, but it is a string",
        false,
    );
    let v = check(
        "unbalanced_quote",
        &v4(&action(
            "a",
            "python:v2 a.py \"--x",
            &level("highly_sensitive", "output/a.csv"),
        )),
        Some("`run` for action a cannot be split into words: No closing quotation"),
        true,
    );
    assert_eq!(v.errors().next().unwrap().pos, Pos::new(4, 10));
    check(
        "two_docs",
        "version: 5\n---\nversion: 5\n",
        Some("expected a single document in the stream, but found another document"),
        false,
    );
    check(
        "complex_key",
        "version: 5\nactions:\n  ? [a]\n  : 1\n",
        Some("mapping keys must be scalars, found a list"),
        false,
    );
}

#[test]
fn all_errors_at_once_with_positions() {
    let text = "\
version: 4
actions:
  a:
    run: python:v2 a.py
    needs: [generate_cohorts]
    outputs:
      moderately_sensitive:
        t: output/a.pdf
  generate_cohort:
    run: python:v2 a.py
    outputs:
      highly_sensitive:
        t: output/b
";
    let v = validate(text);
    let rendered: Vec<String> = v
        .diagnostics
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    assert_eq!(
        rendered,
        [
            "project.yaml:8:12: Output path output/a.pdf is invalid: output/a.pdf is not an allowed file type for moderately_sensitive outputs",
            "project.yaml:13:12: Output path output/b is invalid: output paths must have a file type extension at the end",
            "project.yaml:10:10: Action generate_cohort has the same 'run' command as other actions: a",
            "project.yaml:5:13: Action `a` references an unknown action in its `needs` list: generate_cohorts (did you mean `generate_cohort`?)",
            "project.yaml:1:10: warning: Your project file is using an old version (4.0); consider updating to version 5",
        ]
    );
}

#[test]
fn model_of_a_valid_project() {
    let text = "\
version: '3.0'
expectations:
  population_size: 10000
actions:
  gen:
    run: >
      cohortextractor:latest generate_cohort
      --index-date-range \"2019-01-01 to 2021-01-01 by month\"
    outputs:
      highly_sensitive:
        cohort: output/measures/input_*.csv
  plot:
    run: r:v2 analysis/plot.R
    needs: [gen]
    config: {title: \"it's\", n: 3, eps: 1e-5, big: 1e16, hex: 0x1F, flag: yes}
    outputs:
      moderately_sensitive:
        fig: output/fig.png
";
    let v = validate(text);
    let p = v.project.expect("valid");
    assert_eq!(p.version, 3.0);
    assert_eq!(p.population_size, Some(10000));
    let gen = p.action("gen").unwrap();
    assert_eq!(gen.run.image, "cohortextractor");
    assert_eq!(gen.run.tag, "latest");
    assert_eq!(
        gen.run.args,
        [
            "generate_cohort",
            "--index-date-range",
            "2019-01-01 to 2021-01-01 by month"
        ]
    );
    assert!(gen.run.is_generate_cohort());
    let plot = p.action("plot").unwrap();
    assert_eq!(plot.needs, ["gen"]);
    assert_eq!(plot.outputs[0].level, pipeline::Level::ModeratelySensitive);
    assert_eq!(
        plot.effective_args(),
        [
            "analysis/plot.R",
            "--config",
            // As Python's json.dumps writes what ruamel.yaml (YAML 1.2) loads.
            r#"{"title": "it\u0027s", "n": 3, "eps": 1e-05, "big": 1e+16, "hex": 31, "flag": "yes"}"#
        ]
    );
}
