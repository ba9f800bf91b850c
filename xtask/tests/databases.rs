//! The study through the `cargo xtask` binary against real databases: a private throwaway
//! PostgreSQL server (`engine_sql::testing`) and the local Spark cluster
//! (`spark_connect::testing`). A generated table folder loaded with `load-ehr` and served from
//! the database gives the same files as the folder itself; the password of `DATABASE_URL`
//! reaches no log, manifest or terminal; `dump-sql` shows the SQL without the codelist's codes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the study (project.yaml, analysis/, codelists/) in `dir`.
fn study_copy(dir: &Path) {
    let root = repo_root();
    fs::create_dir_all(dir).unwrap();
    fs::copy(root.join("project.yaml"), dir.join("project.yaml")).unwrap();
    copy_dir(&root.join("analysis"), &dir.join("analysis"));
    copy_dir(&root.join("codelists"), &dir.join("codelists"));
}

/// Runs the driver in `dir` with `DATABASE_URL` set to `url` (unset when `None`).
fn xtask(dir: &Path, url: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    c.current_dir(dir).args(args).env_remove("DATABASE_URL");
    if let Some(url) = url {
        c.env("DATABASE_URL", url);
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file under `dir`, relative, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push((
                    e.path().strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(e.path()).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn assert_no_password(password: &str, dir: &Path, terminal: &str) {
    assert!(
        !terminal.contains(password),
        "the terminal shows the password:\n{terminal}"
    );
    for (path, bytes) in files(&dir.join("metadata")) {
        assert!(
            !String::from_utf8_lossy(&bytes).contains(password),
            "metadata/{} holds the password",
            path.display()
        );
    }
}

/// Generates `patients` patients into a folder, loads them into the database of `url` with
/// `load-ehr`, runs the study with `DATABASE_URL` set to the folder and to `url`, and checks
/// every output file is the same. Returns the database run's project folder, its terminal
/// output and the `load-ehr` output (the temporary folder lives as long as the first).
fn folder_and_database_agree(
    url: &str,
    patients: usize,
    what: &str,
) -> (tempfile::TempDir, PathBuf, String, String) {
    let tmp = tempfile::tempdir().unwrap();
    let tables = tmp.path().join("tables");
    let by_folder = tmp.path().join("folder");
    let by_database = tmp.path().join("database");
    study_copy(&by_folder);
    study_copy(&by_database);
    let count = patients.to_string();
    let o = xtask(
        &by_folder,
        None,
        &[
            "generate-ehr",
            "--patients",
            &count,
            "--seed",
            "7",
            "--output-dir",
            tables.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = xtask(
        &by_database,
        None,
        &["load-ehr", "--from", tables.to_str().unwrap(), "--to", url],
    );
    assert!(o.status.success(), "{}", text(&o));
    let loaded = text(&o);
    assert!(loaded.contains("Loaded clinical_events"), "{loaded}");

    let o = xtask(&by_folder, Some(tables.to_str().unwrap()), &["run-all"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = xtask(&by_database, Some(url), &["run-all"]);
    let terminal = text(&o);
    assert!(o.status.success(), "{terminal}");

    let want = files(&by_folder.join("output"));
    let got = files(&by_database.join("output"));
    assert!(want.len() > 100, "{} outputs", want.len());
    assert_eq!(
        want.iter().map(|(p, _)| p).collect::<Vec<_>>(),
        got.iter().map(|(p, _)| p).collect::<Vec<_>>()
    );
    for ((path, a), (_, b)) in want.iter().zip(&got) {
        assert!(
            a == b,
            "{} differs between the folder and {what}",
            path.display()
        );
    }
    (tmp, by_database, terminal, loaded)
}

#[test]
fn the_study_in_postgres_gives_the_folder_files_and_never_shows_the_password() {
    let Some(server) = engine_sql::testing::server() else {
        return;
    };
    let Some((user, password)) = server.password_user() else {
        eprintln!("postgres e2e test skipped: the shared server has no password user");
        return;
    };
    let admin = server.fresh_schema("e2e").unwrap();
    server
        .client()
        .unwrap()
        .batch_execute(&format!(
            "GRANT ALL ON SCHEMA \"{}\" TO {user}; GRANT CREATE ON DATABASE \"{}\" TO {user}",
            admin.schema, admin.database
        ))
        .unwrap();
    let url = format!(
        "postgresql://{user}:{password}@127.0.0.1:{}/{}?schema={}",
        admin.port, admin.database, admin.schema
    );
    let (_tmp, by_postgres, terminal, loaded) = folder_and_database_agree(&url, 1500, "PostgreSQL");
    assert!(!loaded.contains(password), "{loaded}");
    assert_no_password(password, &by_postgres, &terminal);

    // A failed run (the schema does not exist): one line naming the server, no password.
    let bad = url.replace(&format!("schema={}", admin.schema), "schema=no_such_schema");
    let o = xtask(
        &by_postgres,
        Some(&bad),
        &["run", "generate_study_population", "-f"],
    );
    let terminal = text(&o);
    assert!(!o.status.success(), "{terminal}");
    assert!(
        terminal.contains("schema no_such_schema does not exist"),
        "{terminal}"
    );
    assert_no_password(password, &by_postgres, &terminal);
}

#[test]
fn dump_sql_prints_the_statements_without_the_codes() {
    let tmp = tempfile::tempdir().unwrap();
    study_copy(tmp.path());
    let o = xtask(
        tmp.path(),
        None,
        &[
            "dump-sql",
            "--dialect",
            "postgres",
            "--study-definition",
            "study_definition",
            "--index-date-range",
            "2019-01-01 to 2021-01-01 by month",
        ],
    );
    let sql = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        sql.contains("25 index date(s), 2019-01-01 to 2021-01-01"),
        "{sql}"
    );
    assert!(
        sql.contains("CREATE TEMPORARY TABLE tmp_population"),
        "{sql}"
    );
    assert!(sql.contains("used by: had_pulse_ox"), "{sql}");
    assert!(
        sql.contains("codelist pulse_oximetry_codes: 12 codes"),
        "{sql}"
    );
    // Codes go as data (COPY), never as SQL text.
    let codelist =
        fs::read_to_string(tmp.path().join("codelists/opensafely-pulse-oximetry.csv")).unwrap();
    for line in codelist.lines().skip(1) {
        let (snomed, ctv3) = (
            line.split(',').next().unwrap(),
            line.rsplit(',').next().unwrap(),
        );
        for code in [snomed, ctv3] {
            assert!(!sql.contains(code), "{code} is in the SQL text");
        }
    }
    // An unknown dialect is a usage error.
    let o = xtask(tmp.path(), None, &["dump-sql", "--dialect", "oracle"]);
    assert!(!o.status.success());
}

#[test]
fn the_study_on_spark_gives_the_folder_files() {
    let Some(cluster) = spark_connect::testing::cluster() else {
        return;
    };
    // Unique to this process (the cluster may be shared by the whole test run), and dropped
    // when the test ends, passed or failed.
    let database = format!("sro_e2e_{}", std::process::id());
    let _drop = DropSparkDatabase(cluster, database.clone());
    let mut url = format!(
        "{}{}database={database}",
        cluster.url(),
        if cluster.url().contains("/;") {
            ";"
        } else {
            "/;"
        },
    );
    // Results of more than 100 rows on an index date (most of the 400 patients' dates) come
    // back through Parquet files, when the cluster shares a folder with this process.
    let results = spark_connect::testing::shared_temp_dir();
    if let Some(dir) = &results {
        url.push_str(&format!(
            ";result_dir={};parquet_rows=100",
            dir.path().display()
        ));
    }
    let (_tmp, by_spark, terminal, loaded) = folder_and_database_agree(&url, 400, "Spark");
    if let Some(dir) = &results {
        let left: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "result folders left behind: {left:?}");
    }
    if let Some(token) = cluster.token() {
        assert!(!loaded.contains(token), "{loaded}");
        assert_no_password(token, &by_spark, &terminal);
    }
    // dump-sql in Spark SQL.
    let o = xtask(
        &by_spark,
        Some(&url),
        &[
            "dump-sql",
            "--dialect",
            "spark",
            "--index-date-range",
            "2020-01-01 to 2020-03-01",
        ],
    );
    let sql = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}", text(&o));
    assert!(sql.contains("CACHE LAZY TABLE tmp_population"), "{sql}");
    assert!(sql.contains("`sro_e2e_"), "{sql}");
}

/// Drops a Spark database (and its tables) on drop.
struct DropSparkDatabase(&'static spark_connect::testing::TestCluster, String);

impl Drop for DropSparkDatabase {
    fn drop(&mut self) {
        let dropped = self.0.client().and_then(|client| {
            client.sql(&format!("DROP DATABASE IF EXISTS `{}` CASCADE", self.1))
        });
        if let Err(e) = dropped {
            spark_connect::testing::print_line(&format!(
                "spark e2e test: could not drop database {}: {e}",
                self.1
            ));
        }
    }
}
