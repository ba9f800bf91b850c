//! `generate_plots --measures-dir DIR --output-dir DIR`: the study's four JPEG figures.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::chart::{render_jpeg, ChartText, DrawError};
use crate::data::DataError;
use crate::study::Breakdown;

/// Errors of `generate_plots`.
#[derive(Debug, thiserror::Error)]
pub enum PlotsError {
    /// The arguments could not be understood.
    #[error("generate_plots: {0}\nusage: generate_plots [--measures-dir DIR] [--output-dir DIR]")]
    Usage(String),
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

/// The options of `generate_plots`; relative paths are relative to the project folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotsArgs {
    /// Where the `measure_*.csv` files are (default `output/measures`).
    pub measures_dir: PathBuf,
    /// Where the JPEGs are written (default `output/figures`).
    pub output_dir: PathBuf,
}

impl PlotsArgs {
    /// Parses `--measures-dir DIR` and `--output-dir DIR` (also `--flag=DIR`).
    pub fn parse(args: &[String]) -> Result<Self, PlotsError> {
        let mut parsed = Self {
            measures_dir: PathBuf::from("output/measures"),
            output_dir: PathBuf::from("output/figures"),
        };
        parse_path_flags(
            args,
            &mut [
                ("--measures-dir", &mut parsed.measures_dir),
                ("--output-dir", &mut parsed.output_dir),
            ],
        )
        .map_err(PlotsError::Usage)?;
        Ok(parsed)
    }
}

/// Parses `--flag VALUE` / `--flag=VALUE` arguments into the path of the matching `flags`
/// entry (the last occurrence wins); an unknown flag or a missing value is the message returned.
pub fn parse_path_flags(args: &[String], flags: &mut [(&str, &mut PathBuf)]) -> Result<(), String> {
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let Some((_, slot)) = flags.iter_mut().find(|(name, _)| *name == flag) else {
            return Err(format!("unknown argument {arg:?}"));
        };
        let value = match inline {
            Some(v) => v,
            None => it
                .next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))?,
        };
        **slot = PathBuf::from(value);
    }
    Ok(())
}

/// Entry point of the `generate_plots` image: reads the four measure files from
/// `--measures-dir` and writes `population_rates.jpeg`, `sex_rates.jpeg`, `region_rates.jpeg`
/// and `age_rates.jpeg` to `--output-dir` (created if needed). Every file is read and drawn
/// before any is written; each is written to a temporary name and renamed when complete.
pub fn generate_plots(
    args: &[String],
    project_dir: &Path,
    log: &mut dyn Write,
) -> Result<(), PlotsError> {
    let args = PlotsArgs::parse(args)?;
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

    fn strings(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn errors_fit_the_image_registry() {
        // The runner boxes them as `Box<dyn Error + Send + Sync>`.
        fn image_error<E: std::error::Error + Send + Sync + 'static>() {}
        image_error::<PlotsError>();
    }

    #[test]
    fn parses_both_flag_forms_and_defaults() {
        let a = PlotsArgs::parse(&strings(&["--measures-dir", "m", "--output-dir=f"])).unwrap();
        assert_eq!(a.measures_dir, PathBuf::from("m"));
        assert_eq!(a.output_dir, PathBuf::from("f"));
        let a = PlotsArgs::parse(&[]).unwrap();
        assert_eq!(a.measures_dir, PathBuf::from("output/measures"));
        assert_eq!(a.output_dir, PathBuf::from("output/figures"));
    }

    #[test]
    fn rejects_unknown_and_valueless_flags() {
        let e = PlotsArgs::parse(&strings(&["--bogus"])).unwrap_err();
        assert!(
            e.to_string().contains("unknown argument \"--bogus\""),
            "{e}"
        );
        let e = PlotsArgs::parse(&strings(&["--output-dir"])).unwrap_err();
        assert!(e.to_string().contains("--output-dir needs a value"), "{e}");
    }
}
