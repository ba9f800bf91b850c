//! The study's figures end to end: measure files in, JPEGs out.

use crate::common;

use std::fmt::Write as _;
use std::path::Path;

use charts::data::{month_label, ChartData, Quantity, REDACTION_THRESHOLD};

/// The study's four measures, in the original `generate_plots` order, with their figures.
const FIGURES: [(&str, &str); 4] = [
    ("pulse_ox_total", "population_rates.jpeg"),
    ("pulse_ox_by_sex", "sex_rates.jpeg"),
    ("pulse_ox_by_region", "region_rates.jpeg"),
    ("pulse_ox_by_age_band", "age_rates.jpeg"),
];

fn args(measures: &str, figures: &str) -> plots::PlotsOptions {
    plots::PlotsOptions {
        measures_dir: measures.into(),
        output_dir: figures.into(),
        outputs: None,
    }
}

/// Runs `generate_plots` for the pulse oximetry study in `project`.
fn generate(
    args: &plots::PlotsOptions,
    project: &Path,
    log: &mut Vec<u8>,
) -> Result<Option<std::path::PathBuf>, plots::PlotsError> {
    plots::generate_plots(args, &common::pulse_ox_study(), project, log)
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
            match (p.numerator, p.denominator, p.rate_per_1000()) {
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
    for (id, _) in FIGURES {
        let chart = common::study_chart(dir.path(), id);
        assert_eq!(common::lines(&chart).dates.len(), 25);
        insta::assert_snapshot!(format!("study_{id}"), series_table(common::lines(&chart)));
    }
}

#[test]
fn fixture_series_snapshot() {
    let dir = common::fixtures_dir();
    for (id, _) in FIGURES {
        let chart = common::study_chart(&dir, id);
        insta::assert_snapshot!(format!("fixture_{id}"), series_table(common::lines(&chart)));
    }
}

#[test]
fn per_patient_total_equals_cohortextractor_population_measure() {
    // cohortextractor's per-patient total rows, summed per date, equal its `population` measure.
    let dir = common::fixtures_dir();
    let total = common::lines(&common::study_chart(&dir, "pulse_ox_total")).clone();
    let columns = charts::Measure::new("pulse_ox_total", "had_pulse_ox", "population").columns();
    let rows =
        charts::data::read_measure_file(&dir.join("measure_pulse_ox_population.csv"), &columns)
            .unwrap();
    let population =
        ChartData::from_rows(Path::new("p"), None, &rows, |_| true, REDACTION_THRESHOLD).unwrap();
    assert_eq!(total, population);
    assert_eq!(total.series[0].points[0].numerator, Some(30.0));
    assert_eq!(total.series[0].points[0].denominator, Some(60.0));
}

#[test]
fn suppressed_cells_are_redacted() {
    let dir = common::fixtures_dir();
    let path = dir.join("measure_pulse_ox_by_region_suppressed.csv");
    let columns = charts::Measure::new("r", "had_pulse_ox", "population")
        .grouped(&["region"])
        .columns();
    let rows = charts::data::read_measure_file(&path, &columns).unwrap();
    let data =
        ChartData::from_rows(&path, Some("region"), &rows, |_| true, REDACTION_THRESHOLD).unwrap();
    let london = data.series.iter().find(|s| s.name == "London").unwrap();
    assert!(london.points[0].is_redacted());
    let south_east = data.series.iter().find(|s| s.name == "South East").unwrap();
    assert_eq!(south_east.points[0].rate_per_1000(), Some(687.5));
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
    common::write_outputs_file(project.path());
    let mut log = Vec::new();
    let read = generate(
        &args("output/measures", "output/figures"),
        project.path(),
        &mut log,
    )
    .unwrap();
    assert_eq!(read.as_deref(), Some(Path::new("analysis/outputs.yaml")));
    let log = String::from_utf8(log).unwrap();
    assert!(
        log.contains("wrote output/figures/region_rates.jpeg (9 series, "),
        "{log}"
    );

    let expected_series = [1, 2, 9, 8];
    for ((_, file), series) in FIGURES.into_iter().zip(expected_series) {
        let path = project.path().join("output/figures").join(file);
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
            let share = colour_share(&img, charts::axis::series_colour(i), 40);
            assert!(
                share > 0.0001,
                "{}: series {i} not drawn ({share})",
                path.display()
            );
        }
        // and no colour beyond them.
        if series < charts::axis::PALETTE.len() {
            let share = colour_share(&img, charts::axis::series_colour(series), 30);
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
    let chart = common::study_chart(dir.path(), "pulse_ox_by_region");
    let text = plots::chart::ChartText {
        title: "t",
        y_label: "y",
        legend_title: Some("Region"),
        redact_at_or_below: 5,
    };
    let data = common::lines(&chart);
    let a = plots::chart::render_jpeg(data, Quantity::PER_1000, text).unwrap();
    let b = plots::chart::render_jpeg(data, Quantity::PER_1000, text).unwrap();
    assert!(a == b);
}

#[test]
fn all_redacted_chart_says_so_instead_of_drawing_empty_axes() {
    let rows = charts::data::parse_measure_csv(
        Path::new("m.csv"),
        "had_pulse_ox,population,value,date\n1.0,3,,2020-01-01\n".as_bytes(),
        &charts::data::MeasureColumns::new(None, "had_pulse_ox", "population"),
    )
    .unwrap();
    let data = ChartData::from_rows(
        Path::new("m.csv"),
        None,
        &rows,
        |_| true,
        REDACTION_THRESHOLD,
    )
    .unwrap();
    let text = plots::chart::ChartText {
        title: "Nothing to show",
        y_label: "Total Number",
        legend_title: None,
        redact_at_or_below: 5,
    };
    let rgb = plots::chart::render_rgb(&data, Quantity::Count, text).unwrap();
    let img = image::RgbImage::from_raw(plots::chart::WIDTH, plots::chart::HEIGHT, rgb).unwrap();
    assert!(colour_share(&img, charts::axis::series_colour(0), 30) < 0.0001);
    // The title and the sentence are drawn, in the top half and across the middle …
    let dark = |rows: std::ops::Range<u32>| {
        rows.flat_map(|y| (0..img.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y).0.iter().all(|&c| c < 140))
            .count()
    };
    let h = plots::chart::HEIGHT;
    assert!(dark(20..60) > 200, "no title");
    assert!(dark(h / 2 - 12..h / 2 + 12) > 200, "no sentence");
    // … and nothing else: no axes, ticks or grid lines anywhere below the sentence.
    assert_eq!(dark(h / 2 + 20..h), 0);
}

#[test]
fn missing_measure_file_is_named_and_nothing_is_written() {
    let project = tempfile::tempdir().unwrap();
    let measures = project.path().join("output/measures");
    common::write_study_measures(&measures);
    std::fs::remove_file(measures.join("measure_pulse_ox_by_region.csv")).unwrap();
    let err = generate(
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
    let err = generate(&args("m", "f"), project.path(), &mut Vec::new()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("measure_pulse_ox_by_age_band.csv")
            && msg.contains("missing column `age_band`"),
        "{msg}"
    );
}

/// The 200-practice measure of the charts crate's deciles fixture, as a deciles chart.
fn practice_deciles() -> charts::LoadedChart {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../charts/tests/data/deciles");
    let study = charts::Study {
        measures: vec![
            charts::Measure::new("practice_rate", "visits", "population").grouped(&["practice"]),
        ],
        ..charts::Study::default()
    };
    let outputs = charts::Outputs::parse(
        Path::new("o.yaml"),
        "charts:\n  - measure: practice_rate\n    kind: deciles\n    title: Visits per 1,000, deciles of practices\n",
    )
    .unwrap();
    let plan = charts::plan(&study, Some(outputs)).unwrap();
    plan.charts[0].load(&dir, plan.redact_at_or_below).unwrap()
}

#[test]
fn deciles_chart_of_200_practices_draws_its_deciles() {
    // Never a time limit here: the dummy-run benchmark (benchmarks/compare.py part a) times it.
    let chart = practice_deciles();
    let jpeg = plots::chart::render_chart_jpeg(&chart, 5).unwrap();
    let img = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
        .unwrap()
        .to_rgb8();
    // The deciles and the median are drawn in the first series colour, and nothing else is.
    let blue = colour_share(&img, charts::axis::series_colour(0), 40);
    assert!(blue > 0.002, "{blue}");
    assert!(colour_share(&img, charts::axis::series_colour(1), 30) < 0.0001);
}

#[test]
fn deciles_legend_and_gaps() {
    let chart = practice_deciles();
    let rgb = plots::chart::render_chart_rgb(&chart, 5).unwrap();
    let img = image::RgbImage::from_raw(plots::chart::WIDTH, plots::chart::HEIGHT, rgb).unwrap();
    // The legend sits right of the plot: its two line samples are blue.
    let legend = image::imageops::crop_imm(&img, plots::chart::WIDTH - 260, 80, 260, 80).to_image();
    assert!(colour_share(&legend, charts::axis::series_colour(0), 40) > 0.002);
    // March is left out (5 practices): the lines stop at February and start again at April, so
    // some 2 months' width of the plot (about 120 px) has no blue at all.
    let blue_column = |x: u32| {
        (40..560).any(|y| {
            let p = img.get_pixel(x, y).0;
            let (r, g, b) = charts::axis::series_colour(0);
            (i32::from(p[0]) - i32::from(r)).abs() <= 40
                && (i32::from(p[1]) - i32::from(g)).abs() <= 40
                && (i32::from(p[2]) - i32::from(b)).abs() <= 40
        })
    };
    let columns: Vec<bool> = (0..plots::chart::WIDTH - 300).map(blue_column).collect();
    let first = columns.iter().position(|b| *b).unwrap();
    let last = columns.iter().rposition(|b| *b).unwrap();
    let longest_gap = columns[first..=last]
        .split(|b| *b)
        .map(<[bool]>::len)
        .max()
        .unwrap();
    assert!(longest_gap > 80, "longest gap {longest_gap} px");
    let charts::Body::Deciles(data) = &chart.body else {
        panic!("not a deciles chart")
    };
    assert!(data.months[2].values.is_none());
}
