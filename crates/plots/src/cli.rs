//! `generate_plots` ([`PlotsOptions`]: the measures folder and the output folder): the
//! study's four JPEG figures.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::chart::{render_jpeg, ChartText, DrawError};
use crate::data::DataError;
use crate::study::Breakdown;

/// Errors of `generate_plots`.
#[derive(Debug, thiserror::Error)]
pub enum PlotsError {
    /// A measure file could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A chart could not be drawn.
    #[error(transparent)]
    Draw(#[from] DrawError),
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
}

impl Default for PlotsOptions {
    fn default() -> Self {
        PlotsOptions {
            measures_dir: PathBuf::from("output/measures"),
            output_dir: PathBuf::from("output/figures"),
        }
    }
}

/// Entry point of the `generate_plots` image: reads the four measure files from
/// `--measures-dir` and writes `population_rates.jpeg`, `sex_rates.jpeg`, `region_rates.jpeg`
/// and `age_rates.jpeg` to `--output-dir` (created if needed). Every file is read and drawn
/// before any is written; each is written to a temporary name and renamed when complete.
pub fn generate_plots(
    args: &PlotsOptions,
    project_dir: &Path,
    log: &mut dyn Write,
) -> Result<(), PlotsError> {
    let measures_dir = project_dir.join(&args.measures_dir);
    let output_dir = project_dir.join(&args.output_dir);

    // The four figures are read, drawn and encoded in parallel; nothing is written unless all
    // succeed, and the first failure (in figure order) is the one reported.
    let figures = std::thread::scope(|scope| {
        let handles: Vec<_> = Breakdown::ALL
            .into_iter()
            .map(|breakdown| {
                let measures_dir = &measures_dir;
                scope.spawn(move || draw_figure(breakdown, measures_dir))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect::<Result<Vec<_>, _>>()
    })?;

    std::fs::create_dir_all(&output_dir).map_err(|source| PlotsError::Write {
        path: output_dir.clone(),
        source,
    })?;
    for (breakdown, jpeg, series, shown, redacted) in figures {
        let path = output_dir.join(breakdown.figure_file());
        files::write_atomic(&path, &jpeg).map_err(|source| PlotsError::Write {
            path: path.clone(),
            source,
        })?;
        // The log is informational: a failing log writer does not fail the action.
        let _ = writeln!(
            log,
            "generate_plots: wrote {} ({series} series, {shown} points drawn, {redacted} redacted)",
            args.output_dir.join(breakdown.figure_file()).display(),
        );
    }
    Ok(())
}

/// One drawn figure: its breakdown, the JPEG, and (series, points drawn, points redacted).
type Figure = (Breakdown, Vec<u8>, usize, usize, usize);

/// Reads `breakdown`'s measure file from `measures_dir` and draws its JPEG.
fn draw_figure(breakdown: Breakdown, measures_dir: &Path) -> Result<Figure, PlotsError> {
    let chart = breakdown.load(measures_dir)?;
    let jpeg = render_jpeg(
        &chart.data,
        breakdown.quantity(),
        ChartText {
            title: breakdown.figure_title(),
            y_label: breakdown.y_label(),
            legend_title: breakdown.group_label(),
        },
    )?;
    let (shown, redacted) = chart.data.counts();
    Ok((breakdown, jpeg, chart.data.series.len(), shown, redacted))
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
