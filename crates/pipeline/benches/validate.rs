//! Validation speed on the largest real project file (301 actions): `cargo bench -p pipeline`.

use std::time::{Duration, Instant};

fn main() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/corpus/project_yamls/post-covid-vaccinated.yaml"
    );
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("cannot read {path}: {err}");
            std::process::exit(1);
        }
    };
    let runs = 200;
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut actions = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let validation = pipeline::validate(&text);
        times.push(start.elapsed());
        actions = validation.project.map_or(0, |p| p.actions.len());
    }
    times.sort();
    let median = times[runs / 2];
    println!(
        "validate post-covid-vaccinated.yaml ({} bytes, {actions} actions): median {:.2} ms, min {:.2} ms, max {:.2} ms over {runs} runs",
        text.len(),
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[runs - 1].as_secs_f64() * 1e3,
    );
}
