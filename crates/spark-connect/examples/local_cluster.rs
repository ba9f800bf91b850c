//! A local standalone Spark cluster (master, N workers, the Connect server) for benchmarks and
//! manual runs: prints `SPARK_CONNECT_URL=…` and the start-up time, then runs until its standard
//! input closes, and stops every JVM it started.
//!
//! `cargo run --release -p spark-connect --features testing --example local_cluster -- [--workers N]
//! [--worker-memory 4g] [--driver-memory 2g]`

use std::io::Read;

use spark_connect::testing::{provisioned_spark_home, ClusterOptions, TestCluster};

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut options = ClusterOptions::default();
    if let Some(n) = flag(&args, "--workers").and_then(|n| n.parse().ok()) {
        options.workers = n;
    }
    if let Some(m) = flag(&args, "--worker-memory") {
        options.worker_memory = m;
    }
    if let Some(m) = flag(&args, "--driver-memory") {
        options.driver_memory = m;
    }
    let Some(home) = provisioned_spark_home() else {
        eprintln!("error: Spark is not provisioned: run scripts/spark/provision.sh");
        return std::process::ExitCode::FAILURE;
    };
    let cluster = match TestCluster::start(&home, &options) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: the cluster did not start: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    println!("SPARK_CONNECT_URL={}", cluster.url());
    println!(
        "started {} worker(s) in {:.1} s",
        options.workers,
        cluster.startup_time().as_secs_f64()
    );
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    cluster.stop();
    std::process::ExitCode::SUCCESS
}
