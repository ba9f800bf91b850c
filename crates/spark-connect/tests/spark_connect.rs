//! The client against a real Spark: the shared local standalone cluster of
//! `spark_connect::testing` (or `SPARK_CONNECT_URL`). Skipped, with one line saying how to enable
//! them, when Spark is not provisioned.

use std::io::Cursor;
use std::time::Instant;

use chrono::NaiveDate;
use polars::prelude::*;
use spark_connect::testing::{self, print_line};
use spark_connect::{Client, Error, Params, Value};

/// Decodes one Arrow IPC stream (as `Client::sql_arrow` yields) into a DataFrame.
///
/// `polars::io::ipc::IpcStreamReader` would do this, but it needs polars' `ipc_streaming` feature,
/// which the workspace's polars feature set does not have; this uses the polars-arrow stream
/// reader it wraps.
fn decode_ipc_stream(bytes: &[u8]) -> DataFrame {
    use polars_arrow::io::ipc::read::{read_stream_metadata, StreamReader, StreamState};
    let mut cursor = Cursor::new(bytes);
    let metadata = read_stream_metadata(&mut cursor).expect("Arrow IPC stream schema");
    let fields: Vec<_> = metadata.schema.iter_values().cloned().collect();
    let mut frames = Vec::new();
    for state in StreamReader::new(cursor, metadata, None) {
        let StreamState::Some(batch) = state.expect("Arrow IPC record batch") else {
            break;
        };
        let columns = batch
            .into_arrays()
            .into_iter()
            .zip(&fields)
            .map(|(array, field)| {
                Series::try_from((field.name.clone(), array))
                    .expect("column")
                    .into_column()
            })
            .collect::<Vec<_>>();
        frames.push(DataFrame::new_infer_height(columns).expect("frame"));
    }
    let empty = || {
        let columns = fields
            .iter()
            .map(|f| {
                Series::new_empty(f.name.clone(), &DataType::from_arrow_field(f)).into_column()
            })
            .collect();
        DataFrame::new_infer_height(columns).expect("empty frame")
    };
    frames
        .into_iter()
        .reduce(|mut a, b| {
            a.vstack_mut(&b).expect("same schema");
            a
        })
        .unwrap_or_else(empty)
}

/// Runs a query and decodes all of its batches into one DataFrame.
fn query(client: &Client, sql: &str, params: &Params) -> DataFrame {
    let batches: Vec<Vec<u8>> = client
        .sql_arrow_with(sql, params)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect::<spark_connect::Result<_>>()
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert!(
        !batches.is_empty(),
        "Spark sends at least one (schema) batch"
    );
    let mut frames = batches.iter().map(|b| decode_ipc_stream(b));
    let mut all = frames.next().expect("one batch");
    for frame in frames {
        all.vstack_mut(&frame).expect("same schema");
    }
    all
}

/// Encodes a DataFrame as an Arrow IPC stream (what `create_temp_view_from_arrow` takes).
fn encode_ipc_stream(frame: &mut DataFrame) -> Vec<u8> {
    let mut bytes = Vec::new();
    IpcStreamWriterCompat::write(&mut bytes, frame);
    bytes
}

/// polars' `IpcStreamWriter` is also behind `ipc_streaming`; polars-arrow's stream writer is not.
struct IpcStreamWriterCompat;
impl IpcStreamWriterCompat {
    fn write(out: &mut Vec<u8>, frame: &mut DataFrame) {
        use polars_arrow::io::ipc::write::{StreamWriter, WriteOptions};
        frame.rechunk_mut();
        let schema = frame.schema().to_arrow(CompatLevel::oldest());
        let mut writer = StreamWriter::new(out, WriteOptions { compression: None });
        writer.start(&schema, None).expect("IPC schema");
        for batch in frame.iter_chunks(CompatLevel::oldest(), false) {
            writer.write(&batch, None).expect("IPC batch");
        }
        writer.finish().expect("IPC end");
    }
}

#[test]
fn connects_and_selects_one() {
    testing::cluster();
    let started = Instant::now();
    let Some(client) = testing::client() else {
        return;
    };
    let connected = started.elapsed();
    assert!(
        client.spark_version().starts_with("4."),
        "{}",
        client.spark_version()
    );
    assert_eq!(client.session_id().len(), 36, "a UUID");
    let first = Instant::now();
    let frame = query(&client, "SELECT 1 AS one", &Params::None);
    print_line(&format!(
        "spark: a new session connected in {:.2} s; its first SELECT 1 took {:.2} s",
        connected.as_secs_f64(),
        first.elapsed().as_secs_f64()
    ));
    assert_eq!(frame.shape(), (1, 1));
    assert_eq!(frame.column("one").unwrap().i32().unwrap().get(0), Some(1));
    // Statements run too.
    client.sql("SET spark.sql.ansi.enabled = true").unwrap();
}

#[test]
fn thousands_of_rows_of_several_types_decode_value_by_value() {
    let Some(client) = testing::client() else {
        return;
    };
    const N: i64 = 5000;
    let started = Instant::now();
    // `id` from range(); every column is a function of it, so each value can be checked. Nulls
    // every 7th row in the nullable columns.
    let frame = query(
        &client,
        "SELECT CAST(id AS INT) AS i,
                id * 1000000007 AS big,
                CASE WHEN id % 7 = 0 THEN NULL ELSE id / 4.0D END AS x,
                CASE WHEN id % 7 = 3 THEN NULL ELSE concat('code-', CAST(id AS STRING), '-é') END AS s,
                date_add(DATE'2019-12-30', CAST(id AS INT)) AS d,
                id % 2 = 0 AS even
         FROM range(:n)
         ORDER BY id",
        &Params::named([("n", Value::Long(N))]),
    );
    print_line(&format!(
        "spark: {N} rows x 6 columns queried and decoded in {:.2} s",
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(frame.height(), N as usize);
    let i = frame.column("i").unwrap().i32().unwrap();
    let big = frame.column("big").unwrap().i64().unwrap();
    let x = frame.column("x").unwrap().f64().unwrap();
    let s = frame.column("s").unwrap().str().unwrap();
    let d = frame.column("d").unwrap().date().unwrap();
    let even = frame.column("even").unwrap().bool().unwrap();
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let start = NaiveDate::from_ymd_opt(2019, 12, 30).unwrap();
    for row in 0..N as usize {
        let id = row as i64;
        assert_eq!(i.get(row), Some(id as i32), "i at {row}");
        assert_eq!(big.get(row), Some(id * 1_000_000_007), "big at {row}");
        let expected_x = (id % 7 != 0).then(|| id as f64 / 4.0);
        assert_eq!(x.get(row), expected_x, "x at {row}");
        let expected_s = (id % 7 != 3).then(|| format!("code-{id}-é"));
        assert_eq!(s.get(row).map(str::to_string), expected_s, "s at {row}");
        let expected_d = start + chrono::Days::new(id as u64);
        assert_eq!(
            d.physical().get(row),
            Some((expected_d - epoch).num_days() as i32),
            "d at {row}"
        );
        assert_eq!(even.get(row), Some(id % 2 == 0), "even at {row}");
    }
    assert_eq!(x.null_count(), (0..N).filter(|id| id % 7 == 0).count());
    assert_eq!(s.null_count(), (0..N).filter(|id| id % 7 == 3).count());
}

#[test]
fn an_empty_result_still_has_its_schema() {
    let Some(client) = testing::client() else {
        return;
    };
    let frame = query(
        &client,
        "SELECT id, CAST(id AS STRING) AS s FROM range(10) WHERE id < 0",
        &Params::None,
    );
    assert_eq!(frame.height(), 0);
    let names: Vec<&str> = frame
        .get_column_names()
        .iter()
        .map(|n| n.as_str())
        .collect();
    assert_eq!(names, ["id", "s"]);
    assert_eq!(frame.column("s").unwrap().dtype(), &DataType::String);
}

#[test]
fn parameters_are_matched_literally_never_spliced() {
    let Some(client) = testing::client() else {
        return;
    };
    client.sql("CREATE OR REPLACE TEMPORARY VIEW t AS SELECT * FROM VALUES ('a', 1), ('x''); DROP TABLE t; --', 2) AS t(code, n)").unwrap();
    let hostile = "x'); DROP TABLE t; --";

    // Named: the hostile string matches its own row and nothing else, and `t` survives.
    let frame = query(
        &client,
        "SELECT n FROM t WHERE code = :code",
        &Params::named([("code", hostile.into())]),
    );
    assert_eq!(
        frame
            .column("n")
            .unwrap()
            .i32()
            .unwrap()
            .into_no_null_iter()
            .collect::<Vec<_>>(),
        [2]
    );
    // Positional, with several types, including a date and a NULL.
    let frame = query(
        &client,
        "SELECT ? AS s, ? AS n, ? AS d, ? IS NULL AS missing, ? AS yes, ? AS x",
        &Params::positional([
            hostile.into(),
            Value::Long(-3),
            NaiveDate::from_ymd_opt(2020, 2, 29).unwrap().into(),
            Value::Null,
            true.into(),
            0.5.into(),
        ]),
    );
    assert_eq!(
        frame.column("s").unwrap().str().unwrap().get(0),
        Some(hostile)
    );
    assert_eq!(frame.column("n").unwrap().i64().unwrap().get(0), Some(-3));
    let days = frame.column("d").unwrap().date().unwrap().physical().get(0);
    assert_eq!(days, Some(18321), "2020-02-29 is day 18321");
    assert_eq!(
        frame.column("missing").unwrap().bool().unwrap().get(0),
        Some(true)
    );
    assert_eq!(
        frame.column("yes").unwrap().bool().unwrap().get(0),
        Some(true)
    );
    assert_eq!(frame.column("x").unwrap().f64().unwrap().get(0), Some(0.5));

    // Statements take parameters too.
    client
        .sql_with(
            "CREATE OR REPLACE TEMPORARY VIEW picked AS SELECT n FROM t WHERE code = :code",
            &Params::named([("code", "a".into())]),
        )
        .unwrap();
    let frame = query(&client, "SELECT count(*) AS rows FROM t", &Params::None);
    assert_eq!(
        frame.column("rows").unwrap().i64().unwrap().get(0),
        Some(2),
        "t is intact"
    );
    let frame = query(&client, "SELECT n FROM picked", &Params::None);
    assert_eq!(frame.column("n").unwrap().i32().unwrap().get(0), Some(1));

    // An inline table of bound values as a temporary view.
    client
        .sql_with(
            "CREATE OR REPLACE TEMPORARY VIEW inline_codes AS SELECT * FROM VALUES (?, ?), (?, ?) AS v(code, n)",
            &Params::positional([hostile.into(), Value::Long(10), "b".into(), Value::Long(20)]),
        )
        .unwrap();
    let frame = query(
        &client,
        "SELECT n FROM inline_codes WHERE code = :c",
        &Params::named([("c", hostile.into())]),
    );
    assert_eq!(frame.column("n").unwrap().i64().unwrap().get(0), Some(10));
}

#[test]
fn a_local_arrow_table_becomes_a_temporary_view_that_joins() {
    let Some(client) = testing::client() else {
        return;
    };
    let mut codelist = df! {
        "code" => ["1234", "x'; --", "9999", "ünïcode"],
        "category" => [Some("a"), Some("b"), None, Some("c")],
        "weight" => [1i64, 2, 3, 4],
    }
    .unwrap();
    let bytes = encode_ipc_stream(&mut codelist);
    client
        .create_temp_view_from_arrow("codelist", bytes.clone())
        .unwrap();
    // Replacing an existing view is allowed.
    client
        .create_temp_view_from_arrow("codelist", bytes)
        .unwrap();

    client
        .sql(
            "CREATE OR REPLACE TEMPORARY VIEW events AS SELECT * FROM VALUES
               (1, '1234'), (1, '0000'), (2, 'x''; --'), (3, 'ünïcode'), (3, '1234') AS events(patient_id, code)",
        )
        .unwrap();
    let frame = query(
        &client,
        "SELECT e.patient_id, sum(c.weight) AS weight, count(c.category) AS categorised
         FROM events e JOIN codelist c ON e.code = c.code
         GROUP BY e.patient_id ORDER BY e.patient_id",
        &Params::None,
    );
    let ids: Vec<i32> = frame
        .column("patient_id")
        .unwrap()
        .i32()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let weights: Vec<i64> = frame
        .column("weight")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(weights, [1, 2, 5]);
    // The null category survived the trip as a null (9999 matched no event, so no row has it).
    let frame = query(
        &client,
        "SELECT count(*) AS n FROM codelist WHERE category IS NULL",
        &Params::None,
    );
    assert_eq!(frame.column("n").unwrap().i64().unwrap().get(0), Some(1));
}

#[test]
fn temporary_views_belong_to_their_session() {
    let Some(first) = testing::client() else {
        return;
    };
    let Some(second) = testing::client() else {
        return;
    };
    assert_ne!(first.session_id(), second.session_id());
    first
        .sql("CREATE OR REPLACE TEMPORARY VIEW mine AS SELECT 1 AS x")
        .unwrap();
    let error = second
        .sql_arrow("SELECT * FROM mine")
        .and_then(std::iter::Iterator::collect::<Result<Vec<_>, _>>)
        .unwrap_err();
    assert_eq!(
        error.error_class(),
        Some("TABLE_OR_VIEW_NOT_FOUND"),
        "{error}"
    );
}

#[test]
fn a_missing_table_is_a_clear_one_line_error() {
    let Some(client) = testing::client() else {
        return;
    };
    let error = client
        .sql_arrow("SELECT * FROM no_such_table")
        .and_then(std::iter::Iterator::collect::<Result<Vec<_>, _>>)
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, Error::Server { .. }), "{error:?}");
    assert_eq!(
        error.error_class(),
        Some("TABLE_OR_VIEW_NOT_FOUND"),
        "{message}"
    );
    assert!(message.contains("no_such_table"), "{message}");
    assert!(!message.contains('\n'), "one line: {message}");
    print_line(&format!("spark: a missing table: {message}"));
    // A statement reports it the same way, and a syntax error is a server error too.
    let error = client.sql("DROP VIEW no_such_view").unwrap_err();
    assert!(error.to_string().contains("no_such_view"), "{error}");
    let error = client.sql("SELEC 1").unwrap_err();
    assert_eq!(error.error_class(), Some("PARSE_SYNTAX_ERROR"), "{error}");
    // The client is still usable after errors.
    assert_eq!(query(&client, "SELECT 2 AS two", &Params::None).height(), 1);
}

#[test]
fn a_missing_database_in_the_url_is_named() {
    let Some(cluster) = testing::cluster() else {
        return;
    };
    let url = format!("{};database=no_such_db", cluster.url());
    let error = Client::connect(&url).unwrap_err();
    assert!(error.to_string().contains("no_such_db"), "{error}");
    assert!(!error.to_string().contains('\n'), "{error}");
    // An existing one becomes current.
    let client = Client::connect(&format!("{};database=default", cluster.url())).unwrap();
    let frame = query(&client, "SELECT current_database() AS db", &Params::None);
    assert_eq!(
        frame.column("db").unwrap().str().unwrap().get(0),
        Some("default")
    );
}

#[test]
fn an_unreachable_server_is_a_clear_error_without_the_token() {
    // Needs no Spark: a port nothing listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("sc://127.0.0.1:{port}/;token=SECRET;use_ssl=false");
    let error = Client::connect(&url).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, Error::Unreachable { .. }), "{error:?}");
    assert!(
        message.starts_with(&format!(
            "cannot reach the Spark Connect server at sc://127.0.0.1:{port}"
        )),
        "{message}"
    );
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert!(
        !message.contains("SECRET") && !message.contains('\n'),
        "{message}"
    );
    assert!(!format!("{error:?}").contains("SECRET"));
    print_line(&format!("spark: an unreachable server: {message}"));
}

#[test]
fn a_wrong_token_is_rejected_clearly() {
    let Some(cluster) = testing::cluster() else {
        return;
    };
    let Some(token) = cluster.token() else {
        print_line("spark: SPARK_CONNECT_URL server: token rejection not checked");
        return;
    };
    let wrong = cluster.url().replace(token, "WRONGTOKEN");
    let error = Client::connect(&wrong).unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, Error::Rejected { .. }), "{error:?}");
    assert!(message.contains("rejected the credentials"), "{message}");
    assert!(
        !message.contains("WRONGTOKEN") && !message.contains(token),
        "{message}"
    );
    print_line(&format!("spark: a wrong token: {message}"));
    let without = cluster.url().replace(&format!(";token={token}"), "");
    assert!(matches!(
        Client::connect(&without).unwrap_err(),
        Error::Rejected { .. }
    ));
}

#[test]
fn tls_to_a_plain_server_is_an_unreachable_error() {
    let Some(cluster) = testing::cluster() else {
        return;
    };
    if !cluster.url().contains(";use_ssl=false") {
        print_line(
            "spark: SPARK_CONNECT_URL server may speak TLS: TLS to a plain server not checked",
        );
        return;
    }
    let url = cluster.url().replace(";use_ssl=false", ";use_ssl=true");
    let error = Client::connect(&url).unwrap_err();
    assert!(matches!(error, Error::Unreachable { .. }), "{error:?}");
    if let Some(token) = cluster.token() {
        assert!(!error.to_string().contains(token), "{error}");
    }
    print_line(&format!("spark: TLS to a plain server: {error}"));
}

#[test]
fn the_work_runs_on_the_worker_s_executor() {
    let Some(cluster) = testing::cluster() else {
        return;
    };
    if cluster.dir().is_none() {
        return; // an external server: its topology is its own
    }
    let client = cluster.client().unwrap();
    // A job with several tasks: the executors other than the driver that ran them.
    let frame = query(
        &client,
        "SELECT count(*) AS n, sum(id) AS total FROM range(0, 1000000, 1, 4)",
        &Params::None,
    );
    assert_eq!(
        frame.column("total").unwrap().i64().unwrap().get(0),
        Some(499_999_500_000)
    );
    let log =
        std::fs::read_to_string(cluster.dir().unwrap().join("logs/connect-server.log")).unwrap();
    assert!(
        log.contains("Registered executor"),
        "an executor registered with the driver"
    );
    // The driver's TaskSetManager logs `Starting task ... (127.0.0.1, executor 0, partition 3, ...)`.
    let task_lines: Vec<&str> = log.lines().filter(|l| l.contains("task")).take(8).collect();
    assert!(
        log.contains("executor 0, partition"),
        "tasks ran on the worker's executor: {task_lines:#?}"
    );
}

#[test]
fn the_pinned_version_is_the_one_the_script_installs() {
    let script = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../scripts/spark/provision.sh"
    ))
    .unwrap();
    let line = format!(
        "PYSPARK_VERSION=\"{}\"",
        spark_connect::PINNED_SPARK_VERSION
    );
    assert!(
        script.lines().any(|l| l == line),
        "provision.sh should pin {line}"
    );
}
