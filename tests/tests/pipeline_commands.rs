//! `cargo xtask check / run / run-all / exec` end to end, in-process through `xtask::main`,
//! on temporary projects whose actions are small shell scripts.

use std::path::Path;
use std::process::ExitCode;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/corpus");

fn xtask(args: &[&str]) -> ExitCode {
    let mut all = vec!["cargo xtask"];
    all.extend_from_slice(args);
    xtask::main(all)
}

fn project(yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("project.yaml"), yaml).unwrap();
    dir
}

fn dir_arg(dir: &Path) -> &str {
    dir.to_str().unwrap()
}

#[test]
fn check_exit_status_follows_validity() {
    let ok = project("version: '5'\nactions:\n  a:\n    run: python:v2 a.py\n    outputs:\n      highly_sensitive:\n        a: output/a.csv\n");
    assert_eq!(
        xtask(&["check", "--project-dir", dir_arg(ok.path())]),
        ExitCode::SUCCESS
    );
    for bad in [
        "",
        "# only a comment\n",
        "- a\n- b\n",
        "version: 5\nactions:\n\ta: 1\n",
        "version: 9\nactions: {}\n",
        "version: 5\nactions:\n  a:\n    run: python:v2 'a.py\n    outputs: {highly_sensitive: {a: a.csv}}\n",
        "version: 5\nactions:\n  a:\n    run: python:v2 a.py\n    needs: [a]\n    outputs: {highly_sensitive: {a: a.csv}}\n",
        "version: 5\nactions:\n  a:\n    run: python:v2 a.py\n    needs: [1]\n    outputs: {highly_sensitive: {a: a.csv}}\n",
        "version: 5\nversion: 5\nactions: {}\n",
        "\u{0}\u{1}: [",
    ] {
        let dir = project(bad);
        assert_eq!(xtask(&["check", "--project-dir", dir_arg(dir.path())]), ExitCode::FAILURE, "{bad:?}");
    }
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(
        xtask(&["check", "--project-dir", dir_arg(empty.path())]),
        ExitCode::FAILURE
    );
}

#[test]
fn check_agrees_with_the_corpus_verdicts() {
    let expected = std::fs::read_to_string(format!("{CORPUS}/expected.tsv")).unwrap();
    for line in expected.lines().skip(1).filter(|l| !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            format!("{CORPUS}/project_yamls/{}", cols[0]),
            dir.path().join("project.yaml"),
        )
        .unwrap();
        let want = if cols[1] == "valid" {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
        assert_eq!(
            xtask(&["check", "--project-dir", dir_arg(dir.path())]),
            want,
            "{}",
            cols[0]
        );
    }
}

#[test]
fn check_reports_a_broken_study_definition() {
    let dir = project("version: '3.0'\nexpectations: {population_size: 10}\nactions:\n  gen:\n    run: cohortextractor:latest generate_cohort --study-definition study_definition_sd\n    outputs:\n      highly_sensitive:\n        c: output/input.csv\n");
    // Missing study definition: only a warning.
    assert_eq!(
        xtask(&["check", "--project-dir", dir_arg(dir.path())]),
        ExitCode::SUCCESS
    );
    std::fs::create_dir(dir.path().join("analysis")).unwrap();
    // A Python study definition is run and checked: one that defines no `study` is an error,
    // a valid one passes.
    std::fs::write(
        dir.path().join("analysis/study_definition_sd.py"),
        "from cohortextractor import StudyDefinition\n",
    )
    .unwrap();
    assert_eq!(
        xtask(&["check", "--project-dir", dir_arg(dir.path())]),
        ExitCode::FAILURE
    );
    std::fs::write(
        dir.path().join("analysis/study_definition_sd.py"),
        "from cohortextractor import StudyDefinition, patients\n\
         study = StudyDefinition(index_date='2020-01-01', population=patients.registered_as_of('index_date'))\n",
    )
    .unwrap();
    assert_eq!(
        xtask(&["check", "--project-dir", dir_arg(dir.path())]),
        ExitCode::SUCCESS
    );
    std::fs::write(
        dir.path().join("analysis/study_definition_sd.yaml"),
        "a: [\n",
    )
    .unwrap();
    assert_eq!(
        xtask(&["check", "--project-dir", dir_arg(dir.path())]),
        ExitCode::FAILURE
    );
    // A name generate_cohort can never find (cohortextractor: study_definition[_NAME]).
    let bad = project("version: '3.0'\nexpectations: {population_size: 10}\nactions:\n  gen:\n    run: cohortextractor:latest generate_cohort --study-definition sd\n    outputs:\n      highly_sensitive:\n        c: output/input.csv\n");
    assert_eq!(
        xtask(&["check", "--project-dir", dir_arg(bad.path())]),
        ExitCode::FAILURE
    );
}

#[test]
fn check_reports_an_unreadable_codelist() {
    let dir = project("version: '5'\nactions:\n  r:\n    run: report:v1 generate_report --codelist codelists/c.csv --output output/r.html\n    outputs:\n      moderately_sensitive:\n        r: output/r.html\n");
    let d = dir_arg(dir.path());
    // Missing: a warning (it may come from an earlier action).
    assert_eq!(xtask(&["check", "--project-dir", d]), ExitCode::SUCCESS);
    std::fs::create_dir(dir.path().join("codelists")).unwrap();
    std::fs::write(dir.path().join("codelists/c.csv"), "").unwrap();
    assert_eq!(xtask(&["check", "--project-dir", d]), ExitCode::FAILURE);
    std::fs::write(dir.path().join("codelists/c.csv"), "code,term\n").unwrap();
    assert_eq!(xtask(&["check", "--project-dir", d]), ExitCode::SUCCESS);
}

const SCRIPTS: &str = "\
version: '5'
actions:
  a:
    run: sh:v1 sh analysis/a.sh
    outputs:
      highly_sensitive:
        a: output/a.txt
  b:
    run: sh:v1 sh analysis/b.sh
    needs: [a]
    outputs:
      moderately_sensitive:
        b: output/b.csv
";

fn scripts() -> tempfile::TempDir {
    let dir = project(SCRIPTS);
    std::fs::create_dir(dir.path().join("analysis")).unwrap();
    std::fs::write(dir.path().join("input.txt"), "1").unwrap();
    std::fs::write(
        dir.path().join("analysis/a.sh"),
        "mkdir -p output && cp input.txt output/a.txt\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("analysis/b.sh"),
        "printf 'n\\n' > output/b.csv && cat output/a.txt >> output/b.csv\n",
    )
    .unwrap();
    dir
}

fn record(dir: &Path, action: &str) -> String {
    let manifest = std::fs::read_to_string(dir.join("metadata/manifest.json")).unwrap();
    let start = manifest
        .find(&format!("\"{action}\": {{\n      \"status\""))
        .unwrap();
    manifest[start..start + 200].to_string()
}

#[test]
fn run_all_then_nothing_to_do_then_rerun_after_an_edit() {
    let dir = scripts();
    let d = dir_arg(dir.path());
    assert_eq!(xtask(&["run-all", "--project-dir", d]), ExitCode::SUCCESS);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("output/b.csv")).unwrap(),
        "n\n1"
    );
    assert!(dir.path().join("metadata/a.log").is_file());
    let first_b = record(dir.path(), "b");

    assert_eq!(
        xtask(&["run-all", "--project-dir", d, "-c", "1"]),
        ExitCode::SUCCESS
    );
    assert_eq!(
        record(dir.path(), "b"),
        first_b,
        "nothing changed, nothing re-ran"
    );

    std::fs::write(
        dir.path().join("analysis/b.sh"),
        "printf 'n\\n2\\n' > output/b.csv\n",
    )
    .unwrap();
    assert_eq!(xtask(&["run-all", "--project-dir", d]), ExitCode::SUCCESS);
    assert_ne!(record(dir.path(), "b"), first_b);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("output/b.csv")).unwrap(),
        "n\n2\n"
    );

    let first_a = record(dir.path(), "a");
    assert_eq!(xtask(&["run", "b", "--project-dir", d]), ExitCode::SUCCESS);
    assert_eq!(record(dir.path(), "a"), first_a, "a is up to date");
    assert_eq!(
        xtask(&["run", "b", "-f", "--project-dir", d]),
        ExitCode::SUCCESS
    );
    assert_ne!(record(dir.path(), "a"), first_a, "-f re-runs dependencies");
}

#[test]
fn failures_give_exit_status_one() {
    let dir = scripts();
    let d = dir_arg(dir.path());
    std::fs::write(dir.path().join("analysis/a.sh"), "exit 4\n").unwrap();
    assert_eq!(xtask(&["run", "b", "--project-dir", d]), ExitCode::FAILURE);
    assert!(!dir.path().join("output/b.csv").exists());
    assert!(std::fs::read_to_string(dir.path().join("metadata/a.log"))
        .unwrap()
        .contains("exit status 4"));
    assert_eq!(
        xtask(&["run", "nosuch", "--project-dir", d]),
        ExitCode::FAILURE
    );
    assert_eq!(xtask(&["run", "--project-dir", d]), ExitCode::from(2));
    assert_eq!(
        xtask(&["run-all", "--project-dir", d, "-c", "0"]),
        ExitCode::from(2)
    );
    let invalid = project("version: 5\nactions: []\n");
    assert_eq!(
        xtask(&["run-all", "--project-dir", dir_arg(invalid.path())]),
        ExitCode::FAILURE
    );
}

#[test]
fn exec_runs_one_command_in_the_project_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir_arg(dir.path());
    assert_eq!(
        xtask(&[
            "exec",
            "--project-dir",
            d,
            "sh:v1",
            "sh",
            "-c",
            "echo $OPENSAFELY_BACKEND > out.txt"
        ]),
        ExitCode::SUCCESS
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out.txt")).unwrap(),
        "expectations\n"
    );
    assert_eq!(
        xtask(&["exec", "--project-dir", d, "sh:v1", "sh", "-c", "exit 1"]),
        ExitCode::FAILURE
    );
    assert_eq!(
        xtask(&["exec", "--project-dir", d, "r:v2", "no-such-program-xyz"]),
        ExitCode::FAILURE
    );
    assert_eq!(
        xtask(&["exec", "--project-dir", d, "notag", "x"]),
        ExitCode::FAILURE
    );
}
