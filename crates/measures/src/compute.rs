//! Evaluating one measure over one input file: group, sum, disclosure control, value.

use crate::error::MeasuresError;
use crate::frame::{CategoryColumn, Frame};
use crate::spec::{Disclosure, GroupBy, MeasureSpec, POPULATION};

/// The most rows (group combinations) one measure may produce for one date.
pub const MAX_GROUP_COMBINATIONS: usize = 50_000_000;

/// A numerator or denominator column of a result.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberColumn {
    /// The variable name (`population` for the count).
    pub name: String,
    /// Per row; NaN where suppressed.
    pub values: Vec<f64>,
    /// Written as integers (`502`): the population count, unless suppression made it float.
    pub integer: bool,
}

/// One measure evaluated for one date.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureResult {
    /// The `group_by` variables (empty for a total).
    pub group_columns: Vec<String>,
    /// Per row, the value of each group column.
    pub groups: Vec<Vec<String>>,
    /// The numerator sums.
    pub numerator: NumberColumn,
    /// The denominator sums or counts; `None` when the denominator is the numerator.
    pub denominator: Option<NumberColumn>,
    /// numerator / denominator, NaN where undefined or suppressed.
    pub value: Vec<f64>,
    /// Per row, whether the group had any denominator before disclosure control (rows that
    /// exist only to complete the Cartesian product do not).
    pub present: Vec<bool>,
}

impl MeasureResult {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.value.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }

    /// The denominator column (the numerator when both are the same variable).
    pub fn denominator_column(&self) -> &NumberColumn {
        self.denominator.as_ref().unwrap_or(&self.numerator)
    }
}

/// Compensated summation, as pandas' `groupby().sum()` does for float64.
#[derive(Clone, Copy, Default)]
struct KahanSum {
    sum: f64,
    compensation: f64,
}

impl KahanSum {
    #[inline]
    fn add(&mut self, v: f64) {
        let y = v - self.compensation;
        let t = self.sum + y;
        self.compensation = t - self.sum - y;
        self.sum = t;
    }
}

/// For a category column: `rank[code]` = position of the value in the order pandas sorts
/// the column by: numerically when every value is an integer (pandas reads the column as
/// int64: `practice` 1, 2, 10) or else a number (float64), otherwise in code point order.
fn ranks(column: &CategoryColumn) -> (Vec<u32>, Vec<u32>) {
    let mut order: Vec<u32> = (0..column.values.len() as u32).collect();
    // Empty (missing) values sort first and do not make a column textual.
    let ints: Option<Vec<i64>> = column
        .values
        .iter()
        .map(|v| {
            if v.is_empty() {
                Some(i64::MIN)
            } else {
                v.parse().ok()
            }
        })
        .collect();
    let floats: Option<Vec<f64>> = column
        .values
        .iter()
        .map(|v| {
            if v.is_empty() {
                Some(f64::NEG_INFINITY)
            } else {
                v.parse::<f64>().ok().filter(|f| f.is_finite())
            }
        })
        .collect();
    let text = |a: u32, b: u32| {
        // UTF-8 byte order is code point order.
        column.values[a as usize]
            .as_bytes()
            .cmp(column.values[b as usize].as_bytes())
    };
    match (ints, floats) {
        (Some(ints), _) => order.sort_unstable_by(|&a, &b| {
            ints[a as usize]
                .cmp(&ints[b as usize])
                .then_with(|| text(a, b))
        }),
        (None, Some(floats)) => order.sort_unstable_by(|&a, &b| {
            floats[a as usize]
                .total_cmp(&floats[b as usize])
                .then_with(|| text(a, b))
        }),
        _ => order.sort_unstable_by(|&a, &b| text(a, b)),
    }
    let mut rank = vec![0u32; order.len()];
    for (pos, &code) in order.iter().enumerate() {
        rank[code as usize] = pos as u32;
    }
    (order, rank)
}

/// The numbers a measure sums: `None` for the population (counted).
fn number_source<'a>(
    frame: &'a Frame,
    spec: &MeasureSpec,
    name: &str,
) -> Result<Option<&'a [f64]>, MeasuresError> {
    if name == POPULATION {
        return Ok(None);
    }
    frame
        .numbers
        .get(name)
        .map(|v| Some(v.as_slice()))
        .ok_or_else(|| MeasuresError::InvalidMeasure {
            id: spec.id.clone(),
            message: format!("column '{name}' was not read"),
        })
}

/// Evaluates `spec` over `frame` with the given disclosure control. `report` receives
/// cohortextractor's suppression messages.
pub fn compute(
    spec: &MeasureSpec,
    frame: &Frame,
    disclosure: Disclosure,
    report: &mut dyn FnMut(String),
) -> Result<MeasureResult, MeasuresError> {
    let invalid = |message: String| MeasuresError::InvalidMeasure {
        id: spec.id.clone(),
        message,
    };
    let group_columns: Vec<String> = spec.group_columns().to_vec();
    let mut columns: Vec<&CategoryColumn> = Vec::new();
    for name in &group_columns {
        columns.push(
            frame
                .categories
                .get(name)
                .ok_or_else(|| invalid(format!("column '{name}' was not read")))?,
        );
    }
    let ranked: Vec<(Vec<u32>, Vec<u32>)> = columns.iter().map(|c| ranks(c)).collect();
    // Row-major mixed radix over the sorted values: the last group column varies fastest.
    let mut cells: usize = 1;
    let mut strides = vec![0usize; columns.len()];
    for (i, (order, _)) in ranked.iter().enumerate().rev() {
        strides[i] = cells;
        cells = cells
            .checked_mul(order.len())
            .filter(|&n| n <= MAX_GROUP_COMBINATIONS)
            .ok_or_else(|| {
                invalid(format!(
                    "more than {MAX_GROUP_COMBINATIONS} group combinations in one file"
                ))
            })?;
    }
    if matches!(spec.group_by, GroupBy::Total) {
        cells = 1;
    }

    let num_src = number_source(frame, spec, &spec.numerator)?;
    let den_src = if spec.denominator == spec.numerator {
        None
    } else {
        Some(number_source(frame, spec, &spec.denominator)?)
    };
    let mut num = vec![KahanSum::default(); cells];
    let mut den = vec![KahanSum::default(); if den_src.is_some() { cells } else { 0 }];
    let mut count = vec![0u64; cells];

    let cell_of = |row: usize| -> usize {
        let mut idx = 0;
        for (c, column) in columns.iter().enumerate() {
            idx += ranked[c].1[column.codes[row] as usize] as usize * strides[c];
        }
        idx
    };
    for row in 0..frame.rows {
        let cell = cell_of(row);
        count[cell] += 1;
        if let Some(values) = num_src {
            num[cell].add(values[row]);
        }
        if let Some(Some(values)) = den_src {
            den[cell].add(values[row]);
        }
    }

    let totals = |src: Option<&[f64]>, sums: &[KahanSum]| -> Vec<f64> {
        match src {
            None => count.iter().map(|&c| c as f64).collect(),
            Some(_) => sums.iter().map(|s| s.sum).collect(),
        }
    };
    let mut numerator = NumberColumn {
        name: spec.numerator.clone(),
        values: totals(num_src, &num),
        integer: num_src.is_none(),
    };
    let mut denominator = den_src.map(|src| NumberColumn {
        name: spec.denominator.clone(),
        values: totals(src, &den),
        integer: src.is_none(),
    });
    let present: Vec<bool> = denominator
        .as_ref()
        .unwrap_or(&numerator)
        .values
        .iter()
        .map(|&d| d != 0.0)
        .collect();

    let groups: Vec<Vec<String>> = (0..cells)
        .map(|cell| {
            ranked
                .iter()
                .zip(&columns)
                .zip(&strides)
                .map(|(((order, _), column), stride)| {
                    let rank = (cell / stride) % order.len();
                    column.values[order[rank] as usize].clone()
                })
                .collect()
        })
        .collect();

    match disclosure {
        Disclosure::None => {}
        Disclosure::Cohortextractor => {
            for column in std::iter::once(&mut numerator).chain(denominator.as_mut()) {
                let (suppressed, additional) = suppress_small_numbers(&mut column.values);
                if suppressed {
                    column.integer = false;
                    report(format!(
                        "Suppressed small numbers in column {} in measure {}",
                        column.name, spec.id
                    ));
                }
                if additional {
                    report(format!(
                        "Additional suppression in column {} in measure {}",
                        column.name, spec.id
                    ));
                }
            }
        }
        Disclosure::OpenSafely => {
            for column in std::iter::once(&mut numerator).chain(denominator.as_mut()) {
                column
                    .values
                    .iter_mut()
                    .for_each(|v| *v = round_and_suppress(*v));
            }
        }
    }
    let den_values = &denominator.as_ref().unwrap_or(&numerator).values;
    let value = numerator
        .values
        .iter()
        .zip(den_values)
        .map(|(&n, &d)| {
            if disclosure == Disclosure::OpenSafely && d == 0.0 {
                f64::NAN
            } else {
                n / d
            }
        })
        .collect();
    Ok(MeasureResult {
        group_columns,
        groups,
        numerator,
        denominator,
        value,
        present,
    })
}

/// cohortextractor's threshold: values in `1..=5` are small.
pub const SMALL_NUMBER_THRESHOLD: f64 = 5.0;

/// cohortextractor's `Measure._suppress_column`: values in `(0, 5]` become NaN; if their
/// total is ≤5 and some value is >5, every value equal to the smallest value >5 becomes NaN
/// too. Returns (anything suppressed, additional suppression applied).
pub fn suppress_small_numbers(values: &mut [f64]) -> (bool, bool) {
    let is_small = |v: f64| v > 0.0 && v <= SMALL_NUMBER_THRESHOLD;
    let small_total: f64 = values.iter().copied().filter(|&v| is_small(v)).sum();
    let any_small = values.iter().any(|&v| is_small(v));
    let next_smallest = values
        .iter()
        .copied()
        .filter(|&v| v > SMALL_NUMBER_THRESHOLD)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))));
    if !any_small {
        return (false, false);
    }
    for v in values.iter_mut() {
        if is_small(*v) {
            *v = f64::NAN;
        }
    }
    match next_smallest {
        Some(next) if small_total <= SMALL_NUMBER_THRESHOLD => {
            for v in values.iter_mut() {
                if *v == next {
                    *v = f64::NAN;
                }
            }
            (true, true)
        }
        _ => (true, false),
    }
}

/// The current OpenSAFELY rule (ehrQL `apply_sdc`): values ≤7 become 0, then every value is
/// rounded to the nearest multiple of 5 (Python's `round`, halves to even).
pub fn round_and_suppress(v: f64) -> f64 {
    if v.is_nan() {
        return v;
    }
    let v = if v <= 7.0 { 0.0 } else { v };
    5.0 * (v / 5.0).round_ties_even()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{read_csv, ColumnUse};
    use std::path::Path;

    fn frame(csv: &str, cats: &[&str], nums: &[&str]) -> Frame {
        let mut needs: Vec<ColumnUse> = cats
            .iter()
            .map(|c| ColumnUse {
                name: c.to_string(),
                numeric: false,
                categorical: true,
                role: "group_by".into(),
            })
            .collect();
        needs.extend(nums.iter().map(|c| ColumnUse {
            name: c.to_string(),
            numeric: true,
            categorical: false,
            role: "numerator".into(),
        }));
        read_csv(csv.as_bytes(), Path::new("t.csv"), &needs).unwrap()
    }

    fn run(spec: &MeasureSpec, f: &Frame) -> MeasureResult {
        compute(spec, f, spec.disclosure, &mut |_| {}).unwrap()
    }

    #[test]
    fn groups_sort_by_code_point_with_empty_first() {
        let f = frame(
            "x,g\n1,b\n0,East of England\n1,\n1,East Midlands\n0,0-19\n1,0\n0,b\n",
            &["g"],
            &["x"],
        );
        let r = run(&MeasureSpec::new("m", "x", POPULATION).group_by(&["g"]), &f);
        let groups: Vec<&str> = r.groups.iter().map(|g| g[0].as_str()).collect();
        assert_eq!(
            groups,
            ["", "0", "0-19", "East Midlands", "East of England", "b"]
        );
        assert_eq!(r.numerator.values, [1.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
        assert_eq!(
            r.denominator.as_ref().unwrap().values,
            [1.0, 1.0, 1.0, 1.0, 1.0, 2.0]
        );
        assert!(r.denominator.as_ref().unwrap().integer);
        assert!(!r.numerator.integer);
        assert_eq!(r.value[5], 0.5);
    }

    #[test]
    fn integer_groups_sort_numerically_as_pandas_does() {
        let f = frame(
            "x,practice,score\n1,10,2.5\n1,2,10\n0,1,-1\n1,2,0.5\n",
            &["practice", "score"],
            &["x"],
        );
        let r = run(
            &MeasureSpec::new("m", "x", POPULATION).group_by(&["practice"]),
            &f,
        );
        let groups: Vec<&str> = r.groups.iter().map(|g| g[0].as_str()).collect();
        assert_eq!(groups, ["1", "2", "10"]);
        let r = run(
            &MeasureSpec::new("m", "x", POPULATION).group_by(&["score"]),
            &f,
        );
        let groups: Vec<&str> = r.groups.iter().map(|g| g[0].as_str()).collect();
        assert_eq!(groups, ["-1", "0.5", "2.5", "10"]);
    }

    #[test]
    fn several_group_by_give_the_cartesian_product() {
        let f = frame("x,s,r\n1,M,b\n1,F,a\n0,F,c\n", &["s", "r"], &["x"]);
        let r = run(
            &MeasureSpec::new("m", "x", POPULATION).group_by(&["s", "r"]),
            &f,
        );
        let rows: Vec<String> = r
            .groups
            .iter()
            .zip(&r.numerator.values)
            .zip(&r.denominator.as_ref().unwrap().values)
            .map(|((g, n), d)| format!("{}/{} {n} {d}", g[0], g[1]))
            .collect();
        assert_eq!(
            rows,
            ["F/a 1 1", "F/b 0 0", "F/c 0 1", "M/a 0 0", "M/b 1 1", "M/c 0 0"]
        );
        assert_eq!(r.present, [true, false, true, false, true, false]);
        assert!(r.value[1].is_nan());
    }

    #[test]
    fn total_is_one_row_even_without_patients() {
        let f = frame("x,s\n1,M\n1,F\n0,F\n", &[], &["x"]);
        let r = run(&MeasureSpec::new("m", "x", POPULATION), &f);
        assert_eq!(r.numerator.values, [2.0]);
        assert_eq!(r.denominator.as_ref().unwrap().values, [3.0]);
        assert!(r.groups[0].is_empty());
        let empty = frame("x,s\n", &[], &["x"]);
        let r = run(&MeasureSpec::new("m", "x", POPULATION), &empty);
        assert_eq!(r.len(), 1);
        assert!(r.value[0].is_nan());
        assert_eq!(r.present, [false]);
    }

    #[test]
    fn variable_denominator_sums_and_divides() {
        let f = frame("x,y,s\n1,1,a\n2,0,a\n3,1,b\n", &["s"], &["x", "y"]);
        let r = run(&MeasureSpec::new("m", "x", "y").group_by(&["s"]), &f);
        assert_eq!(r.numerator.values, [3.0, 3.0]);
        assert_eq!(r.denominator.as_ref().unwrap().values, [1.0, 1.0]);
        assert!(!r.denominator.as_ref().unwrap().integer);
        assert_eq!(r.value, [3.0, 3.0]);
    }

    #[test]
    fn cohortextractor_suppression() {
        // Small values hidden; their total (13) > 5, so nothing more.
        let mut v = [4.0, 0.0, 5.0, 2.0, 0.0, 11.0, 6.0, 2.0];
        assert_eq!(suppress_small_numbers(&mut v), (true, false));
        let shown: Vec<String> = v.iter().map(|x| format!("{x}")).collect();
        assert_eq!(shown, ["NaN", "0", "NaN", "NaN", "0", "11", "6", "NaN"]);
        // Small total ≤5: every row equal to the next smallest is hidden as well.
        let mut v = [3.0, 8.0, 8.0, 20.0, 0.0];
        assert_eq!(suppress_small_numbers(&mut v), (true, true));
        assert!(v[0].is_nan() && v[1].is_nan() && v[2].is_nan());
        assert_eq!((v[3], v[4]), (20.0, 0.0));
        // Nothing small: nothing changes.
        let mut v = [0.0, 6.0, 7.0];
        assert_eq!(suppress_small_numbers(&mut v), (false, false));
        assert_eq!(v, [0.0, 6.0, 7.0]);
        // Small but no large values: only the small ones.
        let mut v = [1.0, 2.0];
        assert_eq!(suppress_small_numbers(&mut v), (true, false));
    }

    #[test]
    fn opensafely_rounding() {
        let cases = [
            (0.0, 0.0),
            (1.0, 0.0),
            (7.0, 0.0),
            (8.0, 10.0),
            (12.0, 10.0),
            (13.0, 15.0),
            (502.0, 500.0),
            (503.0, 505.0),
            (12.5, 10.0),
            (17.5, 20.0),
            (-3.0, 0.0),
        ];
        for (v, want) in cases {
            assert_eq!(round_and_suppress(v), want, "{v}");
        }
    }

    #[test]
    fn disclosure_rules_change_numbers_and_value() {
        let mut csv = String::from("x,s\n");
        for _ in 0..12 {
            csv.push_str("1,a\n");
        }
        for _ in 0..3 {
            csv.push_str("0,a\n1,b\n");
        }
        let f = frame(&csv, &["s"], &["x"]);
        let base = MeasureSpec::new("m", "x", POPULATION).group_by(&["s"]);

        let r = run(&base.clone().disclosure(Disclosure::OpenSafely), &f);
        assert_eq!(r.numerator.values, [10.0, 0.0]);
        assert_eq!(r.denominator.as_ref().unwrap().values, [15.0, 0.0]);
        assert!(r.denominator.as_ref().unwrap().integer);
        assert_eq!(r.value[0], 10.0 / 15.0);
        assert!(r.value[1].is_nan());
        assert_eq!(r.present, [true, true]);

        let mut messages = Vec::new();
        let r = compute(&base, &f, Disclosure::Cohortextractor, &mut |m| {
            messages.push(m);
        })
        .unwrap();
        // 3 is small, total 3 ≤ 5: the next smallest (12, then 15) goes too.
        assert!(r.numerator.values.iter().all(|v| v.is_nan()));
        assert!(r
            .denominator
            .as_ref()
            .unwrap()
            .values
            .iter()
            .all(|v| v.is_nan()));
        assert!(!r.denominator.as_ref().unwrap().integer);
        assert!(r.value.iter().all(|v| v.is_nan()));
        assert_eq!(
            messages,
            [
                "Suppressed small numbers in column x in measure m",
                "Additional suppression in column x in measure m",
                "Suppressed small numbers in column population in measure m",
                "Additional suppression in column population in measure m",
            ]
        );
    }

    #[test]
    fn float_sums_are_compensated() {
        let f = frame("x\n0.1\n0.2\n0.3\n", &[], &["x"]);
        let r = run(&MeasureSpec::new("m", "x", POPULATION), &f);
        // Naive left-to-right summation gives 0.6000000000000001.
        assert_eq!(r.numerator.values, [0.6]);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, BTreeSet};

    const VALUES: [&str; 7] = [
        "",
        "0",
        "0-19",
        "80+",
        "East Midlands",
        "East of England",
        "é",
    ];

    fn frame_of(rows: &[(Vec<usize>, u8)], n_groups: usize) -> Frame {
        let mut frame = Frame {
            rows: rows.len(),
            ..Frame::default()
        };
        for g in 0..n_groups {
            let mut column = CategoryColumn::default();
            for (groups, _) in rows {
                let v = VALUES[groups[g]].to_string();
                let code = match column.values.iter().position(|x| *x == v) {
                    Some(c) => c,
                    None => {
                        column.values.push(v);
                        column.values.len() - 1
                    }
                };
                column.codes.push(code as u32);
            }
            frame.categories.insert(format!("g{g}"), column);
        }
        frame.numbers.insert(
            "x".into(),
            rows.iter().map(|(_, x)| f64::from(*x)).collect(),
        );
        frame
    }

    proptest! {
        /// Against a plain reference: sorted distinct values per column, their full
        /// Cartesian product, sums and counts per combination.
        #[test]
        fn matches_reference_grouping(
            n_groups in 1usize..=3,
            rows in proptest::collection::vec((proptest::collection::vec(0usize..VALUES.len(), 3), 0u8..4), 0..40),
        ) {
            let frame = frame_of(&rows, n_groups);
            let names: Vec<String> = (0..n_groups).map(|g| format!("g{g}")).collect();
            let spec = MeasureSpec::new("m", "x", POPULATION).group_by(&names);
            let r = compute(&spec, &frame, Disclosure::None, &mut |_| {}).unwrap();

            let mut sums: BTreeMap<Vec<&str>, (f64, f64)> = BTreeMap::new();
            for (groups, x) in &rows {
                let key: Vec<&str> = groups[..n_groups].iter().map(|&i| VALUES[i]).collect();
                let e = sums.entry(key).or_default();
                e.0 += f64::from(*x);
                e.1 += 1.0;
            }
            let distinct: Vec<BTreeSet<&str>> = (0..n_groups)
                .map(|g| rows.iter().map(|(gs, _)| VALUES[gs[g]]).collect())
                .collect();
            let mut combos: Vec<Vec<&str>> = vec![vec![]];
            for values in &distinct {
                combos = combos
                    .iter()
                    .flat_map(|c| values.iter().map(move |v| { let mut c = c.clone(); c.push(*v); c }))
                    .collect();
            }
            if rows.is_empty() {
                combos.clear();
            }
            prop_assert_eq!(r.len(), combos.len());
            for (i, combo) in combos.iter().enumerate() {
                let got: Vec<&str> = r.groups[i].iter().map(String::as_str).collect();
                prop_assert_eq!(&got, combo);
                let (n, d) = sums.get(combo).copied().unwrap_or((0.0, 0.0));
                prop_assert_eq!(r.numerator.values[i], n);
                prop_assert_eq!(r.denominator.as_ref().unwrap().values[i], d);
                prop_assert_eq!(r.present[i], d > 0.0);
            }
        }

        /// Suppression never leaves a visible value in 1..=5, never hides a 0, and hides a
        /// value >5 only when it is the smallest and the small ones total ≤5.
        #[test]
        fn suppression_invariants(values in proptest::collection::vec(0u8..20, 0..12)) {
            let original: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
            let mut v = original.clone();
            suppress_small_numbers(&mut v);
            for (o, s) in original.iter().zip(&v) {
                if !s.is_nan() {
                    prop_assert_eq!(o, s);
                    prop_assert!(!(*s > 0.0 && *s <= 5.0));
                }
                if *o == 0.0 {
                    prop_assert_eq!(*s, 0.0);
                }
            }
            let small: Vec<f64> = original.iter().copied().filter(|o| *o > 0.0 && *o <= 5.0).collect();
            let min_large = original.iter().copied().filter(|o| *o > 5.0).fold(f64::INFINITY, f64::min);
            let secondary = !small.is_empty() && small.iter().sum::<f64>() <= 5.0 && min_large.is_finite();
            for (o, s) in original.iter().zip(&v) {
                if *o > 5.0 {
                    // Large values are hidden only as the secondary suppression of the smallest.
                    prop_assert_eq!(s.is_nan(), secondary && *o == min_large);
                }
            }
        }
    }
}
