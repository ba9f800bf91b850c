//! The study's figures end to end: measure files in, JPEGs out.

use crate::common;

use std::fmt::Write as _;
use std::path::Path;

use plots::data::{month_label, ChartData, Quantity};
use plots::study::Breakdown;

fn args(measures: &str, figures: &str) -> plots::PlotsOptions {
    plots::PlotsOptions {
        measures_dir: measures.into(),
        output_dir: figures.into(),
    }
}

/// The series as a table: one line per month, one `numerator/denominator=rate` cell per group,
/// `-` where redacted.
fn series_table(data: &ChartData) -> String {
    let mut out = String::from("month");
    for s in &data.series {
        write!(out, " | {}", s.name).unwrap();
    }
    out.push('\n');
    for (i, date) in data.dates.iter().enumerate() {
        out.push_str(&month_label(*date));
        for s in &data.series {
            let p = &s.points[i];
            match (p.numerator, p.denominator, p.rate_per_1000) {
                (Some(n), Some(d), Some(r)) => write!(out, " | {n}/{d}={r:.3}").unwrap(),
                _ => out.push_str(" | -"),
            }
        }
        out.push('\n');
    }
    out
}

#[test]
fn study_series_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    common::write_study_measures(dir.path());
    for breakdown in Breakdown::ALL {
        let chart = breakdown.load(dir.path()).unwrap();
        assert_eq!(chart.data.dates.len(), 25);
        insta::assert_snapshot!(
            format!("study_{}", breakdown.measure_id()),
            series_table(&chart.data)
        );
    }
}

#[test]
fn fixture_series_snapshot() {
    let dir = common::fixtures_dir();
    for breakdown in Breakdown::ALL {
        let chart = breakdown.load(&dir).unwrap();
        insta::assert_snapshot!(
            format!("fixture_{}", breakdown.measure_id()),
            series_table(&chart.data)
        );
    }
}

#[test]
fn per_patient_total_equals_cohortextractor_population_measure() {
    // cohortextractor's per-patient total rows, summed per date, equal its `population` measure.
    let dir = common::fixtures_dir();
    let total = Breakdown::Total.load(&dir).unwrap().data;
    let rows = plots::data::read_measure_file(
        &dir.join("measure_pulse_ox_population.csv"),
        &Breakdown::Total.columns(),
    )
    .unwrap();
    let population = ChartData::from_rows(Path::new("p"), None, &rows, |_| true).unwrap();
    assert_eq!(total, population);
    assert_eq!(total.series[0].points[0].numerator, Some(30.0));
    assert_eq!(total.series[0].points[0].denominator, Some(60.0));
}

#[test]
fn suppressed_cells_are_redacted() {
    let dir = common::fixtures_dir();
    let path = dir.join("measure_pulse_ox_by_region_suppressed.csv");
    let rows = plots::data::read_measure_file(&path, &Breakdown::Region.columns()).unwrap();
    let data = ChartData::from_rows(&path, Some("region"), &rows, |_| true).unwrap();
    let london = data.series.iter().find(|s| s.name == "London").unwrap();
    assert!(london.points[0].is_redacted());
    let south_east = data.series.iter().find(|s| s.name == "South East").unwrap();
    assert_eq!(south_east.points[0].rate_per_1000, Some(687.5));
}

/// Fraction of pixels within `tolerance` of `colour`.
fn colour_share(img: &image::RgbImage, (r, g, b): (u8, u8, u8), tolerance: i32) -> f64 {
    let close = img
        .pixels()
        .filter(|p| {
            (i32::from(p[0]) - i32::from(r)).abs() <= tolerance
                && (i32::from(p[1]) - i32::from(g)).abs() <= tolerance
                && (i32::from(p[2]) - i32::from(b)).abs() <= tolerance
        })
        .count();
    close as f64 / f64::from(img.width() * img.height())
}

#[test]
fn generate_plots_writes_four_decodable_non_blank_jpegs() {
    let project = tempfile::tempdir().unwrap();
    common::write_study_measures(&project.path().join("output/measures"));
    let mut log = Vec::new();
    plots::generate_plots(
        &args("output/measures", "output/figures"),
        project.path(),
        &mut log,
    )
    .unwrap();
    let log = String::from_utf8(log).unwrap();
    assert!(
        log.contains("wrote output/figures/region_rates.jpeg (9 series, "),
        "{log}"
    );

    let expected_series = [
        (Breakdown::Total, 1),
        (Breakdown::Sex, 2),
        (Breakdown::Region, 9),
        (Breakdown::AgeBand, 8),
    ];
    for (breakdown, series) in expected_series {
        let path = project
            .path()
            .join("output/figures")
            .join(breakdown.figure_file());
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            &bytes[..2],
            &[0xff, 0xd8],
            "{} is not a JPEG",
            path.display()
        );
        let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
            .unwrap()
            .to_rgb8();
        assert_eq!(
            (img.width(), img.height()),
            (plots::chart::WIDTH, plots::chart::HEIGHT)
        );
        // Not blank: white background with a real amount of ink.
        let white = colour_share(&img, (255, 255, 255), 12);
        assert!(
            white > 0.6 && white < 0.985,
            "{}: white share {white}",
            path.display()
        );
        let dark = colour_share(&img, (0, 0, 0), 90);
        assert!(dark > 0.002, "{}: no text or axes ({dark})", path.display());
        // Every series colour is drawn (lines and legend).
        for i in 0..series {
            let share = colour_share(&img, plots::chart::series_colour(i), 40);
            assert!(
                share > 0.0001,
                "{}: series {i} not drawn ({share})",
                path.display()
            );
        }
        // and no colour beyond them.
        if series < plots::chart::PALETTE.len() {
            let share = colour_share(&img, plots::chart::series_colour(series), 30);
            assert!(
                share < 0.0001,
                "{}: unexpected series colour ({share})",
                path.display()
            );
        }
    }
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(project.path().join("output/figures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
}

#[test]
fn same_input_gives_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    common::write_study_measures(dir.path());
    let chart = Breakdown::Region.load(dir.path()).unwrap();
    let text = plots::chart::ChartText {
        title: "t",
        y_label: "y",
        legend_title: Some("Region"),
    };
    let a = plots::chart::render_jpeg(&chart.data, Quantity::RatePer1000, text).unwrap();
    let b = plots::chart::render_jpeg(&chart.data, Quantity::RatePer1000, text).unwrap();
    assert!(a == b);
}

#[test]
fn all_redacted_chart_still_draws() {
    let rows = plots::data::parse_measure_csv(
        Path::new("m.csv"),
        "had_pulse_ox,population,value,date\n1.0,3,,2020-01-01\n".as_bytes(),
        &Breakdown::Total.columns(),
    )
    .unwrap();
    let data = ChartData::from_rows(Path::new("m.csv"), None, &rows, |_| true).unwrap();
    let text = plots::chart::ChartText {
        title: "Nothing to show",
        y_label: "Total Number",
        legend_title: None,
    };
    let rgb = plots::chart::render_rgb(&data, Quantity::Count, text).unwrap();
    let img = image::RgbImage::from_raw(plots::chart::WIDTH, plots::chart::HEIGHT, rgb).unwrap();
    assert!(colour_share(&img, plots::chart::series_colour(0), 30) < 0.0001);
    assert!(colour_share(&img, (0, 0, 0), 90) > 0.001);
}

#[test]
fn missing_measure_file_is_named_and_nothing_is_written() {
    let project = tempfile::tempdir().unwrap();
    let measures = project.path().join("output/measures");
    common::write_study_measures(&measures);
    std::fs::remove_file(measures.join("measure_pulse_ox_by_region.csv")).unwrap();
    let err = plots::generate_plots(
        &args("output/measures", "output/figures"),
        project.path(),
        &mut Vec::new(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("measure_pulse_ox_by_region.csv"), "{msg}");
    assert!(!project.path().join("output/figures").exists());
}

#[test]
fn missing_column_is_named() {
    let project = tempfile::tempdir().unwrap();
    let measures = project.path().join("m");
    common::write_study_measures(&measures);
    let text = common::age_band_csv().replace("age_band,", "ageband,");
    std::fs::write(measures.join("measure_pulse_ox_by_age_band.csv"), text).unwrap();
    let err = plots::generate_plots(&args("m", "f"), project.path(), &mut Vec::new()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("measure_pulse_ox_by_age_band.csv")
            && msg.contains("missing column `age_band`"),
        "{msg}"
    );
}
