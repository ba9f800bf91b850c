//! [`SparkEngine`]: the compiled plan run statement by statement in one Spark Connect session.

use std::collections::BTreeMap;
use std::sync::Mutex;

use engine_sql::check::check_table_columns;
use engine_sql::plan::{batch_by_patient, compile, Step};
use engine_sql::{Dialect, SparkSql};
use query::check::{check_dataset, columns_read, tables_read};
use query::{Dataset, Date, Engine, EngineError, Sink, Type, Value};
use spark_connect::{Client, ConnectUrl};

use crate::arrow::{decode_rows, encode};
use crate::parquet::{data_files, read_rows, ParquetResults, ResultFolder};

/// Result rows one fetch of the result aims at (the client holds them to order each date's
/// rows by patient): bounds memory whatever the number of patients.
pub const ROWS_PER_FETCH: usize = 2_500_000;

/// The query-model engine over tables in a Spark database, through a Spark Connect server.
pub struct SparkEngine {
    client: Mutex<Client>,
    url: ConnectUrl,
    rows_per_fetch: usize,
    timings: bool,
    parquet: Option<ParquetResults>,
    /// Results written through Parquet so far (names each one's folder).
    parquet_runs: std::sync::atomic::AtomicUsize,
}

/// The Spark column types a query type may be read from.
fn accepted(ty: Type) -> &'static [&'static str] {
    match ty {
        Type::Bool => &["boolean"],
        Type::Int => &["bigint", "int", "smallint", "tinyint"],
        Type::Float => &["double", "float"],
        Type::Str => &["string"],
        Type::Date => &["date"],
    }
}

impl SparkEngine {
    /// Connects to the Spark Connect server of `url` (`sc://HOST[:PORT][/;database=NAME;token=…]`,
    /// with the Parquet path's `result_dir`, `result_dir_on_cluster` and `parquet_rows`: see
    /// [`ParquetResults`]). Errors are one line, without the token.
    pub fn connect(url: &str) -> Result<Self, EngineError> {
        let url = ConnectUrl::parse(url).map_err(|e| EngineError::Backend(e.to_string()))?;
        let parquet = ParquetResults::from_url_options(&url.options)
            .map_err(|e| EngineError::Backend(format!("Spark Connect URL {url}: {e}")))?;
        if let Some(p) = &parquet {
            p.check().map_err(EngineError::Backend)?;
        }
        let client =
            Client::connect_to(url.clone()).map_err(|e| EngineError::Backend(e.to_string()))?;
        Ok(Self::from_client(client, url).with_parquet_results(parquet))
    }

    /// An engine over a connected client (results as Arrow batches only: see
    /// [`SparkEngine::with_parquet_results`]).
    pub fn from_client(client: Client, url: ConnectUrl) -> Self {
        SparkEngine {
            client: Mutex::new(client),
            url,
            rows_per_fetch: ROWS_PER_FETCH,
            timings: false,
            parquet: None,
            parquet_runs: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Sends results with an index date of more than `min_rows` rows through Parquet files in
    /// the given folder instead of Arrow batches (`None`: Arrow batches only).
    pub fn with_parquet_results(mut self, parquet: Option<ParquetResults>) -> Self {
        self.parquet = parquet;
        self
    }

    /// How many results have come back through Parquet files so far.
    pub fn parquet_results(&self) -> usize {
        self.parquet_runs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sets the number of result rows one fetch of the result aims at.
    pub fn with_rows_per_fetch(mut self, rows: usize) -> Self {
        self.rows_per_fetch = rows.max(1);
        self
    }

    /// Prints each statement's first line and time to stderr as it runs. Each cached step is
    /// then computed when it is made (a count of its rows), so its line shows its cost, and
    /// the result lines show the transfer alone.
    pub fn with_timings(mut self, on: bool) -> Self {
        self.timings = on;
        self
    }

    /// The URL (its `Display` hides the token).
    pub fn url(&self) -> &ConnectUrl {
        &self.url
    }

    /// The dialect this engine compiles to.
    pub fn dialect(&self) -> SparkSql {
        SparkSql::new(self.url.database.clone())
    }

    /// The `(id, prev_id)` pairs of the database's `vmp_mapping` table (dm+d codes and the codes
    /// they replaced), or `None` when it has no such table.
    pub fn load_vmp_mapping(&self) -> Result<Option<Vec<(String, String)>>, EngineError> {
        let client = self.lock()?;
        let sql = format!(
            "SELECT CAST(id AS STRING), CAST(prev_id AS STRING) FROM {} WHERE id IS NOT NULL AND prev_id IS NOT NULL",
            self.dialect().source_table("vmp_mapping")
        );
        let mut pairs = Vec::new();
        let result = self.query_rows(&client, &sql, &[Type::Str, Type::Str], |r| {
            if let (Value::Str(a), Value::Str(b)) = (&r[0], &r[1]) {
                pairs.push((a.to_string(), b.to_string()));
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(Some(pairs)),
            Err(e) if e.to_string().contains("TABLE_OR_VIEW_NOT_FOUND") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Runs `f` with the client (e.g. to register tables in tests).
    pub fn with_client<T>(&self, f: impl FnOnce(&Client) -> T) -> Result<T, EngineError> {
        let client = self.lock()?;
        Ok(f(&client))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Client>, EngineError> {
        self.client
            .lock()
            .map_err(|_| EngineError::Backend("the Spark Connect session was poisoned".into()))
    }

    fn location(&self) -> String {
        format!("{} at {}", self.dialect().source_description(), self.url)
    }

    fn backend(&self, e: &spark_connect::Error) -> EngineError {
        match e {
            spark_connect::Error::Server { .. } => {
                EngineError::Backend(format!("Spark at {}: {e}", self.url))
            }
            _ => EngineError::Backend(e.to_string()),
        }
    }

    /// The rows of a query, decoded as `types`.
    fn query_rows(
        &self,
        client: &Client,
        sql: &str,
        types: &[Type],
        mut row: impl FnMut(&mut Vec<Value>) -> Result<(), String>,
    ) -> Result<(), EngineError> {
        let batches = client.sql_arrow(sql).map_err(|e| self.backend(&e))?;
        for batch in batches {
            let bytes = batch.map_err(|e| self.backend(&e))?;
            decode_rows(&bytes, types, &mut row).map_err(|e| {
                EngineError::Backend(format!("Spark at {}: reading the result: {e}", self.url))
            })?;
        }
        Ok(())
    }

    /// Checks that every table and column the dataset reads exists with a usable type, and
    /// that one-row-per-patient tables have one row per patient.
    fn check_tables(&self, client: &Client, dataset: &Dataset) -> Result<(), EngineError> {
        let needed = columns_read(dataset);
        let dialect = self.dialect();
        for schema in tables_read(dataset) {
            let mut columns: BTreeMap<String, String> = BTreeMap::new();
            let describe = format!("DESCRIBE TABLE {}", dialect.source_table(&schema.name));
            let described =
                self.query_rows(client, &describe, &[Type::Str, Type::Str, Type::Str], |r| {
                    if let (Value::Str(name), Value::Str(ty)) = (&r[0], &r[1]) {
                        columns
                            .entry(name.to_string())
                            .or_insert_with(|| ty.to_lowercase());
                    }
                    Ok(())
                });
            let missing = match described {
                Ok(()) => false,
                Err(e) if e.to_string().contains("TABLE_OR_VIEW_NOT_FOUND") => true,
                Err(e) => return Err(e),
            };
            check_table_columns(
                &schema,
                &needed,
                (!missing).then_some(&columns),
                accepted,
                &self.location(),
            )?;
            if schema.one_row_per_patient {
                let sql = format!(
                    "SELECT patient_id FROM {} GROUP BY patient_id HAVING count(*) > 1 LIMIT 1",
                    dialect.source_table(&schema.name)
                );
                let mut duplicate = None;
                self.query_rows(client, &sql, &[Type::Int], |r| {
                    duplicate = Some(r[0].clone());
                    Ok(())
                })?;
                if let Some(pid) = duplicate {
                    return Err(EngineError::Data(format!(
                        "table `{}` has more than one row for patient {} ({})",
                        schema.name,
                        match pid {
                            Value::Int(p) => p.to_string(),
                            _ => "null".to_string(),
                        },
                        self.location()
                    )));
                }
            }
        }
        Ok(())
    }

    fn run_plan(
        &self,
        client: &Client,
        dataset: &Dataset,
        index_dates: &[Date],
        sink: &mut Sink<'_>,
        created: &mut Vec<String>,
    ) -> Result<(), EngineError> {
        let dialect = self.dialect();
        let plan = compile(dataset, index_dates, &dialect)?;
        for step in &plan.steps {
            let t0 = std::time::Instant::now();
            match step {
                Step::Sql { sql, .. } => {
                    for statement in statements(sql) {
                        let name = cached_name(statement);
                        if let Some(name) = name {
                            created.push(name.to_string());
                        }
                        client.sql(statement).map_err(|e| self.backend(&e))?;
                        if let (true, Some(name), true) = (self.timings, name, caches(statement)) {
                            let count = format!("SELECT count(*) FROM {name}");
                            self.query_rows(client, &count, &[Type::Int], |_| Ok(()))?;
                        }
                    }
                }
                Step::Load {
                    table,
                    columns,
                    data,
                    ..
                } => {
                    let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
                    let bytes = encode(&names, data).map_err(|e| {
                        EngineError::Backend(format!("encoding {table} for Spark: {e}"))
                    })?;
                    client
                        .create_temp_view_from_arrow(table, bytes)
                        .map_err(|e| self.backend(&e))?;
                    created.push(table.clone());
                }
            }
            if self.timings {
                let first = match step {
                    Step::Sql { sql, .. } => sql.lines().next().unwrap_or(""),
                    Step::Load { table, .. } => table.as_str(),
                };
                eprintln!("{:>10.3?}  {first}", t0.elapsed());
            }
        }
        // The population's size by index date (counting it computes the cached views it
        // depends on) picks the way the result travels.
        let t_out = std::time::Instant::now();
        let mut counts: Vec<i64> = Vec::new();
        self.query_rows(
            client,
            "SELECT index_date, count(*) FROM tmp_population GROUP BY index_date",
            &[Type::Date, Type::Int],
            |r| {
                if let Value::Int(n) = r[1] {
                    counts.push(n);
                }
                Ok(())
            },
        )?;
        let population: i64 = counts.iter().sum();
        let largest = counts.iter().copied().max().unwrap_or(0);
        self.timing(
            t_out,
            &format!("the population, counted by index date: {population} rows"),
        );
        let column_types: Vec<Type> = plan.output.columns.iter().map(|(_, t)| *t).collect();
        match &self.parquet {
            Some(parquet) if u64::try_from(largest).is_ok_and(|n| n > parquet.min_rows) => self
                .fetch_by_parquet(
                    client,
                    parquet,
                    &plan.output.select,
                    index_dates,
                    &column_types,
                    sink,
                ),
            _ => self.fetch_by_arrow(
                client,
                &plan.output,
                index_dates,
                population,
                &column_types,
                sink,
            ),
        }
    }

    /// Prints a timing line (with [`SparkEngine::with_timings`]).
    fn timing(&self, since: std::time::Instant, what: &str) {
        if self.timings {
            eprintln!("{:>10.3?}  {what}", since.elapsed());
        }
    }

    /// The result as Arrow batches, for runs of index dates of about `rows_per_fetch` rows.
    fn fetch_by_arrow(
        &self,
        client: &Client,
        output: &engine_sql::plan::Output,
        index_dates: &[Date],
        population: i64,
        column_types: &[Type],
        sink: &mut Sink<'_>,
    ) -> Result<(), EngineError> {
        let t0 = std::time::Instant::now();
        let dialect = self.dialect();
        let n = index_dates.len();
        let per_date = (population.max(1) as f64 / n as f64).max(1.0);
        let fit = ((self.rows_per_fetch as f64 / per_date) as usize).clamp(1, n);
        let runs = n.div_ceil(fit);
        let mut types = vec![Type::Int, Type::Date];
        types.extend_from_slice(column_types);
        for chunk in index_dates.chunks(n.div_ceil(runs)) {
            let (first, last) = (chunk[0], chunk[chunk.len() - 1]);
            let select = output.for_dates(&dialect, first, last);
            let mut by_date: Vec<Vec<(i64, Vec<Value>)>> = vec![Vec::new(); chunk.len()];
            let url = &self.url;
            self.query_rows(client, &select, &types, |row| {
                let (Value::Int(pid), Value::Date(date)) = (&row[0], &row[1]) else {
                    return Err(format!(
                        "a result row without patient or index date ({url})"
                    ));
                };
                let Ok(i) = chunk.binary_search(date) else {
                    return Err(format!(
                        "a result row for {date}, not an index date asked for"
                    ));
                };
                let pid = *pid;
                by_date[i].push((pid, row.drain(2..).collect()));
                Ok(())
            })?;
            for (&date, rows) in chunk.iter().zip(by_date) {
                sink(date, batch_by_patient(rows, column_types))?;
            }
        }
        self.timing(
            t0,
            &format!("the result, by Arrow batches in {runs} run(s) of index dates"),
        );
        Ok(())
    }

    /// The result written by the cluster as Parquet files, one folder per index date, and read
    /// back date by date, file by file in name order.
    fn fetch_by_parquet(
        &self,
        client: &Client,
        parquet: &ParquetResults,
        select: &str,
        index_dates: &[Date],
        column_types: &[Type],
        sink: &mut Sink<'_>,
    ) -> Result<(), EngineError> {
        let run = self
            .parquet_runs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("sro-result-{}-{run}", client.session_id());
        let on_cluster = parquet.on_cluster(&name);
        let folder = ResultFolder {
            path: parquet.dir.join(&name),
        };
        let t0 = std::time::Instant::now();
        client
            .save_query(
                select,
                &spark_connect::Params::None,
                "parquet",
                &on_cluster,
                &["index_date"],
            )
            .map_err(|e| self.backend(&e))?;
        self.timing(
            t0,
            &format!("the result, written as Parquet by the cluster to {on_cluster}"),
        );
        let t1 = std::time::Instant::now();
        let not_shared = || {
            EngineError::Backend(format!(
                "Spark wrote the result to {on_cluster}, but this client does not see it at {}: \
                 result_dir must be a folder the cluster's executors and this client share \
                 (with result_dir_on_cluster when the cluster names it differently); the files \
                 stay at {on_cluster}",
                folder.path.display()
            ))
        };
        if !folder.path.is_dir() {
            return Err(not_shared());
        }
        // Every entry is a date asked for (a row of another date, or of none, is an error).
        let wanted: std::collections::BTreeSet<String> = index_dates
            .iter()
            .map(|d| format!("index_date={d}"))
            .collect();
        let entries = std::fs::read_dir(&folder.path).map_err(|_| not_shared())?;
        for entry in entries {
            let entry = entry.map_err(|_| not_shared())?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !(name.starts_with('_') || name.starts_with('.') || wanted.contains(&name)) {
                return Err(EngineError::Backend(format!(
                    "Spark at {}: the Parquet result holds `{name}`, not an index date asked for",
                    self.url
                )));
            }
        }
        let mut types = vec![Type::Int];
        types.extend_from_slice(column_types);
        let (mut files, mut rows_read) = (0usize, 0usize);
        for &date in index_dates {
            let dir = folder.path.join(format!("index_date={date}"));
            let mut rows: Vec<(i64, Vec<Value>)> = Vec::new();
            if dir.is_dir() {
                for file in data_files(&dir).map_err(EngineError::Backend)? {
                    files += 1;
                    read_rows(&file, &types, |row| {
                        let Value::Int(pid) = row[0] else {
                            return Err("a result row without a patient".to_string());
                        };
                        rows.push((pid, row.drain(1..).collect()));
                        Ok(())
                    })
                    .map_err(|e| {
                        EngineError::Backend(format!("reading Spark's Parquet result: {e}"))
                    })?;
                }
            }
            rows_read += rows.len();
            sink(date, batch_by_patient(rows, column_types))?;
        }
        folder.remove().map_err(EngineError::Backend)?;
        self.timing(
            t1,
            &format!("the result, read back from {files} Parquet file(s): {rows_read} rows"),
        );
        Ok(())
    }
}

/// The statements of a step (split at `;` ending a line: the compiler writes no data into SQL
/// text, so a `;` never sits inside a literal).
fn statements(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.lines().all(|l| l.trim_start().starts_with("--")))
}

/// Whether a statement is a `CACHE [LAZY] TABLE …` (its first line that is not a comment).
fn caches(statement: &str) -> bool {
    statement
        .lines()
        .find(|l| !l.trim_start().starts_with("--"))
        .is_some_and(|l| l.trim_start().starts_with("CACHE "))
}

/// The view a `CACHE [LAZY] TABLE name AS …` or `CREATE OR REPLACE TEMPORARY VIEW name …`
/// statement creates.
fn cached_name(statement: &str) -> Option<&str> {
    let line = statement
        .lines()
        .find(|l| !l.trim_start().starts_with("--"))?
        .trim_start();
    let rest = line
        .strip_prefix("CACHE LAZY TABLE ")
        .or_else(|| line.strip_prefix("CACHE TABLE "))
        .or_else(|| line.strip_prefix("CREATE OR REPLACE TEMPORARY VIEW "))?;
    rest.split_whitespace().next()
}

impl Engine for SparkEngine {
    fn name(&self) -> &str {
        "spark"
    }

    fn run(
        &self,
        dataset: &Dataset,
        index_dates: &[Date],
        sink: &mut Sink<'_>,
    ) -> Result<(), EngineError> {
        check_dataset(dataset)?;
        let client = self.lock()?;
        self.check_tables(&client, dataset)?;
        if index_dates.is_empty() {
            return Ok(());
        }
        let mut created = Vec::new();
        let result = self.run_plan(&client, dataset, index_dates, sink, &mut created);
        // Nothing the run made outlives it: its cached views are uncached and dropped.
        for name in created.iter().rev() {
            let _ = client.sql(&format!("UNCACHE TABLE IF EXISTS {name}"));
            let _ = client.sql(&format!("DROP VIEW IF EXISTS {name}"));
        }
        result
    }
}
