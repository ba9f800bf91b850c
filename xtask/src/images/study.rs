//! The study definition as the charts see it ([`charts::Study`]): loaded with `cohort`'s loader,
//! as `generate_cohort` and `generate_measures` load it, so plots and report know the study's
//! measures and codelists without linking the engines themselves.

use std::path::{Path, PathBuf};

use cohort::study::{GroupBy, StudyDefinition};
use pipeline::image::ImageError;

/// The default `--study-definition` of plots and report.
pub const DEFAULT_STUDY_DEFINITION: &str = "study_definition";

/// Loads `analysis/<name>.yaml` (or, without one, `analysis/<name>.py`) of `project_dir`. Returns the study and the files read (the
/// study definition), relative to `project_dir`.
pub fn load(project_dir: &Path, name: &str) -> Result<(charts::Study, Vec<PathBuf>), ImageError> {
    let found = files::study::select_any(&project_dir.join("analysis"), Some(name))
        .map_err(|e| e.to_string())?;
    let Some(file) = found.into_iter().next() else {
        return Err(format!("no study definition analysis/{name}.yaml or .py").into());
    };
    let definition = StudyDefinition::load(&file.path).map_err(|e| e.to_string())?;
    let relative = |p: &Path| {
        p.strip_prefix(project_dir)
            .map_or_else(|_| p.to_path_buf(), Path::to_path_buf)
    };
    let shown = relative(&file.path);
    let name = project_dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "Study".to_string());
    let study = charts::Study {
        name,
        definition: shown.clone(),
        index_date: definition.index_date,
        measures: definition
            .measures
            .iter()
            .map(|m| charts::Measure {
                id: m.id.clone(),
                numerator: m.numerator.clone(),
                denominator: m.denominator.clone(),
                group_by: match &m.group_by {
                    GroupBy::Variables(v) => v.clone(),
                    GroupBy::None | GroupBy::Population => Vec::new(),
                },
            })
            .collect(),
        codelists: definition
            .codelists
            .values()
            .map(|c| charts::StudyCodelist {
                name: c.name.clone(),
                system: c.system.name().to_string(),
                csv: c.csv.as_deref().map(relative),
                column: c.column.clone(),
                codes: c.codes.keys().cloned().collect(),
            })
            .collect(),
    };
    Ok((study, vec![shown]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_the_repository_study() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let (study, read) = load(&root, DEFAULT_STUDY_DEFINITION).unwrap();
        assert_eq!(read, [PathBuf::from("analysis/study_definition.yaml")]);
        let ids: Vec<&str> = study.measures.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "pulse_ox_by_sex",
                "pulse_ox_by_region",
                "pulse_ox_by_age_band",
                "pulse_ox_total"
            ]
        );
        assert_eq!(study.measures[0].group_by, ["sex"]);
        assert!(study.measures[3].group_by.is_empty());
        let c = &study.codelists[0];
        assert_eq!(
            (c.name.as_str(), c.system.as_str(), c.column.as_deref()),
            ("pulse_oximetry_codes", "ctv3", Some("CTV3ID"))
        );
        assert_eq!(
            c.csv.as_deref(),
            Some(Path::new("codelists/opensafely-pulse-oximetry.csv"))
        );
        let e = load(&root, "nope").unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
    }
}
