//! What the charts need to know of a study definition: its measures, its codelists and its
//! default index date. The driver fills it from `cohort`'s loader (so the charts read the study
//! definition exactly as `generate_cohort` and `generate_measures` do, without linking the
//! engines); tests may build one by hand.

use std::path::PathBuf;

use chrono::NaiveDate;

/// A study, as the charts and the report see it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Study {
    /// The study folder's name: the report's default title.
    pub name: String,
    /// The study definition file, relative to the study folder (shown in the methods).
    pub definition: PathBuf,
    /// The study definition's default index date.
    pub index_date: Option<NaiveDate>,
    /// The `measures:` section, in file order.
    pub measures: Vec<Measure>,
    /// The codelists, in name order.
    pub codelists: Vec<StudyCodelist>,
}

/// One measure of the study definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    /// The id: its combined file is `measure_<id>.csv`.
    pub id: String,
    /// The numerator variable.
    pub numerator: String,
    /// The denominator variable, or `population`.
    pub denominator: String,
    /// The `group_by` variables; empty for one total row per date.
    pub group_by: Vec<String>,
}

impl Measure {
    /// A total measure (no `group_by`).
    pub fn new(id: &str, numerator: &str, denominator: &str) -> Self {
        Measure {
            id: id.to_string(),
            numerator: numerator.to_string(),
            denominator: denominator.to_string(),
            group_by: Vec::new(),
        }
    }

    /// The measure grouped by `groups`.
    #[must_use]
    pub fn grouped(mut self, groups: &[&str]) -> Self {
        self.group_by = groups.iter().map(|g| (*g).to_string()).collect();
        self
    }

    /// The columns of its measure file.
    pub fn columns(&self) -> crate::data::MeasureColumns {
        crate::data::MeasureColumns::grouped(
            self.group_by.iter().map(String::as_str),
            &self.numerator,
            &self.denominator,
        )
    }

    /// Its combined measure file's name, `measure_<id>.csv`.
    pub fn file_name(&self) -> String {
        files::names::measure_file_name(&self.id, None)
    }
}

/// One codelist of the study definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudyCodelist {
    /// Its name in the study definition.
    pub name: String,
    /// Its coding system, as written (`ctv3`, `snomed`, …).
    pub system: String,
    /// The CSV it is read from, relative to the study folder; `None` for codes written inline.
    pub csv: Option<PathBuf>,
    /// The CSV's code column the study uses.
    pub column: Option<String>,
    /// Its codes, when written inline (or as resolved).
    pub codes: Vec<String>,
}
