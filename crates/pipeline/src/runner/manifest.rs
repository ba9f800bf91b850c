//! `metadata/manifest.json`: what each action last did, and every output it wrote.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::tree::write_record;

/// One recorded output file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// Privacy level (`highly_sensitive`, …).
    pub level: String,
    /// The action that wrote it.
    pub action: String,
    /// Size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the contents.
    pub sha256: String,
    /// When it was recorded (RFC 3339).
    pub timestamp: String,
}

/// The last run of one action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// `succeeded` or `failed`.
    pub status: String,
    /// Why it failed, or a note on success.
    pub message: String,
    /// Start (RFC 3339).
    pub started: String,
    /// End (RFC 3339).
    pub finished: String,
    /// Wall time in seconds.
    pub duration_seconds: f64,
    /// Hex SHA-256 of what determines the action besides files: image, arguments (with
    /// `config`) and declared outputs.
    pub command_sha256: String,
    /// Files the action read (inputs, study definition, codelists, scripts) → hex SHA-256.
    pub reads: BTreeMap<String, String>,
    /// Files reported as read by an in-process image, beyond those derived from the action.
    #[serde(default)]
    pub reported_reads: Vec<String>,
    /// The output files it wrote.
    pub outputs: Vec<String>,
}

impl ActionRecord {
    /// Whether the run succeeded.
    pub fn succeeded(&self) -> bool {
        self.status == "succeeded"
    }
}

/// The whole manifest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Per output path.
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputRecord>,
    /// Per action name.
    #[serde(default)]
    pub actions: BTreeMap<String, ActionRecord>,
}

impl Manifest {
    /// The manifest path in a project folder.
    pub fn path(project_dir: &Path) -> std::path::PathBuf {
        project_dir.join("metadata").join("manifest.json")
    }

    /// Reads the manifest of `project_dir`; a missing file is an empty manifest, an unreadable
    /// one an error naming the file.
    pub fn load(project_dir: &Path) -> Result<Manifest, String> {
        let path = Self::path(project_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| format!("{}: cannot read the run records: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes the manifest atomically.
    pub fn save(&self, project_dir: &Path) -> std::io::Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        text.push('\n');
        write_record(&Self::path(project_dir), text.as_bytes())
    }

    /// Replaces the record of `action` and its outputs.
    pub fn record(
        &mut self,
        action: &str,
        record: ActionRecord,
        outputs: Vec<(String, OutputRecord)>,
    ) {
        self.outputs.retain(|_, o| o.action != action);
        self.outputs.extend(outputs);
        self.actions.insert(action.to_string(), record);
    }
}
