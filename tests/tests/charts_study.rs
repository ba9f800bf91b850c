//! A second study's charts and report (`tests/data/charts_study`: other measure ids, a measure
//! grouped by practice, an integer group, a total), through the driver's images as an action
//! runs them, with no outputs file and with one: the chart series and the HTML are snapshots.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use charts::deciles::PERCENTILES;
use charts::Body;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/charts_study")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// The study in a fresh folder, its measure files in `output/measures`; with the outputs file
/// at `analysis/outputs.yaml` when `with_outputs`.
fn project(with_outputs: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir();
    copy_dir(&data.join("analysis"), &dir.path().join("analysis"));
    copy_dir(&data.join("codelists"), &dir.path().join("codelists"));
    copy_dir(&data.join("measures"), &dir.path().join("output/measures"));
    if with_outputs {
        fs::copy(
            data.join("outputs.yaml"),
            dir.path().join("analysis/outputs.yaml"),
        )
        .unwrap();
    }
    dir
}

/// Runs `image command args…` in `dir` as the runner does; returns the log and the files the
/// image reported reading, or the error's text.
fn run(dir: &Path, image: &str, args: &[&str]) -> Result<(String, Vec<PathBuf>), String> {
    let registry = xtask::images::registry();
    let runner = registry.get(image).unwrap();
    let args: Vec<String> = args.iter().map(|a| (*a).to_string()).collect();
    let mut log = Vec::new();
    let mut reads = Vec::new();
    runner
        .run(pipeline::image::Invocation {
            image,
            tag: "v1",
            args: &args,
            project_dir: dir,
            log: &mut log,
            reads: &mut reads,
        })
        .map_err(|e| e.to_string())?;
    Ok((String::from_utf8(log).unwrap(), reads))
}

fn plots(dir: &Path) -> Result<(String, Vec<PathBuf>), String> {
    run(
        dir,
        "plots",
        &[
            "generate_plots",
            "--measures-dir",
            "output/measures",
            "--output-dir",
            "output/figures",
        ],
    )
}

fn report(dir: &Path) -> Result<(String, Vec<PathBuf>), String> {
    run(
        dir,
        "report",
        &[
            "generate_report",
            "--measures-dir",
            "output/measures",
            "--output",
            "output/report.html",
        ],
    )
}

/// Every chart of the study's plan as text: its words, then per month one cell per group
/// (`numerator/denominator=plotted value`, `-` where redacted) or the percentiles.
fn series_text(dir: &Path) -> String {
    let (study, _) = xtask::images::study::load(dir, "study_definition").unwrap();
    let (plan, _) = charts::plan_for(&study, dir, None).unwrap();
    let mut out = String::new();
    for spec in &plan.charts {
        let chart = spec
            .load(&dir.join("output/measures"), plan.redact_at_or_below)
            .unwrap();
        writeln!(
            out,
            "## {} -> {} (#{}): {:?} | {:?} | y {:?} \"{}\" | legend {:?}",
            spec.measure.id,
            spec.file,
            spec.id,
            spec.title,
            spec.heading,
            spec.quantity,
            spec.y_label,
            spec.legend
        )
        .unwrap();
        match &chart.body {
            Body::Lines(data) => {
                out.push_str("month");
                for s in &data.series {
                    write!(out, " | {}", s.name).unwrap();
                }
                out.push('\n');
                for (i, date) in data.dates.iter().enumerate() {
                    out.push_str(&date.to_string());
                    for s in &data.series {
                        let p = &s.points[i];
                        match (p.numerator, p.denominator, p.value(spec.quantity)) {
                            (Some(n), Some(d), Some(v)) => {
                                write!(out, " | {n}/{d}={v:.4}").unwrap();
                            }
                            _ => out.push_str(" | -"),
                        }
                    }
                    out.push('\n');
                }
            }
            Body::Deciles(data) => {
                out.push_str("month | groups");
                for p in PERCENTILES {
                    write!(out, " | p{p}").unwrap();
                }
                out.push('\n');
                for m in &data.months {
                    write!(out, "{} | {}", m.date, m.groups).unwrap();
                    match m.values {
                        Some(v) => v.iter().for_each(|x| write!(out, " | {x:.4}").unwrap()),
                        None => out.push_str(" | -"),
                    }
                    out.push('\n');
                }
            }
        }
    }
    out
}

fn figures(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.join("output/figures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn assert_jpegs(dir: &Path) {
    for name in figures(dir) {
        let bytes = fs::read(dir.join("output/figures").join(&name)).unwrap();
        assert_eq!(&bytes[..3], [0xFF, 0xD8, 0xFF], "{name}: a JPEG");
        assert!(bytes.len() > 10_000, "{name}: {} bytes", bytes.len());
    }
}

#[test]
fn without_an_outputs_file_every_measure_gets_a_chart_and_a_section() {
    let dir = project(false);
    let (log, reads) = plots(dir.path()).unwrap();
    assert_eq!(reads, [PathBuf::from("analysis/study_definition.yaml")]);
    assert!(
        log.contains("generate_plots: wrote output/figures/reviews_by_practice.jpeg (12 series, "),
        "{log}"
    );
    assert_eq!(
        figures(dir.path()),
        [
            "reviews_by_imd.jpeg",
            "reviews_by_practice.jpeg",
            "reviews_total.jpeg"
        ]
    );
    assert_jpegs(dir.path());
    let (log, reads) = report(dir.path()).unwrap();
    assert!(log.contains("3 charts"), "{log}");
    assert_eq!(
        reads,
        [
            PathBuf::from("analysis/study_definition.yaml"),
            PathBuf::from("codelists/asthma-review.csv")
        ]
    );
    let html = fs::read_to_string(dir.path().join("output/report.html")).unwrap();
    // The title is the study folder's name: the same in every temporary folder, for the snapshot.
    let name = dir
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let html = html.replace(&name, "STUDY_FOLDER");
    assert!(html.contains("<h1>STUDY_FOLDER</h1>"));
    for id in ["reviews_by_practice", "reviews_by_imd", "reviews_total"] {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
    }
    assert!(html.contains("<td class=\"code\">394700004</td><td>Asthma annual review</td>"));
    assert!(!html.contains("Pulse") && !html.contains("pulse"));
    insta::assert_snapshot!("charts_study_series_default", series_text(dir.path()));
    insta::assert_snapshot!("charts_study_report_default", html);
}

#[test]
fn with_an_outputs_file_its_charts_words_and_order() {
    let dir = project(true);
    let (log, reads) = plots(dir.path()).unwrap();
    assert_eq!(
        reads,
        [
            PathBuf::from("analysis/study_definition.yaml"),
            PathBuf::from("analysis/outputs.yaml")
        ]
    );
    assert!(
        log.contains(
            "wrote output/figures/practice_deciles.jpeg (deciles, 6 months drawn, 0 left out)"
        ),
        "{log}"
    );
    assert_eq!(
        figures(dir.path()),
        ["imd.jpeg", "practice_deciles.jpeg", "total.jpeg"]
    );
    assert_jpegs(dir.path());
    report(dir.path()).unwrap();
    let html = fs::read_to_string(dir.path().join("output/report.html")).unwrap();
    assert!(html.contains("<h1>Asthma reviews, 01/2021 to 06/2021</h1>"));
    assert!(html.contains("<p>Monthly <strong>asthma reviews</strong> in general practice, January 2021 to June 2021.</p>"));
    assert!(html.contains("Reviews are counted with <q>Asthma review codes</q> (example/asthma-review/0001). Counts of 5 or fewer are redacted."));
    let order: Vec<usize> = ["practices", "reviews_by_imd", "reviews_total"]
        .iter()
        .map(|id| html.find(&format!("<section id=\"{id}\">")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert!(!html.contains("data-name=\"0\""));
    insta::assert_snapshot!("charts_study_series_outputs", series_text(dir.path()));
    insta::assert_snapshot!("charts_study_report_outputs", html);
}

#[test]
fn a_bad_outputs_file_names_file_line_and_column_and_nothing_is_written() {
    let dir = project(true);
    let path = dir.path().join("analysis/outputs.yaml");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(
        &path,
        text.replace("measure: reviews_by_imd", "measure: reviews_by_imd_band")
            .replace("y_label: Patients reviewed", "y_labl: Patients reviewed"),
    )
    .unwrap();
    let e = plots(dir.path()).unwrap_err();
    assert_eq!(
        e,
        "analysis/outputs.yaml:30:5: charts: unknown key `y_labl` (expected one of: measure, kind, file, title, caption, heading, id, y, per, y_label, legend, keep, drop, numerator_label, denominator_label); did you mean `y_label`?"
    );
    fs::write(
        &path,
        text.replace("measure: reviews_by_imd", "measure: reviews_by_imd_band"),
    )
    .unwrap();
    let e = report(dir.path()).unwrap_err();
    assert_eq!(
        e,
        "analysis/outputs.yaml:20:14: charts: unknown measure `reviews_by_imd_band` (the study definition's measures: reviews_total, reviews_by_practice, reviews_by_imd)"
    );
    fs::write(&path, text.replace("file: imd.jpeg", "file: ../imd.jpeg")).unwrap();
    let e = plots(dir.path()).unwrap_err();
    assert!(
        e.starts_with(
            "analysis/outputs.yaml:21:11: key `file`: \"../imd.jpeg\" is outside the output folder"
        ),
        "{e}"
    );
    assert!(!dir.path().join("output/figures").exists());
    assert!(!dir.path().join("output/report.html").exists());

    // A `keep` value the data never holds is a warning, and the charts are drawn.
    fs::write(&path, text.replace("drop: [\"0\"]", "keep: [\"1\", \"6\"]")).unwrap();
    let (log, _) = plots(dir.path()).unwrap();
    assert!(
        log.contains("analysis/outputs.yaml:24:17: warning: charts: keep: measure `reviews_by_imd` has no group `6` in measure_reviews_by_imd.csv"),
        "{log}"
    );
}
