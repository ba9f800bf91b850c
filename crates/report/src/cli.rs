//! `generate_report` ([`ReportOptions`]: the measures folder, the output file, the outputs file
//! and optionally one codelist): the study's HTML report.

use std::io::Write;
use std::path::{Path, PathBuf};

use charts::codelist::{inline_table, read_table, CodelistError, CodelistTable};
use charts::data::DataError;
use charts::{OutputsError, Study, StudyCodelist};

use crate::page::{render_report, RenderError};

/// Errors of `generate_report`.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The outputs file is invalid.
    #[error(transparent)]
    Outputs(#[from] OutputsError),
    /// A measure file could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A codelist could not be read.
    #[error(transparent)]
    Codelist(#[from] CodelistError),
    /// The page could not be rendered.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The study defines no measures and the outputs file no charts.
    #[error("nothing to report: the study definition has no measures")]
    NoCharts,
    /// The output could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The options of `generate_report`; relative paths are relative to the project folder. The
/// driver parses argv into them (`xtask/src/images/generate_report.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportOptions {
    /// Where the `measure_*.csv` files are (default `output/measures`).
    pub measures_dir: PathBuf,
    /// The HTML file written (default `output/report.html`).
    pub output: PathBuf,
    /// The outputs file; `None` reads `analysis/outputs.yaml` when it exists.
    pub outputs: Option<PathBuf>,
    /// Shows this codelist CSV instead of the study definition's codelists (the old
    /// `--codelist` flag): as the study's codelist of that file when there is one.
    pub codelist: Option<PathBuf>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            measures_dir: PathBuf::from("output/measures"),
            output: PathBuf::from("output/report.html"),
            outputs: None,
            codelist: None,
        }
    }
}

/// The codelists the report shows: the study's, or the one `--codelist` names.
fn codelists(
    study: &Study,
    project_dir: &Path,
    flag: Option<&Path>,
) -> Result<Vec<CodelistTable>, CodelistError> {
    let table = |c: &StudyCodelist| match &c.csv {
        Some(csv) => read_table(&project_dir.join(csv), csv, c),
        None => Ok(inline_table(c)),
    };
    match flag {
        None => study.codelists.iter().map(table).collect(),
        Some(path) => {
            let own = study
                .codelists
                .iter()
                .find(|c| c.csv.as_deref() == Some(path))
                .cloned()
                .unwrap_or_else(|| StudyCodelist {
                    name: path.display().to_string(),
                    system: String::new(),
                    csv: Some(path.to_path_buf()),
                    column: None,
                    codes: Vec::new(),
                });
            Ok(vec![table(&own)?])
        }
    }
}

/// Entry point of the `generate_report` image: reads the measure files of every chart of
/// `study` (as the outputs file says, if there is one) and the codelists, and writes the
/// report (to a temporary name beside `--output`, then renamed). Returns the files it read
/// besides the measure files (the outputs file, the codelists), for the runner to fingerprint.
pub fn generate_report(
    args: &ReportOptions,
    study: &Study,
    project_dir: &Path,
    log: &mut dyn Write,
) -> Result<Vec<PathBuf>, ReportError> {
    let measures_dir = project_dir.join(&args.measures_dir);
    let (plan, outputs_file) = charts::plan_for(study, project_dir, args.outputs.as_deref())?;
    if plan.charts.is_empty() {
        return Err(ReportError::NoCharts);
    }
    let charts = plan
        .charts
        .iter()
        .map(|c| c.load(&measures_dir, plan.redact_at_or_below))
        .collect::<Result<Vec<_>, _>>()?;
    let tables = codelists(study, project_dir, args.codelist.as_deref())?;
    let html = render_report(study, &plan, &charts, &tables)?;

    let output = project_dir.join(&args.output);
    if let Some(parent) = output.parent() {
        std::fs::create_dir_all(parent).map_err(|source| ReportError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    files::write_atomic(&output, html.as_bytes()).map_err(|source| ReportError::Write {
        path: output.clone(),
        source,
    })?;
    let (shown, redacted) = charts
        .iter()
        .filter_map(|c| match &c.body {
            charts::Body::Lines(d) => Some(d.counts()),
            charts::Body::Deciles(_) => None,
        })
        .fold((0, 0), |(s, r), (cs, cr)| (s + cs, r + cr));
    // The log is informational: a failing log writer does not fail the action.
    for w in charts.iter().flat_map(|c| &c.warnings) {
        let _ = writeln!(log, "{w}");
    }
    let _ = writeln!(
        log,
        "generate_report: wrote {} ({} bytes; {} charts, {shown} points shown, {redacted} redacted; {} codes)",
        args.output.display(),
        html.len(),
        charts.len(),
        tables.iter().map(|t| t.codes.len()).sum::<usize>()
    );
    let mut read: Vec<PathBuf> = outputs_file.into_iter().collect();
    read.extend(tables.iter().filter_map(|t| t.csv.clone()));
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_fit_the_image_registry() {
        // The runner boxes them as `Box<dyn Error + Send + Sync>`.
        fn image_error<E: std::error::Error + Send + Sync + 'static>() {}
        image_error::<ReportError>();
    }
}
