//! `generate_cohort`: cohortextractor's command, over a data source or dummy data
//! (`spec/data-sources.md`), writing one file per index date (`spec/study-definition.md`,
//! "Output of generate_cohort").

mod dummy_file;
mod dump_sql;
mod options;
mod progress;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

pub use dump_sql::dump_sql;
pub use options::{default_memory_budget, parse_memory_budget, CohortOptions, DummyData};

use std::collections::HashMap;

use ehr::{DataSource, SourceError};
use polars::prelude::DataFrame;
use query::{Engine, EngineError};

use crate::expectations::{self, ExpectationsError};
use crate::lang::{CompiledStudy, Runtime, StudyDefinition, StudyError};
use crate::output::{
    parse_index_date_range, write_batch, write_frame, AppendingWriter, OutputError, OutputFormat,
};
use crate::synth::{self, CodeSet, SynthConfig};
use files::names::{cohort_file_name, COHORT_STEM};
use files::study::StudyDefinitionError;
use files::PendingFile;
pub use progress::Progress;

/// The seed of synthetic and expectations dummy data when `--seed` is not given.
pub const DEFAULT_SEED: u64 = expectations::DEFAULT_SEED;

/// Why `generate_cohort` failed; its `Display` is the message for the user.
#[derive(Debug, thiserror::Error)]
pub enum CohortError {
    /// The options do not make a run (no data source, conflicting outputs, …).
    #[error("generate_cohort: {0}")]
    Usage(String),
    /// A study definition is invalid.
    #[error("{0}")]
    Study(#[from] StudyError),
    /// A date expression gives a day that does not exist for an index date.
    #[error("{0}")]
    Date(yaml::Diagnostic),
    /// The tables could not be loaded.
    #[error("{0}")]
    Source(#[from] SourceError),
    /// An output could not be written, or `--index-date-range` is invalid.
    #[error("{0}")]
    Output(#[from] OutputError),
    /// The engine failed.
    #[error("extraction failed: {0}")]
    Extract(#[from] EngineError),
    /// Expectations dummy data could not be generated.
    #[error("{0}")]
    Expectations(#[from] ExpectationsError),
    /// The `--dummy-data-file` does not fit the study.
    #[error("{0}")]
    DummyDataFile(String),
    /// The study definitions could not be found.
    #[error("generate_cohort: {0}")]
    StudyDefinitions(#[from] StudyDefinitionError),
    /// Reading or writing a file failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the file.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Whether `SRO_SQL_TIMINGS` asks the database engines to print each statement's time to
/// stderr (for benchmarks and for finding a slow statement).
fn sql_timings() -> bool {
    std::env::var_os("SRO_SQL_TIMINGS").is_some_and(|v| !v.is_empty() && v != "0")
}

fn usage(msg: impl Into<String>) -> CohortError {
    CohortError::Usage(msg.into())
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> CohortError {
    let context = context.into();
    move |source| CohortError::Io { context, source }
}

/// Where the tables or rows come from.
enum Mode {
    Database(DataSource),
    DummyFile(PathBuf),
    Synthetic(usize),
    Expectations(usize),
}

/// One study definition to extract.
struct Job {
    study: StudyDefinition,
    /// Compiled for this run.
    compiled: CompiledStudy,
    /// (index date, output path), in ascending date order.
    targets: Vec<(NaiveDate, PathBuf)>,
}

/// Runs `generate_cohort` with `options` in `project_dir`, logging to `log`: one output per
/// study definition and index date, from the database in `options.database_url`, else from
/// dummy data.
pub fn generate_cohort(
    options: &CohortOptions,
    project_dir: &Path,
    log: &mut dyn Write,
) -> Result<(), CohortError> {
    let args = options;
    // `analysis/NAME.yaml`, else `analysis/NAME.py` (run through the recording cohortextractor).
    let definitions = files::study::select_any(
        &project_dir.join("analysis"),
        args.study_definition.as_deref(),
    )?;
    let (out_dir, out_name, format, keep_suffix) = output_target(args, definitions.len())?;
    let out_dir = project_dir.join(out_dir);

    let mode = if let Some(url) = args
        .database_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    {
        Mode::Database(DataSource::from_url(url, project_dir)?)
    } else if let Some(file) = &args.dummy_data_file {
        Mode::DummyFile(project_dir.join(file))
    } else if let Some(n) = args.expectations_population {
        match args.dummy_data {
            DummyData::Synthetic => Mode::Synthetic(n),
            DummyData::Expectations => Mode::Expectations(n),
        }
    } else {
        return Err(usage(
            "no data source: give --database-url (or set DATABASE_URL), \
             --expectations-population N or --dummy-data-file FILE",
        ));
    };
    let seed = args.seed.unwrap_or(DEFAULT_SEED);

    let range = match args.index_date_range.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => Some(parse_index_date_range(r)?),
        _ => None,
    };
    // dm+d codelists are expanded through the source's `vmp_mapping` table, when it has one.
    // A PostgreSQL database is connected to (and its schema checked) before anything else.
    let postgres = match &mode {
        Mode::Database(DataSource::Postgres(url)) => {
            Some(engine_sql::postgres::PostgresEngine::connect(url)?.with_timings(sql_timings()))
        }
        _ => None,
    };
    let spark = match &mode {
        Mode::Database(DataSource::Spark(url)) => {
            Some(engine_spark::SparkEngine::connect(url)?.with_timings(sql_timings()))
        }
        _ => None,
    };
    let vmp_mapping = match &mode {
        Mode::Database(DataSource::Folder(dir)) => ehr::TableFolder::open(dir)?
            .load_vmp_mapping()?
            .map(|df| vmp_pairs(&df)),
        Mode::Database(DataSource::Postgres(_)) => postgres
            .as_ref()
            .map(engine_sql::postgres::PostgresEngine::load_vmp_mapping)
            .transpose()?
            .flatten(),
        Mode::Database(DataSource::Spark(_)) => spark
            .as_ref()
            .map(engine_spark::SparkEngine::load_vmp_mapping)
            .transpose()?
            .flatten(),
        _ => None,
    };
    let runtime = Runtime {
        today: chrono::Local::now().date_naive(),
        vmp_mapping,
        read_files: true,
    };
    let mut jobs = Vec::new();
    for definition in &definitions {
        let path = &definition.path;
        let study = match definition.language {
            // What the study prints goes to the log, as under cohortextractor.
            files::StudyLanguage::Python => crate::pyfront::load_printing(path, &args.params, log)?,
            files::StudyLanguage::Yaml => StudyDefinition::load(path)?,
        };
        let compiled = study.compile(&runtime)?;
        let suffix = if keep_suffix { definition.suffix() } else { "" };
        let targets = match &range {
            Some(dates) => dates
                .iter()
                .map(|d| {
                    let date = d.format("%Y-%m-%d").to_string();
                    let file = cohort_file_name(&out_name, suffix, Some(&date), format);
                    (*d, out_dir.join(file))
                })
                .collect(),
            None => {
                let d = study.index_date.ok_or_else(|| {
                    usage(format!(
                        "{} has no index_date and no --index-date-range was given",
                        path.display()
                    ))
                })?;
                vec![(
                    d,
                    out_dir.join(cohort_file_name(&out_name, suffix, None, format)),
                )]
            }
        };
        // Every date expression, for every index date, before any row is read.
        for (date, _) in &targets {
            compiled.check_dates(*date).map_err(CohortError::Date)?;
        }
        jobs.push(Job {
            study,
            compiled,
            targets,
        });
    }
    std::fs::create_dir_all(&out_dir)
        .map_err(io(format!("cannot create {}", out_dir.display())))?;

    if args.skip_existing {
        for job in &mut jobs {
            job.targets.retain(|(_, path)| {
                let exists = path.exists();
                if exists {
                    let _ = writeln!(
                        log,
                        "Skipping {}: it already exists",
                        relative(path, project_dir)
                    );
                }
                !exists
            });
        }
    }

    let mut tables: Option<HashMap<String, DataFrame>> = None;
    let mut folder: Option<(ehr::PartitionedFolder, ehr::PartitionPlan)> = None;
    let mut location = String::new();
    for job in &jobs {
        if job.targets.is_empty() {
            continue;
        }
        let study_name = relative(&job.study.path, project_dir);
        match &mode {
            Mode::Database(DataSource::Folder(dir)) => {
                if folder.is_none() {
                    writeln!(log, "Loading tables from {}", dir.display()).map_err(io("log"))?;
                    let mut needed = std::collections::BTreeMap::new();
                    for j in &jobs {
                        for (t, cols) in j.compiled.tables() {
                            needed
                                .entry(t)
                                .or_insert_with(std::collections::BTreeSet::new)
                                .extend(cols);
                        }
                    }
                    let mut open =
                        ehr::PartitionedFolder::open(&ehr::TableFolder::open(dir)?, &needed)?;
                    let budget = args.memory_budget.unwrap_or_else(default_memory_budget);
                    let bytes = partition_bytes(budget);
                    let plan = open.plan(bytes);
                    writeln!(
                        log,
                        "Memory budget {}: {} patient partition(s) (tables estimated at {} in memory)",
                        format_bytes(budget),
                        plan.ranges.len(),
                        format_bytes(plan.estimated_bytes)
                    )
                    .map_err(io("log"))?;
                    let plan = if plan.needs_sort() {
                        // Beside the outputs: the copies are as sensitive as the tables.
                        let parent = jobs
                            .iter()
                            .flat_map(|j| &j.targets)
                            .find_map(|(_, path)| path.parent())
                            .unwrap_or(project_dir)
                            .to_path_buf();
                        std::fs::create_dir_all(&parent)
                            .map_err(io(format!("cannot create {}", parent.display())))?;
                        writeln!(
                            log,
                            "Not sorted by patient_id: {}; sorting into a temporary folder in {}",
                            plan.unsorted.join(", "),
                            relative(&parent, project_dir)
                        )
                        .map_err(io("log"))?;
                        let progress = Progress::new(2 * plan.unsorted.len() as u64, "passes");
                        let mut log_error = None;
                        // A line per pass, and at most one a second between.
                        let mut drawn_at = std::time::Instant::now();
                        let prefilters = shared_prefilters(&jobs);
                        let plan = open.prepare(plan, &prefilters, &parent, &mut |p| {
                            if !p.finished && drawn_at.elapsed().as_secs() < 1 {
                                return;
                            }
                            drawn_at = std::time::Instant::now();
                            let msg = format!(
                                "{} pass {}: {} rows{}",
                                p.table,
                                p.pass,
                                p.rows,
                                if p.finished { ", done" } else { "" }
                            );
                            let drawn = if p.finished {
                                progress.step(msg, log)
                            } else {
                                progress.message(msg, log)
                            };
                            if let Err(e) = drawn {
                                log_error.get_or_insert(e);
                            }
                        })?;
                        if let Some(e) = log_error {
                            return Err(io("log")(e));
                        }
                        progress.finish(log).map_err(io("log"))?;
                        writeln!(
                            log,
                            "Sorted: {} patient partition(s) (tables estimated at {} in memory)",
                            plan.ranges.len(),
                            format_bytes(plan.estimated_bytes)
                        )
                        .map_err(io("log"))?;
                        plan
                    } else {
                        open.prepare(plan, &BTreeMap::new(), project_dir, &mut |_| {})?
                    };
                    location = dir.display().to_string();
                    folder = Some((open, plan));
                }
                if let Some((open, plan)) = &folder {
                    extract_partitioned(job, open, plan, &location, format, &study_name, log)?;
                }
            }
            Mode::Database(DataSource::Postgres(_)) => {
                let Some(engine) = postgres.as_ref() else {
                    return Err(usage("the PostgreSQL connection was not made"));
                };
                if location.is_empty() {
                    location = format!("schema {} at {}", engine.url().schema, engine.url());
                    writeln!(log, "Running the study in PostgreSQL: {location}")
                        .map_err(io("log"))?;
                }
                run_engine(job, engine, format, &study_name, log)?;
            }
            Mode::Database(DataSource::Spark(_)) => {
                let Some(engine) = spark.as_ref() else {
                    return Err(usage("the Spark Connect session was not made"));
                };
                if location.is_empty() {
                    location = format!(
                        "{} at {}",
                        engine_sql::Dialect::source_description(&engine.dialect()),
                        engine.url()
                    );
                    writeln!(log, "Running the study on Spark: {location}").map_err(io("log"))?;
                }
                run_engine(job, engine, format, &study_name, log)?;
            }
            Mode::Synthetic(n) => {
                if tables.is_none() {
                    let codes = union_code_sets(&jobs);
                    writeln!(
                        log,
                        "Generating synthetic EHR data: {n} patients (seed {seed})"
                    )
                    .map_err(io("log"))?;
                    let mut needs = synth::StudyNeeds::default();
                    for j in &jobs {
                        needs.merge(synth::StudyNeeds::of(&j.compiled.dataset));
                    }
                    let mut config = SynthConfig::new(*n, seed, codes).with_needs(&needs);
                    // In memory, nothing but the study sees the rows: leave out the events it
                    // cannot see.
                    config.background_events = needs.unfiltered.contains("clinical_events");
                    let map: HashMap<String, DataFrame> = synth::generate_all(&config)
                        .map_err(|e| usage(format!("synthetic data: {e}")))?
                        .into_iter()
                        .collect();
                    tables = Some(map);
                    location = "synthetic data".to_string();
                }
                extract(job, tables.as_ref(), &location, format, &study_name, log)?;
            }
            Mode::Expectations(n) => {
                writeln!(
                    log,
                    "Generating expectations dummy data for {study_name}: {n} rows per file (seed {seed})"
                )
                .map_err(io("log"))?;
                let progress = Progress::new(job.targets.len() as u64, "files");
                for (date, path) in &job.targets {
                    let df = expectations::generate(&job.study, *date, *n, seed)?;
                    write_frame(&df, path, format)?;
                    progress.step(file_label(path), log).map_err(io("log"))?;
                }
                progress.finish(log).map_err(io("log"))?;
            }
            Mode::DummyFile(file) => {
                let file_format = OutputFormat::from_file_name(&file.to_string_lossy());
                if file_format != Some(format) {
                    return Err(CohortError::DummyDataFile(format!(
                        "dummy data file {} must be a .{} file (the output format)",
                        file.display(),
                        format
                    )));
                }
                dummy_file::check(&job.study, file).map_err(CohortError::DummyDataFile)?;
                for (_, path) in &job.targets {
                    copy_file(file, path)?;
                    writeln!(
                        log,
                        "Copied {} to {}",
                        relative(file, project_dir),
                        relative(path, project_dir)
                    )
                    .map_err(io("log"))?;
                }
            }
        }
    }
    Ok(())
}

/// Runs the engine over every index date of `job` in one pass, writing each date's file as
/// it comes.
fn extract(
    job: &Job,
    tables: Option<&HashMap<String, DataFrame>>,
    location: &str,
    format: OutputFormat,
    study_name: &str,
    log: &mut dyn Write,
) -> Result<(), CohortError> {
    let Some(tables) = tables else {
        return Ok(());
    };
    let engine = engine_polars::PolarsEngine::new(tables.clone(), location);
    run_engine(job, &engine, format, study_name, log)
}

/// The bytes of table rows one partition may hold, of a run's memory `budget`: the engine's
/// working copies and the output batches take about as much again. Never more than
/// [`MAX_PARTITION_BYTES`], even under a large budget.
fn partition_bytes(budget: u64) -> u64 {
    (budget / 3).min(MAX_PARTITION_BYTES)
}

/// The most table bytes a partition holds: smaller partitions keep the engine's working
/// columns small, and run faster (1,000,000 generated patients: 7.1 s in 4 partitions, 6.0 s
/// in 14, 6.1 s in 27; BENCHMARKS.md, issue 16).
const MAX_PARTITION_BYTES: u64 = 80 << 20;

/// `bytes` for messages (`512 MB`, `2.0 GB`).
fn format_bytes(bytes: u64) -> String {
    const MB: f64 = (1u64 << 20) as f64;
    let mb = bytes as f64 / MB;
    if mb >= 1024.0 {
        format!("{:.1} GB", mb / 1024.0)
    } else {
        format!("{mb:.0} MB")
    }
}

/// The codelist prefilter of each table that every job reading it can be served by: the
/// union of their codes when each job reading the table has a prefilter on the same column
/// (a job that reads the table's rows otherwise needs every row).
fn shared_prefilters(jobs: &[Job]) -> BTreeMap<String, query::check::CodePrefilter> {
    let mut shared: BTreeMap<String, Option<query::check::CodePrefilter>> = BTreeMap::new();
    for job in jobs {
        let mine = query::check::code_prefilters(&job.compiled.dataset);
        for (table, _) in job.compiled.tables() {
            let merged = match (shared.get(&table), mine.get(&table)) {
                (None, Some(p)) => Some(p.clone()),
                (Some(Some(q)), Some(p)) if q.column == p.column => {
                    let mut q = q.clone();
                    q.codes.extend(p.codes.iter().cloned());
                    Some(q)
                }
                _ => None,
            };
            shared.insert(table, merged);
        }
    }
    shared
        .into_iter()
        .filter_map(|(t, p)| Some((t, p?)))
        .collect()
}

/// Runs the polars engine over the index dates of `job` partition by partition (patient-id
/// ranges of `plan`), appending each partition's rows of each date to that date's file;
/// the files are renamed into place once every partition is done.
fn extract_partitioned(
    job: &Job,
    folder: &ehr::PartitionedFolder,
    plan: &ehr::PartitionPlan,
    location: &str,
    format: OutputFormat,
    study_name: &str,
    log: &mut dyn Write,
) -> Result<(), CohortError> {
    let dataset = &job.compiled.dataset;
    let columns = &job.compiled.columns;
    let dates: Vec<query::Date> = job
        .targets
        .iter()
        .map(|(d, _)| query::Date::from_naive(*d))
        .collect();
    writeln!(
        log,
        "Extracting {study_name} for {} index date(s)",
        dates.len()
    )
    .map_err(io("log"))?;
    let mut writers: BTreeMap<query::Date, DateFile> = BTreeMap::new();
    for ((_, path), date) in job.targets.iter().zip(&dates) {
        let w = AppendingWriter::create(path, columns, format)?;
        writers.insert(
            *date,
            DateFile {
                writer: std::sync::Mutex::new(w),
                rows: std::sync::atomic::AtomicUsize::new(0),
                queue: std::sync::Mutex::new(std::collections::VecDeque::new()),
            },
        );
    }
    let prefilters = query::check::code_prefilters(dataset);
    let n = plan.ranges.len();
    let progress = Progress::new(n as u64, "partitions");
    let (done, results) = std::sync::mpsc::channel();
    let queued = std::sync::atomic::AtomicUsize::new(0);
    // The next partition is read on a thread of its own while this one is evaluated; its
    // batches are appended on the thread pool while the next ones are evaluated.
    std::thread::scope(|threads| -> Result<(), CohortError> {
        let (loaded, partitions) = std::sync::mpsc::sync_channel(0);
        let prefilters = &prefilters;
        threads.spawn(move || {
            for range in &plan.ranges {
                if loaded
                    .send((range, folder.load(range, prefilters)))
                    .is_err()
                {
                    break;
                }
            }
        });
        let (writers, queued) = (&writers, &queued);
        rayon::in_place_scope(|scope| -> Result<(), CohortError> {
            for (k, (range, tables)) in partitions.into_iter().enumerate() {
                let (tables, extra) = tables?;
                let engine = engine_polars::PolarsEngine::new(tables, location)
                    .with_patient_range(range.clone())
                    .with_extra_patients(extra);
                engine.run(dataset, &dates, &mut |date, batch| {
                    if let Some(file) = writers.get(&date) {
                        lock(&file.queue).push_back(batch);
                        queued.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let done = done.clone();
                        scope.spawn(move |_| {
                            // The receiver outlives the scope.
                            let _ = done.send(file.drain(queued));
                        });
                    }
                    Ok(())
                })?;
                drop(engine);
                // At most the batches of about one partition wait: beyond that, this thread
                // appends too.
                while queued.load(std::sync::atomic::Ordering::SeqCst) > dates.len() {
                    for file in writers.values() {
                        file.drain(queued)?;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                let patients = writers
                    .values()
                    .map(|f| f.rows.load(std::sync::atomic::Ordering::SeqCst))
                    .max()
                    .unwrap_or(0);
                progress
                    .step(
                        format!("partition {}/{n} (files at {patients} patients)", k + 1),
                        log,
                    )
                    .map_err(io("log"))?;
            }
            Ok(())
        })
    })?;
    drop(done);
    for result in results {
        result?;
    }
    // Every task has ended; nothing is left queued, but a last look costs nothing.
    for file in writers.values() {
        file.drain(&queued)?;
    }
    progress.finish(log).map_err(io("log"))?;
    let mut types = query::check::TypeOf::new();
    let empty = query::Batch {
        patient_ids: Vec::new(),
        columns: dataset
            .columns
            .iter()
            .map(|(_, s)| query::ColumnData::new(types.of(s)))
            .collect(),
    };
    let files = Progress::new(writers.len() as u64, "files");
    for (_, file) in writers {
        let rows = file.rows.into_inner();
        let w = file
            .writer
            .into_inner()
            .map_err(|_| usage("an output writer failed"))?;
        let label = format!("{} ({rows} patients)", file_label(w.path()));
        w.finish(&empty)?;
        files.step(label, log).map_err(io("log"))?;
    }
    files.finish(log).map_err(io("log"))?;
    Ok(())
}

/// One date's output of a partitioned run: the file, the rows written, and the batches
/// waiting to be appended, in partition order.
struct DateFile {
    writer: std::sync::Mutex<AppendingWriter>,
    rows: std::sync::atomic::AtomicUsize,
    queue: std::sync::Mutex<std::collections::VecDeque<query::Batch>>,
}

impl DateFile {
    /// Appends the waiting batches in order, unless another thread is appending to this file
    /// (it then appends them): never waits for the file, so a pool thread is never blocked on
    /// it (one inside an append's parallel formatting may be handed another append of the same
    /// file). Whoever holds the file takes the batches one by one from the front, so batches
    /// queued in partition order are written in it; after letting go it looks at the queue
    /// again, so a batch queued while it held the file is not left behind.
    fn drain(&self, queued: &std::sync::atomic::AtomicUsize) -> Result<(), CohortError> {
        loop {
            let mut writer = match self.writer.try_lock() {
                Ok(w) => w,
                Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => return Ok(()),
            };
            while let Some(batch) = lock(&self.queue).pop_front() {
                queued.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                writer.append(&batch)?;
                self.rows
                    .fetch_add(batch.len(), std::sync::atomic::Ordering::SeqCst);
            }
            drop(writer);
            if lock(&self.queue).is_empty() {
                return Ok(());
            }
        }
    }
}

/// A mutex's guard, also after a thread panicked holding it.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `engine` over every index date of `job`, writing each date's file on the thread pool
/// as soon as the engine hands it over.
fn run_engine(
    job: &Job,
    engine: &(dyn Engine + Sync),
    format: OutputFormat,
    study_name: &str,
    log: &mut dyn Write,
) -> Result<(), CohortError> {
    let paths: BTreeMap<query::Date, &PathBuf> = job
        .targets
        .iter()
        .map(|(d, p)| (query::Date::from_naive(*d), p))
        .collect();
    let dates: Vec<query::Date> = paths.keys().copied().collect();
    writeln!(
        log,
        "Extracting {study_name} for {} index date(s)",
        dates.len()
    )
    .map_err(io("log"))?;
    let progress = Progress::new(dates.len() as u64, "files");
    let columns = &job.compiled.columns;
    let (done, results) = std::sync::mpsc::channel();
    let extracted = rayon::scope(|scope| {
        engine.run(&job.compiled.dataset, &dates, &mut |date, batch| {
            if let Some(path) = paths.get(&date) {
                let path = (*path).clone();
                let done = done.clone();
                scope.spawn(move |_| {
                    let rows = batch.len();
                    let result = write_batch(&batch, columns, &path, format).map(|()| (path, rows));
                    // The receiver outlives the scope.
                    let _ = done.send(result);
                });
            }
            Ok(())
        })
    });
    drop(done);
    extracted?;
    for result in results {
        let (path, rows) = result?;
        progress
            .step(format!("{} ({rows} patients)", file_label(&path)), log)
            .map_err(io("log"))?;
    }
    progress.finish(log).map_err(io("log"))?;
    Ok(())
}

/// The `(id, prev_id)` rows of a loaded `vmp_mapping` table.
fn vmp_pairs(df: &DataFrame) -> Vec<(String, String)> {
    let col = |name: &str| -> Vec<Option<String>> {
        df.column(name)
            .ok()
            .and_then(|c| {
                c.str()
                    .ok()
                    .map(|s| s.iter().map(|v| v.map(str::to_string)).collect())
            })
            .unwrap_or_default()
    };
    col("id")
        .into_iter()
        .zip(col("prev_id"))
        .filter_map(|(a, b)| Some((a?, b?)))
        .collect()
}

/// `path` relative to `base` when it is inside it.
fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn file_label(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The codelists of every job, each once.
fn union_code_sets(jobs: &[Job]) -> Vec<CodeSet> {
    let mut out: Vec<CodeSet> = Vec::new();
    for job in jobs {
        for set in synth::study_code_sets(&job.study) {
            if !out.contains(&set) {
                out.push(set);
            }
        }
    }
    out
}

/// Copies `from` to `to` atomically.
fn copy_file(from: &Path, to: &Path) -> Result<(), CohortError> {
    let mut src = std::fs::File::open(from).map_err(io(format!(
        "cannot read dummy data file {}",
        from.display()
    )))?;
    let cannot_write = || io(format!("cannot write {}", to.display()));
    let (pending, mut file) = PendingFile::create(to).map_err(cannot_write())?;
    std::io::copy(&mut src, &mut file).map_err(cannot_write())?;
    drop(file);
    pending.commit().map_err(cannot_write())
}

/// `(output dir, output name, format, keep the study suffix)`, from `--output-dir`,
/// `--output-format` and `--output-file`.
fn output_target(
    args: &CohortOptions,
    n_studies: usize,
) -> Result<(PathBuf, String, OutputFormat, bool), CohortError> {
    let Some(file) = &args.output_file else {
        return Ok((
            args.output_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("output")),
            COHORT_STEM.to_string(),
            args.output_format.unwrap_or(OutputFormat::Csv),
            true,
        ));
    };
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, format) = OutputFormat::strip_extension(&name).ok_or_else(|| {
        usage(format!(
            "--output-file {}: the name must end in .csv, .csv.gz, .parquet, .arrow or .feather",
            file.display()
        ))
    })?;
    let stem = stem.to_string();
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    if let Some(out_dir) = &args.output_dir {
        if normalise(out_dir) != normalise(&dir) {
            return Err(usage(format!(
                "--output-file {} conflicts with --output-dir {}",
                file.display(),
                out_dir.display()
            )));
        }
    }
    if let Some(f) = args.output_format {
        if f != format {
            return Err(usage(format!(
                "--output-file {} conflicts with --output-format {f}",
                file.display()
            )));
        }
    }
    if n_studies != 1 {
        return Err(usage("--output-file needs a single --study-definition"));
    }
    Ok((dir, stem, format, false))
}

fn normalise(p: &Path) -> PathBuf {
    p.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}
