//! `generate_report` ([`ReportOptions`]: the measures folder, the codelist and the output
//! file): the study's HTML report.

use std::io::Write;
use std::path::{Path, PathBuf};

use plots::data::DataError;
use plots::study::Breakdown;

use crate::codelist::{read_codelist, CodelistError};
use crate::page::{render_report, RenderError};

/// Errors of `generate_report`.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A measure file could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The codelist could not be read.
    #[error(transparent)]
    Codelist(#[from] CodelistError),
    /// The page could not be rendered.
    #[error(transparent)]
    Render(#[from] RenderError),
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
    /// The codelist CSV (default `codelists/opensafely-pulse-oximetry.csv`).
    pub codelist: PathBuf,
    /// The HTML file written (default `output/pulse_oximetry_SRO.html`).
    pub output: PathBuf,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            measures_dir: PathBuf::from("output/measures"),
            codelist: PathBuf::from("codelists/opensafely-pulse-oximetry.csv"),
            output: PathBuf::from("output/pulse_oximetry_SRO.html"),
        }
    }
}

/// Entry point of the `generate_report` image: reads the study's four measure files and the
/// codelist, and writes the report (to a temporary name beside `--output`, then renamed).
pub fn generate_report(
    args: &ReportOptions,
    project_dir: &Path,
    log: &mut dyn Write,
) -> Result<(), ReportError> {
    let measures_dir = project_dir.join(&args.measures_dir);
    let charts = Breakdown::ALL
        .iter()
        .map(|b| b.load(&measures_dir))
        .collect::<Result<Vec<_>, _>>()?;
    let codes = read_codelist(&project_dir.join(&args.codelist))?;
    let html = render_report(&charts, &codes)?;

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
    let (shown, redacted) = charts.iter().fold((0, 0), |(s, r), c| {
        let (cs, cr) = c.data.counts();
        (s + cs, r + cr)
    });
    // The log is informational: a failing log writer does not fail the action.
    let _ = writeln!(
        log,
        "generate_report: wrote {} ({} bytes; 4 charts, {shown} points shown, {redacted} redacted; {} codes)",
        args.output.display(),
        html.len(),
        codes.len()
    );
    Ok(())
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
