//! A private Spark cluster for tests (feature `testing`).
//!
//! [`cluster`] starts, once per test binary and on first use, a local **standalone** cluster from
//! the Spark that `scripts/spark/provision.sh` installed: a master, one worker (a separate JVM,
//! whose executor JVM does the work) and the Spark Connect server as the cluster's driver, all on
//! free 127.0.0.1 ports, with logs and work folders in a temporary folder. The processes are
//! stopped by process group when the test binary exits, whether tests passed or panicked; a small
//! watchdog process stops them too if the test binary is killed.
//!
//! - `SPARK_CONNECT_URL=sc://...` uses that server instead of starting one: one cluster for a
//!   whole `cargo test --workspace` run (`.ci/run` starts it with `scripts/spark/local-cluster.sh`).
//!   `SPARK_CLUSTER_DIR` may name that cluster's folder (as [`TestCluster::dir`]), so the tests
//!   that read its logs run too. Tests sharing a server keep apart: temporary views belong to
//!   their session, and a test that makes a database names it uniquely and drops it.
//! - Without the provisioned Spark or Java 17, tests print one line ([`SKIP_MESSAGE`]) and pass,
//!   unless `SRO_REQUIRE_SERVICES=1`, which turns the skip into a failure (CI sets it).
//!
//! ```no_run
//! # fn main() -> spark_connect::Result<()> {
//! let Some(client) = spark_connect::testing::client() else { return Ok(()) }; // skipped
//! client.sql("SELECT 1")?;
//! # Ok(()) }
//! ```

use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::{Client, PINNED_SPARK_VERSION};

/// The line a test prints when it is skipped for want of Spark or Java.
pub const SKIP_MESSAGE: &str =
    "spark tests skipped: run scripts/spark/provision.sh (needs Java 17) to enable them";

/// Environment variable that makes a missing service a test failure instead of a skip.
pub const REQUIRE_SERVICES_ENV: &str = "SRO_REQUIRE_SERVICES";

/// Environment variable naming an existing Spark Connect server to test against.
pub const URL_ENV: &str = "SPARK_CONNECT_URL";

/// Environment variable naming the folder of the `SPARK_CONNECT_URL` cluster (logs, work
/// folders), when it is a local cluster of this module.
pub const CLUSTER_DIR_ENV: &str = "SPARK_CLUSTER_DIR";

/// How long the cluster may take to come up on a busy 2-core machine.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(240);

/// Shape of a cluster started by [`TestCluster::start`].
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// Number of worker JVMs (each runs one executor JVM for the Connect server's application).
    pub workers: usize,
    /// Cores each worker offers.
    pub worker_cores: usize,
    /// Memory each worker offers (and its executor's heap), e.g. `2g`.
    pub worker_memory: String,
    /// Heap of the Connect server (the driver), e.g. `1g`.
    pub driver_memory: String,
    /// Extra `--conf key=value` settings for the Connect server.
    pub confs: Vec<(String, String)>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            workers: 1,
            worker_cores: 2,
            worker_memory: "2g".into(),
            driver_memory: "1g".into(),
            confs: Vec::new(),
        }
    }
}

/// A running Spark Connect server for tests: one this module started, or `SPARK_CONNECT_URL`'s.
pub struct TestCluster {
    url: String,
    token: Option<String>,
    startup: Duration,
    local: Option<LocalProcesses>,
    /// The folder of an external cluster (`SPARK_CLUSTER_DIR`).
    external_dir: Option<PathBuf>,
}

struct LocalProcesses {
    dir: PathBuf,
    /// Master, workers, Connect server; each the leader of its own process group.
    children: Mutex<Vec<(String, Child)>>,
    watchdog: Mutex<Option<Child>>,
}

impl TestCluster {
    /// `sc://127.0.0.1:PORT/;token=...;use_ssl=false` for a local cluster (its Connect server
    /// requires a random token), or `SPARK_CONNECT_URL` as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The token the Connect server requires: the local cluster's random one, or the `token` of
    /// `SPARK_CONNECT_URL` (`None` when it has none).
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Whether this process started the cluster (rather than using `SPARK_CONNECT_URL`'s).
    pub fn is_own(&self) -> bool {
        self.local.is_some()
    }

    /// Time from the first process start until the executor registered (zero when external).
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The folder holding logs (`logs/*.log`) and work folders: a local cluster's temporary
    /// folder, or `SPARK_CLUSTER_DIR` for an external one (`None` when unknown).
    pub fn dir(&self) -> Option<&Path> {
        self.local
            .as_ref()
            .map(|l| l.dir.as_path())
            .or(self.external_dir.as_deref())
    }

    /// Connects a new client (its own session) to the cluster.
    pub fn client(&self) -> crate::Result<Client> {
        Client::connect(&self.url)
    }

    /// Starts a local standalone cluster from `spark_home` with `java` on `PATH` or `JAVA_HOME`.
    /// The cluster runs until [`TestCluster::stop`] or drop.
    pub fn start(spark_home: &Path, options: &ClusterOptions) -> Result<TestCluster, String> {
        let began = Instant::now();
        let dir = tempfile::Builder::new()
            .prefix("sro-spark-test-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary folder for the Spark cluster: {e}"))?
            .keep();
        for sub in ["conf", "logs", "work", "local", "warehouse"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let token = uuid::Uuid::new_v4().simple().to_string();
        let local = LocalProcesses {
            dir: dir.clone(),
            children: Mutex::new(Vec::new()),
            watchdog: Mutex::new(None),
        };
        let mut cluster = TestCluster {
            url: String::new(),
            token: Some(token.clone()),
            startup: Duration::ZERO,
            local: Some(local),
            external_dir: None,
        };
        // On any error below, dropping `cluster` stops what was started.
        let local = cluster.local.as_ref().expect("set above");

        let master_port = free_port()?;
        let connect_port = free_port()?;
        let master_url = format!("spark://127.0.0.1:{master_port}");
        let spark_class = spark_home.join("bin/spark-class");
        let spark_submit = spark_home.join("bin/spark-submit");

        let mut master = spark_command(&spark_class, spark_home, &dir, &token);
        master.args([
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--webui-port",
            "0",
        ]);
        master.args(["--port", &master_port.to_string()]);
        local.spawn("master", master)?;
        local.start_watchdog()?;
        local.wait_for("master", "the master to listen", || port_open(master_port))?;

        for n in 1..=options.workers {
            let name = format!("worker-{n}");
            let work = dir.join("work").join(&name);
            std::fs::create_dir_all(&work)
                .map_err(|e| format!("cannot create {}: {e}", work.display()))?;
            let mut worker = spark_command(&spark_class, spark_home, &dir, &token);
            worker.args([
                "org.apache.spark.deploy.worker.Worker",
                "--host",
                "127.0.0.1",
                "--webui-port",
                "0",
            ]);
            worker.args([
                "--cores",
                &options.worker_cores.to_string(),
                "--memory",
                &options.worker_memory,
            ]);
            worker.arg("--work-dir").arg(&work).arg(&master_url);
            local.spawn(&name, worker)?;
        }
        local.start_watchdog()?;

        let mut server = spark_command(&spark_submit, spark_home, &dir, &token);
        server.args([
            "--class",
            "org.apache.spark.sql.connect.service.SparkConnectServer",
        ]);
        server.args(["--name", "sro-toolkit tests", "--master", &master_url]);
        server.args(["--driver-memory", &options.driver_memory]);
        let executor_memory = options.worker_memory.clone();
        let mut confs: Vec<(String, String)> = vec![
            (
                "spark.connect.grpc.binding.address".into(),
                "127.0.0.1".into(),
            ),
            (
                "spark.connect.grpc.binding.port".into(),
                connect_port.to_string(),
            ),
            ("spark.driver.host".into(), "127.0.0.1".into()),
            ("spark.driver.bindAddress".into(), "127.0.0.1".into()),
            ("spark.ui.enabled".into(), "false".into()),
            ("spark.executor.memory".into(), executor_memory),
            (
                "spark.sql.warehouse.dir".into(),
                dir.join("warehouse").display().to_string(),
            ),
            ("spark.sql.session.timeZone".into(), "UTC".into()),
            // Test data is small: 200 shuffle partitions would only add scheduling overhead.
            ("spark.sql.shuffle.partitions".into(), "4".into()),
        ];
        confs.extend(options.confs.iter().cloned());
        for (key, value) in &confs {
            server.arg("--conf").arg(format!("{key}={value}"));
        }
        server.arg("spark-internal");
        local.spawn("connect-server", server)?;
        local.start_watchdog()?;

        let workers = options.workers;
        local.wait_for(
            "connect-server",
            "the Spark Connect server to listen",
            || {
                port_open(connect_port)
                    && log_contains(&dir, "connect-server", "Spark Connect server started")
            },
        )?;
        local.wait_for(
            "connect-server",
            "every worker's executor to register",
            || log_count(&dir, "connect-server", "Registered executor") >= workers,
        )?;

        cluster.url = format!("sc://127.0.0.1:{connect_port}/;token={token};use_ssl=false");
        cluster.startup = began.elapsed();
        Ok(cluster)
    }

    /// Stops a local cluster's processes (SIGTERM to each process group, SIGKILL after 10 s) and
    /// removes its temporary folder. Idempotent; a no-op for an external server.
    pub fn stop(&self) {
        if let Some(local) = &self.local {
            local.stop();
        }
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

impl LocalProcesses {
    fn spawn(&self, name: &str, mut command: Command) -> Result<(), String> {
        let log_path = self.dir.join("logs").join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let log_err = log
            .try_clone()
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
        command
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .current_dir(&self.dir);
        // Its own process group: stopped as a group (the worker's executors with it), and out of
        // reach of a Ctrl-C meant for the test run (the watchdog cleans up then).
        command.process_group(0);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start the Spark {name}: {e}"))?;
        self.children
            .lock()
            .map_err(|_| "cluster state poisoned")?
            .push((name.to_string(), child));
        Ok(())
    }

    /// (Re)starts the watchdog: a shell that waits for this process to end, then stops every
    /// process group started so far and removes the folder (`kill -SIG -PGID`: dash, Debian's
    /// `sh`, rejects `kill -SIG -- -PGID`). It covers a test binary that is
    /// killed (SIGKILL, Ctrl-C) before its exit handler can run.
    fn start_watchdog(&self) -> Result<(), String> {
        let groups: Vec<String> = self
            .children
            .lock()
            .map_err(|_| "cluster state poisoned")?
            .iter()
            .map(|(_, child)| format!("-{}", child.id()))
            .collect();
        let script = format!(
            "while kill -0 {parent} 2>/dev/null; do sleep 1; done; \
             kill -TERM {groups} 2>/dev/null; sleep 10; kill -KILL {groups} 2>/dev/null; \
             rm -rf '{dir}'",
            parent = std::process::id(),
            groups = groups.join(" "),
            dir = self.dir.display(),
        );
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command.process_group(0);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start the cluster watchdog (sh): {e}"))?;
        let mut watchdog = self.watchdog.lock().map_err(|_| "cluster state poisoned")?;
        if let Some(mut old) = watchdog.replace(child) {
            signal_group(old.id(), libc::SIGKILL); // the shell and its `sleep`
            let _ = old.wait();
        }
        Ok(())
    }

    /// Polls `ready` until it holds; fails early if a process exited, or after the timeout, with
    /// the end of `log`'s log.
    fn wait_for(
        &self,
        log: &str,
        what: &str,
        mut ready: impl FnMut() -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if ready() {
                return Ok(());
            }
            if let Some((name, status)) = self.exited()? {
                return Err(format!(
                    "the Spark {name} exited ({status}) while waiting for {what}; its log ends:\n{}",
                    log_tail(&self.dir, &name)
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "timed out after {} s waiting for {what}; the {log} log ends:\n{}",
                    STARTUP_TIMEOUT.as_secs(),
                    log_tail(&self.dir, log)
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn exited(&self) -> Result<Option<(String, std::process::ExitStatus)>, String> {
        let mut children = self.children.lock().map_err(|_| "cluster state poisoned")?;
        for (name, child) in children.iter_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                return Ok(Some((name.clone(), status)));
            }
        }
        Ok(None)
    }

    fn stop(&self) {
        let Ok(mut children) = self.children.lock() else {
            return;
        };
        if children.is_empty() {
            return;
        }
        // Connect server first (it is the application), then workers, then the master.
        for (_, child) in children.iter().rev() {
            signal_group(child.id(), libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for (_, child) in children.iter_mut().rev() {
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() > deadline => {
                        signal_group(child.id(), libc::SIGKILL);
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(100)),
                }
            }
            // Whatever else is left in the group (an executor JVM) goes too.
            signal_group(child.id(), libc::SIGKILL);
        }
        children.clear();
        if let Ok(mut watchdog) = self.watchdog.lock() {
            if let Some(mut w) = watchdog.take() {
                signal_group(w.id(), libc::SIGKILL);
                let _ = w.wait();
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn signal_group(leader: u32, signal: libc::c_int) {
    if let Ok(pgid) = libc::pid_t::try_from(leader) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory is shared.
        unsafe {
            libc::kill(-pgid, signal);
        }
    }
}

fn spark_command(program: &Path, spark_home: &Path, dir: &Path, token: &str) -> Command {
    let mut command = Command::new(program);
    command
        .env("SPARK_HOME", spark_home)
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .env("SPARK_LOCAL_HOSTNAME", "127.0.0.1")
        .env("SPARK_CONF_DIR", dir.join("conf"))
        .env("SPARK_LOG_DIR", dir.join("logs"))
        .env("SPARK_PID_DIR", dir.join("local"))
        .env("SPARK_LOCAL_DIRS", dir.join("local"))
        .env("SPARK_WORKER_DIR", dir.join("work"))
        // Read by the Connect server: clients must send `Authorization: Bearer <token>`.
        .env("SPARK_CONNECT_AUTHENTICATE_TOKEN", token)
        .env_remove("SPARK_MASTER_HOST")
        .env_remove("SPARK_MASTER_PORT");
    command
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("no free 127.0.0.1 port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free 127.0.0.1 port: {e}"))
}

fn port_open(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

fn read_log(dir: &Path, name: &str) -> String {
    std::fs::read(dir.join("logs").join(format!("{name}.log")))
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default()
}

fn log_contains(dir: &Path, name: &str, needle: &str) -> bool {
    read_log(dir, name).contains(needle)
}

fn log_count(dir: &Path, name: &str, needle: &str) -> usize {
    read_log(dir, name).matches(needle).count()
}

fn log_tail(dir: &Path, name: &str) -> String {
    let path = dir.join("logs").join(format!("{name}.log"));
    let Ok(mut file) = std::fs::File::open(&path) else {
        return format!("(no log at {})", path.display());
    };
    let len = file.metadata().map_or(0, |m| m.len());
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(4000)));
    let mut tail = String::new();
    let mut bytes = Vec::new();
    if file.read_to_end(&mut bytes).is_ok() {
        tail = String::from_utf8_lossy(&bytes).into_owned();
    }
    let lines: Vec<&str> = tail.lines().collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

/// The Spark installation to use: `$SPARK_HOME` when it holds the Connect server jar of the
/// pinned version, otherwise where `scripts/spark/provision.sh` puts it
/// (`$SRO_SERVICES_DIR/spark/...` or `${XDG_CACHE_HOME:-$HOME/.cache}/sro-toolkit/spark/...`).
pub fn provisioned_spark_home() -> Option<PathBuf> {
    let has_connect = |home: &Path| {
        home.join("bin/spark-class").is_file()
            && home
                .join(format!(
                    "jars/spark-connect_2.13-{PINNED_SPARK_VERSION}.jar"
                ))
                .is_file()
    };
    if let Some(home) = std::env::var_os("SPARK_HOME").map(PathBuf::from) {
        if has_connect(&home) {
            return Some(home);
        }
    }
    let base = match std::env::var_os("SRO_SERVICES_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("spark"),
        None => {
            let cache = std::env::var_os("XDG_CACHE_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            cache.join("sro-toolkit").join("spark")
        }
    };
    let home = base
        .join(format!("pyspark-{PINNED_SPARK_VERSION}"))
        .join("pyspark");
    (has_connect(&home)
        && home
            .parent()
            .is_some_and(|p| p.join(".provisioned").is_file()))
    .then_some(home)
}

/// The major version of the `java` that Spark's scripts will run (`$JAVA_HOME/bin/java` or the
/// one on `PATH`), if any.
pub fn java_major_version() -> Option<u32> {
    let java = std::env::var_os("JAVA_HOME")
        .map(|home| PathBuf::from(home).join("bin/java"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("java"));
    let output = Command::new(java)
        .arg("-version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stderr);
    let quoted = text.split('"').nth(1)?;
    quoted.split(['.', '-', '+']).next()?.parse().ok()
}

enum Shared {
    Ready(TestCluster),
    /// Spark or Java is missing: why.
    Unavailable(String),
    /// The cluster was there to start but did not come up: why.
    Failed(String),
}

static CLUSTER: OnceLock<Shared> = OnceLock::new();
static SKIP_PRINTED: AtomicBool = AtomicBool::new(false);

/// The test binary's shared cluster, started on first use; `None` when the tests are skipped
/// (after printing [`SKIP_MESSAGE`] once).
///
/// Once up, it runs one small job so that the first query's cost (executor warm-up) is measured
/// and printed apart from the start-up, and tests see a warm cluster.
///
/// # Panics
/// When the cluster fails to start, and when it is unavailable while `SRO_REQUIRE_SERVICES=1`:
/// both are test failures.
pub fn cluster() -> Option<&'static TestCluster> {
    let state = CLUSTER.get_or_init(start_shared);
    match state {
        Shared::Ready(cluster) => Some(cluster),
        Shared::Unavailable(reason) => {
            if std::env::var(REQUIRE_SERVICES_ENV).is_ok_and(|v| v == "1") {
                panic!(
                    "{REQUIRE_SERVICES_ENV}=1 but the Spark tests cannot run ({reason}): \
                     run scripts/spark/provision.sh (needs Java 17)"
                );
            }
            if !SKIP_PRINTED.swap(true, Ordering::SeqCst) {
                print_line(SKIP_MESSAGE);
            }
            None
        }
        Shared::Failed(message) => panic!("the Spark test cluster did not start: {message}"),
    }
}

fn start_shared() -> Shared {
    if let Some(url) = std::env::var(URL_ENV).ok().filter(|u| !u.is_empty()) {
        let token = match crate::ConnectUrl::parse(&url) {
            Ok(parsed) => parsed.token,
            Err(e) => return Shared::Failed(format!("{URL_ENV}: {e}")),
        };
        let external_dir = std::env::var_os(CLUSTER_DIR_ENV)
            .filter(|d| !d.is_empty())
            .map(PathBuf::from);
        print_line(&format!(
            "spark test cluster: the server of {URL_ENV} at {}",
            crate::url::redact_raw(&url)
        ));
        return Shared::Ready(TestCluster {
            url,
            token,
            startup: Duration::ZERO,
            local: None,
            external_dir,
        });
    }
    let Some(spark_home) = provisioned_spark_home() else {
        return Shared::Unavailable(format!("no provisioned Spark {PINNED_SPARK_VERSION}"));
    };
    match java_major_version() {
        Some(v) if v >= 17 => {}
        Some(v) => return Shared::Unavailable(format!("java is version {v}")),
        None => return Shared::Unavailable("no java".into()),
    }
    let cluster = match TestCluster::start(&spark_home, &ClusterOptions::default()) {
        Ok(cluster) => cluster,
        Err(message) => return Shared::Failed(message),
    };
    // SAFETY: registers a plain `extern "C"` function; it only reads the OnceLock.
    unsafe {
        libc::atexit(stop_shared_cluster);
    }
    print_line(&format!(
        "spark test cluster: master, 1 worker and Connect server (Spark {PINNED_SPARK_VERSION}) up in {:.1} s at {}",
        cluster.startup.as_secs_f64(),
        crate::url::redact_raw(&cluster.url),
    ));
    let first = Instant::now();
    let warm_up = cluster.client().and_then(|client| {
        let batches = client.sql_arrow("SELECT count(*) FROM range(0, 100000, 1, 4)")?;
        batches.collect::<crate::Result<Vec<_>>>()
    });
    match warm_up {
        Ok(_) => print_line(&format!(
            "spark test cluster: first query (connect, a 4-task job on the executor) took {:.1} s",
            first.elapsed().as_secs_f64()
        )),
        Err(e) => return Shared::Failed(format!("the first query failed: {e}")),
    }
    Shared::Ready(cluster)
}

/// A new temporary folder that this process and the shared cluster's executors both see (for
/// results the cluster writes as files), removed on drop: `Some` when the cluster is a local one
/// of this module (started here, or `SPARK_CONNECT_URL`'s with `SPARK_CLUSTER_DIR`), `None`
/// for another server or when the tests are skipped.
///
/// # Panics
/// As [`cluster`], and when the folder cannot be made.
pub fn shared_temp_dir() -> Option<tempfile::TempDir> {
    cluster()?.dir()?;
    Some(
        tempfile::Builder::new()
            .prefix("sro-spark-shared-")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temporary folder: {e}")),
    )
}

/// A new client (own session) on the shared cluster, or `None` when skipped.
///
/// # Panics
/// As [`cluster`], and when the connection fails.
pub fn client() -> Option<Client> {
    let cluster = cluster()?;
    match cluster.client() {
        Ok(client) => Some(client),
        Err(e) => panic!("cannot connect to the Spark test cluster: {e}"),
    }
}

/// Writes one line straight to the process's stderr, past the test harness's output capture, so
/// it shows in `cargo test` output for passing tests too.
pub fn print_line(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

extern "C" fn stop_shared_cluster() {
    if let Some(Shared::Ready(cluster)) = CLUSTER.get() {
        cluster.stop();
    }
}
