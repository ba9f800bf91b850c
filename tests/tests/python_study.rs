//! A cohortextractor study as it was published, `analysis/study_definition.py` and no YAML,
//! through `cargo xtask run-all`: the same files as the YAML study definition gives.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::support::{copy_dir, repo_root};

/// Every file under `dir/output`, by path relative to it.
fn outputs(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.join("output")];
    while let Some(folder) = stack.pop() {
        for entry in fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                let rel = entry.path().strip_prefix(dir).unwrap().to_path_buf();
                files.insert(rel, fs::read(entry.path()).unwrap());
            }
        }
    }
    files
}

fn run_all(dir: &Path) -> ExitCode {
    xtask::main([
        "cargo xtask",
        "run-all",
        "--project-dir",
        dir.to_str().unwrap(),
    ])
}

#[test]
fn the_reconstructed_study_definition_py_runs_unchanged_and_gives_the_yaml_files() {
    let root = repo_root();
    // Only project.yaml, analysis/study_definition.py (and the charts' analysis/outputs.yaml)
    // and codelists/.
    let py = tempfile::tempdir().unwrap();
    fs::copy(root.join("project.yaml"), py.path().join("project.yaml")).unwrap();
    copy_dir(&root.join("codelists"), &py.path().join("codelists"));
    fs::create_dir(py.path().join("analysis")).unwrap();
    fs::copy(
        root.join("tests/data/pulse_oximetry_py/analysis/study_definition.py"),
        py.path().join("analysis/study_definition.py"),
    )
    .unwrap();
    // The charts' outputs file names the four figures project.yaml declares.
    fs::copy(
        root.join("analysis/outputs.yaml"),
        py.path().join("analysis/outputs.yaml"),
    )
    .unwrap();
    let yaml = tempfile::tempdir().unwrap();
    fs::copy(root.join("project.yaml"), yaml.path().join("project.yaml")).unwrap();
    copy_dir(&root.join("codelists"), &yaml.path().join("codelists"));
    copy_dir(&root.join("analysis"), &yaml.path().join("analysis"));

    assert_eq!(
        xtask::main([
            "cargo xtask",
            "check",
            "--project-dir",
            py.path().to_str().unwrap()
        ]),
        ExitCode::SUCCESS
    );
    assert_eq!(run_all(py.path()), ExitCode::SUCCESS);
    assert_eq!(run_all(yaml.path()), ExitCode::SUCCESS);
    let (a, b) = (outputs(py.path()), outputs(yaml.path()));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for file in [
        "output/measures/input_2019-01-01.csv",
        "output/measures/input_2021-01-01.csv",
        "output/measures/measure_pulse_ox_by_age_band.csv",
        "output/measures/measure_pulse_ox_total_2020-06-01.csv",
        "output/figures/region_rates.jpeg",
        "output/pulse_oximetry_SRO.html",
    ] {
        assert!(a.contains_key(Path::new(file)), "{file}: {:?}", a.keys());
    }
    for (path, bytes) in &a {
        assert!(bytes == &b[path], "{} differs", path.display());
    }
}
