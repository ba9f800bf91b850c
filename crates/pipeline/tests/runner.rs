//! The runner on small actions: an in-process test image and local processes, in temporary
//! project folders.

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use pipeline::image::{ImageRegistry, Invocation};
use pipeline::runner::manifest::Manifest;
use pipeline::runner::{run, RunOptions, RunReport, Status};

/// Shared state of the test image: the order actions started in, and a rendezvous.
#[derive(Clone, Default)]
struct World {
    events: Arc<Mutex<Vec<String>>>,
    meeting: Arc<(Mutex<usize>, Condvar)>,
    meet_timeout: Option<Duration>,
}

/// The `t` image. `t:v1 VERB ARGS`:
/// - `write OUT TEXT`: writes TEXT to OUT;
/// - `concat OUT IN…`: writes the inputs one after the other to OUT;
/// - `fail`: fails;
/// - `meet OUT`: waits (up to 10 s) until another `meet` is running, then writes OUT;
/// - `read-secretly OUT`: copies `secret.txt` to OUT and reports reading it.
fn registry(world: &World) -> ImageRegistry {
    let world = world.clone();
    let mut registry = ImageRegistry::new();
    registry.register("t", move |inv: Invocation<'_>| {
        let dir = inv.project_dir;
        let write = |rel: &str, text: &[u8]| -> std::io::Result<()> {
            let path = dir.join(rel);
            std::fs::create_dir_all(path.parent().unwrap())?;
            std::fs::write(path, text)
        };
        let args = inv.args;
        let target = args.get(1).cloned().unwrap_or_default();
        world.events.lock().unwrap().push(format!("start {target}"));
        match args[0].as_str() {
            "write" => write(&args[1], args[2].as_bytes())?,
            "concat" => {
                let mut text = Vec::new();
                for input in &args[2..] {
                    text.extend(std::fs::read(dir.join(input))?);
                }
                write(&args[1], &text)?;
            }
            "fail" => return Err("boom".into()),
            "meet" => {
                let (count, cv) = &*world.meeting;
                let mut n = count.lock().unwrap();
                *n += 1;
                cv.notify_all();
                let (n, timeout) = cv
                    .wait_timeout_while(
                        n,
                        world.meet_timeout.unwrap_or(Duration::from_secs(10)),
                        |n| *n < 2,
                    )
                    .unwrap();
                if timeout.timed_out() && *n < 2 {
                    return Err("no other action was running at the same time".into());
                }
                drop(n);
                write(&args[1], b"met")?;
            }
            "read-secretly" => {
                let text = std::fs::read(dir.join("secret.txt"))?;
                inv.reads.push(dir.join("secret.txt"));
                write(&args[1], &text)?;
            }
            other => return Err(format!("unknown verb {other}").into()),
        }
        writeln!(inv.log, "done {target}")?;
        world.events.lock().unwrap().push(format!("end {target}"));
        Ok(())
    });
    registry
}

struct Study {
    dir: tempfile::TempDir,
    world: World,
}

impl Study {
    fn new(yaml: &str) -> Study {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("project.yaml"), yaml).unwrap();
        Study {
            dir,
            world: World::default(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    fn run_with(&self, f: impl FnOnce(&mut RunOptions)) -> (RunReport, String) {
        let text = std::fs::read_to_string(self.path().join("project.yaml")).unwrap();
        let v = pipeline::validate(&text);
        let project = v.project.unwrap_or_else(|| panic!("{:#?}", v.diagnostics));
        let mut options = RunOptions::new(self.path());
        options.database_url_set = false;
        f(&mut options);
        let mut out = Vec::new();
        let report = run(&project, &registry(&self.world), &options, &mut out).unwrap();
        (report, String::from_utf8(out).unwrap())
    }

    fn run_all(&self) -> (RunReport, String) {
        self.run_with(|o| o.run_all = true)
    }

    fn events(&self) -> Vec<String> {
        std::mem::take(&mut *self.world.events.lock().unwrap())
    }
}

const CHAIN: &str = "\
version: '5'
actions:
  a:
    run: t:v1 concat output/a.txt input.txt
    outputs:
      highly_sensitive:
        a: output/a.txt
  b:
    run: t:v1 concat output/b.txt output/a.txt
    needs: [a]
    outputs:
      highly_sensitive:
        b: output/b.txt
  c:
    run: t:v1 concat output/c.txt output/b.txt
    needs: [b]
    outputs:
      moderately_sensitive:
        c: output/c.txt
";

#[test]
fn runs_needs_first_and_records_everything() {
    let s = Study::new(CHAIN);
    s.write("input.txt", "hello");
    let (report, out) = s.run_with(|o| o.actions = vec!["c".into()]);
    assert!(report.success(), "{out}");
    assert_eq!(report.ran(), ["a", "b", "c"]);
    assert_eq!(
        s.events(),
        [
            "start output/a.txt",
            "end output/a.txt",
            "start output/b.txt",
            "end output/b.txt",
            "start output/c.txt",
            "end output/c.txt"
        ]
    );
    assert_eq!(s.read("output/c.txt"), "hello");
    assert!(out.contains("a: run (no previous run)"), "{out}");
    assert!(out.contains("c: run (requested)"), "{out}");

    let manifest = Manifest::load(s.path()).unwrap();
    let rec = &manifest.outputs["output/c.txt"];
    assert_eq!(rec.level, "moderately_sensitive");
    assert_eq!(rec.action, "c");
    assert_eq!(rec.size, 5);
    assert_eq!(
        rec.sha256,
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert!(manifest.actions["b"].succeeded());
    assert_eq!(
        manifest.actions["b"].reads.keys().collect::<Vec<_>>(),
        ["output/a.txt"]
    );
    let log = s.read("metadata/c.log");
    assert!(log.starts_with("done output/c.txt\n"), "{log}");
    assert!(log.contains("status: succeeded"), "{log}");
    assert!(
        log.contains("  output/c.txt  - moderately_sensitive"),
        "{log}"
    );
}

#[test]
fn nothing_reruns_when_nothing_changed_and_edits_rerun_what_they_affect() {
    let s = Study::new(CHAIN);
    s.write("input.txt", "hello");
    let (report, _) = s.run_all();
    assert_eq!(report.ran(), ["a", "b", "c"]);

    let (report, out) = s.run_all();
    assert!(report.success());
    assert!(report.ran().is_empty(), "{out}");
    assert!(
        out.contains("All actions already completed successfully"),
        "{out}"
    );
    assert!(out.contains("b: up to date, skipped"), "{out}");

    s.write("input.txt", "changed");
    let (report, out) = s.run_all();
    assert_eq!(report.ran(), ["a", "b", "c"], "{out}");
    assert!(out.contains("a: re-run (input input.txt changed)"), "{out}");
    assert!(
        out.contains("b: re-run (input output/a.txt changed)"),
        "{out}"
    );
    assert_eq!(s.read("output/c.txt"), "changed");

    // An edited output is stale: its action re-runs, and only what reads it follows.
    s.write("output/b.txt", "tampered");
    let (report, out) = s.run_all();
    assert_eq!(report.ran(), ["b"], "{out}");
    assert!(
        out.contains("b: re-run (output output/b.txt changed since it was written)"),
        "{out}"
    );
    assert!(out.contains("c: up to date, skipped"), "{out}");

    // A changed run line re-runs that action.
    let yaml = CHAIN.replace(
        "concat output/c.txt output/b.txt",
        "concat output/c.txt output/b.txt output/a.txt",
    );
    std::fs::write(s.path().join("project.yaml"), yaml).unwrap();
    let (report, out) = s.run_all();
    assert_eq!(report.ran(), ["c"], "{out}");
    assert!(
        out.contains("c: re-run (run line, config or outputs changed)"),
        "{out}"
    );
}

#[test]
fn named_actions_always_run_and_force_reruns_dependencies() {
    let s = Study::new(CHAIN);
    s.write("input.txt", "x");
    s.run_all();
    let (report, out) = s.run_with(|o| o.actions = vec!["b".into()]);
    assert_eq!(report.ran(), ["b"], "{out}");
    assert_eq!(report.outcome("a").unwrap().status, Status::UpToDate);
    let (report, out) = s.run_with(|o| {
        o.actions = vec!["b".into()];
        o.force_run_dependencies = true;
    });
    assert_eq!(report.ran(), ["a", "b"], "{out}");
    assert!(out.contains("a: re-run (forced with -f)"), "{out}");
}

#[test]
fn missing_output_reruns_its_action() {
    let s = Study::new(CHAIN);
    s.write("input.txt", "x");
    s.run_all();
    std::fs::remove_file(s.path().join("output/a.txt")).unwrap();
    let (report, out) = s.run_with(|o| o.actions = vec!["c".into()]);
    assert!(
        out.contains("a: re-run (output output/a.txt is missing)"),
        "{out}"
    );
    assert_eq!(report.ran(), ["a", "c"], "{out}");
}

const TWO: &str = "\
version: '5'
actions:
  x:
    run: t:v1 meet output/x.txt
    outputs:
      highly_sensitive:
        x: output/x.txt
  y:
    run: t:v1 meet output/y.txt
    outputs:
      highly_sensitive:
        y: output/y.txt
";

#[test]
fn independent_actions_run_concurrently() {
    let s = Study::new(TWO);
    let (report, out) = s.run_all();
    assert!(report.success(), "{out}");
    assert_eq!(report.ran(), ["x", "y"]);
    let events = s.events();
    // Both started before either ended.
    assert!(
        events[..2].iter().all(|e| e.starts_with("start")),
        "{events:?}"
    );
}

#[test]
fn concurrency_one_runs_one_at_a_time() {
    let mut s = Study::new(TWO);
    // Alone, a `meet` can only time out.
    s.world.meet_timeout = Some(Duration::from_millis(300));
    let (report, out) = s.run_with(|o| {
        o.run_all = true;
        o.concurrency = 1;
    });
    assert!(!report.success());
    assert!(
        matches!(&report.outcome("x").unwrap().status, Status::Failed(m) if m.contains("no other action")),
        "{out}"
    );
}

const FAILING: &str = "\
version: '5'
actions:
  a:
    run: t:v1 fail
    outputs:
      highly_sensitive:
        a: output/a.txt
  b:
    run: t:v1 concat output/b.txt output/a.txt
    needs: [a]
    outputs:
      highly_sensitive:
        b: output/b.txt
  c:
    run: t:v1 write output/c.txt c
    outputs:
      highly_sensitive:
        c: output/c.txt
";

#[test]
fn failure_stops_dependents_and_by_default_everything_else() {
    let s = Study::new(FAILING);
    let (report, out) = s.run_with(|o| {
        o.run_all = true;
        o.concurrency = 1;
    });
    assert!(!report.success());
    assert_eq!(
        report.outcome("a").unwrap().status,
        Status::Failed("boom".into())
    );
    assert_eq!(
        report.outcome("b").unwrap().status,
        Status::DependencyFailed("a".into())
    );
    assert_eq!(report.outcome("c").unwrap().status, Status::NotStarted);
    assert!(
        out.contains("b: not started because dependency a failed"),
        "{out}"
    );
    assert!(!Manifest::load(s.path()).unwrap().actions["a"].succeeded());
    assert!(s.read("metadata/a.log").contains("status: failed"));

    let (report, out) = s.run_with(|o| {
        o.run_all = true;
        o.concurrency = 1;
        o.continue_on_error = true;
    });
    assert!(!report.success());
    assert_eq!(
        report.outcome("b").unwrap().status,
        Status::DependencyFailed("a".into())
    );
    assert_eq!(
        report.outcome("c").unwrap().status,
        Status::Succeeded,
        "{out}"
    );
    // A failed action is re-run next time.
    let (_, out) = s.run_all();
    assert!(out.contains("a: re-run (previous run failed)"), "{out}");
}

#[test]
fn unmatched_pattern_fails_and_lists_what_was_written() {
    let s = Study::new(
        "version: '5'\nactions:\n  a:\n    run: t:v1 write output/y.csv 1\n    outputs:\n      highly_sensitive:\n        a: output/x.csv\n",
    );
    let (report, out) = s.run_all();
    let Status::Failed(msg) = &report.outcome("a").unwrap().status else {
        panic!("{out}")
    };
    assert_eq!(
        msg,
        "No outputs found matching patterns:\n - output/x.csv\nFiles the action wrote (did you mean to match one of these?):\n - output/y.csv"
    );
}

#[test]
fn undeclared_files_and_release_checks_are_warnings() {
    let s = Study::new(
        "version: '5'\nactions:\n  a:\n    run: t:v1 write output/m.csv patient_id,x\n    outputs:\n      moderately_sensitive:\n        m: output/m.csv\n  b:\n    run: t:v1 write output/other.txt x\n    outputs:\n      moderately_sensitive:\n        m: output/b.txt\n",
    );
    let (report, out) = s.run_with(|o| o.actions = vec!["a".into()]);
    assert!(report.success(), "{out}");
    assert_eq!(
        report.outcome("a").unwrap().warnings,
        ["invalid moderately_sensitive output: output/m.csv: contains a patient_id column"]
    );
    let (report, _) = s.run_with(|o| o.actions = vec!["b".into()]);
    let b = report.outcome("b").unwrap();
    assert!(matches!(&b.status, Status::Failed(m) if m.contains(" - output/other.txt")));
}

#[test]
fn another_actions_file_being_written_is_not_an_undeclared_output() {
    // Actions run side by side: while `a` runs, `b` may be writing its output under the
    // temporary name of an atomic write (`.NAME.PID-N.tmp`), which `a` did not write.
    let s = Study::new(
        "version: '5'\nactions:\n  a:\n    run: sh:v1 sh -c 'mkdir -p output && echo 1 > output/a.txt && echo x > output/.b.txt.99-0.tmp && echo y > output/.c.txt.99-1.tmp'\n    outputs:\n      highly_sensitive:\n        a: output/a.txt\n  b:\n    run: t:v1 write output/b.txt x\n    outputs:\n      highly_sensitive:\n        b: output/b.txt\n",
    );
    let (report, out) = s.run_with(|o| o.actions = vec!["a".into()]);
    assert!(report.success(), "{out}");
    assert_eq!(
        report.outcome("a").unwrap().warnings,
        ["undeclared file written: output/.c.txt.99-1.tmp"],
        "{out}"
    );
}

#[test]
fn files_reported_by_an_image_count_as_inputs() {
    let s = Study::new(
        "version: '5'\nactions:\n  a:\n    run: t:v1 read-secretly output/a.txt\n    outputs:\n      highly_sensitive:\n        a: output/a.txt\n",
    );
    // The image reads `secret.txt`, which its run line does not name.
    s.write("secret.txt", "1");
    s.run_all();
    let (report, _) = s.run_all();
    assert!(report.ran().is_empty());
    s.write("secret.txt", "2");
    let (report, out) = s.run_all();
    assert_eq!(report.ran(), ["a"], "{out}");
    assert!(
        out.contains("a: re-run (input secret.txt changed)"),
        "{out}"
    );
    assert_eq!(s.read("output/a.txt"), "2");
}

#[test]
fn local_processes_run_in_the_project_folder() {
    let s = Study::new(
        "version: '5'\nactions:\n  a:\n    run: sh:v1 sh analysis/a.sh\n    outputs:\n      highly_sensitive:\n        a: output/a.txt\n  b:\n    run: python:v2 definitely-not-installed-xyz run.py\n    outputs:\n      highly_sensitive:\n        b: output/b.txt\n  c:\n    run: sh:v1 sh -c 'echo oops >&2; exit 3'\n    outputs:\n      highly_sensitive:\n        c: output/c.txt\n",
    );
    s.write(
        "analysis/a.sh",
        "mkdir -p output\nprintf '%s' \"$OPENSAFELY_BACKEND\" > output/a.txt\necho wrote\n",
    );
    let (report, out) = s.run_with(|o| {
        o.run_all = true;
        o.continue_on_error = true;
    });
    assert_eq!(
        report.outcome("a").unwrap().status,
        Status::Succeeded,
        "{out}"
    );
    assert_eq!(s.read("output/a.txt"), "expectations");
    assert!(s.read("metadata/a.log").starts_with("wrote\n"));
    let Status::Failed(msg) = &report.outcome("b").unwrap().status else {
        panic!("{out}")
    };
    assert!(
        msg.starts_with("program `definitely-not-installed-xyz` not found"),
        "{msg}"
    );
    let Status::Failed(msg) = &report.outcome("c").unwrap().status else {
        panic!("{out}")
    };
    assert_eq!(msg, "Job exited with an error (exit status 3)");
    assert!(
        out.contains("oops"),
        "the failure shows the end of the log: {out}"
    );
    // The script is an input: editing it re-runs the action.
    s.run_with(|o| o.actions = vec!["a".into()]);
    let (report, _) = s.run_with(|o| o.run_all = true);
    assert!(report.outcome("a").unwrap().status == Status::UpToDate);
    s.write(
        "analysis/a.sh",
        "mkdir -p output\necho new > output/a.txt\n",
    );
    let (report, out) = s.run_with(|o| o.run_all = true);
    assert!(
        out.contains("a: re-run (input analysis/a.sh changed)"),
        "{out}"
    );
    assert_eq!(report.outcome("a").unwrap().status, Status::Succeeded);
}

#[test]
fn cohortextractor_gets_output_dir_and_population_and_study_files_are_inputs() {
    let yaml = "\
version: '3.0'
expectations:
  population_size: 250
actions:
  gen:
    run: cohortextractor:latest generate_cohort --study-definition study_definition
    outputs:
      highly_sensitive:
        cohort: output/measures/input_*.csv
";
    let s = Study::new(yaml);
    s.write("analysis/study_definition.yaml", "population: {}\n");
    s.write("codelists/a.csv", "code\n1\n");
    let args_seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let seen = Arc::clone(&args_seen);
    let mut registry = ImageRegistry::new();
    registry.register("cohortextractor", move |inv: Invocation<'_>| {
        *seen.lock().unwrap() = inv.args.to_vec();
        let dir = inv.project_dir.join("output/measures");
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("input_2019-01-01.csv"), "x\n")?;
        Ok(())
    });
    let project = pipeline::validate(yaml).project.unwrap();
    let mut options = RunOptions::new(s.path());
    options.run_all = true;
    options.database_url_set = false;
    let mut out = Vec::new();
    let report = run(&project, &registry, &options, &mut out).unwrap();
    assert!(report.success());
    assert_eq!(
        *args_seen.lock().unwrap(),
        [
            "generate_cohort",
            "--study-definition",
            "study_definition",
            "--output-dir=output/measures",
            "--expectations-population=250"
        ]
    );
    let reads = &Manifest::load(s.path()).unwrap().actions["gen"].reads;
    assert_eq!(
        reads.keys().collect::<Vec<_>>(),
        ["analysis/study_definition.yaml", "codelists/a.csv"]
    );

    s.write("codelists/a.csv", "code\n2\n");
    let mut out = Vec::new();
    let report = run(&project, &registry, &options, &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_eq!(report.ran(), ["gen"]);
    assert!(
        out.contains("gen: re-run (input codelists/a.csv changed)"),
        "{out}"
    );

    options.database_url_set = true;
    options.force_run_dependencies = true;
    run(&project, &registry, &options, &mut Vec::new()).unwrap();
    assert_eq!(
        *args_seen.lock().unwrap(),
        [
            "generate_cohort",
            "--study-definition",
            "study_definition",
            "--output-dir=output/measures"
        ]
    );
}

#[test]
fn unknown_requested_action_suggests_a_name() {
    let s = Study::new(CHAIN);
    let project = pipeline::validate(CHAIN).project.unwrap();
    let mut options = RunOptions::new(s.path());
    options.actions = vec!["bb".into()];
    let err = run(&project, &ImageRegistry::new(), &options, &mut Vec::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Action 'bb' not found in project.yaml (did you mean `b`?)"
    );
}

#[test]
fn live_view_gives_the_same_results() {
    let s = Study::new(CHAIN);
    s.write("input.txt", "live");
    let (report, out) = s.run_with(|o| {
        o.run_all = true;
        o.live = true;
    });
    assert!(report.success(), "{out}");
    assert_eq!(report.ran(), ["a", "b", "c"]);
    assert!(s.read("metadata/c.log").starts_with("done output/c.txt\n"));
    assert!(out.contains("c: completed successfully"), "{out}");
}
