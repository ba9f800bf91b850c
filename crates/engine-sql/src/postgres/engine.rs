//! [`PostgresEngine`]: the compiled plan run in one transaction, the result streamed out with
//! binary COPY and split by index date.

use std::collections::BTreeMap;
use std::sync::Mutex;

use postgres::{Client, IsolationLevel, NoTls};
use query::check::{check_dataset, columns_read, tables_read};
use query::{ColumnData, Dataset, Date, Engine, EngineError, Sink, Type, Value};

use super::copy::{copy_in, BinaryRows};
use super::url::PgUrl;
use crate::check::check_table_columns;
use crate::dialect::{Dialect, Postgres};
use crate::plan::{batch_by_patient, compile, Step};

/// Result rows one COPY of the result aims at (the client holds them to order each date's rows
/// by patient): bounds memory whatever the number of patients.
pub const ROWS_PER_COPY: usize = 2_500_000;

/// The query-model engine over tables in a PostgreSQL schema.
pub struct PostgresEngine {
    client: Mutex<Client>,
    url: PgUrl,
    timings: bool,
    rows_per_copy: usize,
}

/// One line describing a client error, with the URL (without its password).
pub fn describe_error(url: &PgUrl, e: &postgres::Error) -> String {
    let what = match e.as_db_error() {
        Some(db) => {
            let mut s = format!("{}: {}", db.severity(), db.message());
            if let Some(d) = db.detail() {
                s.push_str(" (");
                s.push_str(d);
                s.push(')');
            }
            s
        }
        None => {
            let mut s = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                let c = cause.to_string();
                if !s.contains(&c) {
                    s.push_str(": ");
                    s.push_str(&c);
                }
                source = cause.source();
            }
            s
        }
    };
    let one_line: String = what
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut line = format!("PostgreSQL at {url}: {one_line}");
    if let Some(p) = url.password.as_deref().filter(|p| !p.is_empty()) {
        line = line.replace(p, "***");
    }
    line
}

/// The column types of the contract's query types a column of the database may have.
fn accepted(ty: Type) -> &'static [&'static str] {
    match ty {
        Type::Bool => &["boolean"],
        Type::Int => &["bigint", "integer", "smallint"],
        Type::Float => &["double precision", "real"],
        Type::Str => &["text", "character varying"],
        Type::Date => &["date"],
    }
}

impl PostgresEngine {
    /// Connects to the server of `url` and checks that its schema exists. Errors are one line
    /// with the URL without its password.
    pub fn connect(url: &str) -> Result<Self, EngineError> {
        let url = PgUrl::parse(url).map_err(|e| EngineError::Backend(e.to_string()))?;
        Self::connect_url(url)
    }

    /// [`PostgresEngine::connect`] with a parsed URL.
    pub fn connect_url(url: PgUrl) -> Result<Self, EngineError> {
        let client = url
            .config()
            .connect(NoTls)
            .map_err(|e| EngineError::Backend(describe_error(&url, &e)))?;
        Self::from_client(client, url)
    }

    /// An engine over a client connected to `url`'s database (e.g. with TLS, or with session
    /// settings such as `work_mem` already made); checks that `url`'s schema exists.
    pub fn from_client(mut client: Client, url: PgUrl) -> Result<Self, EngineError> {
        let exists = client
            .query_opt(
                "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1",
                &[&url.schema],
            )
            .map_err(|e| EngineError::Backend(describe_error(&url, &e)))?;
        if exists.is_none() {
            return Err(EngineError::Backend(format!(
                "PostgreSQL at {url}: schema {} does not exist",
                url.schema
            )));
        }
        Ok(PostgresEngine {
            client: Mutex::new(client),
            url,
            timings: false,
            rows_per_copy: ROWS_PER_COPY,
        })
    }

    /// Prints each statement's first line and time to stderr as it runs (for benchmarks and
    /// for finding a slow statement).
    pub fn with_timings(mut self, on: bool) -> Self {
        self.timings = on;
        self
    }

    /// Sets the number of result rows one COPY of the result aims at (default
    /// [`ROWS_PER_COPY`]).
    pub fn with_rows_per_copy(mut self, rows: usize) -> Self {
        self.rows_per_copy = rows.max(1);
        self
    }

    /// The URL (its `Display` has no password).
    pub fn url(&self) -> &PgUrl {
        &self.url
    }

    /// The dialect this engine compiles to.
    pub fn dialect(&self) -> Postgres {
        Postgres::new(self.url.schema.clone())
    }

    fn location(&self) -> String {
        format!("schema {} at {}", self.url.schema, self.url)
    }

    fn backend(&self, e: &postgres::Error) -> EngineError {
        EngineError::Backend(describe_error(&self.url, e))
    }

    /// Checks that every table and column the dataset reads exists with a usable type, and that
    /// one-row-per-patient tables have one row per patient.
    fn check_tables(&self, client: &mut Client, dataset: &Dataset) -> Result<(), EngineError> {
        let needed = columns_read(dataset);
        let schemas = tables_read(dataset);
        if schemas.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = schemas.iter().map(|t| t.name.clone()).collect();
        let rows = client
            .query(
                "SELECT table_name::text, column_name::text, data_type::text \
                 FROM information_schema.columns \
                 WHERE table_schema = $1 AND table_name = ANY($2)",
                &[&self.url.schema, &names],
            )
            .map_err(|e| self.backend(&e))?;
        let mut found: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for row in rows {
            let (t, c, ty): (String, String, String) = (row.get(0), row.get(1), row.get(2));
            found.entry(t).or_default().insert(c, ty);
        }
        for schema in &schemas {
            check_table_columns(
                schema,
                &needed,
                found.get(&schema.name),
                accepted,
                &self.location(),
            )?;
        }
        let dialect = self.dialect();
        for schema in schemas.iter().filter(|s| s.one_row_per_patient) {
            let sql = format!(
                "SELECT patient_id FROM {} GROUP BY patient_id HAVING count(*) > 1 LIMIT 1",
                dialect.source_table(&schema.name)
            );
            if let Some(row) = client
                .query_opt(sql.as_str(), &[])
                .map_err(|e| self.backend(&e))?
            {
                let pid: Option<i64> = row.try_get(0).ok();
                return Err(EngineError::Data(format!(
                    "table `{}` has more than one row for patient {} ({})",
                    schema.name,
                    pid.map_or("null".to_string(), |p| p.to_string()),
                    self.location()
                )));
            }
        }
        Ok(())
    }
}

impl Engine for PostgresEngine {
    fn name(&self) -> &str {
        "postgres"
    }

    fn run(
        &self,
        dataset: &Dataset,
        index_dates: &[Date],
        sink: &mut Sink<'_>,
    ) -> Result<(), EngineError> {
        check_dataset(dataset)?;
        let mut client = self
            .client
            .lock()
            .map_err(|_| EngineError::Backend("the PostgreSQL connection was poisoned".into()))?;
        let trace = self.timings;
        let t_check = std::time::Instant::now();
        self.check_tables(&mut client, dataset)?;
        if trace {
            eprintln!("{:>10.3?}  checking tables and columns", t_check.elapsed());
        }
        if index_dates.is_empty() {
            return Ok(());
        }
        let dialect = self.dialect();
        let plan = compile(dataset, index_dates, &dialect)?;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .start()
            .map_err(|e| self.backend(&e))?;
        for step in &plan.steps {
            let t0 = std::time::Instant::now();
            match step {
                Step::Sql { sql, .. } => tx.batch_execute(sql).map_err(|e| self.backend(&e))?,
                Step::Load {
                    table,
                    create,
                    columns,
                    data,
                    ..
                } => {
                    tx.batch_execute(create).map_err(|e| self.backend(&e))?;
                    let names: Vec<String> = columns
                        .iter()
                        .map(|(n, _)| dialect.quote_ident(n))
                        .collect();
                    let refs: Vec<&ColumnData> = data.iter().collect();
                    copy_in(&mut tx, table, &names, &refs).map_err(|e| self.backend(&e))?;
                }
            }
            if trace {
                let first = match step {
                    Step::Sql { sql, .. } => sql.lines().next().unwrap_or(""),
                    Step::Load { create, .. } => create.as_str(),
                };
                eprintln!("{:>10.3?}  {first}", t0.elapsed());
            }
        }
        let t_out = std::time::Instant::now();
        let mut types = vec![Type::Int, Type::Date];
        types.extend(plan.output.columns.iter().map(|(_, t)| *t));
        let column_types: Vec<Type> = plan.output.columns.iter().map(|(_, t)| *t).collect();
        // Runs of index dates of about `rows_per_copy` result rows (by the planner's count of
        // the population), balanced.
        let slots: f64 = tx
            .query_one(
                "SELECT reltuples::float8 FROM pg_catalog.pg_class WHERE oid = 'tmp_population'::regclass",
                &[],
            )
            .map_err(|e| self.backend(&e))?
            .get(0);
        let n = index_dates.len();
        let per_date = (slots.max(1.0) / n as f64).max(1.0);
        let fit = ((self.rows_per_copy as f64 / per_date) as usize).clamp(1, n);
        let runs = n.div_ceil(fit);
        for chunk in index_dates.chunks(n.div_ceil(runs)) {
            let (first, last) = (chunk[0], chunk[chunk.len() - 1]);
            let select = plan.output.for_dates(&dialect, first, last);
            let copy = dialect.copy_out(&select).unwrap_or(select);
            let mut by_date: Vec<Vec<(i64, Vec<Value>)>> = vec![Vec::new(); chunk.len()];
            {
                let reader = tx.copy_out(copy.as_str()).map_err(|e| self.backend(&e))?;
                let mut rows =
                    BinaryRows::new(reader, types.clone()).map_err(|e| self.stream_error(e))?;
                let mut row = Vec::new();
                while rows.next_row(&mut row).map_err(|e| self.stream_error(e))? {
                    let (Value::Int(pid), Value::Date(date)) = (&row[0], &row[1]) else {
                        return Err(EngineError::Backend(format!(
                            "PostgreSQL at {}: a result row without patient or index date",
                            self.url
                        )));
                    };
                    let Ok(i) = chunk.binary_search(date) else {
                        return Err(EngineError::Backend(format!(
                            "PostgreSQL at {}: a result row for {date}, not an index date asked for",
                            self.url
                        )));
                    };
                    let pid = *pid;
                    by_date[i].push((pid, row.drain(2..).collect()));
                }
            }
            for (&date, rows) in chunk.iter().zip(by_date) {
                sink(date, batch_by_patient(rows, &column_types))?;
            }
        }
        if trace {
            eprintln!("{:>10.3?}  the result, by COPY", t_out.elapsed());
        }
        // Nothing the run created outlives it.
        tx.rollback().map_err(|e| self.backend(&e))?;
        Ok(())
    }
}

impl PostgresEngine {
    fn stream_error(&self, e: std::io::Error) -> EngineError {
        EngineError::Backend(format!(
            "PostgreSQL at {}: reading the result: {e}",
            self.url
        ))
    }

    /// The `(id, prev_id)` pairs of the schema's `vmp_mapping` table (dm+d codes and the codes
    /// they replaced), or `None` when the schema has no such table.
    pub fn load_vmp_mapping(&self) -> Result<Option<Vec<(String, String)>>, EngineError> {
        let dialect = self.dialect();
        let mut client = self
            .client
            .lock()
            .map_err(|_| EngineError::Backend("the PostgreSQL connection was poisoned".into()))?;
        let exists = client
            .query_opt(
                "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'vmp_mapping'",
                &[&self.url.schema],
            )
            .map_err(|e| self.backend(&e))?;
        if exists.is_none() {
            return Ok(None);
        }
        let sql = format!(
            "SELECT id::text, prev_id::text FROM {} WHERE id IS NOT NULL AND prev_id IS NOT NULL",
            dialect.source_table("vmp_mapping")
        );
        let rows = client
            .query(sql.as_str(), &[])
            .map_err(|e| self.backend(&e))?;
        Ok(Some(
            rows.iter()
                .filter_map(|r| Some((r.try_get(0).ok()?, r.try_get(1).ok()?)))
                .collect(),
        ))
    }

    /// Runs `f` with the connection (e.g. to load tables in tests).
    pub fn with_client<T>(&self, f: impl FnOnce(&mut Client) -> T) -> Result<T, EngineError> {
        let mut client = self
            .client
            .lock()
            .map_err(|_| EngineError::Backend("the PostgreSQL connection was poisoned".into()))?;
        Ok(f(&mut client))
    }
}
