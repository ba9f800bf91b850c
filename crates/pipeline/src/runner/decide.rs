//! Whether an action must run: by content, not by time.
//!
//! An action's fingerprint is a hash of what determines it besides files (image, arguments
//! with `config`, declared outputs) plus the SHA-256 of every file it reads: the outputs of
//! its needs, the study definition and codelists of cohortextractor actions, files named in
//! its `run` line, and files an in-process image reported reading last time.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::manifest::Manifest;
use super::tree::{expand, sha256_file, sha256_files, sha256_hex};
use crate::paths::glob_match;
use crate::project::{option_value, Action};

/// What the runner does with an action, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Run it.
    Run(String),
    /// Keep its previous results.
    Skip(String),
}

/// Hash of the image, the arguments and the declared outputs.
pub fn command_hash(action: &Action, args: &[String]) -> String {
    let mut text = format!("{}:{}\0", action.run.image, action.run.tag);
    for arg in args {
        text.push_str(arg);
        text.push('\0');
    }
    for o in &action.outputs {
        text.push_str(&format!("{}\0{}\0", o.level, o.pattern));
    }
    sha256_hex(text.as_bytes())
}

/// Turns a path named in a command into a project-relative path (`/workspace/…`, the
/// container mount point of OpenSAFELY, is the project folder).
fn project_relative(arg: &str) -> Option<String> {
    let rel = arg.strip_prefix("/workspace/").unwrap_or(arg);
    if rel.is_empty() || rel.starts_with('/') || rel.starts_with('-') {
        return None;
    }
    Some(rel.trim_start_matches("./").to_string())
}

/// The files `action` reads, relative to the project folder (those that exist now).
pub fn read_set(
    project_dir: &Path,
    action: &Action,
    args: &[String],
    manifest: &Manifest,
) -> BTreeSet<String> {
    let mut reads = BTreeSet::new();
    for need in &action.needs {
        if let Some(record) = manifest.actions.get(need) {
            reads.extend(record.outputs.iter().cloned());
        }
    }
    let cohortextractor = action.run.image == "cohortextractor"
        && matches!(
            args.first().map(String::as_str),
            Some("generate_cohort" | "generate_measures")
        );
    if cohortextractor {
        // The study definitions it runs: the one named (either language), or all of them.
        let wanted = option_value(args, "--study-definition").filter(|n| *n != "all");
        let found = files::study::discover(&project_dir.join("analysis")).unwrap_or_default();
        for definition in found {
            if wanted.is_none_or(|w| w == definition.name) {
                reads.insert(format!(
                    "analysis/{}.{}",
                    definition.name,
                    definition.language.extension()
                ));
            }
        }
        let mut stack = vec![String::from("codelists")];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(project_dir.join(&dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let rel = format!("{dir}/{}", entry.file_name().to_string_lossy());
                match entry.file_type() {
                    Ok(t) if t.is_dir() => stack.push(rel),
                    Ok(t) if t.is_file() => {
                        reads.insert(rel);
                    }
                    _ => {}
                }
            }
        }
    }
    for arg in args {
        let value = match arg.split_once('=') {
            Some((flag, v)) if flag.starts_with("--") => v,
            _ => arg.as_str(),
        };
        if let Some(rel) = project_relative(value) {
            if project_dir.join(&rel).is_file() {
                reads.insert(rel);
            }
        }
    }
    if let Some(record) = manifest.actions.get(&action.name) {
        for rel in &record.reported_reads {
            // A reported glob-free path that still exists.
            if !expand(project_dir, rel).is_empty() {
                reads.insert(rel.clone());
            }
        }
    }
    reads.retain(|r| !action.outputs.iter().any(|o| glob_match(&o.pattern, r)));
    reads
}

/// SHA-256 of each file in `paths` (files that cannot be read are left out).
pub fn hash_files(project_dir: &Path, paths: &BTreeSet<String>) -> BTreeMap<String, String> {
    let full: Vec<std::path::PathBuf> = paths.iter().map(|p| project_dir.join(p)).collect();
    paths
        .iter()
        .zip(sha256_files(&full))
        .filter_map(|(p, hashed)| hashed.ok().map(|(sha, _)| (p.clone(), sha)))
        .collect()
}

/// Decides whether `action` runs. `named`: the user asked for it by name; `forced`: `-f`.
pub fn decide(
    project_dir: &Path,
    action: &Action,
    args: &[String],
    manifest: &Manifest,
    named: bool,
    forced: bool,
) -> Decision {
    if named {
        return Decision::Run("requested".into());
    }
    if forced {
        return Decision::Run("forced with -f".into());
    }
    let Some(record) = manifest.actions.get(&action.name) else {
        return Decision::Run("no previous run".into());
    };
    if !record.succeeded() {
        return Decision::Run("previous run failed".into());
    }
    for path in &record.outputs {
        let Some(recorded) = manifest.outputs.get(path) else {
            return Decision::Run(format!("output {path} is not in the run records"));
        };
        match sha256_file(&project_dir.join(path)) {
            Err(_) => return Decision::Run(format!("output {path} is missing")),
            Ok((sha, _)) if sha != recorded.sha256 => {
                return Decision::Run(format!("output {path} changed since it was written"))
            }
            Ok(_) => {}
        }
    }
    if command_hash(action, args) != record.command_sha256 {
        return Decision::Run("run line, config or outputs changed".into());
    }
    let now = hash_files(project_dir, &read_set(project_dir, action, args, manifest));
    for (path, sha) in &now {
        match record.reads.get(path) {
            None => return Decision::Run(format!("new input {path}")),
            Some(old) if old != sha => return Decision::Run(format!("input {path} changed")),
            Some(_) => {}
        }
    }
    if let Some(path) = record.reads.keys().find(|p| !now.contains_key(*p)) {
        return Decision::Run(format!("input {path} no longer exists"));
    }
    Decision::Skip("up to date".into())
}
