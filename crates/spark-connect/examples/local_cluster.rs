//! A local standalone Spark cluster (master, N workers, the Connect server) for benchmarks, CI
//! and manual runs: prints `SPARK_CONNECT_URL=…`, `SPARK_CLUSTER_DIR=…` (its logs and work
//! folders) and the start-up time, then runs until its standard input closes, and stops every
//! JVM it started. If it is killed instead, its watchdog stops them.
//!
//! `cargo run -p spark-connect --features testing --example local_cluster -- [--workers N]
//! [--worker-cores N] [--worker-memory 4g] [--driver-memory 2g] [--conf key=value]...`
//!
//! `.ci/run` runs it for the whole test run (the tests read `SPARK_CONNECT_URL`).

use std::io::Read;
use std::process::ExitCode;

use spark_connect::testing::{provisioned_spark_home, ClusterOptions, TestCluster};

const USAGE: &str = "usage: local_cluster [--workers N] [--worker-cores N] [--worker-memory SIZE] \
                     [--driver-memory SIZE] [--conf key=value]...";

fn options(args: &[String]) -> Result<ClusterOptions, String> {
    let mut options = ClusterOptions::default();
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let count = |v: String| match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{flag} takes a whole number above 0, not `{v}`")),
        };
        match flag.as_str() {
            "--workers" => options.workers = count(value()?)?,
            "--worker-cores" => options.worker_cores = count(value()?)?,
            "--worker-memory" => options.worker_memory = value()?,
            "--driver-memory" => options.driver_memory = value()?,
            "--conf" => {
                let conf = value()?;
                let (key, v) = conf
                    .split_once('=')
                    .ok_or_else(|| format!("--conf takes key=value, not `{conf}`"))?;
                options.confs.push((key.to_string(), v.to_string()));
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match options(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let Some(home) = provisioned_spark_home() else {
        eprintln!("error: Spark is not provisioned: run scripts/spark/provision.sh");
        return ExitCode::FAILURE;
    };
    let cluster = match TestCluster::start(&home, &options) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: the cluster did not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("SPARK_CONNECT_URL={}", cluster.url());
    if let Some(dir) = cluster.dir() {
        println!("SPARK_CLUSTER_DIR={}", dir.display());
    }
    println!(
        "started {} worker(s) of {} core(s) and {} in {:.1} s",
        options.workers,
        options.worker_cores,
        options.worker_memory,
        cluster.startup_time().as_secs_f64()
    );
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    cluster.stop();
    ExitCode::SUCCESS
}
