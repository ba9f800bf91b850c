//! Finding a project's study definitions: `analysis/study_definition[_NAME].{yaml,py}`, by
//! cohortextractor's rule (`^(study_definition(_\w+)?)\.py$`, sorted by name; the suffix is
//! `_NAME` or empty), YAML files likewise.

use std::io;
use std::path::{Path, PathBuf};

/// The language a study definition is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StudyLanguage {
    /// `NAME.yaml`: the format this project reads.
    Yaml,
    /// `NAME.py`: a cohortextractor study definition.
    Python,
}

impl StudyLanguage {
    /// Both languages, YAML first.
    pub const ALL: [StudyLanguage; 2] = [StudyLanguage::Yaml, StudyLanguage::Python];

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            StudyLanguage::Yaml => "yaml",
            StudyLanguage::Python => "py",
        }
    }
}

/// One study definition file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StudyDefinitionFile {
    /// `study_definition` or `study_definition_NAME`.
    pub name: String,
    /// The language of the file.
    pub language: StudyLanguage,
    /// Where it is.
    pub path: PathBuf,
}

impl StudyDefinitionFile {
    /// The suffix its outputs carry: `""` for `study_definition`, `_NAME` for
    /// `study_definition_NAME`.
    pub fn suffix(&self) -> &str {
        study_definition_suffix(&self.name).unwrap_or("")
    }
}

/// `Some("_x")` for `study_definition_x`, `Some("")` for `study_definition`, `None` for any
/// name that is not a study definition's (`\w` is a letter, digit or `_`, as in Python).
pub fn study_definition_suffix(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("study_definition")?;
    if rest.is_empty() {
        return Some(rest);
    }
    let word = rest.strip_prefix('_')?;
    (!word.is_empty() && word.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(rest)
}

/// Why the study definitions could not be found.
#[derive(Debug, thiserror::Error)]
pub enum StudyDefinitionError {
    /// The folder could not be listed.
    #[error("cannot list study definitions in {}: {source}", dir.display())]
    List {
        /// The `analysis` folder.
        dir: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The folder holds none.
    #[error("no study definitions (study_definition*.{extension}) in {}", dir.display())]
    None {
        /// The `analysis` folder.
        dir: PathBuf,
        /// The extension looked for.
        extension: &'static str,
    },
    /// The one asked for is not there.
    #[error("unknown study definition `{name}` (in {}: {})", dir.display(), if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    Unknown {
        /// The name asked for.
        name: String,
        /// The `analysis` folder.
        dir: PathBuf,
        /// The names that are there.
        known: Vec<String>,
    },
}

/// Every study definition in `analysis_dir`, sorted by name, then YAML before Python.
pub fn discover(analysis_dir: &Path) -> Result<Vec<StudyDefinitionFile>, StudyDefinitionError> {
    let list_error = |source| StudyDefinitionError::List {
        dir: analysis_dir.to_path_buf(),
        source,
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(analysis_dir).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        let Ok(file) = entry.file_name().into_string() else {
            continue;
        };
        for language in StudyLanguage::ALL {
            let Some(name) = file
                .strip_suffix(language.extension())
                .and_then(|f| f.strip_suffix('.'))
            else {
                continue;
            };
            if study_definition_suffix(name).is_some() && entry.path().is_file() {
                found.push(StudyDefinitionFile {
                    name: name.to_string(),
                    language,
                    path: entry.path(),
                });
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The `language` study definitions a command runs: all of them for `wanted` `None` or `all`
/// (cohortextractor's default), else the one named; an error when there are none or the name
/// is unknown.
pub fn select(
    analysis_dir: &Path,
    wanted: Option<&str>,
    language: StudyLanguage,
) -> Result<Vec<StudyDefinitionFile>, StudyDefinitionError> {
    let mut found = discover(analysis_dir)?;
    found.retain(|f| f.language == language);
    match wanted {
        None | Some("all") if found.is_empty() => Err(StudyDefinitionError::None {
            dir: analysis_dir.to_path_buf(),
            extension: language.extension(),
        }),
        None | Some("all") => Ok(found),
        Some(name) => match found.iter().position(|f| f.name == name) {
            Some(i) => Ok(vec![found.swap_remove(i)]),
            None => Err(StudyDefinitionError::Unknown {
                name: name.to_string(),
                dir: analysis_dir.to_path_buf(),
                known: found.into_iter().map(|f| f.name).collect(),
            }),
        },
    }
}

/// The study definitions a command runs, in either language: as [`select`], each name once,
/// its YAML file when there is one, else its Python one (`analysis/NAME.py`, run through the
/// recording cohortextractor).
pub fn select_any(
    analysis_dir: &Path,
    wanted: Option<&str>,
) -> Result<Vec<StudyDefinitionFile>, StudyDefinitionError> {
    let mut found = discover(analysis_dir)?;
    // Sorted by name, then YAML before Python: keep the first of each name.
    found.dedup_by(|later, first| later.name == first.name);
    match wanted {
        None | Some("all") if found.is_empty() => Err(StudyDefinitionError::None {
            dir: analysis_dir.to_path_buf(),
            extension: "{yaml,py}",
        }),
        None | Some("all") => Ok(found),
        Some(name) => match found.iter().position(|f| f.name == name) {
            Some(i) => Ok(vec![found.swap_remove(i)]),
            None => Err(StudyDefinitionError::Unknown {
                name: name.to_string(),
                dir: analysis_dir.to_path_buf(),
                known: found.into_iter().map(|f| f.name).collect(),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_follow_cohortextractor() {
        assert_eq!(study_definition_suffix("study_definition"), Some(""));
        assert_eq!(study_definition_suffix("study_definition_x1"), Some("_x1"));
        assert_eq!(study_definition_suffix("study_definition__"), Some("__"));
        assert_eq!(study_definition_suffix("study_definition_é"), Some("_é"));
        assert_eq!(study_definition_suffix("study_definition_"), None);
        assert_eq!(study_definition_suffix("study_definitionx"), None);
        assert_eq!(study_definition_suffix("study_definition_a-b"), None);
        assert_eq!(study_definition_suffix("other"), None);
    }

    fn analysis(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        dir
    }

    #[test]
    fn discovers_both_languages_sorted() {
        let dir = analysis(&[
            "study_definition_b.yaml",
            "study_definition.py",
            "study_definition.yaml",
            "study_definition_a.py",
            "study_definition_.yaml",
            "study_definition.yml",
            "notes.yaml",
        ]);
        let found: Vec<(String, StudyLanguage, String)> = discover(dir.path())
            .unwrap()
            .into_iter()
            .map(|f| {
                let suffix = f.suffix().to_string();
                (f.name, f.language, suffix)
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "study_definition".into(),
                    StudyLanguage::Yaml,
                    String::new()
                ),
                (
                    "study_definition".into(),
                    StudyLanguage::Python,
                    String::new()
                ),
                (
                    "study_definition_a".into(),
                    StudyLanguage::Python,
                    "_a".into()
                ),
                (
                    "study_definition_b".into(),
                    StudyLanguage::Yaml,
                    "_b".into()
                ),
            ]
        );
    }

    #[test]
    fn selects_all_or_one_and_says_what_is_there() {
        let dir = analysis(&[
            "study_definition.yaml",
            "study_definition_x.yaml",
            "study_definition_p.py",
        ]);
        let names = |wanted| -> Vec<String> {
            select(dir.path(), wanted, StudyLanguage::Yaml)
                .unwrap()
                .into_iter()
                .map(|f| f.name)
                .collect()
        };
        assert_eq!(names(None), ["study_definition", "study_definition_x"]);
        assert_eq!(
            names(Some("all")),
            ["study_definition", "study_definition_x"]
        );
        assert_eq!(names(Some("study_definition_x")), ["study_definition_x"]);
        let e = select(dir.path(), Some("study_definition_p"), StudyLanguage::Yaml).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "unknown study definition `study_definition_p` (in {}: study_definition, study_definition_x)",
                dir.path().display()
            )
        );
        let empty = analysis(&[]);
        let e = select(empty.path(), None, StudyLanguage::Yaml).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "no study definitions (study_definition*.yaml) in {}",
                empty.path().display()
            )
        );
        let e = select(&empty.path().join("missing"), None, StudyLanguage::Yaml).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot list study definitions in "),
            "{e}"
        );
    }

    #[test]
    fn select_any_prefers_yaml_and_falls_back_to_python() {
        let dir = analysis(&[
            "study_definition.py",
            "study_definition.yaml",
            "study_definition_a.py",
        ]);
        let all: Vec<(String, StudyLanguage)> = select_any(dir.path(), None)
            .unwrap()
            .into_iter()
            .map(|f| (f.name, f.language))
            .collect();
        assert_eq!(
            all,
            [
                ("study_definition".into(), StudyLanguage::Yaml),
                ("study_definition_a".into(), StudyLanguage::Python)
            ]
        );
        let one = select_any(dir.path(), Some("study_definition_a")).unwrap();
        assert_eq!(one[0].path, dir.path().join("study_definition_a.py"));
        let err = select_any(dir.path(), Some("study_definition_b")).unwrap_err();
        assert!(
            err.to_string()
                .contains("study_definition, study_definition_a"),
            "{err}"
        );
        let empty = analysis(&[]);
        let err = select_any(empty.path(), None).unwrap_err();
        assert!(
            err.to_string().contains("study_definition*.{yaml,py}"),
            "{err}"
        );
    }
}
