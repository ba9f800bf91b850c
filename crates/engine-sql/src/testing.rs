//! A private throwaway PostgreSQL server for tests (feature `testing`).
//!
//! [`server`] starts one per test binary, the first time a test asks: `initdb` and `pg_ctl` from
//! `PATH` or `/usr/lib/postgresql/*/bin`, a data directory in a temporary directory, a free port
//! on 127.0.0.1 only, the unix socket in that directory, trust authentication for the test user
//! (plus one password user, to test authentication failures). When the tests run as root (which
//! `initdb` refuses), the server runs as the `postgres` user (or `nobody`) through `runuser`. A
//! watchdog process stops the server and removes the directory when the test binary exits,
//! however it exits (a panic, an abort, a kill).
//!
//! Without PostgreSQL, [`server`] prints one line saying the tests were skipped and how to
//! enable them, and returns `None`, unless `SRO_REQUIRE_SERVICES=1` (CI), when it panics.
//! `SRO_TEST_DATABASE_URL` names an existing server to use instead; `SRO_POSTGRES_BIN` the
//! directory of `initdb` and `pg_ctl` (when set, the only place looked in).

use std::io::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::postgres::PgUrl;

/// The line printed when PostgreSQL tests are skipped.
pub const SKIP_MESSAGE: &str =
    "postgres tests skipped: install PostgreSQL (Debian: apt-get install postgresql) to enable them";

/// A server the tests can use.
#[derive(Debug)]
pub struct TestServer {
    url: PgUrl,
    /// A user that must give a password, and its password (private servers only).
    password_user: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// The URL of the server's database for the test user (schema `public`).
    pub fn url(&self) -> &PgUrl {
        &self.url
    }

    /// A user whose login needs a password, and that password (only on a private server).
    pub fn password_user(&self) -> Option<(&str, &str)> {
        self.password_user
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// A new, empty schema for one test (`prefix_N_pid`), and its URL.
    pub fn fresh_schema(&self, prefix: &str) -> Result<PgUrl, String> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let schema = format!("{prefix}_{n}_{}", std::process::id());
        let mut client = self
            .url
            .config()
            .connect(postgres::NoTls)
            .map_err(|e| e.to_string())?;
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {s} CASCADE; CREATE SCHEMA {s}",
                s = crate::dialect::double_quoted(&schema)
            ))
            .map_err(|e| e.to_string())?;
        Ok(self.url.with_schema(&schema))
    }

    /// A client connected to the server.
    pub fn client(&self) -> Result<postgres::Client, String> {
        self.url
            .config()
            .connect(postgres::NoTls)
            .map_err(|e| e.to_string())
    }
}

/// The shared server of this test binary, started on first use; `None` (after printing
/// [`SKIP_MESSAGE`] once) when PostgreSQL is not installed and `SRO_REQUIRE_SERVICES` is not
/// `1`.
pub fn server() -> Option<&'static TestServer> {
    static SERVER: OnceLock<Result<TestServer, String>> = OnceLock::new();
    let result = SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("SRO_TEST_DATABASE_URL") {
            return PgUrl::parse(&url)
                .map(|url| TestServer {
                    url,
                    password_user: None,
                    _dir: None,
                })
                .map_err(|e| format!("SRO_TEST_DATABASE_URL: {e}"));
        }
        match find_binaries() {
            None => Err(String::new()),
            Some(bin) => start(&bin).map_err(|e| format!("starting PostgreSQL: {e}")),
        }
    });
    let required = std::env::var("SRO_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
    match result {
        Ok(server) => Some(server),
        Err(e) if e.is_empty() && !required => {
            static SAID: OnceLock<()> = OnceLock::new();
            // Straight to the process's stderr: the test harness captures `eprintln!`.
            SAID.get_or_init(|| {
                let _ = writeln!(std::io::stderr(), "{SKIP_MESSAGE}");
            });
            None
        }
        Err(e) if e.is_empty() => {
            panic!("SRO_REQUIRE_SERVICES=1 but PostgreSQL is not installed ({SKIP_MESSAGE})")
        }
        Err(e) => panic!("{e}"),
    }
}

/// The directory holding `initdb` and `pg_ctl`.
fn find_binaries() -> Option<PathBuf> {
    let has = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("SRO_POSTGRES_BIN") {
        let dir = PathBuf::from(dir);
        return has(&dir).then_some(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has(&dir) {
                // Debian's /usr/local/bin links point into /usr/lib/postgresql/N/bin.
                let real = std::fs::canonicalize(dir.join("initdb"))
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf));
                return Some(real.filter(|d| has(d)).unwrap_or(dir));
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The user the server runs as when we are root.
fn service_user() -> Option<String> {
    for user in ["postgres", "nobody"] {
        if Command::new("id")
            .arg("-u")
            .arg(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return Some(user.to_string());
        }
    }
    None
}

/// A command, run as `user` when given.
fn command(user: Option<&str>, program: &Path) -> Command {
    match user {
        Some(u) => {
            let mut c = Command::new("runuser");
            c.arg("-u").arg(u).arg("--").arg(program);
            c
        }
        None => Command::new(program),
    }
}

fn run(mut c: Command, what: &str) -> Result<(), String> {
    let out = c.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn start(bin: &Path) -> Result<TestServer, String> {
    let root = is_root();
    let user = if root {
        Some(
            service_user()
                .ok_or("running as root and no postgres or nobody user to run the server")?,
        )
    } else {
        None
    };
    let dir = tempfile::Builder::new()
        .prefix("engine-sql-pg-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let data = dir.path().join("data");
    if let Some(u) = &user {
        run(
            {
                let mut c = Command::new("chown");
                c.arg(u).arg(dir.path());
                c
            },
            "chown",
        )?;
    }
    // An ICU default collation (where "a1" sorts before "B2") when available, so that string
    // order by code point is really tested; otherwise C.UTF-8.
    let initdb = |icu: bool| {
        let mut c = command(user.as_deref(), &bin.join("initdb"));
        c.arg("-D")
            .arg(&data)
            .args(["-U", "sro", "-A", "trust", "-E", "UTF8", "--no-sync"])
            .arg("--locale=C.UTF-8");
        if icu {
            c.args(["--locale-provider=icu", "--icu-locale=en-US"]);
        }
        run(c, "initdb")
    };
    initdb(true).or_else(|_| {
        let _ = std::fs::remove_dir_all(&data);
        initdb(false)
    })?;
    // One user logs in with a password, to test authentication failures.
    let hba = data.join("pg_hba.conf");
    let existing = std::fs::read_to_string(&hba).map_err(|e| e.to_string())?;
    std::fs::write(
        &hba,
        format!("host all sro_password 127.0.0.1/32 scram-sha-256\n{existing}"),
    )
    .map_err(|e| e.to_string())?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let options = format!(
        "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        dir.path().display()
    );
    let mut c = command(user.as_deref(), &bin.join("pg_ctl"));
    c.arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.path().join("server.log"))
        .arg("-o")
        .arg(&options)
        .args(["-w", "-t", "60", "start"])
        .stdin(Stdio::null());
    run(c, "pg_ctl start")?;
    spawn_watchdog(bin, user.as_deref(), &data, dir.path());
    let url = PgUrl::parse(&format!("postgresql://sro@127.0.0.1:{port}/postgres"))
        .map_err(|e| e.to_string())?;
    let password = format!("pw{}", std::process::id());
    let mut client = url
        .config()
        .connect(postgres::NoTls)
        .map_err(|e| format!("connecting to the test server: {e}"))?;
    // The password is generated here, not data: a literal is the only way CREATE ROLE takes one.
    client
        .batch_execute(&format!(
            "CREATE ROLE sro_password LOGIN PASSWORD '{password}'"
        ))
        .map_err(|e| e.to_string())?;
    Ok(TestServer {
        url,
        password_user: Some(("sro_password".into(), password)),
        _dir: Some(dir),
    })
}

/// A process that waits for this one to exit, then stops the server and removes its directory.
fn spawn_watchdog(bin: &Path, user: Option<&str>, data: &Path, dir: &Path) {
    let q = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', "'\\''"));
    let pg_ctl = q(&bin.join("pg_ctl"));
    let stop = match user {
        Some(u) => format!(
            "runuser -u {u} -- {pg_ctl} -D {} -m immediate stop",
            q(data)
        ),
        None => format!("{pg_ctl} -D {} -m immediate stop", q(data)),
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = q(dir)
    );
    let _ = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}
