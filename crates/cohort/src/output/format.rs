use std::fmt;
use std::str::FromStr;

use super::OutputError;

/// A `generate_cohort` output format (`--output-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    Csv,
    CsvGz,
    Parquet,
    /// Arrow IPC file; `feather` is accepted as a name for it.
    Arrow,
}

impl OutputFormat {
    /// The file extension, without the dot (`csv`, `csv.gz`, `parquet`, `arrow`).
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Csv => "csv",
            OutputFormat::CsvGz => "csv.gz",
            OutputFormat::Parquet => "parquet",
            OutputFormat::Arrow => "arrow",
        }
    }

    /// The format a file name ends with (`x.csv.gz` → CsvGz, `x.feather` → Arrow), if any.
    pub fn from_file_name(name: &str) -> Option<OutputFormat> {
        [
            (".csv.gz", OutputFormat::CsvGz),
            (".csv", OutputFormat::Csv),
            (".parquet", OutputFormat::Parquet),
            (".arrow", OutputFormat::Arrow),
            (".feather", OutputFormat::Arrow),
        ]
        .into_iter()
        .find(|(ext, _)| name.len() > ext.len() && name.ends_with(ext))
        .map(|(_, format)| format)
    }
}

impl FromStr for OutputFormat {
    type Err = OutputError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "csv" => Ok(OutputFormat::Csv),
            "csv.gz" => Ok(OutputFormat::CsvGz),
            "parquet" => Ok(OutputFormat::Parquet),
            "arrow" | "feather" => Ok(OutputFormat::Arrow),
            other => Err(OutputError::UnknownFormat(other.to_string())),
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}
