//! Running one command as an action: in-process images from the registry, anything else as a
//! local process in the project folder.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use crate::image::{ImageRegistry, InProcessImage, Invocation};
use crate::paths;
use crate::project::{Action, Project};

/// How an image runs.
pub enum Executor {
    /// Registered in-process.
    InProcess(Arc<dyn InProcessImage>),
    /// A local program with its arguments.
    Process {
        /// The program to start.
        program: PathBuf,
        /// Its arguments.
        args: Vec<String>,
    },
}

/// The program a runtime image runs a script with, when the `run` line starts with a script
/// rather than a program (`r:v2 analysis/model.R` runs `Rscript analysis/model.R`).
fn interpreters(image: &str) -> &'static [&'static str] {
    match image {
        "python" => &["python", "python3"],
        "r" => &["Rscript"],
        "stata-mp" => &["stata-mp"],
        "jupyter" => &["jupyter"],
        _ => &[],
    }
}

/// Finds `program` on `PATH` (or relative to the project folder when it contains a `/`).
pub fn find_program(program: &str, project_dir: &Path) -> Option<PathBuf> {
    if program.contains('/') {
        let path = project_dir.join(program);
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Decides how `IMAGE:TAG ARGS` runs; an error names the missing program.
pub fn resolve(
    registry: &ImageRegistry,
    image: &str,
    tag: &str,
    args: &[String],
    project_dir: &Path,
) -> Result<Executor, String> {
    if let Some(run) = registry.get(image) {
        return Ok(Executor::InProcess(run));
    }
    let Some(first) = args.first() else {
        return Err(format!("image `{image}:{tag}` was given no command to run"));
    };
    let candidates = interpreters(image);
    let (wanted, rest): (Vec<&str>, &[String]) =
        if !candidates.is_empty() && project_dir.join(first).is_file() {
            (candidates.to_vec(), args)
        } else if first == "python" {
            (vec!["python", "python3"], &args[1..])
        } else {
            (vec![first.as_str()], &args[1..])
        };
    for program in &wanted {
        if let Some(path) = find_program(program, project_dir) {
            return Ok(Executor::Process {
                program: path,
                args: rest.to_vec(),
            });
        }
    }
    Err(format!(
        "program `{}` not found: image `{image}:{tag}` runs as a local process in the project folder, so `{}` must be installed and on PATH",
        wanted[0], wanted[0]
    ))
}

/// The arguments an action runs with: its `run` words (with `config`), plus what OpenSAFELY's
/// local runner adds to `cohortextractor generate_cohort`: `--output-dir=<dir of its outputs>`
/// and, when no database is configured, `--dummy-data-file=…` or
/// `--expectations-population=<expectations.population_size>`.
pub fn action_args(project: &Project, action: &Action, database_url_set: bool) -> Vec<String> {
    let mut args = action.effective_args();
    if action.run.is_generate_cohort() {
        let dirs: std::collections::BTreeSet<String> = action
            .outputs
            .iter()
            .map(|o| paths::parent(&o.pattern))
            .collect();
        if dirs.len() == 1 {
            if let Some(dir) = dirs.into_iter().next() {
                args.push(format!("--output-dir={dir}"));
            }
        }
        if !database_url_set {
            if let Some(file) = &action.dummy_data_file {
                args.push(format!("--dummy-data-file={file}"));
            } else if let Some(n) = project.population_size {
                args.push(format!("--expectations-population={n}"));
            }
        }
    }
    args
}

/// One command to run.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// Image name.
    pub image: &'a str,
    /// Image tag.
    pub tag: &'a str,
    /// Arguments after `IMAGE:TAG`.
    pub args: &'a [String],
    /// The project folder (the working directory).
    pub project_dir: &'a Path,
    /// Whether `DATABASE_URL` is set (otherwise local processes get
    /// `OPENSAFELY_BACKEND=expectations`).
    pub database_url_set: bool,
}

/// Runs `call` with `executor`, writing its output to `log`. Files an in-process image reports
/// as read are appended to `reads`. The error says why it failed.
pub fn execute(
    executor: &Executor,
    call: Call<'_>,
    log: &mut (dyn Write + Send),
    reads: &mut Vec<PathBuf>,
) -> Result<(), String> {
    let Call {
        image,
        tag,
        args,
        project_dir,
        database_url_set,
    } = call;
    match executor {
        Executor::InProcess(run) => {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run.run(Invocation {
                    image,
                    tag,
                    args,
                    project_dir,
                    log: &mut *log,
                    reads: &mut *reads,
                })
            }));
            match result {
                Ok(Ok(())) => Ok(()),
                Ok(Err(err)) => Err(err.to_string()),
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| {
                            panic
                                .downcast_ref::<&str>()
                                .map(std::string::ToString::to_string)
                        })
                        .unwrap_or_default();
                    Err(format!("internal error in image `{image}:{tag}`: {what}"))
                }
            }
        }
        Executor::Process {
            program,
            args: program_args,
        } => {
            let mut command = std::process::Command::new(program);
            command
                .args(program_args)
                .current_dir(project_dir)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            if !database_url_set {
                command.env("OPENSAFELY_BACKEND", "expectations");
            }
            let mut child = command
                .spawn()
                .map_err(|e| format!("cannot start `{}`: {e}", program.display()))?;
            let stdout = child.stdout.take();
            let stderr = child.stderr.take();
            let shared = Mutex::new(log);
            std::thread::scope(|scope| {
                let copy = |stream: Box<dyn std::io::Read + Send>| {
                    let shared = &shared;
                    scope.spawn(move || {
                        let mut reader = BufReader::new(stream);
                        let mut line = Vec::new();
                        while reader.read_until(b'\n', &mut line).unwrap_or(0) > 0 {
                            if let Ok(mut log) = shared.lock() {
                                let _ = log.write_all(&line);
                            }
                            line.clear();
                        }
                    });
                };
                if let Some(out) = stdout {
                    copy(Box::new(out));
                }
                if let Some(err) = stderr {
                    copy(Box::new(err));
                }
            });
            let status = child
                .wait()
                .map_err(|e| format!("cannot wait for `{}`: {e}", program.display()))?;
            if status.success() {
                Ok(())
            } else {
                Err(match status.code() {
                    Some(code) => format!("Job exited with an error (exit status {code})"),
                    None => "Job was killed by a signal".to_string(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &[&str]) -> Vec<String> {
        s.iter().map(std::string::ToString::to_string).collect()
    }

    fn program(executor: &Executor) -> (String, Vec<String>) {
        match executor {
            Executor::Process { program, args } => (
                program
                    .file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                args.clone(),
            ),
            Executor::InProcess(_) => ("<in-process>".into(), Vec::new()),
        }
    }

    #[test]
    fn registered_images_run_in_process() {
        let mut registry = ImageRegistry::new();
        registry.register("plots", |_: Invocation<'_>| Ok(()));
        let dir = tempfile::tempdir().unwrap();
        let ex = resolve(&registry, "plots", "v1", &words(&["x"]), dir.path()).unwrap();
        assert_eq!(program(&ex).0, "<in-process>");
    }

    #[test]
    fn programs_and_scripts() {
        let registry = ImageRegistry::new();
        let dir = tempfile::tempdir().unwrap();
        // The first word is the program.
        let ex = resolve(
            &registry,
            "sh",
            "v1",
            &words(&["sh", "-c", "true"]),
            dir.path(),
        )
        .unwrap();
        assert_eq!(program(&ex), ("sh".into(), words(&["-c", "true"])));
        // A script first: the image's interpreter runs it.
        std::fs::write(dir.path().join("model.R"), "1").unwrap();
        match resolve(&registry, "r", "v2", &words(&["model.R"]), dir.path()) {
            Ok(ex) => assert_eq!(program(&ex), ("Rscript".into(), words(&["model.R"]))),
            Err(msg) => assert!(msg.starts_with("program `Rscript` not found"), "{msg}"),
        }
        let err = resolve(
            &registry,
            "stata-mp",
            "v1",
            &words(&["no-such-program-xyz"]),
            dir.path(),
        )
        .err()
        .unwrap();
        assert!(
            err.starts_with("program `no-such-program-xyz` not found"),
            "{err}"
        );
        let err = resolve(&registry, "python", "v2", &[], dir.path())
            .err()
            .unwrap();
        assert_eq!(err, "image `python:v2` was given no command to run");
    }

    #[test]
    fn process_output_and_exit_status() {
        let dir = tempfile::tempdir().unwrap();
        let registry = ImageRegistry::new();
        let args = words(&["sh", "-c", "echo out; echo err >&2; exit 7"]);
        let ex = resolve(&registry, "sh", "v1", &args, dir.path()).unwrap();
        let mut log = Vec::new();
        let call = Call {
            image: "sh",
            tag: "v1",
            args: &args,
            project_dir: dir.path(),
            database_url_set: true,
        };
        let err = execute(&ex, call, &mut log, &mut Vec::new()).unwrap_err();
        assert_eq!(err, "Job exited with an error (exit status 7)");
        let log = String::from_utf8(log).unwrap();
        assert!(log.contains("out\n") && log.contains("err\n"), "{log}");
    }

    #[test]
    fn panicking_image_is_a_failure() {
        let mut registry = ImageRegistry::new();
        registry.register(
            "bad",
            |_: Invocation<'_>| -> Result<(), crate::image::ImageError> { panic!("kaboom") },
        );
        let dir = tempfile::tempdir().unwrap();
        let ex = resolve(&registry, "bad", "v1", &[], dir.path()).unwrap();
        let call = Call {
            image: "bad",
            tag: "v1",
            args: &[],
            project_dir: dir.path(),
            database_url_set: false,
        };
        let err = execute(&ex, call, &mut Vec::new(), &mut Vec::new()).unwrap_err();
        assert_eq!(err, "internal error in image `bad:v1`: kaboom");
    }
}
