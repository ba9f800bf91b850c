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
