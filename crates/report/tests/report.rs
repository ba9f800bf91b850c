//! The report end to end: measure files and codelist in, one HTML file out.

use crate::common;

use std::path::{Path, PathBuf};

const CODELIST: &str = "codelists/opensafely-pulse-oximetry.csv";
const OUTPUT: &str = "output/pulse_oximetry_SRO.html";

fn args() -> report::ReportOptions {
    report::ReportOptions {
        measures_dir: "output/measures".into(),
        output: OUTPUT.into(),
        outputs: None,
        codelist: None,
    }
}

/// Runs `generate_report` for the pulse oximetry study in `dir`.
fn generate(
    args: &report::ReportOptions,
    dir: &Path,
    log: &mut Vec<u8>,
) -> Result<Vec<PathBuf>, report::ReportError> {
    report::generate_report(args, &common::pulse_ox_study(), dir, log)
}

fn codelist_fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/opensafely-pulse-oximetry.csv")
}

/// A project folder with the study's codelist, outputs file and measure files from `fill`.
fn project(fill: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::write_outputs_file(dir.path());
    std::fs::create_dir_all(dir.path().join("codelists")).unwrap();
    std::fs::copy(codelist_fixture(), dir.path().join(CODELIST)).unwrap();
    let measures = dir.path().join("output/measures");
    std::fs::create_dir_all(&measures).unwrap();
    fill(&measures);
    dir
}

fn study_project() -> tempfile::TempDir {
    project(common::write_study_measures)
}

fn fixture_project() -> tempfile::TempDir {
    project(|measures| {
        for entry in std::fs::read_dir(common::fixtures_dir()).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), measures.join(entry.file_name())).unwrap();
        }
    })
}

fn render(dir: &Path) -> String {
    let mut log = Vec::new();
    let read = generate(&args(), dir, &mut log).unwrap();
    assert_eq!(
        read,
        [
            PathBuf::from("analysis/outputs.yaml"),
            PathBuf::from(CODELIST)
        ]
    );
    let log = String::from_utf8(log).unwrap();
    assert!(
        log.starts_with("generate_report: wrote output/pulse_oximetry_SRO.html ("),
        "{log}"
    );
    std::fs::read_to_string(dir.join(OUTPUT)).unwrap()
}

/// The text of section `id`, from its `<section>` tag to the next.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html.find(&format!("<section id=\"{id}\">")).unwrap();
    let end = html[start..].find("</section>").unwrap();
    &html[start..start + end]
}

#[test]
fn fixture_report_snapshot() {
    let dir = fixture_project();
    insta::assert_snapshot!("fixture_report", render(dir.path()));
}

#[test]
fn report_is_self_contained_and_deterministic() {
    let dir = study_project();
    let html = render(dir.path());
    for forbidden in [
        "http:",
        "https:",
        "//cdn",
        "src=",
        "<link",
        "@import",
        "@font-face",
    ] {
        assert!(!html.contains(forbidden), "report contains {forbidden:?}");
    }
    // `url(` only for the charts' own clip paths.
    assert_eq!(html.matches("url(").count(), html.matches("url(#").count());
    assert_eq!(html.matches("<script>").count(), 1);
    // Same input, same bytes.
    generate(&args(), dir.path(), &mut Vec::new()).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join(OUTPUT)).unwrap(),
        html
    );
}

#[test]
fn title_methods_codelist_and_links() {
    let html = render(study_project().path());
    let title = "Changes occurring in pulse oximetry related to COVID-19: 01/2019-01/2021";
    assert!(html.contains(&format!("<title>{title}</title>")));
    assert!(html.contains(&format!("<h1>{title}</h1>")));
    assert!(html.contains("from the beginning of January 2019 until the end of January 2021"));
    assert!(html.contains("per 1000 registered patients"));
    assert!(html.contains("Pulse Oximetry - NHS Digital COVID at Home codes"));
    // Every code of the codelist, with its term and CTV3 id.
    let study = common::pulse_ox_study();
    let codes = charts::codelist::read_table(
        &codelist_fixture(),
        Path::new(CODELIST),
        &study.codelists[0],
    )
    .unwrap()
    .codes;
    assert_eq!(codes.len(), 12);
    for c in &codes {
        let row = format!(
            "<tr><td class=\"code\">{}</td><td>{}</td><td class=\"code\">{}</td></tr>",
            c.code,
            c.term,
            c.extra.as_deref().unwrap()
        );
        assert!(html.contains(&row), "missing {row}");
    }
    // Links to the four sections, in the notebook's order, and the sections themselves.
    let mut last = 0;
    for id in ["total", "region", "age", "sex"] {
        let link = html.find(&format!("<a href=\"#{id}\">")).unwrap();
        let target = html.find(&format!("<section id=\"{id}\">")).unwrap();
        assert!(link < target && target > last, "{id}");
        last = target;
    }
}

#[test]
fn charts_draw_exactly_the_unredacted_points() {
    let dir = study_project();
    let html = render(dir.path());
    let measures = dir.path().join("output/measures");
    for (id, measure) in [
        ("total", "pulse_ox_total"),
        ("region", "pulse_ox_by_region"),
        ("age", "pulse_ox_by_age_band"),
        ("sex", "pulse_ox_by_sex"),
    ] {
        let s = section(&html, id);
        let chart = common::study_chart(&measures, measure);
        let data = common::lines(&chart);
        let (shown, redacted) = data.counts();
        assert_eq!(s.matches("<circle data-m=").count(), shown, "{id}");
        assert_eq!(s.matches("r=\"3.5\"><title>").count(), shown, "{id}");
        assert_eq!(s.matches("<rect class=\"column\"").count(), 25, "{id}");
        assert_eq!(
            s.matches("<g class=\"series\"").count(),
            data.series.len(),
            "{id}"
        );
        // Table: one row per month and group; redacted rows blank.
        assert_eq!(
            s.matches("<tr class=\"redacted\">").count(),
            redacted,
            "{id}"
        );
        for row in s.split("<tr class=\"redacted\">").skip(1) {
            let row = &row[..row.find("</tr>").unwrap()];
            assert!(row.ends_with("<td></td><td></td><td></td>"), "{id}: {row}");
        }
        assert_eq!(
            s.matches("<button type=\"button\" data-k=").count(),
            4,
            "{id}"
        );
    }
    // Sex: F and M only. Age: no band "0".
    let sex = section(&html, "sex");
    assert!(sex.contains("data-name=\"F\"") && sex.contains("data-name=\"M\""));
    assert!(
        !sex.contains("data-name=\"U\"")
            && !sex.contains("<td>U</td>")
            && !sex.contains("<td>I</td>")
    );
    let age = section(&html, "age");
    assert!(!age.contains("data-name=\"0\"") && !age.contains("<td>0</td>"));
    assert_eq!(age.matches("<g class=\"series\"").count(), 8);
    // A hover value, checked by hand: F, Jan 2021 = 592 / 41,688 patients.
    assert!(sex.contains(
        "<title>F, Jan 2021: 14.20 per 1,000 (592 of 41,688 registered patients)</title>"
    ));
    // The total chart's hover text and table.
    assert!(sex.contains("<title>Jan 2021\nF: 14.20 per 1,000\nM: 14.09 per 1,000</title>"));
    let total = section(&html, "total");
    assert!(total.contains(
        "<title>Jan 2021\n2,309 patients with a code, 14.27 per 1,000 of 161,776 registered patients</title>"
    ));
    assert!(total.contains("<title>Jan 2021: 2,309 patients with a code (14.27 per 1,000 of 161,776 registered patients)</title>"));
    assert!(total.contains("<td><time datetime=\"2021-01-01\">Jan 2021</time></td><td>2,309</td><td>161,776</td><td>14.27</td>"));
}

#[test]
fn measure_file_errors_name_file_and_column() {
    let dir = study_project();
    let measures = dir.path().join("output/measures");
    std::fs::remove_file(measures.join("measure_pulse_ox_by_sex.csv")).unwrap();
    let e = generate(&args(), dir.path(), &mut Vec::new()).unwrap_err();
    assert!(e.to_string().contains("measure_pulse_ox_by_sex.csv"), "{e}");
    assert!(!dir.path().join(OUTPUT).exists());

    std::fs::write(
        measures.join("measure_pulse_ox_by_sex.csv"),
        common::sex_csv().replacen("41429", "4l429", 1),
    )
    .unwrap();
    let e = generate(&args(), dir.path(), &mut Vec::new()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("measure_pulse_ox_by_sex.csv")
            && msg.contains("column `population`")
            && msg.contains("\"4l429\""),
        "{msg}"
    );
}

#[test]
fn codelist_errors_name_file_and_column() {
    let dir = study_project();
    std::fs::write(dir.path().join(CODELIST), "id,term\n1,x\n").unwrap();
    let e = generate(&args(), dir.path(), &mut Vec::new()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("opensafely-pulse-oximetry.csv") && msg.contains("`CTV3ID`"),
        "{msg}"
    );
}

/// Decodes the `%XX` escapes of a `data:` URL's payload.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn each_chart_downloads_its_numbers_as_csv_without_the_network() {
    let dir = study_project();
    let html = render(dir.path());
    let measures = dir.path().join("output/measures");
    for (id, measure, group) in [
        ("total", "pulse_ox_total", None),
        ("sex", "pulse_ox_by_sex", Some("sex")),
    ] {
        let s = section(&html, id);
        assert_eq!(s.matches("<a download=").count(), 1, "{id}");
        let start = s
            .find(&format!(
                "<a download=\"{id}.csv\" href=\"data:text/csv;charset=utf-8,"
            ))
            .unwrap();
        let url = &s[start..];
        let payload = &url[url.find(',').unwrap() + 1..url.find("\">").unwrap()];
        assert!(!payload.contains([',', '"', '<', ' ']), "{id}: not encoded");
        let csv = percent_decode(payload);
        let lines: Vec<&str> = csv.lines().collect();
        let header = match group {
            Some(g) => format!("date,{g},had_pulse_ox,population,rate_per_1000"),
            None => "date,had_pulse_ox,population,rate_per_1000".to_string(),
        };
        assert_eq!(lines[0], header);
        let chart = common::study_chart(&measures, measure);
        let data = common::lines(&chart);
        assert_eq!(lines.len(), 1 + 25 * data.series.len(), "{id}");
        // Row by row, the same redaction as the chart and the table: blank where redacted.
        let mut row = 1;
        for (m, date) in data.dates.iter().enumerate() {
            for series in &data.series {
                let p = &series.points[m];
                let cells: Vec<&str> = lines[row].split(',').collect();
                assert_eq!(cells[0], date.to_string());
                let numbers = &cells[cells.len() - 3..];
                match (p.numerator, p.denominator, p.rate_per_1000()) {
                    (Some(n), Some(d), Some(r)) => {
                        assert_eq!(numbers[0].parse::<f64>().unwrap(), n);
                        assert_eq!(numbers[1].parse::<f64>().unwrap(), d);
                        assert_eq!(numbers[2].parse::<f64>().unwrap(), r);
                    }
                    _ => assert_eq!(numbers, ["", "", ""], "{id} {date}"),
                }
                row += 1;
            }
        }
    }
    // The only URLs of the page: its own anchors, clip paths and these data: downloads.
    for href in html.split("href=\"").skip(1) {
        assert!(
            href.starts_with('#') || href.starts_with("data:text/csv;charset=utf-8,"),
            "{}",
            &href[..40.min(href.len())]
        );
    }
}

#[test]
fn a_chart_with_nothing_left_after_redaction_says_so_without_axes() {
    let dir = study_project();
    // Every month of the sex breakdown has 5 or fewer patients with a code.
    let measures = dir.path().join("output/measures");
    let text = common::sex_csv();
    let small: String = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 0 {
                format!("{line}\r\n")
            } else {
                let mut cells: Vec<&str> = line.split(',').collect();
                cells[1] = "3.0";
                format!("{}\r\n", cells.join(","))
            }
        })
        .collect();
    std::fs::write(measures.join("measure_pulse_ox_by_sex.csv"), small).unwrap();
    let html = render(dir.path());
    let sex = section(&html, "sex");
    assert!(sex.contains(
        "<text class=\"empty\" x=\"508.0\" y=\"177.0\" text-anchor=\"middle\">No values to show: every month is redacted (counts of 5 or fewer)</text>"
    ), "{sex}");
    for axis in [
        "<g class=\"y-axis\">",
        "<g class=\"x-axis\">",
        "<g class=\"series\"",
        "<line class=\"axis\"",
    ] {
        assert!(!sex.contains(axis), "{axis}");
    }
    // The other charts are drawn as before.
    assert!(section(&html, "region").contains("<g class=\"y-axis\">"));
}

#[test]
fn a_deciles_chart_in_the_report() {
    let dir = study_project();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../charts/tests/data/deciles/measure_practice_rate.csv"),
        dir.path().join("output/measures/measure_practice_rate.csv"),
    )
    .unwrap();
    let mut study = common::pulse_ox_study();
    study
        .measures
        .push(charts::Measure::new("practice_rate", "visits", "population").grouped(&["practice"]));
    std::fs::write(
        dir.path().join("analysis/outputs.yaml"),
        "charts:\n  - measure: practice_rate\n    kind: deciles\n    id: practices\n    title: Visits, deciles of practices\n",
    )
    .unwrap();
    report::generate_report(&args(), &study, dir.path(), &mut Vec::new()).unwrap();
    let html = std::fs::read_to_string(dir.path().join(OUTPUT)).unwrap();
    let s = section(&html, "practices");
    assert_eq!(s.matches("<g class=\"series decile\"").count(), 8);
    assert_eq!(s.matches("<g class=\"series\"").count(), 1);
    // The median's markers: 11 months (March has 5 practices and is left out).
    assert_eq!(s.matches("<circle data-m=").count(), 11);
    assert!(!s.contains("<circle data-m=\"2\""));
    assert!(s.contains("<title>Mar 2021 (5 groups)\nnot shown (5 or fewer groups)</title>"));
    assert!(
        s.contains("stroke-dasharray=\"6 4\"/><text"),
        "legend: a dashed sample"
    );
    assert!(s.contains("<tr class=\"redacted\"><td><time datetime=\"2021-03-01\">Mar 2021</time></td><td>5</td><td></td>"));
    // The table's median column is the median line's hover values.
    assert!(s.contains("<th scope=\"col\">50th (median)</th>"));
}
