//! The report in a real browser: Debian's headless Chromium draws the charts and runs the
//! range selector. Without chromium the tests print a note and pass, unless `CI` is set (then
//! they fail: CI installs chromium).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

/// The browser, or `None` (with a note) when it is missing outside CI.
fn browser_or_skip() -> Option<PathBuf> {
    match chromium() {
        Some(b) => Some(b),
        None if std::env::var_os("CI").is_some() => {
            panic!("chromium is not installed, and CI is set: .ci/run should have installed it")
        }
        None => {
            eprintln!(
                "note: chromium not found; skipping the browser test (install Debian's `chromium`)"
            );
            None
        }
    }
}

/// Runs headless chromium on `page` with `extra` arguments; returns its stdout.
fn run_chromium(browser: &Path, profile: &Path, page: &Path, extra: &[&str]) -> String {
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut out).unwrap();
        out
    });
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium failed: {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().unwrap()
}

/// Writes the 25-month study's report into `dir` and returns its path.
fn write_report(dir: &Path) -> PathBuf {
    common::write_study_measures(&dir.join("output/measures"));
    std::fs::create_dir_all(dir.join("codelists")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/opensafely-pulse-oximetry.csv"),
        dir.join("codelists/c.csv"),
    )
    .unwrap();
    common::write_outputs_file(dir);
    let options = report::ReportOptions {
        codelist: Some("codelists/c.csv".into()),
        output: "report.html".into(),
        ..report::ReportOptions::default()
    };
    report::generate_report(&options, &common::pulse_ox_study(), dir, &mut Vec::new()).unwrap();
    dir.join("report.html")
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')?;
    Some(&tag[start..start + end])
}

/// (month, cx, display) of every data marker in section `id` of the DOM.
fn markers(dom: &str, id: &str) -> Vec<(usize, f64, Option<String>)> {
    let start = dom
        .find(&format!("<section id=\"{id}\">"))
        .expect("section");
    let end = start + dom[start..].find("</section>").unwrap();
    dom[start..end]
        .split("<circle")
        .skip(1)
        .filter_map(|t| {
            let tag = &t[..t.find('>').unwrap()];
            let m = attr(tag, "data-m")?.parse().unwrap();
            let cx = attr(tag, "cx").unwrap().parse().unwrap();
            Some((m, cx, attr(tag, "display").map(str::to_string)))
        })
        .collect()
}

fn pressed(dom: &str, id: &str) -> Vec<String> {
    let start = dom
        .find(&format!("<figure class=\"chart\" id=\"{id}-chart\">"))
        .unwrap();
    let end = start + dom[start..].find("</figure>").unwrap();
    dom[start..end]
        .split("<button ")
        .skip(1)
        .filter(|t| t.contains("aria-pressed=\"true\""))
        .map(|t| t[t.find('>').unwrap() + 1..t.find("</button>").unwrap()].to_string())
        .collect()
}

#[test]
fn range_selector_moves_and_hides_months() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = write_report(dir.path());
    // A copy of the page whose last script clicks "6m" on the region chart and "1m" on the sex
    // chart, as a reader would.
    let html = std::fs::read_to_string(&page).unwrap();
    let clicks = "<script>\
        document.querySelector('#region-chart button[data-k=\"6\"]').click();\
        document.querySelector('#sex-chart button[data-k=\"1\"]').click();\
        </script></body>";
    let clicked = dir.path().join("clicked.html");
    std::fs::write(&clicked, html.replace("</body>", clicks)).unwrap();
    let dom = run_chromium(
        &browser,
        &dir.path().join("profile"),
        &clicked,
        &["--dump-dom"],
    );

    assert_eq!(pressed(&dom, "region"), ["6m"]);
    assert_eq!(pressed(&dom, "sex"), ["1m"]);
    assert_eq!(pressed(&dom, "total"), ["all"]);

    let svg_attr = |name: &str| -> f64 {
        let figure = html
            .find("<figure class=\"chart\" id=\"region-chart\">")
            .unwrap();
        let tag_start = figure + html[figure..].find("<svg viewBox").unwrap();
        let tag = &html[tag_start..tag_start + html[tag_start..].find('>').unwrap()];
        attr(tag, name).unwrap().parse().unwrap()
    };
    let (left, width) = (svg_attr("data-left"), svg_attr("data-width"));

    // Region, 6m: months 18..=24 shown, spread over the full width; earlier ones hidden.
    let region = markers(&dom, "region");
    assert_eq!(region.len(), 206);
    for (m, cx, display) in &region {
        if *m < 18 {
            assert_eq!(display.as_deref(), Some("none"), "month {m}");
        } else {
            assert_eq!(display.as_deref(), Some("inline"), "month {m}");
            let want = left + (*m as f64 - 18.0) / 6.0 * width;
            assert!((cx - want).abs() < 0.06, "month {m}: cx {cx}, want {want}");
        }
    }
    // Its hover columns: one month wide at the new scale, the hidden months' columns hidden.
    let start = dom.find("<section id=\"region\">").unwrap();
    let end = start + dom[start..].find("</section>").unwrap();
    let columns: Vec<&str> = dom[start..end]
        .split("<rect class=\"column\"")
        .skip(1)
        .collect();
    assert_eq!(columns.len(), 25);
    for (m, tag) in columns.iter().enumerate() {
        let tag = &tag[..tag.find('>').unwrap()];
        if m < 18 {
            assert_eq!(attr(tag, "display"), Some("none"), "column {m}");
        } else {
            let w: f64 = attr(tag, "width").unwrap().parse().unwrap();
            assert!((w - width / 6.0).abs() < 0.06, "column {m}: width {w}");
        }
    }
    // Sex, 1m: only the last two months.
    let shown: Vec<usize> = markers(&dom, "sex")
        .into_iter()
        .filter(|(_, _, d)| d.as_deref() != Some("none"))
        .map(|(m, _, _)| m)
        .collect();
    assert_eq!(shown, [23, 24, 23, 24]);
    // Total: untouched (no click).
    assert!(markers(&dom, "total").iter().all(|(_, _, d)| d.is_none()));
}

#[test]
fn charts_are_drawn() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = write_report(dir.path());
    let shot = dir.path().join("shot.png");
    run_chromium(
        &browser,
        &dir.path().join("profile"),
        &page,
        &[
            "--window-size=1200,4200",
            &format!("--screenshot={}", shot.display()),
        ],
    );
    let img = image::open(&shot).expect("screenshot").to_rgb8();
    let count = |(r, g, b): (u8, u8, u8)| {
        img.pixels()
            .filter(|p| {
                (i32::from(p[0]) - i32::from(r)).abs() <= 16
                    && (i32::from(p[1]) - i32::from(g)).abs() <= 16
                    && (i32::from(p[2]) - i32::from(b)).abs() <= 16
            })
            .count()
    };
    // Series colours appear only in the charts: orange (2nd), green (3rd), olive (9th, the
    // region chart's last line).
    for i in [1, 2, 8] {
        let colour = charts::axis::series_colour(i);
        let n = count(colour);
        assert!(n > 100, "series colour {colour:?}: {n} pixels");
    }
}

/// A report with line charts of the pulse oximetry study and a deciles chart of the charts
/// crate's 200-practice fixture, written into `dir`.
fn write_mixed_report(dir: &Path) -> (PathBuf, charts::Study) {
    let measures = dir.join("output/measures");
    common::write_study_measures(&measures);
    // A peak in June 2019 (5,000 patients with a code), so that the last months' axis is lower.
    let total = common::total_csv();
    let june = total.lines().find(|l| l.ends_with(",2019-06-01")).unwrap();
    let cells: Vec<&str> = june.split(',').collect();
    let peak = format!("5000.0,{},,2019-06-01", cells[1]);
    std::fs::write(
        measures.join("measure_pulse_ox_total.csv"),
        total.replace(june, &peak),
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../charts/tests/data/deciles/measure_practice_rate.csv"),
        measures.join("measure_practice_rate.csv"),
    )
    .unwrap();
    let mut study = common::pulse_ox_study();
    study.codelists.clear();
    study
        .measures
        .push(charts::Measure::new("practice_rate", "visits", "population").grouped(&["practice"]));
    std::fs::create_dir_all(dir.join("analysis")).unwrap();
    std::fs::write(
        dir.join("analysis/outputs.yaml"),
        "numerator_label: patients with a code\ndenominator_label: registered patients\n\
         charts:\n  - measure: pulse_ox_total\n    id: total\n    y: count\n\
         \x20 - measure: pulse_ox_by_region\n    id: region\n\
         \x20 - measure: practice_rate\n    id: practices\n    kind: deciles\n",
    )
    .unwrap();
    let options = report::ReportOptions {
        output: "report.html".into(),
        ..report::ReportOptions::default()
    };
    report::generate_report(&options, &study, dir, &mut Vec::new()).unwrap();
    (dir.join("report.html"), study)
}

/// The opening tags of the elements matching `tag` with `data-m` in figure `id` of `dom`.
fn figure_tags<'a>(dom: &'a str, id: &str, tag: &str) -> Vec<&'a str> {
    let start = dom
        .find(&format!("<figure class=\"chart\" id=\"{id}-chart\">"))
        .unwrap();
    let end = start + dom[start..].find("</figure>").unwrap();
    dom[start..end]
        .split(&format!("<{tag}"))
        .skip(1)
        .map(|t| &t[..t.find('>').unwrap()])
        .filter(|t| t.starts_with(' ') && t.contains(" data-m="))
        .collect()
}

/// The y-axis tick labels of figure `id`, bottom to top.
fn tick_labels(dom: &str, id: &str) -> Vec<String> {
    let start = dom
        .find(&format!("<figure class=\"chart\" id=\"{id}-chart\">"))
        .unwrap();
    let end = start + dom[start..].find("</figure>").unwrap();
    dom[start..end]
        .split("<text class=\"tick\" data-i=")
        .skip(1)
        .map(|t| t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()].to_string())
        .collect()
}

/// The y-axis tick labels and top for values up to `max`, as the page draws them.
fn expected_axis(max: f64) -> (f64, Vec<String>) {
    let top = charts::axis::nice_ceiling(max * 1.05);
    let labels = (0..=5)
        .map(|i| charts::axis::axis_number(top * f64::from(i) / 5.0, top))
        .collect();
    (top, labels)
}

fn num(tag: &str, name: &str) -> f64 {
    attr(tag, name).unwrap().parse().unwrap()
}

#[test]
fn range_buttons_rescale_the_y_axis_and_hover_shows_the_values() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (page, _) = write_mixed_report(dir.path());
    let html = std::fs::read_to_string(&page).unwrap();
    // Click 6m on the region, total and deciles charts; then, for the total and the deciles
    // chart, ask the browser what is under the pointer at a marker and at a month's column
    // (the SVG `<title>` a reader sees on hover), and write the answers into the page.
    let script = r##"<script>
        function hover(x, y) {
          var hit = document.elementFromPoint(x, y);
          var t = hit && (hit.tagName === "title" ? hit : hit.querySelector("title"));
          return t ? t.textContent : "(nothing at " + x + "," + y + ": " + (hit && hit.outerHTML.slice(0, 80)) + ")";
        }
        function probe(chart, m) {
          var fig = document.getElementById(chart + "-chart");
          fig.scrollIntoView({block: "center"});
          var c = fig.querySelector('circle[data-m="' + m + '"]').getBoundingClientRect();
          var col = fig.querySelector('rect.column[data-m="' + m + '"]').getBoundingClientRect();
          return [hover(c.left + c.width / 2, c.top + c.height / 2), hover(col.left + col.width / 2, col.top + 3)];
        }
        var out = {};
        ["region", "total", "practices"].forEach(function (id) {
          document.querySelector("#" + id + '-chart button[data-k="6"]').click();
        });
        out.total = probe("total", 24);
        out.practices = probe("practices", 11);
        // Back to all months, and again to 6m: the full range's axis comes back.
        document.querySelector('#total-chart button[data-k="0"]').click();
        out.total_all = Array.prototype.map.call(
          document.querySelectorAll("#total-chart text.tick[data-i]"), function (t) { return t.textContent; });
        out.total_all_cy = document.querySelector('#total-chart circle[data-m="24"]').getAttribute("cy");
        document.querySelector('#total-chart button[data-k="6"]').click();
        var p = document.createElement("pre");
        p.id = "probe";
        p.textContent = JSON.stringify(out);
        document.body.appendChild(p);
        </script></body>"##;
    let clicked = dir.path().join("clicked.html");
    std::fs::write(&clicked, html.replace("</body>", script)).unwrap();
    let dom = run_chromium(
        &browser,
        &dir.path().join("profile"),
        &clicked,
        &["--window-size=1200,900", "--dump-dom"],
    );
    let (bottom, top) = (340.0, 14.0);

    // Total, 6m: the axis is scaled to the largest count of months 18..=24, below the June 2019
    // peak that set the full range's axis; every marker shown sits at its value on it.
    let measures = dir.path().join("output/measures");
    let total = common::study_chart(&measures, "pulse_ox_total");
    let data = common::lines(&total);
    let counts: Vec<f64> = data.series[0]
        .points
        .iter()
        .filter_map(|p| p.numerator)
        .collect();
    assert!(counts.contains(&5000.0));
    let max = data.series[0].points[18..]
        .iter()
        .filter_map(|p| p.numerator)
        .fold(f64::MIN, f64::max);
    let (y_top, labels) = expected_axis(max);
    assert_eq!(tick_labels(&dom, "total"), labels);
    assert_eq!(tick_labels(&html, "total"), expected_axis(5000.0).1);
    assert_ne!(labels, expected_axis(5000.0).1, "the axis did not change");
    let markers_at = |id: &str, from: f64, y_top: f64| {
        let mut checked = 0;
        for tag in figure_tags(&dom, id, "circle") {
            if num(tag, "data-m") >= from {
                let want = bottom - num(tag, "data-v") / y_top * (bottom - top);
                assert!(
                    (num(tag, "cy") - want).abs() < 0.06,
                    "{tag}: want cy {want}"
                );
                checked += 1;
            }
        }
        for tag in figure_tags(&dom, id, "line") {
            if tag.contains("data-v=") && num(tag, "data-m") >= from {
                let want = bottom - num(tag, "data-v2") / y_top * (bottom - top);
                assert!(
                    (num(tag, "y2") - want).abs() < 0.06,
                    "{tag}: want y2 {want}"
                );
            }
        }
        checked
    };
    assert_eq!(markers_at("total", 18.0, y_top), 7);

    // Region, 6m: likewise, over its nine lines.
    let chart = common::study_chart(&measures, "pulse_ox_by_region");
    let max = common::lines(&chart)
        .series
        .iter()
        .flat_map(|s| {
            s.points[18..]
                .iter()
                .filter_map(charts::data::Point::rate_per_1000)
        })
        .fold(f64::MIN, f64::max);
    let (y_top, labels) = expected_axis(max);
    assert_eq!(tick_labels(&dom, "region"), labels);
    assert!(markers_at("region", 18.0, y_top) > 40);

    // The deciles chart, 6m (months 6..=11 of 2021): scaled to the largest 90th percentile
    // shown; dashed lines move with it.
    let deciles = report_deciles(dir.path());
    let max = deciles.months[6..]
        .iter()
        .filter_map(|m| m.values)
        .map(|v| v[8])
        .fold(f64::MIN, f64::max);
    let (y_top, labels) = expected_axis(max);
    assert_eq!(tick_labels(&dom, "practices"), labels);
    let mut lines = 0;
    for tag in figure_tags(&dom, "practices", "line") {
        if tag.contains("data-v=") && num(tag, "data-m") >= 6.0 {
            let want = bottom - num(tag, "data-v") / y_top * (bottom - top);
            assert!(
                (num(tag, "y1") - want).abs() < 0.06,
                "{tag}: want y1 {want}"
            );
            lines += 1;
        }
    }
    // Nine percentile lines over the 5 month-to-month steps from July to December.
    assert_eq!(lines, 9 * 5);

    // Hover, after the rescale: the values under the pointer.
    let probe = &dom[dom.find("<pre id=\"probe\">").unwrap() + 16..];
    let probe = &probe[..probe.find("</pre>").unwrap()];
    let probe = probe.replace("&amp;", "&");
    assert!(
        probe.contains(r#""total":["Jan 2021: 2,309 patients with a code (14.27 per 1,000 of 161,776 registered patients)","Jan 2021\n2,309 patients with a code, 14.27 per 1,000 of 161,776 registered patients"]"#),
        "{probe}"
    );
    let dec = deciles.months[11].values.unwrap();
    let median = format!(
        "Dec 2021: median {} ({} groups)",
        charts::axis::format_rate(dec[4]),
        deciles.months[11].groups
    );
    let column = format!(
        "Dec 2021 ({} groups)\\n90th: {}\\n80th: {}",
        deciles.months[11].groups,
        charts::axis::format_rate(dec[8]),
        charts::axis::format_rate(dec[7])
    );
    assert!(
        probe.contains(&format!("\"practices\":[\"{median}\",\"{column}")),
        "{probe}\nwant {median} / {column}"
    );
    // "all" again: the page's own axis and positions.
    let all: Vec<String> = tick_labels(&html, "total")
        .iter()
        .map(|l| format!("\"{l}\""))
        .collect();
    assert!(
        probe.contains(&format!("\"total_all\":[{}]", all.join(","))),
        "{probe}"
    );
    let cy = figure_tags(&html, "total", "circle")
        .into_iter()
        .find(|t| t.contains(" data-m=\"24\""))
        .map(|t| attr(t, "cy").unwrap().to_string())
        .unwrap();
    assert!(
        probe.contains(&format!("\"total_all_cy\":\"{cy}\"")),
        "{probe}"
    );
}

/// The deciles chart of [`write_mixed_report`]'s study, as the report drew it.
fn report_deciles(dir: &Path) -> charts::deciles::DecilesData {
    let study = charts::Study {
        measures: vec![
            charts::Measure::new("practice_rate", "visits", "population").grouped(&["practice"]),
        ],
        ..charts::Study::default()
    };
    let outputs = charts::Outputs::parse(
        Path::new("o.yaml"),
        "charts:\n  - measure: practice_rate\n    kind: deciles\n",
    )
    .unwrap();
    let plan = charts::plan(&study, Some(outputs)).unwrap();
    match plan.charts[0]
        .load(&dir.join("output/measures"), plan.redact_at_or_below)
        .unwrap()
        .body
    {
        charts::Body::Deciles(d) => d,
        charts::Body::Lines(_) => panic!("not a deciles chart"),
    }
}
