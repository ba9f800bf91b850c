//! The runner: plans actions with their transitive `needs`, decides by content what must run,
//! runs independent actions concurrently, checks outputs and keeps run records in `metadata/`.

pub mod decide;
pub mod execute;
pub mod manifest;
pub mod outputs;
pub mod tree;
pub mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Instant;

use crate::graph::{self, PlanError};
use crate::image::ImageRegistry;
use crate::project::{Action, Level, Project};
use crate::shell;

use decide::{command_hash, decide, hash_files, read_set, Decision};
use execute::{action_args, execute, resolve, Call};
use manifest::{ActionRecord, Manifest, OutputRecord};
use outputs::{check_outputs, OutputCheck};
use tree::{sha256_files, snapshot, write_record};
use view::View;

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The project folder (holding `project.yaml`).
    pub project_dir: PathBuf,
    /// Actions asked for by name (ignored with `run_all`).
    pub actions: Vec<String>,
    /// Run every action, re-running only what is stale (OpenSAFELY's `run_all`).
    pub run_all: bool,
    /// `-f`: re-run every dependency too.
    pub force_run_dependencies: bool,
    /// Keep running independent actions after a failure.
    pub continue_on_error: bool,
    /// How many actions may run at once (at least 1).
    pub concurrency: usize,
    /// Whether `DATABASE_URL` is set (then no dummy-data flags are added).
    pub database_url_set: bool,
    /// Show spinners on stderr (for a terminal).
    pub live: bool,
}

impl RunOptions {
    /// Options for `project_dir` with OpenSAFELY's defaults (concurrency 2).
    pub fn new(project_dir: impl Into<PathBuf>) -> Self {
        RunOptions {
            project_dir: project_dir.into(),
            actions: Vec::new(),
            run_all: false,
            force_run_dependencies: false,
            continue_on_error: false,
            concurrency: 2,
            database_url_set: std::env::var_os("DATABASE_URL").is_some(),
            live: false,
        }
    }
}

/// What happened to one action.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// It ran and succeeded.
    Succeeded,
    /// Its previous results are current; it did not run.
    UpToDate,
    /// It ran and failed, with the reason.
    Failed(String),
    /// It did not start because this dependency failed.
    DependencyFailed(String),
    /// It did not start because the run stopped after a failure.
    NotStarted,
}

impl Status {
    /// A short label for tables.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Succeeded => "succeeded",
            Status::UpToDate => "up to date",
            Status::Failed(_) => "FAILED",
            Status::DependencyFailed(_) => "dependency failed",
            Status::NotStarted => "not started",
        }
    }

    /// Whether the action's results are good (it succeeded or was up to date).
    pub fn is_ok(&self) -> bool {
        matches!(self, Status::Succeeded | Status::UpToDate)
    }
}

/// One action's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionOutcome {
    /// Action name.
    pub name: String,
    /// What happened.
    pub status: Status,
    /// Why it ran or was skipped.
    pub reason: String,
    /// Wall time, when it ran.
    pub duration_seconds: Option<f64>,
    /// Output files with levels, when it ran.
    pub outputs: Vec<(String, Level)>,
    /// Warnings: undeclared files, release checks.
    pub warnings: Vec<String>,
}

/// The result of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunReport {
    /// Every planned action, in plan order.
    pub outcomes: Vec<ActionOutcome>,
}

impl RunReport {
    /// Whether every planned action succeeded or was up to date.
    pub fn success(&self) -> bool {
        self.outcomes.iter().all(|o| o.status.is_ok())
    }

    /// The outcome of `name`.
    pub fn outcome(&self, name: &str) -> Option<&ActionOutcome> {
        self.outcomes.iter().find(|o| o.name == name)
    }

    /// Names of the actions that ran (succeeded or failed), in plan order.
    pub fn ran(&self) -> Vec<&str> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, Status::Succeeded | Status::Failed(_)))
            .map(|o| o.name.as_str())
            .collect()
    }
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The requested actions cannot be planned.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The run records cannot be read or written.
    #[error("{0}")]
    Records(String),
}

/// What a worker sends back.
struct Finished {
    name: String,
    result: Result<(), String>,
    check: OutputCheck,
    record: ActionRecord,
    outputs: Vec<(String, OutputRecord)>,
    duration: f64,
    log_tail: Vec<String>,
}

struct Job {
    action: Action,
    args: Vec<String>,
    reason: String,
    reads: BTreeMap<String, String>,
}

struct Shared {
    project: Project,
    registry: ImageRegistry,
    project_dir: PathBuf,
    database_url_set: bool,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Runs the planned actions of `project` and writes `metadata/`; progress and the summary go
/// to `out`.
pub fn run(
    project: &Project,
    registry: &ImageRegistry,
    options: &RunOptions,
    out: &mut (dyn Write + Send),
) -> Result<RunReport, RunError> {
    let requested: Vec<String> = if options.run_all {
        project.action_names().map(str::to_string).collect()
    } else {
        options.actions.clone()
    };
    let order = graph::plan(project, &requested)?;
    let named: BTreeSet<&str> = if options.run_all {
        BTreeSet::new()
    } else {
        options.actions.iter().map(String::as_str).collect()
    };
    let project_dir = options.project_dir.as_path();
    let mut manifest = Manifest::load(project_dir).map_err(RunError::Records)?;
    let mut view = View::new(out, options.live);
    view.line(&format!("Running actions: {}", order.join(", ")));

    let shared = Arc::new(Shared {
        project: project.clone(),
        registry: registry.clone(),
        project_dir: project_dir.to_path_buf(),
        database_url_set: options.database_url_set,
    });
    let mut status: BTreeMap<String, Option<ActionOutcome>> =
        order.iter().map(|n| (n.clone(), None)).collect();
    let mut reasons: BTreeMap<String, String> = BTreeMap::new();
    let mut running = 0usize;
    let mut stop = false;
    let (tx, rx) = mpsc::channel::<Message>();
    let concurrency = options.concurrency.max(1);
    // Files are not flushed to disk one by one as they are written: each action's outputs,
    // log and the manifest are flushed together in the background while the next action
    // runs, and the run ends only when all are on disk.
    let defer = files::DeferSync::start();
    let (flush_tx, flush_rx) = mpsc::channel::<Vec<PathBuf>>();
    let flusher = std::thread::spawn(move || {
        let mut errors = Vec::new();
        for paths in flush_rx {
            if let Err(e) = files::sync_files(&paths) {
                errors.push(e.to_string());
            }
        }
        errors
    });

    loop {
        // Start or skip everything that is ready, in plan order.
        let mut progressed = true;
        while progressed {
            progressed = false;
            for name in &order {
                if status[name].is_some() || reasons.contains_key(name) {
                    continue;
                }
                let Some(action) = project.action(name) else {
                    continue;
                };
                let failed_dep = action.needs.iter().find(|n| {
                    status
                        .get(*n)
                        .and_then(|s| s.as_ref())
                        .is_some_and(|o| !o.status.is_ok())
                });
                if let Some(dep) = failed_dep {
                    view.line(&format!(
                        "{name}: not started because dependency {dep} failed"
                    ));
                    status.insert(
                        name.clone(),
                        Some(outcome(name, Status::DependencyFailed(dep.clone()), "")),
                    );
                    progressed = true;
                    continue;
                }
                let ready = action.needs.iter().all(|n| {
                    status
                        .get(n)
                        .is_none_or(|s| s.as_ref().is_some_and(|o| o.status.is_ok()))
                });
                if !ready || stop || running >= concurrency {
                    continue;
                }
                let args = action_args(project, action, options.database_url_set);
                let decision = decide(
                    project_dir,
                    action,
                    &args,
                    &manifest,
                    named.contains(name.as_str()),
                    options.force_run_dependencies,
                );
                match decision {
                    Decision::Skip(reason) => {
                        view.line(&format!("{name}: {reason}, skipped"));
                        status.insert(name.clone(), Some(outcome(name, Status::UpToDate, &reason)));
                    }
                    Decision::Run(reason) => {
                        let verb = if manifest.actions.contains_key(name) {
                            "re-run"
                        } else {
                            "run"
                        };
                        view.line(&format!("{name}: {verb} ({reason})"));
                        let reads = hash_files(
                            project_dir,
                            &read_set(project_dir, action, &args, &manifest),
                        );
                        let command = format!(
                            "{}:{} {}",
                            action.run.image,
                            action.run.tag,
                            shell::join(&args)
                        );
                        view.started(name, &command);
                        reasons.insert(name.clone(), reason.clone());
                        let job = Job {
                            action: action.clone(),
                            args,
                            reason,
                            reads,
                        };
                        let tx = tx.clone();
                        let shared = Arc::clone(&shared);
                        let live = options.live;
                        running += 1;
                        std::thread::spawn(move || {
                            let finished = run_job(&shared, job, live.then_some(&tx));
                            let _ = tx.send(Message::Done(Box::new(finished)));
                        });
                    }
                }
                progressed = true;
            }
        }
        if running == 0 {
            break;
        }
        let done = match rx.recv() {
            Ok(Message::Done(done)) => *done,
            Ok(Message::Line(name, line)) => {
                view.progress(&name, &line);
                continue;
            }
            Err(_) => break,
        };
        running -= 1;
        view.finished(&done.name);
        let reason = reasons.get(&done.name).cloned().unwrap_or_default();
        let ok = done.result.is_ok();
        manifest.record(&done.name, done.record, done.outputs);
        if let Err(e) = manifest.save(project_dir) {
            view.line(&format!(
                "warning: cannot write {}: {e}",
                Manifest::path(project_dir).display()
            ));
        }
        let mut written: Vec<PathBuf> = done
            .check
            .matched
            .iter()
            .map(|(p, _)| p)
            .chain(&done.check.undeclared)
            .map(|p| project_dir.join(p))
            .collect();
        written.push(log_path(project_dir, &done.name));
        written.push(Manifest::path(project_dir));
        let _ = flush_tx.send(written);
        let mut o = outcome(
            &done.name,
            match &done.result {
                Ok(()) => Status::Succeeded,
                Err(msg) => Status::Failed(msg.clone()),
            },
            &reason,
        );
        o.duration_seconds = Some(done.duration);
        o.outputs.clone_from(&done.check.matched);
        o.warnings = done
            .check
            .undeclared
            .iter()
            .map(|f| format!("undeclared file written: {f}"))
            .chain(
                done.check
                    .level4_warnings
                    .iter()
                    .map(|w| format!("invalid moderately_sensitive output: {w}")),
            )
            .collect();
        match &done.result {
            Ok(()) => view.line(&format!(
                "{}: completed successfully ({:.1}s), log: metadata/{}.log",
                done.name, done.duration, done.name
            )),
            Err(msg) => {
                let mut text = format!(
                    "{}: FAILED: {}\n   log file: metadata/{}.log",
                    done.name,
                    msg.replace('\n', "\n   "),
                    done.name
                );
                if !done.log_tail.is_empty() {
                    text.push_str("\n   last lines of the log:");
                    for l in &done.log_tail {
                        text.push_str(&format!("\n     {l}"));
                    }
                }
                view.line(&text);
            }
        }
        for w in &o.warnings {
            view.line(&format!("{}: warning: {w}", done.name));
        }
        status.insert(done.name.clone(), Some(o));
        if !ok && !options.continue_on_error {
            stop = true;
        }
    }

    drop(flush_tx);
    for e in flusher.join().unwrap_or_default() {
        view.line(&format!("warning: {e}"));
    }
    drop(defer);

    let outcomes: Vec<ActionOutcome> = order
        .iter()
        .map(|n| {
            status
                .get(n)
                .cloned()
                .flatten()
                .unwrap_or_else(|| outcome(n, Status::NotStarted, ""))
        })
        .collect();
    if options.run_all && outcomes.iter().all(|o| o.status == Status::UpToDate) {
        view.line("=> All actions already completed successfully\n   Use -f option to force everything to re-run");
    } else {
        view.summary(&outcomes);
    }
    Ok(RunReport { outcomes })
}

fn outcome(name: &str, status: Status, reason: &str) -> ActionOutcome {
    ActionOutcome {
        name: name.to_string(),
        status,
        reason: reason.to_string(),
        duration_seconds: None,
        outputs: Vec::new(),
        warnings: Vec::new(),
    }
}

/// Runs one action to completion in a worker thread and writes its log file.
/// What workers tell the scheduler.
enum Message {
    /// A line of an action's log (live view only).
    Line(String, String),
    /// An action finished.
    Done(Box<Finished>),
}

/// An action's log: kept whole, and each complete line also sent to the live view.
struct LiveLog<'a> {
    name: &'a str,
    buf: Vec<u8>,
    line_start: usize,
    tx: Option<&'a mpsc::Sender<Message>>,
}

impl Write for LiveLog<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if let Some(tx) = self.tx {
            while let Some(i) = self.buf[self.line_start..].iter().position(|&b| b == b'\n') {
                let end = self.line_start + i;
                let line = String::from_utf8_lossy(&self.buf[self.line_start..end]);
                let line = line.trim();
                if !line.is_empty() {
                    let _ = tx.send(Message::Line(self.name.to_string(), line.to_string()));
                }
                self.line_start = end + 1;
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn run_job(shared: &Shared, job: Job, live: Option<&mpsc::Sender<Message>>) -> Finished {
    let dir = shared.project_dir.as_path();
    let action = &job.action;
    let started = now();
    let clock = Instant::now();
    let before = snapshot(dir);
    let mut log = LiveLog {
        name: &job.action.name,
        buf: Vec::new(),
        line_start: 0,
        tx: live,
    };
    let mut reported: Vec<PathBuf> = Vec::new();
    let mut result = resolve(
        &shared.registry,
        &action.run.image,
        &action.run.tag,
        &job.args,
        dir,
    )
    .and_then(|executor| {
        execute(
            &executor,
            Call {
                image: &action.run.image,
                tag: &action.run.tag,
                args: &job.args,
                project_dir: dir,
                database_url_set: shared.database_url_set,
            },
            &mut log,
            &mut reported,
        )
    });
    let after = snapshot(dir);
    let check = check_outputs(dir, &shared.project, action, &before, &after);
    if result.is_ok() && !check.unmatched_patterns.is_empty() {
        let mut msg = String::from("No outputs found matching patterns:");
        for p in &check.unmatched_patterns {
            msg.push_str(&format!("\n - {p}"));
        }
        if check.undeclared.is_empty() {
            msg.push_str("\nThe action wrote no other files.");
        } else {
            msg.push_str("\nFiles the action wrote (did you mean to match one of these?):");
            for f in &check.undeclared {
                msg.push_str(&format!("\n - {f}"));
            }
        }
        result = Err(msg);
    }
    let duration = clock.elapsed().as_secs_f64();
    let finished = now();

    let mut outputs = Vec::new();
    let files: Vec<PathBuf> = check.matched.iter().map(|(p, _)| dir.join(p)).collect();
    for ((path, level), hashed) in check.matched.iter().zip(sha256_files(&files)) {
        if let Ok((sha, size)) = hashed {
            outputs.push((
                path.clone(),
                OutputRecord {
                    level: level.to_string(),
                    action: action.name.clone(),
                    size,
                    sha256: sha,
                    timestamp: finished.clone(),
                },
            ));
        }
    }
    let reported_reads: Vec<String> = reported
        .iter()
        .filter_map(|p| {
            let rel = if p.is_absolute() {
                p.strip_prefix(dir).ok()?.to_path_buf()
            } else {
                p.clone()
            };
            Some(rel.to_string_lossy().replace('\\', "/"))
        })
        .collect();
    let mut reads = job.reads;
    let extra: BTreeSet<String> = reported_reads
        .iter()
        .filter(|r| !reads.contains_key(*r))
        .cloned()
        .collect();
    reads.extend(hash_files(dir, &extra));

    let status_message = match &result {
        Ok(()) => "Completed successfully".to_string(),
        Err(msg) => msg.clone(),
    };
    let record = ActionRecord {
        status: if result.is_ok() {
            "succeeded"
        } else {
            "failed"
        }
        .into(),
        message: status_message.clone(),
        started: started.clone(),
        finished: finished.clone(),
        duration_seconds: duration,
        command_sha256: command_hash(action, &job.args),
        reads,
        reported_reads,
        outputs: outputs.iter().map(|(p, _)| p.clone()).collect(),
    };

    let log_text = String::from_utf8_lossy(&log.buf).into_owned();
    let log_tail: Vec<String> = if result.is_err() {
        let lines: Vec<&str> = log_text.lines().collect();
        lines[lines.len().saturating_sub(20)..]
            .iter()
            .map(std::string::ToString::to_string)
            .collect()
    } else {
        Vec::new()
    };
    let mut file = log_text;
    if !file.is_empty() && !file.ends_with('\n') {
        file.push('\n');
    }
    file.push_str(&format!(
        "\naction: {}\ncommand: {}:{} {}\ndecision: {}\nstatus: {}\nstatus_message: {}\nstarted_at: {started}\ncompleted_at: {finished}\nduration_seconds: {duration:.3}\n\noutputs:\n",
        action.name,
        action.run.image,
        action.run.tag,
        shell::join(&job.args),
        job.reason,
        record.status,
        status_message.replace('\n', "\n  "),
    ));
    if check.matched.is_empty() {
        file.push_str("  (no outputs)\n");
    }
    for (path, level) in &check.matched {
        file.push_str(&format!("  {path}  - {level}\n"));
    }
    if !check.undeclared.is_empty() {
        file.push_str("\nundeclared files written:\n");
        for f in &check.undeclared {
            file.push_str(&format!("  {f}\n"));
        }
    }
    if !check.level4_warnings.is_empty() {
        file.push_str("\ninvalid moderately_sensitive outputs:\n");
        for w in &check.level4_warnings {
            file.push_str(&format!("  {w}\n"));
        }
    }
    let log_path = log_path(dir, &action.name);
    if let Err(e) = write_record(&log_path, file.as_bytes()) {
        result = result.and(Err(format!("cannot write {}: {e}", log_path.display())));
    }
    Finished {
        name: action.name.clone(),
        result,
        check,
        record,
        outputs,
        duration,
        log_tail,
    }
}

/// `metadata/<action>.log`.
pub fn log_path(project_dir: &Path, action: &str) -> PathBuf {
    project_dir.join("metadata").join(format!("{action}.log"))
}

/// Runs one `IMAGE:TAG ARGS` command in `project_dir` as an action would (like
/// `opensafely exec`), streaming its output to `out`.
pub fn exec(
    registry: &ImageRegistry,
    image_tag: &str,
    args: &[String],
    project_dir: &Path,
    database_url_set: bool,
    out: &mut (dyn Write + Send),
) -> Result<(), String> {
    let Some((image, tag)) = image_tag.split_once(':') else {
        return Err(format!(
            "`{image_tag}` must be IMAGE:TAG, e.g. python:v2 or cohortextractor:latest"
        ));
    };
    let executor = resolve(registry, image, tag, args, project_dir)?;
    let mut reads = Vec::new();
    execute(
        &executor,
        Call {
            image,
            tag,
            args,
            project_dir,
            database_url_set,
        },
        out,
        &mut reads,
    )
}
