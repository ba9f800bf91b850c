//! After an action: which declared outputs it produced, what else it wrote, and OpenSAFELY's
//! release checks on `moderately_sensitive` files.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::tree::{expand, Stamp};
use crate::paths::{glob_match, suffix, LEVEL4_FILE_TYPES};
use crate::project::{Action, Level, Project};

/// Size limit for a released file.
pub const LEVEL4_MAX_BYTES: u64 = 16 * 1024 * 1024;
/// Row limit for a released CSV.
pub const LEVEL4_MAX_CSV_ROWS: usize = 5000;

/// What an action's run left behind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutputCheck {
    /// Files matching a declared pattern, with the pattern's level, sorted by path.
    pub matched: Vec<(String, Level)>,
    /// Declared patterns that matched no file.
    pub unmatched_patterns: Vec<String>,
    /// Files the action wrote (new or changed during its run) that no pattern of this action
    /// declares.
    pub undeclared: Vec<String>,
    /// Release-check problems of `moderately_sensitive` files (warnings).
    pub level4_warnings: Vec<String>,
}

/// Checks `action`'s outputs in `project_dir`, given the folder before and after its run.
pub fn check_outputs(
    project_dir: &Path,
    project: &Project,
    action: &Action,
    before: &BTreeMap<String, Stamp>,
    after: &BTreeMap<String, Stamp>,
) -> OutputCheck {
    let mut check = OutputCheck::default();
    let mut matched: BTreeMap<String, Level> = BTreeMap::new();
    for output in &action.outputs {
        let files = expand(project_dir, &output.pattern);
        if files.is_empty() {
            check.unmatched_patterns.push(output.pattern.clone());
        }
        for f in files {
            matched.entry(f).or_insert(output.level);
        }
    }
    let others: Vec<&str> = project
        .actions
        .iter()
        .filter(|a| a.name != action.name)
        .flat_map(|a| a.outputs.iter().map(|o| o.pattern.as_str()))
        .collect();
    for (path, stamp) in after {
        let written = before.get(path) != Some(stamp);
        // Another action's output, or one it is writing (under a temporary name) right now.
        let others_file = |path: &str| others.iter().any(|p| glob_match(p, path));
        let others_pending = files::pending_target(path).is_some_and(|t| others_file(&t));
        if written && !matched.contains_key(path) && !others_file(path) && !others_pending {
            check.undeclared.push(path.clone());
        }
    }
    for (path, level) in &matched {
        if *level == Level::ModeratelySensitive {
            for problem in level4_problems(&project_dir.join(path), path) {
                check.level4_warnings.push(format!("{path}: {problem}"));
            }
        }
    }
    check.matched = matched.into_iter().collect();
    check
}

/// OpenSAFELY's level-4 checks of one `moderately_sensitive` file: size, file type, a
/// `patient_id` column and the number of rows of a CSV.
pub fn level4_problems(path: &Path, rel: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    if size > LEVEL4_MAX_BYTES {
        problems.push(format!(
            "file size {:.2} MiB is larger than the limit of 16 MiB",
            size as f64 / (1024.0 * 1024.0)
        ));
    }
    let ext = suffix(rel);
    if !LEVEL4_FILE_TYPES.contains(&ext) {
        problems.push(format!(
            "file type {ext} is not allowed for moderately_sensitive outputs"
        ));
    }
    if ext == ".csv" {
        if let Ok(file) = std::fs::File::open(path) {
            let mut lines = BufReader::new(file).lines();
            if let Some(Ok(header)) = lines.next() {
                if header
                    .split(',')
                    .any(|c| c.trim().trim_matches('"') == "patient_id")
                {
                    problems.push("contains a patient_id column".into());
                }
            }
            let rows = lines.count();
            if rows > LEVEL4_MAX_CSV_ROWS {
                problems.push(format!(
                    "has {rows} rows, more than the limit of {LEVEL4_MAX_CSV_ROWS}"
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level4() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("a.csv");
        let mut text = String::from("patient_id,x\n");
        for i in 0..5001 {
            text.push_str(&format!("{i},1\n"));
        }
        std::fs::write(&csv, text).unwrap();
        assert_eq!(
            level4_problems(&csv, "a.csv"),
            [
                "contains a patient_id column",
                "has 5001 rows, more than the limit of 5000"
            ]
        );
        let ok = dir.path().join("b.csv");
        std::fs::write(&ok, "x\n1\n").unwrap();
        assert!(level4_problems(&ok, "b.csv").is_empty());
        let rds = dir.path().join("c.rds");
        std::fs::write(&rds, "x").unwrap();
        assert_eq!(
            level4_problems(&rds, "c.rds"),
            ["file type .rds is not allowed for moderately_sensitive outputs"]
        );
    }
}
