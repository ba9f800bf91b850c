//! `generate_plots` ([`PlotsOptions`]: the measures folder, the output folder, the outputs
//! file): one JPEG per chart of the study.

use std::io::Write;
use std::path::{Path, PathBuf};

use charts::data::DataError;
use charts::{OutputsError, Study};

use crate::chart::{render_chart_jpeg, DrawError};

/// Errors of `generate_plots`.
#[derive(Debug, thiserror::Error)]
pub enum PlotsError {
    /// The outputs file is invalid.
    #[error(transparent)]
    Outputs(#[from] OutputsError),
    /// A measure file could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A chart could not be drawn.
    #[error(transparent)]
    Draw(#[from] DrawError),
    /// The study defines no measures and the outputs file no charts.
    #[error("no charts to draw: the study definition has no measures")]
    NoCharts,
    /// An output could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The options of `generate_plots`; relative paths are relative to the project folder. The
/// driver parses argv into them (`xtask/src/images/generate_plots.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotsOptions {
    /// Where the `measure_*.csv` files are (default `output/measures`).
    pub measures_dir: PathBuf,
    /// Where the JPEGs are written (default `output/figures`).
    pub output_dir: PathBuf,
    /// The outputs file; `None` reads `analysis/outputs.yaml` when it exists.
    pub outputs: Option<PathBuf>,
}

impl Default for PlotsOptions {
    fn default() -> Self {
        PlotsOptions {
            measures_dir: PathBuf::from("output/measures"),
            output_dir: PathBuf::from("output/figures"),
            outputs: None,
        }
    }
}

/// Entry point of the `generate_plots` image: draws every chart of `study` (as the outputs file
/// says, if there is one) from the measure files in `--measures-dir`, into `--output-dir`
/// (created if needed). Every chart is read and drawn before any is written; each file is
/// written to a temporary name and renamed when complete. Returns the outputs file read, if
/// any, for the runner to fingerprint.
pub fn generate_plots(
    args: &PlotsOptions,
    study: &Study,
    project_dir: &Path,
    log: &mut dyn Write,
) -> Result<Option<PathBuf>, PlotsError> {
    let measures_dir = project_dir.join(&args.measures_dir);
    let output_dir = project_dir.join(&args.output_dir);
    let (plan, outputs_file) = charts::plan_for(study, project_dir, args.outputs.as_deref())?;
    if plan.charts.is_empty() {
        return Err(PlotsError::NoCharts);
    }
    let threshold = plan.redact_at_or_below;

    // The charts are read, drawn and encoded in parallel (two at a time per core); nothing is
    // written unless all succeed, and the first failure (in chart order) is the one reported.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get() * 2);
    let figures = std::thread::scope(|scope| {
        let mut results = Vec::with_capacity(plan.charts.len());
        for batch in plan.charts.chunks(workers) {
            let handles: Vec<_> = batch
                .iter()
                .map(|spec| {
                    let measures_dir = &measures_dir;
                    scope.spawn(move || -> Result<_, PlotsError> {
                        let chart = spec.load(measures_dir, threshold)?;
                        let jpeg = render_chart_jpeg(&chart, threshold)?;
                        Ok((chart, jpeg))
                    })
                })
                .collect();
            for h in handles {
                results.push(
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
            }
        }
        results.into_iter().collect::<Result<Vec<_>, _>>()
    })?;

    std::fs::create_dir_all(&output_dir).map_err(|source| PlotsError::Write {
        path: output_dir.clone(),
        source,
    })?;
    for (chart, jpeg) in &figures {
        let path = output_dir.join(&chart.spec.file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| PlotsError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        files::write_atomic(&path, jpeg).map_err(|source| PlotsError::Write {
            path: path.clone(),
            source,
        })?;
        // The log is informational: a failing log writer does not fail the action.
        for w in &chart.warnings {
            let _ = writeln!(log, "{w}");
        }
        let _ = writeln!(
            log,
            "generate_plots: wrote {} ({})",
            args.output_dir.join(&chart.spec.file).display(),
            chart.summary(),
        );
    }
    Ok(outputs_file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_fit_the_image_registry() {
        // The runner boxes them as `Box<dyn Error + Send + Sync>`.
        fn image_error<E: std::error::Error + Send + Sync + 'static>() {}
        image_error::<PlotsError>();
    }
}
