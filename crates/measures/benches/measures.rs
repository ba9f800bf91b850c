//! The study's 4 measures over 25 monthly input files of 10,000 and of 1,000,000 rows:
//! `cargo bench -p measures` (both sizes), `cargo bench -p measures -- 10000` (one size).
//! `MEASURES_BENCH_FORMAT=csv|csv.gz|parquet|arrow` picks the input format (default csv).
//! Peak memory: run the built bench binary under `/usr/bin/time -v`; the process's own
//! high-water mark (VmHWM) is printed too.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use measures::{generate_measures_with, MeasureSpec, Options, POPULATION};

const FILES: usize = 25;

/// splitmix64: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const REGIONS: [&str; 9] = [
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "",
];

fn age_band(age: u64) -> &'static str {
    match age {
        0..=19 => "0-19",
        20..=29 => "20-29",
        30..=39 => "30-39",
        40..=49 => "40-49",
        50..=59 => "50-59",
        60..=69 => "60-69",
        70..=79 => "70-79",
        80..=119 => "80+",
        _ => "0",
    }
}

/// Writes one cohort file: `patient_id` first and ascending, as generate_cohort writes it.
fn write_input(path: &Path, rows: usize, seed: u64, format: &str) {
    let mut rng = Rng(seed);
    let mut ids = Vec::with_capacity(rows);
    let mut flag = Vec::with_capacity(rows);
    let mut region = Vec::with_capacity(rows);
    let mut age = Vec::with_capacity(rows);
    let mut band = Vec::with_capacity(rows);
    let mut sex = Vec::with_capacity(rows);
    let mut id = 0u64;
    for _ in 0..rows {
        id += 1 + rng.below(3);
        ids.push(id as i64);
        flag.push(i64::from(rng.below(100) < 3));
        region.push(REGIONS[rng.below(REGIONS.len() as u64) as usize]);
        let a = rng.below(110);
        age.push(a as i64);
        band.push(age_band(a));
        sex.push(match rng.below(100) {
            0 => "U",
            1..=49 => "M",
            _ => "F",
        });
    }
    let file = std::fs::File::create(path).expect("create input");
    match format {
        "csv" | "csv.gz" => {
            let sink: Box<dyn Write> = if format == "csv" {
                Box::new(file)
            } else {
                Box::new(flate2::write::GzEncoder::new(
                    file,
                    flate2::Compression::new(6),
                ))
            };
            let mut w = std::io::BufWriter::with_capacity(1 << 20, sink);
            writeln!(w, "patient_id,had_pulse_ox,region,age,age_band,sex").unwrap();
            for i in 0..rows {
                writeln!(
                    w,
                    "{},{},{},{},{},{}",
                    ids[i], flag[i], region[i], age[i], band[i], sex[i]
                )
                .unwrap();
            }
            w.flush().unwrap();
        }
        _ => {
            use polars::prelude::*;
            let mut df = df!(
                "patient_id" => ids,
                "had_pulse_ox" => flag,
                "region" => region,
                "age" => age,
                "age_band" => band,
                "sex" => sex,
            )
            .unwrap();
            if format == "parquet" {
                ParquetWriter::new(file).finish(&mut df).unwrap();
            } else {
                IpcWriter::new(file).finish(&mut df).unwrap();
            }
        }
    }
}

fn study_measures() -> Vec<MeasureSpec> {
    let m = |id: &str| MeasureSpec::new(id, "had_pulse_ox", POPULATION);
    vec![
        m("pulse_ox_by_sex").group_by(&["sex"]),
        m("pulse_ox_by_region").group_by(&["region"]),
        m("pulse_ox_by_age_band").group_by(&["age_band"]),
        m("pulse_ox_total"),
    ]
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn bench(rows: usize, format: &str, runs: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = Instant::now();
    let mut bytes = 0;
    for month in 0..FILES {
        let date = format!("{}-{:02}-01", 2019 + month / 12, month % 12 + 1);
        let path = dir.path().join(format!("input_{date}.{format}"));
        write_input(&path, rows, 42 + month as u64, format);
        bytes += std::fs::metadata(&path).map_or(0, |m| m.len());
    }
    eprintln!(
        "generated {FILES} x {rows} rows ({format}, {:.0} MB) in {:.1} s; peak memory so far {:.0} MiB",
        bytes as f64 / 1e6,
        start.elapsed().as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN),
    );
    let specs = study_measures();
    let opts = Options::new(dir.path());
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        generate_measures_with(&specs, &opts, &mut std::io::sink()).expect("generate_measures");
        times.push(start.elapsed());
    }
    times.sort();
    let median = times[runs / 2];
    let total_rows = (rows * FILES) as f64;
    println!(
        "generate_measures, 4 measures, {FILES} x {rows} rows ({format}): median {:.3} s \
         (min {:.3}, max {:.3}, {runs} runs), {:.1} M rows/s, {:.0} MB/s",
        median.as_secs_f64(),
        times[0].as_secs_f64(),
        times[runs - 1].as_secs_f64(),
        total_rows / median.as_secs_f64() / 1e6,
        bytes as f64 / median.as_secs_f64() / 1e6,
    );
}

fn main() {
    let format = std::env::var("MEASURES_BENCH_FORMAT").unwrap_or_else(|_| "csv".to_string());
    if !["csv", "csv.gz", "parquet", "arrow"].contains(&format.as_str()) {
        eprintln!("MEASURES_BENCH_FORMAT must be csv, csv.gz, parquet or arrow");
        std::process::exit(2);
    }
    // `cargo bench` passes `--bench`; any numeric argument picks the sizes.
    let mut sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if sizes.is_empty() {
        sizes = vec![10_000, 1_000_000];
    }
    for rows in sizes {
        let runs = if rows <= 100_000 { 9 } else { 3 };
        bench(rows, &format, runs);
    }
    if let Some(mib) = peak_rss_mib() {
        println!("peak resident memory (VmHWM): {mib:.0} MiB");
    }
}
