//! The pulse oximetry study's four charts: which measure file each reads, which groups it keeps
//! and how it is titled.

use std::path::{Path, PathBuf};

use crate::data::{read_measure_file, ChartData, DataError, MeasureColumns, Quantity};

/// The numerator column of the study's measures.
pub const NUMERATOR: &str = "had_pulse_ox";
/// The denominator column of the study's measures.
pub const DENOMINATOR: &str = "population";

/// One of the study's four breakdowns of pulse oximetry coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Breakdown {
    /// The whole population: number of patients with a code per month.
    Total,
    /// Rate per 1,000 by sex (F and M only).
    Sex,
    /// Rate per 1,000 by NUTS1 region.
    Region,
    /// Rate per 1,000 by age band (the default band `0` left out).
    AgeBand,
}

impl Breakdown {
    /// The four breakdowns in the order the study's `generate_plots` drew them.
    pub const ALL: [Breakdown; 4] = [Self::Total, Self::Sex, Self::Region, Self::AgeBand];

    /// The measure id, e.g. `pulse_ox_by_sex`.
    pub fn measure_id(self) -> &'static str {
        match self {
            Self::Total => "pulse_ox_total",
            Self::Sex => "pulse_ox_by_sex",
            Self::Region => "pulse_ox_by_region",
            Self::AgeBand => "pulse_ox_by_age_band",
        }
    }

    /// The combined measure file name, e.g. `measure_pulse_ox_by_sex.csv`.
    pub fn measure_file(self) -> String {
        files::names::measure_file_name(self.measure_id(), None)
    }

    /// The `group_by` column, `None` for the total.
    pub fn group_column(self) -> Option<&'static str> {
        match self {
            Self::Total => None,
            Self::Sex => Some("sex"),
            Self::Region => Some("region"),
            Self::AgeBand => Some("age_band"),
        }
    }

    /// Whether a group value is charted: sex other than F/M and the default age band `0` are
    /// left out, as the study's notebook did.
    pub fn keeps(self, group: &str) -> bool {
        match self {
            Self::Sex => matches!(group, "F" | "M"),
            Self::AgeBand => group != "0",
            Self::Total | Self::Region => true,
        }
    }

    /// What the y axis shows.
    pub fn quantity(self) -> Quantity {
        match self {
            Self::Total => Quantity::Count,
            _ => Quantity::RatePer1000,
        }
    }

    /// The JPEG file name the study's `generate_plots` action writes.
    pub fn figure_file(self) -> &'static str {
        match self {
            Self::Total => "population_rates.jpeg",
            Self::Sex => "sex_rates.jpeg",
            Self::Region => "region_rates.jpeg",
            Self::AgeBand => "age_rates.jpeg",
        }
    }

    /// The figure's title.
    pub fn figure_title(self) -> &'static str {
        match self {
            Self::Total => "Pulse Oximetry use across Whole Population",
            Self::Sex => "Pulse Oximetry use by Sex per 1,000 registered patients",
            Self::Region => "Pulse Oximetry use by Region per 1,000 registered patients",
            Self::AgeBand => "Pulse Oximetry use by Age Band per 1,000 registered patients",
        }
    }

    /// The y-axis label.
    pub fn y_label(self) -> &'static str {
        match self.quantity() {
            Quantity::Count => "Total Number",
            Quantity::RatePer1000 => "Rate per 1,000",
        }
    }

    /// The legend heading (the group column in words), `None` for the total.
    pub fn group_label(self) -> Option<&'static str> {
        match self {
            Self::Total => None,
            Self::Sex => Some("Sex"),
            Self::Region => Some("Region"),
            Self::AgeBand => Some("Age band"),
        }
    }

    /// The columns read from the measure file.
    pub fn columns(self) -> MeasureColumns {
        MeasureColumns::new(self.group_column(), NUMERATOR, DENOMINATOR)
    }

    /// Reads this breakdown's measure file from `measures_dir` and builds its series.
    pub fn load(self, measures_dir: &Path) -> Result<StudyChart, DataError> {
        let path = measures_dir.join(self.measure_file());
        let rows = read_measure_file(&path, &self.columns())?;
        let data = ChartData::from_rows(&path, self.group_column(), &rows, |g| self.keeps(g))?;
        Ok(StudyChart {
            breakdown: self,
            path,
            data,
        })
    }
}

/// A breakdown with its data, read from its measure file.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyChart {
    /// Which chart.
    pub breakdown: Breakdown,
    /// The measure file it was read from.
    pub path: PathBuf,
    /// Its series, redacted.
    pub data: ChartData,
}

/// Shows a group value in legends and tables: an empty value reads `(missing)`.
pub fn group_display(name: &str) -> &str {
    if name.is_empty() {
        "(missing)"
    } else {
        name
    }
}
