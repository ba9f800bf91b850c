//! The crate dependency rules of ARCHITECTURE.md, checked on `cargo metadata`.
//!
//! Each rule is a line of [`RULES`]; add one when a boundary is worth keeping. Only normal and
//! build dependencies count (tests may use anything). Every workspace crate must be listed in
//! [`LIBRARIES`] or [`DRIVERS`], so a new crate is placed on purpose.

use std::collections::BTreeMap;
use std::process::Command;

/// Library crates: everything a study uses, reusable by another study.
const LIBRARIES: &[&str] = &[
    "yaml",
    "files",
    "pipeline",
    "query",
    "ehr",
    "engine-polars",
    "engine-sql",
    "engine-spark",
    "spark-connect",
    "cohort",
    "measures",
    "charts",
    "plots",
    "report",
];

/// The driver and the end-to-end tests: the only places that wire crates together.
const DRIVERS: &[&str] = &["xtask", "e2e"];

/// The crates a rule is about.
#[derive(Clone, Copy)]
enum Crates {
    /// One crate.
    One(&'static str),
    /// Every library crate.
    Libraries,
}

/// What the crates may depend on.
#[derive(Clone, Copy)]
enum Allowed {
    /// Of the workspace's crates, only these (external crates are free).
    OnlyWorkspace(&'static [&'static str]),
    /// Anything but these (workspace or external).
    NoneOf(&'static [&'static str]),
}

/// The rules, with why they hold.
const RULES: &[(Crates, Allowed, &str)] = &[
    (
        Crates::One("files"),
        Allowed::OnlyWorkspace(&[]),
        "the study's file conventions sit at the bottom: every stage uses them",
    ),
    (
        Crates::One("yaml"),
        Allowed::OnlyWorkspace(&["files"]),
        "the one YAML reader sits at the bottom (it needs only Python's float text)",
    ),
    (
        Crates::One("pipeline"),
        Allowed::OnlyWorkspace(&["yaml", "files"]),
        "the pipeline knows no image: images are registered by the driver",
    ),
    (
        Crates::One("query"),
        Allowed::OnlyWorkspace(&[]),
        "the query model knows no study language, no data source and no engine",
    ),
    (
        Crates::One("query"),
        Allowed::NoneOf(&["polars"]),
        "the query model and its reference interpreter need no dataframe library",
    ),
    (
        Crates::One("engine-polars"),
        Allowed::OnlyWorkspace(&["query"]),
        "an engine evaluates the query model and reads no files: it is given its tables",
    ),
    (
        Crates::One("engine-sql"),
        Allowed::OnlyWorkspace(&["query"]),
        "the SQL engine compiles the query model and knows no study language and no file format",
    ),
    (
        Crates::One("engine-sql"),
        Allowed::NoneOf(&["polars"]),
        "the SQL engine runs inside the database: no dataframe library",
    ),
    (
        Crates::One("engine-spark"),
        Allowed::OnlyWorkspace(&["query", "engine-sql", "spark-connect"]),
        "the Spark engine runs the SQL engine's plans through the Spark Connect client",
    ),
    (
        Crates::One("engine-spark"),
        Allowed::NoneOf(&["polars"]),
        "the Spark engine exchanges Arrow IPC bytes: no dataframe library",
    ),
    (
        Crates::One("ehr"),
        Allowed::OnlyWorkspace(&["query"]),
        "the table contract and its sources know no study language and no engine",
    ),
    (
        Crates::One("spark-connect"),
        Allowed::OnlyWorkspace(&[]),
        "the Spark Connect client is a protocol library",
    ),
    (
        Crates::One("charts"),
        Allowed::OnlyWorkspace(&["yaml", "files"]),
        "the chart model reads measure files and the outputs file, not the runner, the engines or its users",
    ),
    (
        Crates::One("plots"),
        Allowed::NoneOf(&["pipeline", "cohort", "measures"]),
        "plots read measure files, not the runner or the engines",
    ),
    (
        Crates::One("report"),
        Allowed::NoneOf(&["pipeline", "cohort", "measures"]),
        "the report reads measure files and codelists, not the runner or the engines",
    ),
    (
        Crates::One("report"),
        Allowed::NoneOf(&["plots"]),
        "plots and report are siblings: what they share is in charts",
    ),
    (
        Crates::Libraries,
        Allowed::NoneOf(&["clap"]),
        "nothing under a library crate parses argv: the driver does, with clap",
    ),
    (
        Crates::Libraries,
        Allowed::NoneOf(&["xtask", "e2e"]),
        "libraries do not know the driver",
    ),
];

/// Each workspace crate's normal and build dependencies, from `cargo metadata`.
fn workspace_dependencies() -> BTreeMap<String, Vec<String>> {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
            "--manifest-path",
            manifest,
        ])
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|package| {
            let name = package["name"].as_str().unwrap().to_string();
            let deps = package["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].as_str() != Some("dev"))
                .map(|d| d["name"].as_str().unwrap().to_string())
                .collect();
            (name, deps)
        })
        .collect()
}

/// Every broken rule of `deps` (crate -> its dependencies), and every crate not placed.
fn violations(deps: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let workspace: Vec<&str> = deps.keys().map(String::as_str).collect();
    let mut broken = Vec::new();
    for name in &workspace {
        if !LIBRARIES.contains(name) && !DRIVERS.contains(name) {
            broken.push(format!(
                "{name}: not placed; add it to LIBRARIES or DRIVERS in tests/tests/architecture.rs"
            ));
        }
    }
    for (crates, allowed, why) in RULES {
        let names: Vec<&str> = match crates {
            Crates::One(name) => vec![name],
            Crates::Libraries => LIBRARIES.to_vec(),
        };
        for name in names {
            let Some(crate_deps) = deps.get(name) else {
                broken.push(format!(
                    "{name}: a rule names it, but the workspace has no such crate"
                ));
                continue;
            };
            for dep in crate_deps {
                let forbidden = match allowed {
                    Allowed::OnlyWorkspace(ok) => {
                        workspace.contains(&dep.as_str()) && !ok.contains(&dep.as_str())
                    }
                    Allowed::NoneOf(bad) => bad.contains(&dep.as_str()),
                };
                if forbidden {
                    broken.push(format!("{name} depends on {dep}, but {why}"));
                }
            }
        }
    }
    broken
}

#[test]
fn the_workspace_keeps_its_dependency_rules() {
    let broken = violations(&workspace_dependencies());
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn a_broken_rule_is_reported() {
    let mut deps = workspace_dependencies();
    deps.get_mut("pipeline").unwrap().push("cohort".into());
    deps.get_mut("plots").unwrap().push("clap".into());
    deps.insert("engine".into(), Vec::new());
    assert_eq!(
        violations(&deps),
        [
            "engine: not placed; add it to LIBRARIES or DRIVERS in tests/tests/architecture.rs",
            "pipeline depends on cohort, but the pipeline knows no image: images are registered by the driver",
            "plots depends on clap, but nothing under a library crate parses argv: the driver does, with clap",
        ]
    );
}
