//! The SQL engine on a real PostgreSQL server (a private throwaway one, see
//! `engine_sql::testing`), against the reference interpreter; and the golden SQL of `dump_sql`.

use std::sync::Arc;

use engine_sql::postgres::{load_tables, PgUrl, PostgresEngine};
use engine_sql::{dump_sql, testing, Postgres};
use proptest::prelude::*;
use query::model::{Series as Node, *};
use query::testing::{
    random_case, same, schema, study_like_dataset, study_like_dates, study_like_tables,
};
use query::{Date, Engine, EngineError, Interpreter, Table, Tables, Type, Value};

fn d(s: &str) -> Date {
    Date::parse_iso(s).unwrap()
}

/// An engine over `tables` loaded into a fresh schema.
fn engine_with(server: &testing::TestServer, prefix: &str, tables: &Tables) -> PostgresEngine {
    let url = server.fresh_schema(prefix).unwrap();
    let mut client = server.client().unwrap();
    load_tables(&mut client, &url.schema, tables).unwrap();
    PostgresEngine::connect_url(url).unwrap()
}

// --- (a) random datasets agree with the interpreter --------------------------------------------

fn check_seed(url: &PgUrl, seed: u64) -> Result<(), String> {
    let (tables, dataset, dates) = random_case(seed);
    // The result in one COPY, or in one COPY per index date.
    let rows = if seed.is_multiple_of(3) { 1 } else { 1_000_000 };
    let engine = PostgresEngine::connect_url(url.clone())
        .map_err(|e| e.to_string())?
        .with_rows_per_copy(rows);
    engine
        .with_client(|c| load_tables(c, &url.schema, &tables))
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let expected = Interpreter::new(tables)
        .run_all(&dataset, &dates)
        .map_err(|e| format!("interpreter: {e}"))?;
    let got = engine
        .run_all(&dataset, &dates)
        .map_err(|e| format!("postgres: {e}"))?;
    same(&expected, &got).map_err(|e| {
        let sql = dump_sql(&dataset, &dates, &engine.dialect()).unwrap_or_default();
        format!("{e}\n{dataset:#?}\n{sql}")
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn postgres_agrees_with_the_interpreter(seed in any::<u64>()) {
        thread_local! {
            static URL: Option<PgUrl> =
                testing::server().map(|s| s.fresh_schema("prop").unwrap());
        }
        URL.with(|url| {
            if let Some(url) = url {
                if let Err(e) = check_seed(url, seed) {
                    prop_assert!(false, "seed {seed}: {e}");
                }
            }
            Ok(())
        })?;
    }
}

// --- hand-made edge cases ------------------------------------------------------------------------

struct Small {
    patients: Arc<TableSchema>,
    events: Arc<TableSchema>,
    tables: Tables,
}

fn small() -> Small {
    let patients = schema("patients", true, &[("dob", Type::Date), ("sex", Type::Str)]);
    let events = schema(
        "events",
        false,
        &[
            ("date", Type::Date),
            ("code", Type::Str),
            ("value", Type::Float),
        ],
    );
    let mut p = Table::new(Arc::clone(&patients));
    let mut e = Table::new(Arc::clone(&events));
    let codes = [
        "x'); DROP TABLE patients; --",
        "x'); drop table patients; -- and more",
        "a%b",
        "axxb",
        "A_B",
        "||E119 ,J120 ||I801",
        "é1",
        "",
    ];
    for (i, code) in codes.iter().enumerate() {
        let pid = i as i64 + 1;
        p.rows
            .push((pid, vec![Value::Date(d("1980-01-31")), Value::str("F")]));
        e.rows.push((
            pid,
            vec![
                Value::Date(Date(d("2020-01-31").0 + i as i32)),
                Value::str(code),
                Value::Float(i as f64 * 0.25),
            ],
        ));
    }
    e.rows
        .push((1, vec![Value::Null, Value::Null, Value::Null]));
    let mut tables = Tables::new();
    tables.insert(p);
    tables.insert(e);
    Small {
        patients,
        events,
        tables,
    }
}

fn codelist(codes: &[&str]) -> Arc<Codelist> {
    Arc::new(Codelist {
        name: "codes".into(),
        codes: codes
            .iter()
            .map(|c| (c.to_string(), Some(format!("cat {c}"))))
            .collect(),
    })
}

/// (b) A code that would be SQL if spliced matches itself, under every rule, and harms nothing;
/// LIKE metacharacters in codes are literal.
#[test]
fn hostile_codes_match_themselves_and_harm_nothing() {
    let Some(server) = testing::server() else {
        return;
    };
    let s = small();
    let engine = engine_with(server, "hostile", &s.tables);
    let events = Frame::table(&s.events);
    let code = Node::column(&events, "code");
    let cl = codelist(&["x'); DROP TABLE patients; --", "a%b", "A_B", "E11", "é"]);
    let mut columns = Vec::new();
    for kind in [
        MatchKind::Exact,
        MatchKind::Prefix,
        MatchKind::Substring,
        MatchKind::TokenPrefix,
    ] {
        for ci in [false, true] {
            let m = Node::function(Function::InCodelist {
                code: Arc::clone(&code),
                codelist: Arc::clone(&cl),
                rule: MatchRule {
                    kind,
                    ascii_case_insensitive: ci,
                },
            });
            let f = Frame::filter(&events, &m);
            columns.push((
                format!("{kind:?} {ci}"),
                Node::aggregate(&f, Aggregate::Exists),
            ));
        }
    }
    let picked = Frame::pick(
        &events,
        vec![Node::column(&events, "date")],
        Position::First,
    );
    columns.push((
        "category".into(),
        Node::function(Function::CodelistCategory {
            code: Node::column(&picked, "code"),
            codelist: Arc::clone(&cl),
        }),
    ));
    // A string constant that would be SQL if spliced.
    let hostile = Node::value(Value::str("'); DROP TABLE events; --"));
    columns.push((
        "constant' --".into(),
        Node::coalesce(&Node::column(&picked, "code"), &hostile),
    ));
    columns.push((
        "is hostile".into(),
        Node::compare(Comparison::Eq, &Node::column(&picked, "code"), &hostile),
    ));
    let dataset = Dataset {
        population: Node::value(Value::Bool(true)),
        columns,
    };
    let dates = [d("2020-06-01")];
    let expected = Interpreter::new(s.tables.clone())
        .run_all(&dataset, &dates)
        .unwrap();
    let got = engine.run_all(&dataset, &dates).unwrap();
    same(&expected, &got).unwrap();
    // The hostile code matched itself exactly (patient 1); patient 2's lower-case longer code
    // only as a case-blind prefix.
    let b = &got[0].1;
    assert_eq!(b.columns[0].get(0), Value::Bool(true));
    assert_eq!(b.columns[0].get(1), Value::Bool(false));
    assert_eq!(b.columns[2].get(1), Value::Bool(false));
    assert_eq!(b.columns[3].get(1), Value::Bool(true));
    // "a%b" and "A_B" are no patterns: "axxb" (patient 4) matches nothing.
    for c in 0..8 {
        assert_eq!(b.columns[c].get(3), Value::Bool(false), "rule {c}");
    }
    // Nothing was dropped.
    let mut client = server.client().unwrap();
    let n: i64 = client
        .query_one(
            &format!("SELECT count(*) FROM \"{}\".patients", engine.url().schema),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, 8);
    // The SQL never contains the codes or the constant.
    let sql = dump_sql(&dataset, &dates, &engine.dialect()).unwrap();
    assert!(!sql.contains("DROP"), "{sql}");
    assert!(!sql.contains("a%b"), "{sql}");
}

/// (c) A missing table or column is named, with the schema, before any query runs.
#[test]
fn missing_tables_and_columns_are_named() {
    let Some(server) = testing::server() else {
        return;
    };
    let s = small();
    let engine = engine_with(server, "missing", &s.tables);
    let dates = [d("2020-06-01")];
    let ghost = schema("hospital", false, &[("date", Type::Date)]);
    let dataset = Dataset {
        population: Node::aggregate(&Frame::table(&ghost), Aggregate::Exists),
        columns: vec![],
    };
    let e = engine.run_all(&dataset, &dates).unwrap_err();
    assert!(
        matches!(&e, EngineError::MissingTable { table, .. } if table == "hospital"),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("`hospital`") && msg.contains(&format!("schema {}", engine.url().schema)),
        "{msg}"
    );

    let wider = schema(
        "events",
        false,
        &[("date", Type::Date), ("severity", Type::Int)],
    );
    let dataset = Dataset {
        population: Node::value(Value::Bool(true)),
        columns: vec![(
            "worst".into(),
            Node::aggregate(
                &Frame::table(&wider),
                Aggregate::Max(Node::column(&Frame::table(&wider), "severity")),
            ),
        )],
    };
    let e = engine.run_all(&dataset, &dates).unwrap_err();
    assert!(
        matches!(&e, EngineError::MissingColumn { table, column, .. } if table == "events" && column == "severity"),
        "{e}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("`severity`") && msg.contains("schema "),
        "{msg}"
    );

    // A column of the wrong type is named too.
    let mistyped = schema("events", false, &[("code", Type::Date)]);
    let dataset = Dataset {
        population: Node::value(Value::Bool(true)),
        columns: vec![(
            "first".into(),
            Node::aggregate(
                &Frame::table(&mistyped),
                Aggregate::Min(Node::column(&Frame::table(&mistyped), "code")),
            ),
        )],
    };
    let msg = engine.run_all(&dataset, &dates).unwrap_err().to_string();
    assert!(msg.contains("`code`") && msg.contains("text"), "{msg}");
    let _ = &s.patients;
}

/// (d) Bad URLs, an unreachable server, a wrong password and a missing schema give one line with
/// the URL and without the password.
#[test]
fn connection_errors_are_one_line_without_the_password() {
    let check = |url: &str, want: &str| {
        let e = match PostgresEngine::connect(url) {
            Ok(_) => panic!("{url} connected"),
            Err(e) => e.to_string(),
        };
        assert!(!e.contains("hunter2"), "{e}");
        assert!(!e.contains('\n'), "{e}");
        assert!(e.contains(want), "{url}: {e} lacks {want}");
    };
    check("postgresql://sro:hunter2@127.0.0.1:notaport/db", "port");
    check("mysql://sro:hunter2@127.0.0.1/db", "scheme");
    check(
        "postgresql://sro:hunter2@127.0.0.1/db?sslmode=require",
        "sslmode",
    );
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    check(
        &format!("postgresql://sro:hunter2@127.0.0.1:{port}/db"),
        &format!("postgresql://sro@127.0.0.1:{port}/db"),
    );
    let Some(server) = testing::server() else {
        return;
    };
    let u = server.url();
    check(
        &format!(
            "postgresql://sro:hunter2@127.0.0.1:{}/{}?schema=no_such_schema",
            u.port, u.database
        ),
        "schema no_such_schema does not exist",
    );
    if let Some((user, _)) = server.password_user() {
        check(
            &format!(
                "postgresql://{user}:hunter2@127.0.0.1:{}/{}",
                u.port, u.database
            ),
            "password authentication failed",
        );
    }
    if let Some((user, password)) = server.password_user() {
        let ok = PgUrl::parse(&format!(
            "postgresql://{user}:{password}@127.0.0.1:{}/{}",
            u.port, u.database
        ))
        .unwrap();
        assert!(PostgresEngine::connect_url(ok).is_ok());
    }
}

/// Two rows for one patient in a one-row-per-patient table is an error, as in the interpreter.
#[test]
fn duplicate_patient_rows_are_an_error() {
    let Some(server) = testing::server() else {
        return;
    };
    let mut s = small();
    if let Some(t) = s.tables.tables.get_mut("patients") {
        t.rows.push((3, vec![Value::Null, Value::Null]));
    }
    let engine = engine_with(server, "dups", &s.tables);
    let dataset = Dataset {
        population: Node::value(Value::Bool(true)),
        columns: vec![(
            "sex".into(),
            Node::column(&Frame::table(&s.patients), "sex"),
        )],
    };
    let msg = engine
        .run_all(&dataset, &[d("2020-01-01")])
        .unwrap_err()
        .to_string();
    assert!(msg.contains("more than one row for patient 3"), "{msg}");
}

/// Nodes the random generator does not build: concatenations, inline tables, filtered
/// patient-level frames, aggregates over them, more than MAX_JOINS joined tables.
#[test]
fn concat_inline_and_wide_datasets_agree() {
    let Some(server) = testing::server() else {
        return;
    };
    let s = small();
    let engine = engine_with(server, "wide", &s.tables);
    let events = Frame::table(&s.events);
    let patients = Frame::table(&s.patients);
    let date = Node::column(&events, "date");
    let recent = Frame::filter(
        &events,
        &Node::compare(
            Comparison::Ge,
            &date,
            &Node::function(Function::DateAdd {
                date: Node::index_date(),
                amount: -1,
                unit: DateUnit::Months,
            }),
        ),
    );
    let inline = Arc::new(InlineTable {
        schema: TableSchema {
            name: "extra".into(),
            columns: vec![ColumnSchema {
                name: "weight".into(),
                ty: Type::Float,
                nullable: true,
            }],
            one_row_per_patient: true,
        },
        rows: vec![(2, vec![Value::Float(70.5)]), (99, vec![Value::Null])],
    });
    let inline_frame = Arc::new(Frame::Inline(Arc::clone(&inline)));
    let concat = Arc::new(Frame::Concat {
        columns: vec![("when".into(), Type::Date), ("what".into(), Type::Str)],
        parts: vec![
            (
                Arc::clone(&recent),
                vec![Arc::clone(&date), Node::column(&events, "code")],
            ),
            (
                Arc::clone(&events),
                vec![
                    Node::function(Function::DateAdd {
                        date: Arc::clone(&date),
                        amount: 1,
                        unit: DateUnit::Years,
                    }),
                    Node::value(Value::str("shifted")),
                ],
            ),
        ],
    });
    let when = Node::column(&concat, "when");
    let females = Frame::filter(
        &patients,
        &Node::compare(
            Comparison::Eq,
            &Node::column(&patients, "sex"),
            &Node::value(Value::str("F")),
        ),
    );
    let mut columns: Vec<(String, SeriesRef)> = vec![
        (
            "n_concat".into(),
            Node::aggregate(&concat, Aggregate::Count),
        ),
        (
            "last_what".into(),
            Node::column(
                &Frame::pick(
                    &concat,
                    vec![Arc::clone(&when), Node::column(&concat, "what")],
                    Position::Last,
                ),
                "what",
            ),
        ),
        ("weight".into(), Node::column(&inline_frame, "weight")),
        ("female_dob".into(), Node::column(&females, "dob")),
        (
            "is_female".into(),
            Node::aggregate(&females, Aggregate::Exists),
        ),
        (
            "episodes".into(),
            Node::aggregate(
                &concat,
                Aggregate::CountEpisodes {
                    date: Arc::clone(&when),
                    max_gap_days: 3,
                },
            ),
        ),
    ];
    // More aggregates than one query may join.
    for i in 0..20 {
        let f = Frame::filter(
            &events,
            &Node::compare(
                Comparison::Le,
                &Node::column(&events, "value"),
                &Node::value(Value::Float(f64::from(i) * 0.1)),
            ),
        );
        columns.push((format!("n{i}"), Node::aggregate(&f, Aggregate::Count)));
    }
    let dataset = Dataset {
        population: Node::or(
            &Node::aggregate(&recent, Aggregate::Exists),
            &Node::not(&Node::is_null(&Node::column(&inline_frame, "weight"))),
        ),
        columns,
    };
    let dates: Vec<Date> = (0..4)
        .map(|i| d("2020-01-15").add_months_clamped(i))
        .collect();
    let expected = Interpreter::new(s.tables.clone())
        .run_all(&dataset, &dates)
        .unwrap();
    let got = engine.run_all(&dataset, &dates).unwrap();
    same(&expected, &got).unwrap();
    assert!(expected.iter().any(|(_, b)| !b.is_empty()));
    let sql = dump_sql(&dataset, &dates, &engine.dialect()).unwrap();
    assert!(
        sql.contains("tmp_columns_2"),
        "the result was not split into groups"
    );
}

// --- (e) golden SQL ----------------------------------------------------------------------------

#[test]
fn dump_sql_golden() {
    let dates: Vec<Date> = (0..25)
        .map(|i| d("2019-01-01").add_months_clamped(i))
        .collect();
    let sql = dump_sql(&study_like_dataset(), &dates, &Postgres::new("tpp")).unwrap();
    insta::assert_snapshot!(sql);
}

#[test]
fn the_study_dataset_agrees_on_postgres() {
    let Some(server) = testing::server() else {
        return;
    };
    let dataset = study_like_dataset();
    let tables = study_like_tables(300, 7);
    let engine = engine_with(server, "study", &tables);
    let dates = study_like_dates();
    let expected = Interpreter::new(tables).run_all(&dataset, &dates).unwrap();
    let got = engine.run_all(&dataset, &dates).unwrap();
    same(&expected, &got).unwrap();
    assert_eq!(got.len(), 25);
    assert!(got.iter().all(|(_, b)| !b.is_empty()));
}

/// Spans that touch, overlap, nest, repeat, run backwards or stay open, covering periods that
/// start and end on their edges.
#[test]
fn span_coverage_agrees_at_the_edges() {
    let Some(server) = testing::server() else {
        return;
    };
    let regs = schema("regs", false, &[("start", Type::Date), ("end", Type::Date)]);
    let mut t = Table::new(Arc::clone(&regs));
    let day = |n: i32| Value::Date(Date(d("2020-01-01").0 + n));
    let spans: &[&[(Option<i32>, Option<i32>)]] = &[
        &[(Some(0), Some(10)), (Some(10), Some(20))],
        &[(Some(0), Some(10)), (Some(11), Some(20))],
        &[(Some(0), None), (Some(5), Some(6))],
        &[(Some(5), Some(2)), (Some(0), Some(5)), (Some(5), Some(30))],
        &[(Some(0), Some(10)), (Some(0), Some(10)), (Some(3), Some(4))],
        &[(None, Some(50)), (Some(9), Some(50))],
        &[(Some(10), Some(5)), (Some(10), Some(5))],
        &[(Some(0), Some(9)), (Some(2), Some(12)), (Some(12), None)],
    ];
    for (i, rows) in spans.iter().enumerate() {
        for (s, e) in *rows {
            t.rows.push((
                i as i64 + 1,
                vec![s.map_or(Value::Null, day), e.map_or(Value::Null, day)],
            ));
        }
    }
    let mut tables = Tables::new();
    tables.insert(t);
    let engine = engine_with(server, "spans", &tables);
    let root = Frame::table(&regs);
    let mut columns = Vec::new();
    for (name, ahead) in [
        ("day", 0),
        ("week", 7),
        ("fortnight", 14),
        ("backwards", -3),
    ] {
        columns.push((
            name.to_string(),
            Node::aggregate(
                &root,
                Aggregate::SpanCovered {
                    start: Node::column(&root, "start"),
                    end: Node::column(&root, "end"),
                    from: Node::index_date(),
                    to: Node::function(Function::DateAdd {
                        date: Node::index_date(),
                        amount: ahead,
                        unit: DateUnit::Days,
                    }),
                },
            ),
        ));
    }
    let dataset = Dataset {
        population: Node::value(Value::Bool(true)),
        columns,
    };
    let dates: Vec<Date> = (-1..25).map(|n| Date(d("2020-01-01").0 + n)).collect();
    let expected = Interpreter::new(tables).run_all(&dataset, &dates).unwrap();
    let got = engine.run_all(&dataset, &dates).unwrap();
    same(&expected, &got).unwrap();
}
