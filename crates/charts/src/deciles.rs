//! OpenSAFELY's deciles chart of a measure grouped by practice (or any one group): per month,
//! the 10th, 20th, …, 90th percentiles of the groups' values, as
//! `numpy.percentile(values, q, method="linear")` computes them.

use std::path::Path;

use chrono::NaiveDate;

use crate::data::{DataError, MeasureRow, Quantity};

/// The percentiles drawn: 10 … 90; the 50th is the median.
pub const PERCENTILES: [u32; 9] = [10, 20, 30, 40, 50, 60, 70, 80, 90];

/// The index of the median in [`PERCENTILES`].
pub const MEDIAN: usize = 4;

/// One month of a deciles chart.
#[derive(Debug, Clone, PartialEq)]
pub struct DecileMonth {
    /// The month.
    pub date: NaiveDate,
    /// The number of groups with a value (a non-zero denominator and a numerator).
    pub groups: usize,
    /// The percentiles, `None` when too few groups have a value.
    pub values: Option<[f64; 9]>,
}

/// The data behind a deciles chart.
#[derive(Debug, Clone, PartialEq)]
pub struct DecilesData {
    /// Every month of the measure file, ascending.
    pub months: Vec<DecileMonth>,
}

impl DecilesData {
    /// The percentiles of `rows` per month, of each group's `quantity`; a month with at most
    /// `at_or_below` groups with a value is left out. Redaction of single rows does not apply:
    /// no group is shown.
    pub fn from_rows(
        path: &Path,
        column: &str,
        rows: &[MeasureRow],
        quantity: Quantity,
        at_or_below: f64,
    ) -> Result<Self, DataError> {
        let mut dates: Vec<NaiveDate> = rows.iter().map(|r| r.date).collect();
        dates.sort_unstable();
        dates.dedup();
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); dates.len()];
        let mut seen: Vec<std::collections::HashSet<&str>> =
            vec![std::collections::HashSet::new(); dates.len()];
        for row in rows {
            let i = dates.binary_search(&row.date).unwrap_or_default();
            let group = row.group.as_deref().unwrap_or("");
            if !seen[i].insert(group) {
                return Err(DataError::DuplicateGroup {
                    path: path.to_path_buf(),
                    line: row.line,
                    column: column.to_string(),
                    group: group.to_string(),
                    date: row.date,
                });
            }
            let (Some(n), Some(d)) = (row.numerator, row.denominator) else {
                continue;
            };
            if d == 0.0 {
                continue;
            }
            values[i].push(match quantity {
                Quantity::Count => n,
                Quantity::Rate { per } => n / d * per,
            });
        }
        let months = dates
            .into_iter()
            .zip(values)
            .map(|(date, mut v)| {
                v.sort_by(f64::total_cmp);
                let enough = v.len() as f64 > at_or_below && !v.is_empty();
                DecileMonth {
                    date,
                    groups: v.len(),
                    values: enough.then(|| PERCENTILES.map(|p| percentile(&v, f64::from(p)))),
                }
            })
            .collect();
        Ok(DecilesData { months })
    }

    /// The largest percentile shown, if any month is shown.
    pub fn max_value(&self) -> Option<f64> {
        self.months
            .iter()
            .filter_map(|m| m.values)
            .flat_map(IntoIterator::into_iter)
            .reduce(f64::max)
    }

    /// The months, ascending.
    pub fn dates(&self) -> Vec<NaiveDate> {
        self.months.iter().map(|m| m.date).collect()
    }
}

/// `numpy.percentile(sorted, q, method="linear")` of a sorted, non-empty slice: the virtual
/// index `(n - 1) * q / 100`, and numpy's `_lerp` between its neighbours.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    let index = (n - 1) as f64 * (q / 100.0);
    let below = index.floor();
    let gamma = index - below;
    let lo = (below as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_as_numpy() {
        // numpy.percentile([1, 2, 3, 4], [10, 50, 90]) == [1.3, 2.5, 3.7]
        let v = [1.0, 2.0, 3.0, 4.0];
        assert!((percentile(&v, 10.0) - 1.3).abs() < 1e-15);
        assert_eq!(percentile(&v, 50.0), 2.5);
        assert!((percentile(&v, 90.0) - 3.7).abs() < 1e-15);
        assert_eq!(percentile(&[7.0], 30.0), 7.0);
        assert_eq!(percentile(&[1.0, 3.0], 100.0), 3.0);
    }
}
