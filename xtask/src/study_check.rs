//! `cargo xtask check` for the files an action names besides `project.yaml`: YAML study
//! definitions and the codelists they use.

use std::path::Path;

/// Checks the YAML study definition at `path`; returns every problem found, each naming the
/// file (and line where known).
pub fn check_study_definition(path: &Path) -> Result<(), Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| vec![format!("{}: cannot read: {err}", path.display())])?;
    match serde_yaml::from_str::<serde_yaml::Value>(&text) {
        Ok(_) => Ok(()),
        Err(err) => Err(vec![match err.location() {
            Some(loc) => format!("{}:{}:{}: {err}", path.display(), loc.line(), loc.column()),
            None => format!("{}: {err}", path.display()),
        }]),
    }
}
