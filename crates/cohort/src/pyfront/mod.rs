//! `study_definition.py` as a front end: the study's Python runs with the machine's `python3`
//! under the recording `cohortextractor` package this crate carries (`python/cohortextractor`,
//! embedded and written to a temporary folder put first on `PYTHONPATH`), which prints the
//! definition in the YAML study-definition schema with the `file:line` of every call. That text
//! is compiled exactly as a YAML definition ([`crate::lang`]); every diagnostic at a line of it
//! is moved to the line of the `.py` call that produced it.
//!
//! ```no_run
//! let study = cohort::lang::StudyDefinition::load("analysis/study_definition.py".as_ref())?;
//! let yaml = cohort::pyfront::translate("analysis/study_definition.py".as_ref(), &[])?;
//! # Ok::<(), cohort::lang::StudyError>(())
//! ```

mod emit;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde::Deserialize;
use yaml::{Diagnostic, Pos};

use crate::lang::{StudyDefinition, StudyError};

pub use emit::to_block_yaml;

/// The recording package, as carried by this repository (`crates/cohort/python/`).
const SHIM: [(&str, &str); 9] = [
    (
        "__init__.py",
        include_str!("../../python/cohortextractor/__init__.py"),
    ),
    (
        "_emit.py",
        include_str!("../../python/cohortextractor/_emit.py"),
    ),
    (
        "_record.py",
        include_str!("../../python/cohortextractor/_record.py"),
    ),
    (
        "_recording.py",
        include_str!("../../python/cohortextractor/_recording.py"),
    ),
    (
        "codelistlib.py",
        include_str!("../../python/cohortextractor/codelistlib.py"),
    ),
    (
        "exceptions.py",
        include_str!("../../python/cohortextractor/exceptions.py"),
    ),
    (
        "measure.py",
        include_str!("../../python/cohortextractor/measure.py"),
    ),
    (
        "patients.py",
        include_str!("../../python/cohortextractor/patients.py"),
    ),
    (
        "study_definition.py",
        include_str!("../../python/cohortextractor/study_definition.py"),
    ),
];

/// The Python interpreter run: `python3` from `PATH`.
pub const PYTHON: &str = "python3";

/// What running a `study_definition.py` recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// The definition in the YAML study-definition schema (flow style).
    pub text: String,
    /// Per line of `text`: the `(file relative to the study root, line)` of the call that
    /// produced it.
    pub origins: Vec<Option<(String, usize)>>,
    /// The module defines `measures` but no `study`.
    pub measures_only: bool,
}

/// Where the lines of a recorded definition came from, for placing its diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origins {
    /// The `.py` file, as named in messages.
    path: PathBuf,
    /// The study root.
    project_dir: PathBuf,
    /// Per line of the recorded text.
    lines: Vec<Option<(String, usize)>>,
}

impl Origins {
    /// The file `origin` (relative to the study root, `/`-separated) as shown in messages: the
    /// study definition's own path when it is that file.
    fn file(&self, origin: &str) -> PathBuf {
        let candidate = self.project_dir.join(origin);
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        };
        if same(&candidate, &self.path) {
            self.path.clone()
        } else {
            candidate
        }
    }

    /// Moves a diagnostic about the recorded text to the `.py` line that produced it (the
    /// nearest recorded line at or before it); diagnostics about other files (codelist CSVs)
    /// are returned unchanged. The column of the recorded text means nothing in the `.py`, so
    /// it is dropped.
    pub fn place(&self, d: Diagnostic) -> Diagnostic {
        if d.file != self.path || d.pos.line == 0 {
            return d;
        }
        let upto = d.pos.line.min(self.lines.len());
        match self.lines[..upto].iter().rev().find_map(Option::as_ref) {
            Some((file, line)) => Diagnostic {
                file: self.file(file),
                pos: Pos::new(*line, 0),
                ..d
            },
            None => Diagnostic {
                pos: Pos::FILE,
                ..d
            },
        }
    }

    /// The `.py` line (in whichever study file) that produced `line` of the recorded text.
    pub fn line(&self, line: usize) -> Option<usize> {
        let upto = line.min(self.lines.len());
        self.lines[..upto]
            .iter()
            .rev()
            .find_map(|o| o.as_ref().map(|(_, l)| *l))
    }

    /// [`Origins::place`] for every problem of `e`.
    pub fn place_all(&self, e: StudyError) -> StudyError {
        StudyError {
            problems: e.problems.into_iter().map(|d| self.place(d)).collect(),
        }
    }
}

#[derive(Deserialize)]
struct Output {
    text: Option<String>,
    #[serde(default)]
    origins: Vec<Option<String>>,
    #[serde(default)]
    measures_only: bool,
    error: Option<PyError>,
}

#[derive(Deserialize)]
struct PyError {
    kind: String,
    message: String,
    file: Option<String>,
    line: Option<usize>,
    detail: Option<String>,
    module: Option<String>,
}

fn problem(path: &Path, message: impl Into<String>) -> StudyError {
    StudyError {
        problems: vec![Diagnostic::error(Pos::FILE, message).in_file(path)],
    }
}

/// The study module's name and the study root of `path` (`ROOT/analysis/NAME.py`).
fn locate(path: &Path) -> Result<(String, PathBuf), StudyError> {
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| crate::lang::valid_name(s))
        .ok_or_else(|| {
            problem(
                path,
                "the study definition's name is not a Python module name",
            )
        })?
        .to_string();
    let analysis = path.parent().unwrap_or(Path::new(""));
    if analysis.file_name().is_some_and(|f| f != "analysis") {
        return Err(problem(
            path,
            "a Python study definition must be in the study's `analysis` folder (cohortextractor imports it from there)",
        ));
    }
    Ok((name, crate::lang::project_dir_of(path)))
}

/// Runs the study definition `path` (`ROOT/analysis/NAME.py`) under the recording package, in
/// the study root as the working directory, with `params` as `--param`s. The study's own code
/// runs as under cohortextractor (its imports and side effects). A Python exception is an
/// error at the traceback's last frame in the study's files, with that frame; a missing module
/// names it.
pub fn record(path: &Path, params: &[(String, String)]) -> Result<Recording, StudyError> {
    record_printing(path, params, &mut Vec::new())
}

/// [`record`], appending what the study printed (its stdout, then its stderr) to `printed`.
fn record_printing(
    path: &Path,
    params: &[(String, String)],
    printed: &mut Vec<u8>,
) -> Result<Recording, StudyError> {
    let (name, project_dir) = locate(path)?;
    if !path.is_file() {
        return Err(problem(path, "cannot read study definition: no such file"));
    }
    let temp = tempfile::Builder::new()
        .prefix("cohortextractor-shim")
        .tempdir()
        .map_err(|e| problem(path, format!("cannot create a temporary folder: {e}")))?;
    let package = temp.path().join("cohortextractor");
    let write = |p: &Path, text: &str| {
        std::fs::write(p, text)
            .map_err(|e| problem(path, format!("cannot write {}: {e}", p.display())))
    };
    std::fs::create_dir(&package)
        .map_err(|e| problem(path, format!("cannot create {}: {e}", package.display())))?;
    for (file, text) in SHIM {
        write(&package.join(file), text)?;
    }
    let output = temp.path().join("definition.json");
    let mut python_path = std::ffi::OsString::from(temp.path());
    if let Some(existing) = std::env::var_os("PYTHONPATH").filter(|p| !p.is_empty()) {
        python_path.push(if cfg!(windows) { ";" } else { ":" });
        python_path.push(existing);
    }
    let mut command = Command::new(PYTHON);
    command
        .args(["-m", "cohortextractor._record", "--study-definition"])
        .arg(&name)
        .arg("--output")
        .arg(&output)
        .current_dir(if project_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &project_dir
        })
        .env("PYTHONPATH", python_path)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for (k, v) in params {
        command.arg("--param").arg(format!("{k}={v}"));
    }
    let run = command.output().map_err(|e| {
        problem(
            path,
            format!("cannot run `{PYTHON}` (a Python study definition is run with the machine's python3): {e}"),
        )
    })?;
    printed.extend_from_slice(&run.stdout);
    printed.extend_from_slice(&run.stderr);
    let Ok(text) = std::fs::read_to_string(&output) else {
        let stderr = String::from_utf8_lossy(&run.stderr);
        return Err(problem(
            path,
            format!(
                "running it with {PYTHON} failed ({}) and recorded nothing: {}",
                run.status,
                stderr.trim()
            ),
        ));
    };
    let out: Output = serde_json::from_str(&text).map_err(|e| {
        problem(
            path,
            format!("internal error: the recording is not JSON: {e}"),
        )
    })?;
    let origins = Origins {
        path: path.to_path_buf(),
        project_dir: project_dir.clone(),
        lines: Vec::new(),
    };
    if let Some(err) = out.error {
        let file = err
            .file
            .as_deref()
            .map_or_else(|| path.to_path_buf(), |f| origins.file(f));
        let pos = err.line.map_or(Pos::FILE, |l| Pos::new(l, 0));
        let mut message = err.message.clone();
        if let (true, Some(module)) = (err.kind == "missing_module", &err.module) {
            let top = module.split('.').next().unwrap_or(module);
            if top == "cohortextractor" {
                message.push_str(&format!(
                    " (the study imports `{module}`, which this repository's cohortextractor does not provide)"
                ));
            } else {
                message.push_str(&format!(
                    " (the study imports `{top}`, which {PYTHON} cannot find: install it, e.g. `{PYTHON} -m pip install {top}`)"
                ));
            }
        }
        // The traceback's last frame in the study's files, as Python shows it.
        if let Some(detail) = err
            .detail
            .as_deref()
            .map(str::trim_end)
            .filter(|d| !d.is_empty())
        {
            message.push('\n');
            message.push_str(detail);
        }
        let d = Diagnostic::error(pos, message).in_file(file);
        return Err(StudyError { problems: vec![d] });
    }
    let Some(text) = out.text else {
        return Err(problem(path, "internal error: the recording has no text"));
    };
    let origins = out
        .origins
        .into_iter()
        .map(|o| {
            o.and_then(|o| {
                let (file, line) = o.rsplit_once(':')?;
                Some((file.to_string(), line.parse().ok()?))
            })
        })
        .collect();
    Ok(Recording {
        text,
        origins,
        measures_only: out.measures_only,
    })
}

/// Loads the study definition `path` (`ROOT/analysis/NAME.py`): [`record`], then the recorded
/// definition validated as a YAML one, its problems placed in the `.py` files.
pub fn load(path: &Path, params: &[(String, String)]) -> Result<StudyDefinition, StudyError> {
    load_recording(path, record(path, params)?)
}

/// [`load`], writing what the study printed to `log` (as cohortextractor's run shows it),
/// also when it fails.
pub fn load_printing(
    path: &Path,
    params: &[(String, String)],
    log: &mut dyn std::io::Write,
) -> Result<StudyDefinition, StudyError> {
    let mut printed = Vec::new();
    let recording = record_printing(path, params, &mut printed);
    log.write_all(&printed).map_err(|e| {
        problem(
            path,
            format!("cannot write the study's output to the log: {e}"),
        )
    })?;
    load_recording(path, recording?)
}

/// Validates what running `path` recorded.
fn load_recording(path: &Path, recording: Recording) -> Result<StudyDefinition, StudyError> {
    if recording.measures_only {
        return Err(problem(
            path,
            "it defines `measures` but no `study`: a study definition needs `study = StudyDefinition(...)`",
        ));
    }
    let origins = Arc::new(Origins {
        path: path.to_path_buf(),
        project_dir: crate::lang::project_dir_of(path),
        lines: recording.origins,
    });
    crate::lang::from_recorded(&recording.text, path, origins)
}

/// The YAML study definition equivalent to the Python one at `path`: block style, loops
/// unrolled, codelists referenced by file, validated first (any problem is returned, with its
/// `.py` position). Its tree is checked to be the recorded one, so it gives identical cohorts.
pub fn translate(path: &Path, params: &[(String, String)]) -> Result<String, StudyError> {
    let recording = record(path, params)?;
    load_recording(path, recording.clone())?;
    let (root, diagnostics) = yaml::parse(&recording.text);
    let root = match root {
        Some(root) if diagnostics.is_empty() => root,
        _ => return Err(problem(path, "internal error: the recording is not YAML")),
    };
    let shown = path
        .file_name()
        .map_or_else(String::new, |f| f.to_string_lossy().into_owned());
    let header = format!(
        "# Translated from analysis/{shown} (cohortextractor) by `cargo xtask translate`.\n"
    );
    let body = to_block_yaml(&root);
    let text = format!("{header}{body}");
    match yaml::parse(&text) {
        (Some(back), d) if d.is_empty() && emit::same_tree(&back, &root) => Ok(text),
        _ => Err(problem(
            path,
            "internal error: the YAML translation does not read back as the recorded definition",
        )),
    }
}
