//! What a measure is: the core types, independent of how a study definition spells them.

use crate::error::MeasuresError;

/// The synthetic denominator column: 1 for every patient in the cohort.
pub const POPULATION: &str = "population";

/// How a measure's rows are grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// One total row per date (`group_by` absent, null or `population`).
    Total,
    /// One row per combination of the values of these variables (Cartesian product).
    Variables(Vec<String>),
}

/// Disclosure control applied to a measure's numerator and denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Disclosure {
    /// Numbers as computed.
    #[default]
    None,
    /// cohortextractor's `small_number_suppression`: values in 1..=5 become NaN, and if
    /// their total is ≤5, every row equal to the next smallest value too.
    Cohortextractor,
    /// The current OpenSAFELY rule: values ≤7 become 0, everything is rounded to the nearest
    /// 5, and the value is recomputed (empty when the denominator is 0).
    OpenSafely,
}

impl std::str::FromStr for Disclosure {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Disclosure::None),
            "cohortextractor" => Ok(Disclosure::Cohortextractor),
            "opensafely" => Ok(Disclosure::OpenSafely),
            other => Err(format!(
                "unknown disclosure control '{other}' (expected cohortextractor, opensafely or none)"
            )),
        }
    }
}

/// One measure: `numerator / denominator` per group, per index date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureSpec {
    /// Output name: `measure_{id}.csv`. Matches `[A-Za-z0-9_]+`.
    pub id: String,
    /// The numerator variable (summed).
    pub numerator: String,
    /// The denominator variable (summed), or [`POPULATION`] (counted).
    pub denominator: String,
    /// The grouping.
    pub group_by: GroupBy,
    /// Disclosure control for this measure.
    pub disclosure: Disclosure,
}

impl MeasureSpec {
    /// A measure with one total row per date and no disclosure control.
    pub fn new(id: &str, numerator: &str, denominator: &str) -> Self {
        MeasureSpec {
            id: id.to_string(),
            numerator: numerator.to_string(),
            denominator: denominator.to_string(),
            group_by: GroupBy::Total,
            disclosure: Disclosure::None,
        }
    }

    /// Groups by these variables (an empty list, or `["population"]`, means one total row).
    pub fn group_by<S: AsRef<str>>(mut self, variables: &[S]) -> Self {
        let vars: Vec<String> = variables.iter().map(|v| v.as_ref().to_string()).collect();
        self.group_by = if vars.is_empty() || vars == [POPULATION] {
            GroupBy::Total
        } else {
            GroupBy::Variables(vars)
        };
        self
    }

    /// Sets the disclosure control.
    pub fn disclosure(mut self, disclosure: Disclosure) -> Self {
        self.disclosure = disclosure;
        self
    }

    /// The grouping variables (empty for a total).
    pub fn group_columns(&self) -> &[String] {
        match &self.group_by {
            GroupBy::Total => &[],
            GroupBy::Variables(v) => v,
        }
    }

    /// Output columns of a per-date file: groups, numerator, denominator (deduplicated), `value`.
    pub fn output_header(&self) -> Vec<String> {
        let mut header: Vec<String> = self.group_columns().to_vec();
        header.push(self.numerator.clone());
        if self.denominator != self.numerator {
            header.push(self.denominator.clone());
        }
        header.push("value".to_string());
        header
    }

    fn invalid(&self, message: impl Into<String>) -> MeasuresError {
        MeasuresError::InvalidMeasure {
            id: self.id.clone(),
            message: message.into(),
        }
    }

    /// Checks the id and that no column is used twice.
    pub fn validate(&self) -> Result<(), MeasuresError> {
        if self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(self.invalid("the id must match [A-Za-z0-9_]+"));
        }
        for (what, name) in [
            ("numerator", &self.numerator),
            ("denominator", &self.denominator),
        ] {
            if name.is_empty() {
                return Err(self.invalid(format!("the {what} is empty")));
            }
        }
        let groups = self.group_columns();
        for (i, g) in groups.iter().enumerate() {
            if g == POPULATION {
                return Err(
                    self.invalid("'population' in group_by must be alone (it means one total row)")
                );
            }
            if g == "value" || g == "date" {
                return Err(self.invalid(format!("'{g}' cannot be a group_by variable")));
            }
            if groups[..i].contains(g) {
                return Err(self.invalid(format!("'{g}' appears twice in group_by")));
            }
            if *g == self.numerator {
                return Err(self.invalid(format!(
                    "column '{g}' appears in both numerator and group_by"
                )));
            }
            if *g == self.denominator {
                return Err(self.invalid(format!(
                    "column '{g}' appears in both denominator and group_by"
                )));
            }
        }
        Ok(())
    }
}

/// Validates every measure and that ids are unique.
pub fn validate_all(specs: &[MeasureSpec]) -> Result<(), MeasuresError> {
    for (i, spec) in specs.iter().enumerate() {
        spec.validate()?;
        if specs[..i].iter().any(|s| s.id == spec.id) {
            return Err(spec.invalid("the id is used by another measure"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn population_group_by_is_a_total() {
        let m = MeasureSpec::new("m", "x", POPULATION).group_by(&[POPULATION]);
        assert_eq!(m.group_by, GroupBy::Total);
        let m = MeasureSpec::new("m", "x", POPULATION).group_by::<&str>(&[]);
        assert_eq!(m.group_by, GroupBy::Total);
        assert_eq!(m.output_header(), ["x", "population", "value"]);
    }

    #[test]
    fn header_has_groups_then_numbers() {
        let m = MeasureSpec::new("m", "x", "y").group_by(&["sex", "region"]);
        assert_eq!(m.output_header(), ["sex", "region", "x", "y", "value"]);
        let m = MeasureSpec::new("m", "x", "x");
        assert_eq!(m.output_header(), ["x", "value"]);
    }

    #[test]
    fn rejects_bad_definitions() {
        let bad = [
            MeasureSpec::new("a-b", "x", POPULATION),
            MeasureSpec::new("", "x", POPULATION),
            MeasureSpec::new("m", "x", POPULATION).group_by(&["x"]),
            MeasureSpec::new("m", "x", "y").group_by(&["y"]),
            MeasureSpec::new("m", "x", POPULATION).group_by(&["sex", "population"]),
            MeasureSpec::new("m", "x", POPULATION).group_by(&["sex", "sex"]),
        ];
        for m in bad {
            assert!(m.validate().is_err(), "{m:?}");
        }
        let dup = [
            MeasureSpec::new("m", "x", POPULATION),
            MeasureSpec::new("m", "y", POPULATION),
        ];
        let err = validate_all(&dup).unwrap_err().to_string();
        assert!(err.contains("measure 'm'"), "{err}");
    }

    #[test]
    fn parses_disclosure_names() {
        assert_eq!(
            "opensafely".parse::<Disclosure>(),
            Ok(Disclosure::OpenSafely)
        );
        assert_eq!(
            "cohortextractor".parse::<Disclosure>(),
            Ok(Disclosure::Cohortextractor)
        );
        assert_eq!("none".parse::<Disclosure>(), Ok(Disclosure::None));
        assert!("strict".parse::<Disclosure>().is_err());
    }
}
