//! The options of `generate_cohort`: cohortextractor's flags, typed. The driver parses argv
//! into them (`xtask/src/images/generate_cohort.rs`); nothing here reads argv.

use std::path::PathBuf;

use crate::output::OutputFormat;

/// How dummy data is made in `--expectations-population` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DummyData {
    /// A synthetic EHR of N patients, queried like a database (the default).
    #[default]
    Synthetic,
    /// cohortextractor's expectations framework.
    Expectations,
}

/// The options of one `generate_cohort` run; relative paths are relative to the project folder.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CohortOptions {
    /// `--study-definition NAME` (`None` or `all` = every study definition in `analysis/`).
    pub study_definition: Option<String>,
    /// `--index-date-range`: `"A"`, `"A to B"` or `"A to B by week|month"`; `None` (or empty)
    /// = the study's `index_date`.
    pub index_date_range: Option<String>,
    /// `--output-dir` (default `output`).
    pub output_dir: Option<PathBuf>,
    /// `--output-format` (default CSV).
    pub output_format: Option<OutputFormat>,
    /// `--output-file`: the name (and folder) of the outputs instead of `input`.
    pub output_file: Option<PathBuf>,
    /// `--skip-existing`: keep an index date's file when it exists.
    pub skip_existing: bool,
    /// `--expectations-population N`: dummy data of N patients.
    pub expectations_population: Option<usize>,
    /// `--dummy-data`: how dummy data is made.
    pub dummy_data: DummyData,
    /// `--dummy-data-file`: a file copied as every output.
    pub dummy_data_file: Option<PathBuf>,
    /// The data source: `--database-url`, else the `DATABASE_URL` environment variable (the
    /// driver reads it). Wins over dummy data.
    pub database_url: Option<String>,
    /// `--seed` of dummy data (default [`super::DEFAULT_SEED`]).
    pub seed: Option<u64>,
    /// `--param KEY=VALUE` pairs: `cohortextractor.params` of a Python study definition (YAML
    /// ones take none).
    pub params: Vec<(String, String)>,
    /// `--memory-budget` (e.g. `2GB`, `500MB`): about the memory a folder run's tables may
    /// take at once; the tables are read in that many patient partitions. `None` = sized from
    /// the machine ([`default_memory_budget`]).
    pub memory_budget: Option<u64>,
}

/// Parses a `--memory-budget`: a positive number with an optional unit `B`, `KB`, `MB`, `GB`,
/// `TB` (powers of 1024, case-insensitive; `K`/`M`/`G`/`T` too); no unit = bytes.
pub fn parse_memory_budget(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        "T" | "TB" | "TIB" => 1 << 40,
        _ => {
            return Err(format!(
                "--memory-budget `{text}`: unknown unit `{}` (use B, KB, MB, GB or TB)",
                unit.trim()
            ))
        }
    };
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v > 0.0)
        .ok_or_else(|| {
            format!("--memory-budget `{text}`: expected a positive size such as 2GB or 500MB")
        })?;
    let bytes = value * scale as f64;
    if bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!("--memory-budget `{text}`: out of range"));
    }
    Ok(bytes as u64)
}

/// The memory budget when `--memory-budget` is not given: a quarter of the memory the
/// machine has available (`MemAvailable` of /proc/meminfo), at most 1 GiB, at least 64 MiB;
/// 1 GiB where /proc/meminfo cannot be read.
pub fn default_memory_budget() -> u64 {
    const GIB: u64 = 1 << 30;
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("MemAvailable:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024);
    available.map_or(GIB, |a| (a / 4).clamp(64 << 20, GIB))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_budgets_parse_with_units() {
        assert_eq!(parse_memory_budget("2GB"), Ok(2 << 30));
        assert_eq!(parse_memory_budget("500mb"), Ok(500 << 20));
        assert_eq!(parse_memory_budget("1.5G"), Ok(3 << 29));
        assert_eq!(parse_memory_budget("4096"), Ok(4096));
        for bad in ["", "GB", "0", "-1GB", "2 parsecs", "1e3"] {
            let e = parse_memory_budget(bad).unwrap_err();
            assert!(e.contains("--memory-budget"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_default_budget_is_bounded() {
        let b = default_memory_budget();
        assert!((64 << 20..=1 << 30).contains(&b));
    }
}
