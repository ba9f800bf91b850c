//! Property tests: reading, summing and redacting measure rows agree with a plain reference.

use std::collections::BTreeMap;
use std::path::Path;

use charts::data::{parse_measure_csv, ChartData, MeasureColumns, REDACTION_THRESHOLD};
use proptest::prelude::*;

type Row = (usize, u32, Option<u32>, Option<u32>);

fn rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (
            0usize..3,
            1u32..7,
            prop::option::weighted(0.9, 0u32..40),
            prop::option::weighted(0.9, 0u32..60),
        ),
        1..80,
    )
}

const GROUPS: [&str; 3] = ["b", "a", "c, d"];

fn csv_text(rows: &[Row], grouped: bool, crlf: bool) -> String {
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut out = String::new();
    if grouped {
        out.push_str("g,");
    }
    out.push_str("num,den,value,date");
    out.push_str(eol);
    for (g, month, n, d) in rows {
        if grouped {
            out.push_str(&format!("\"{}\",", GROUPS[*g]));
        }
        let n = n.map(|n| format!("{n}.0")).unwrap_or_default();
        let d = d.map(|d| d.to_string()).unwrap_or_default();
        out.push_str(&format!("{n},{d},,2020-{month:02}-01{eol}"));
    }
    out
}

/// The reference rule: a point is shown iff both counts are known and above the threshold.
fn expected_rate(n: Option<u32>, d: Option<u32>) -> Option<f64> {
    let (n, d) = (f64::from(n?), f64::from(d?));
    (n > REDACTION_THRESHOLD && d > REDACTION_THRESHOLD).then(|| n / d * 1000.0)
}

proptest! {
    #[test]
    fn totals_are_summed_per_month_then_redacted(rows in rows(), crlf in any::<bool>()) {
        let text = csv_text(&rows, false, crlf);
        let cols = MeasureColumns::new(None, "num", "den");
        let parsed = parse_measure_csv(Path::new("t.csv"), text.as_bytes(), &cols).unwrap();
        prop_assert_eq!(parsed.len(), rows.len());
        for (i, r) in parsed.iter().enumerate() {
            prop_assert_eq!(r.line, i as u64 + 2);
        }
        let data = ChartData::from_rows(Path::new("t.csv"), None, &parsed, |_| true, REDACTION_THRESHOLD).unwrap();

        let mut sums: BTreeMap<u32, (Option<u32>, Option<u32>)> = BTreeMap::new();
        for (_, month, n, d) in &rows {
            let e = sums.entry(*month).or_insert((Some(0), Some(0)));
            e.0 = e.0.zip(*n).map(|(a, b)| a + b);
            e.1 = e.1.zip(*d).map(|(a, b)| a + b);
        }
        prop_assert_eq!(data.series.len(), 1);
        prop_assert_eq!(data.dates.len(), sums.len());
        for (point, (month, (n, d))) in data.series[0].points.iter().zip(&sums) {
            prop_assert_eq!(point.date.to_string(), format!("2020-{month:02}-01"));
            prop_assert_eq!(point.rate_per_1000(), expected_rate(*n, *d));
            let shown = expected_rate(*n, *d).is_some();
            prop_assert_eq!(point.numerator, if shown { n.map(f64::from) } else { None });
            prop_assert_eq!(point.denominator, if shown { d.map(f64::from) } else { None });
        }
    }

    #[test]
    fn groups_follow_first_appearance_and_redaction(rows in rows(), crlf in any::<bool>()) {
        // One row per (group, month), as measure files have.
        let mut seen = std::collections::BTreeSet::new();
        let rows: Vec<Row> = rows.into_iter().filter(|r| seen.insert((r.0, r.1))).collect();
        let text = csv_text(&rows, true, crlf);
        let cols = MeasureColumns::new(Some("g"), "num", "den");
        let parsed = parse_measure_csv(Path::new("g.csv"), text.as_bytes(), &cols).unwrap();
        let data = ChartData::from_rows(Path::new("g.csv"), Some("g"), &parsed, |_| true, REDACTION_THRESHOLD).unwrap();

        let mut order: Vec<usize> = Vec::new();
        for r in &rows {
            if !order.contains(&r.0) {
                order.push(r.0);
            }
        }
        let months: std::collections::BTreeSet<u32> = rows.iter().map(|r| r.1).collect();
        prop_assert_eq!(data.series.len(), order.len());
        for (series, g) in data.series.iter().zip(&order) {
            prop_assert_eq!(&series.name, GROUPS[*g]);
            for (point, month) in series.points.iter().zip(&months) {
                let want = rows
                    .iter()
                    .find(|r| r.0 == *g && r.1 == *month)
                    .and_then(|r| expected_rate(r.2, r.3));
                prop_assert_eq!(point.rate_per_1000(), want);
            }
        }
    }
}
