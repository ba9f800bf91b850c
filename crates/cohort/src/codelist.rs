//! Codelists: sets of clinical codes loaded from a CSV file, with an optional category per
//! code. The CSV is read by `files::codelist` (cohortextractor's `codelist_from_csv` rules:
//! codes stripped, blank codes skipped, one category per code); matching is exact and
//! case-sensitive.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The coding system of a codelist: which `clinical_events` column its codes are matched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeSystem {
    /// `clinical_events.ctv3_code`
    Ctv3,
    /// `clinical_events.snomedct_code`
    Snomedct,
}

impl CodeSystem {
    /// Parses `ctv3` or `snomedct`.
    pub fn parse(s: &str) -> Option<CodeSystem> {
        match s {
            "ctv3" => Some(CodeSystem::Ctv3),
            "snomedct" => Some(CodeSystem::Snomedct),
            _ => None,
        }
    }

    /// The `clinical_events` column holding codes of this system.
    pub fn events_column(self) -> &'static str {
        match self {
            CodeSystem::Ctv3 => crate::tables::names::CTV3_CODE,
            CodeSystem::Snomedct => crate::tables::names::SNOMEDCT_CODE,
        }
    }
}

/// A loaded codelist.
#[derive(Debug, Clone, PartialEq)]
pub struct Codelist {
    /// The coding system of the codes.
    pub system: CodeSystem,
    /// The distinct codes.
    pub codes: BTreeSet<String>,
    /// code -> category, when the codelist has a category column.
    pub categories: Option<BTreeMap<String, String>>,
}

impl Codelist {
    /// True if `code` is in the codelist (exact, case-sensitive).
    pub fn contains(&self, code: &str) -> bool {
        self.codes.contains(code)
    }

    /// Loads `column` (and `category_column`) from the CSV file at `path`, with
    /// cohortextractor's `codelist_from_csv` rules (`files::codelist`). Errors name the file,
    /// and the line where there is one.
    pub fn from_csv(
        path: &Path,
        system: CodeSystem,
        column: &str,
        category_column: Option<&str>,
    ) -> Result<Codelist, files::CodelistError> {
        let csv = files::CodelistCsv::read(path, column, category_column)?;
        let categories = category_column.map(|_| {
            csv.rows
                .iter()
                .map(|r| (r.code.clone(), r.category.clone().unwrap_or_default()))
                .collect()
        });
        Ok(Codelist {
            system,
            codes: csv.rows.into_iter().map(|r| r.code).collect(),
            categories,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_codes_and_categories_from_csv() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.csv");
        std::fs::write(&path, "code,cat,CTV3ID\nA,1, XaY1 \nB,2,\nA,1,Y2a48\n").unwrap();
        let cl = Codelist::from_csv(&path, CodeSystem::Ctv3, "CTV3ID", None).unwrap();
        assert_eq!(
            cl.codes.iter().map(String::as_str).collect::<Vec<_>>(),
            ["XaY1", "Y2a48"]
        );
        assert!(cl.contains("Y2a48") && !cl.contains("y2a48"));
        assert_eq!(cl.categories, None);
        let cl = Codelist::from_csv(&path, CodeSystem::Snomedct, "code", Some("cat")).unwrap();
        let categories = cl.categories.unwrap();
        assert_eq!(
            (categories["A"].as_str(), categories["B"].as_str()),
            ("1", "2")
        );
    }
}
