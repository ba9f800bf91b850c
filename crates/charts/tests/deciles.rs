//! Deciles charts against numpy: the percentiles of `tests/data/deciles` were computed by
//! `numpy.percentile(..., method="linear")` (see its README).

use std::path::{Path, PathBuf};

use charts::deciles::PERCENTILES;
use charts::{Body, Measure, Outputs, Study};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/deciles")
}

fn study() -> Study {
    Study {
        measures: vec![Measure::new("practice_rate", "visits", "population").grouped(&["practice"])],
        ..Study::default()
    }
}

fn deciles_chart() -> charts::LoadedChart {
    let outputs = Outputs::parse(
        Path::new("outputs.yaml"),
        "charts:\n  - measure: practice_rate\n    kind: deciles\n",
    )
    .unwrap();
    let plan = charts::plan(&study(), Some(outputs)).unwrap();
    plan.charts[0]
        .load(&data_dir(), plan.redact_at_or_below)
        .unwrap()
}

#[test]
fn percentiles_match_numpy() {
    let chart = deciles_chart();
    let Body::Deciles(data) = &chart.body else {
        panic!("not a deciles chart");
    };
    let expected = std::fs::read_to_string(data_dir().join("expected_percentiles.csv")).unwrap();
    let mut lines = expected.lines();
    assert_eq!(
        lines.next().unwrap(),
        "date,groups,p10,p20,p30,p40,p50,p60,p70,p80,p90"
    );
    let mut compared = 0;
    for (month, line) in data.months.iter().zip(lines) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(month.date.to_string(), cells[0]);
        assert_eq!(month.groups.to_string(), cells[1], "{}", cells[0]);
        match month.values {
            None => assert!(cells[2..].iter().all(|c| c.is_empty()), "{line}"),
            Some(values) => {
                for ((p, got), want) in PERCENTILES.iter().zip(values).zip(&cells[2..]) {
                    let want: f64 = want.parse().unwrap();
                    let error = (got - want).abs() / want.abs().max(1e-300);
                    assert!(error <= 1e-12, "{} p{p}: {got} vs numpy {want}", cells[0]);
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(data.months.len(), 12);
    // 11 months of 9 percentiles; March (5 practices) is left out.
    assert_eq!(compared, 99);
    assert!(data.months[2].values.is_none());
}

#[test]
fn deciles_need_more_groups_than_the_threshold() {
    let outputs = Outputs::parse(
        Path::new("outputs.yaml"),
        "redact_at_or_below: 200\ncharts:\n  - measure: practice_rate\n    kind: deciles\n",
    )
    .unwrap();
    let plan = charts::plan(&study(), Some(outputs)).unwrap();
    let chart = plan.charts[0]
        .load(&data_dir(), plan.redact_at_or_below)
        .unwrap();
    // No month has more than 200 practices with a non-zero denominator.
    assert!(chart.is_empty());
    assert_eq!(chart.summary(), "deciles, 0 months drawn, 12 left out");
}
