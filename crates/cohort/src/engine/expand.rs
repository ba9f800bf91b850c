//! Interval expansion: pairs each table row with the index dates it counts for, in one pass,
//! by binary search over per-index-date bounds (which are monotone in the index date).

use polars::prelude::IdxSize;

/// Per-index-date values of one date expression, in ascending index-date order, as days
/// since 1970-01-01.
#[derive(Debug, Clone)]
pub struct DateSeries(pub Vec<i32>);

impl DateSeries {
    /// Are the values non-decreasing (true for every date expression of the spec)?
    pub fn is_monotone(&self) -> bool {
        self.0.windows(2).all(|w| w[0] <= w[1])
    }

    /// The first index whose value is `>= x`.
    pub fn first_ge(&self, x: i32) -> usize {
        self.0.partition_point(|&v| v < x)
    }

    /// The first index whose value is `> x`.
    pub fn first_gt(&self, x: i32) -> usize {
        self.0.partition_point(|&v| v <= x)
    }
}

/// For each row `r` with index-date range `range(r) = [lo, hi)`, emits `(r, i)` for every `i`
/// in it: row numbers (for `DataFrame::take`) and index-date positions.
pub fn expand(
    n_rows: usize,
    mut range: impl FnMut(usize) -> (usize, usize),
) -> (Vec<IdxSize>, Vec<u32>) {
    let mut rows = Vec::new();
    let mut idx = Vec::new();
    for r in 0..n_rows {
        let (lo, hi) = range(r);
        for i in lo..hi {
            rows.push(r as IdxSize);
            idx.push(i as u32);
        }
    }
    (rows, idx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_searches_and_expansion() {
        let s = DateSeries(vec![10, 20, 20, 30]);
        assert!(s.is_monotone());
        assert_eq!(s.first_ge(20), 1);
        assert_eq!(s.first_gt(20), 3);
        assert_eq!(s.first_ge(31), 4);
        assert_eq!(s.first_gt(0), 0);
        assert!(!DateSeries(vec![2, 1]).is_monotone());
        let (rows, idx) = expand(3, |r| [(0, 2), (1, 1), (2, 4)][r]);
        assert_eq!(rows, vec![0, 0, 2, 2]);
        assert_eq!(idx, vec![0, 1, 2, 3]);
    }
}
