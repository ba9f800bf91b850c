#!/usr/bin/env python3
"""Runs the issue-4 benchmarks on this machine, in one go, and prints a markdown report.

  (a) dummy run, 10,000 patients, 25 months: cohortextractor 1.93.3 generate_cohort +
      generate_measures on benchmarks/original_study  vs  `cargo xtask run-all` on a copy of
      the repo's study (target: ours >= 20x faster)
  (b) `cargo xtask generate-ehr --patients 1000000 --seed 1 --format parquet` (target: < 30 s)
  (c) database mode over those tables: DuckDB (duckdb_cohorts.py, 2 threads)  vs  our
      `generate_cohort --database-url file://TABLES` (targets: no slower than DuckDB, peak RSS
      < 4 GB), and a check that both give the same rows per date
  (p) PostgreSQL over those tables, loaded with `cargo xtask load-ehr` into a private
      throwaway server (initdb + pg_ctl under work/, a free 127.0.0.1 port): our one statement
      set for all 25 index dates  vs  the same SQL once per index date (the cohortextractor /
      ehrQL shape: one generate_cohort per date)  vs  the polars engine over the folder  vs
      DuckDB (target: one-pass at least 5x faster than the per-date loop; identical rows)
  (s) Spark over those tables: a local standalone cluster (the pinned pyspark of
      scripts/spark/provision.sh; master, --spark-workers workers sharing the machine's cores
      and --spark-executor-memory, Connect server), the tables loaded once with `load-ehr --to
      sc://…` (a Hive metastore under work/s keeps them across cluster sizes), then our
      generate_cohort on the cluster with the result as Arrow batches and as Parquet files,
      the time split into start-up, query and result transfer (SRO_SQL_TIMINGS); the files
      must equal the polars engine's
  (w) the CSV writer alone, over the 25 cohorts of (b)'s tables: DuckDB's `COPY … TO csv`
      (duckdb_csv_writer.py, 2 threads) vs our output::write_batch (the driver's hidden
      `bench-csv-writer`), each timing only its writing (target: ours <= 1.3x DuckDB's time);
      both must hold the same rows
  (u) tables not sorted by patient: a copy of (b)'s tables in hash(patient_id) order (made by
      DuckDB, untimed); ours over it (sorting into a temporary folder first) vs ours over the
      sorted tables vs DuckDB over the copy (target: peak RSS <= 1 GB); the files must be
      byte-identical to the sorted run's and hold DuckDB's rows
  (g) the growth curve: for each --growth-sizes patients, generate-ehr (or its stored tables),
      then DuckDB and ours over them as in (c), rows checked (every date, or a sample at the
      large sizes), the outputs deleted after; a table of time and peak RSS per size (targets
      at the large sizes: generate-ehr < 60 s, ours peak <= 2 GB, ours time <= 1.1 x linear
      in the patients from --growth-base's time)

Each timed command is one process: wall time (median of --runs, after --warmup untimed runs)
and its peak resident set size (its ru_maxrss, from GNU `/usr/bin/time -f %M` around it).
Our side runs the release binary `$CARGO_TARGET_DIR/release/xtask` that `cargo xtask` builds
(built once first, untimed), unless --via-cargo. Everything is written under benchmarks/work/. Exit status: 0 when every requested part ran and its outputs checked out
(targets missed are reported, not fatal unless --strict), 1 otherwise.

Run benchmarks/setup.sh first, then: benchmarks/.venv/bin/python benchmarks/compare.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import duckdb_cohorts  # noqa: E402
import socket  # noqa: E402
import filecmp  # noqa: E402

INDEX_DATE_RANGE = "2019-01-01 to 2021-01-01 by month"
GIB = 1024**3


class PartFailed(Exception):
    """A benchmark part could not run or produced wrong output; the message says why."""


@dataclass
class Measurement:
    """The timed runs of one command."""

    label: str
    command: list[str]
    seconds: list[float] = field(default_factory=list)
    peak_rss: list[int] = field(default_factory=list)  # bytes

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak(self) -> int:
        return max(self.peak_rss)


def shell_words(command: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(str(c)) for c in command)


GNU_TIME = Path("/usr/bin/time")
_gnu_time_ok: bool | None = None


def gnu_time_ok() -> bool:
    """Whether /usr/bin/time is GNU time and reports `%M` to a file (checked once)."""
    global _gnu_time_ok
    if _gnu_time_ok is None:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "maxrss"
            try:
                ok = subprocess.run([GNU_TIME, "-f", "%M", "-o", out, "true"], capture_output=True).returncode == 0
                _gnu_time_ok = ok and out.read_text().strip().splitlines()[-1].isdigit()
            except (OSError, IndexError):
                _gnu_time_ok = False
    return _gnu_time_ok


def run_timed(command: list[str], cwd: Path, log: Path) -> tuple[float, int]:
    """Runs `command`, output to `log`; returns (wall seconds, peak RSS bytes). Raises on failure.

    The peak is the command's `ru_maxrss` as GNU time (`/usr/bin/time -f %M`) reports it. Not
    our own `wait4`: Linux starts a child's maxrss at its parent's peak (vfork, fork and exec
    keep it), so this harness's own memory would be a floor under every figure. Without GNU
    time, `wait4` it is, and the report says so."""
    log.parent.mkdir(parents=True, exist_ok=True)
    maxrss = log.with_name(log.name + ".maxrss")
    maxrss.unlink(missing_ok=True)
    wrapped = [GNU_TIME, "-f", "%M", "-o", maxrss, *command] if gnu_time_ok() else command
    with open(log, "wb") as out:
        started = time.perf_counter()
        try:
            proc = subprocess.Popen([str(c) for c in wrapped], cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        except OSError as err:
            raise PartFailed(f"cannot start `{shell_words(command)}`: {err}") from None
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-15:]
        raise PartFailed(
            f"`{shell_words(command)}` (in {cwd}) exited {proc.returncode}; log {log}:\n    "
            + "\n    ".join(tail)
        )
    if not gnu_time_ok():
        return elapsed, usage.ru_maxrss * 1024  # Linux reports KiB
    try:
        return elapsed, int(maxrss.read_text().strip().splitlines()[-1]) * 1024  # KiB
    except (OSError, ValueError, IndexError):
        raise PartFailed(f"GNU time wrote no peak RSS for `{shell_words(command)}` to {maxrss}") from None


def measure(m: Measurement, runs: int, warmup: int, cwd: Path, logs: Path, before=None, check=None) -> Measurement:
    """`before()` resets state before every run (timed or not); `check()` validates each run's output."""
    for i in range(warmup + runs):
        if before:
            before()
        log = logs / f"{m.label}-{'warmup' if i < warmup else 'run'}{i}.log"
        elapsed, rss = run_timed(m.command, cwd, log)
        if check:
            check()
        if i >= warmup:
            m.seconds.append(elapsed)
            m.peak_rss.append(rss)
        print(f"  {m.label}: {elapsed:.3f} s, peak RSS {rss / 2**20:.0f} MiB{' (warm-up)' if i < warmup else ''}", file=sys.stderr)
    return m


def measure_group(steps: list[Measurement], runs, warmup, cwd, logs, before=None, check=None) -> Measurement:
    """Like `measure` for several commands run back to back; times add up, peak is the max."""
    total = Measurement("+".join(s.label for s in steps), [])
    for i in range(warmup + runs):
        if before:
            before()
        elapsed_sum, rss_max = 0.0, 0
        for step in steps:
            elapsed, rss = run_timed(step.command, cwd, logs / f"{step.label}-run{i}.log")
            elapsed_sum += elapsed
            rss_max = max(rss_max, rss)
            if i >= warmup:
                step.seconds.append(elapsed)
                step.peak_rss.append(rss)
        if check:
            check()
        if i >= warmup:
            total.seconds.append(elapsed_sum)
            total.peak_rss.append(rss_max)
        print(f"  {total.label}: {elapsed_sum:.3f} s, peak RSS {rss_max / 2**20:.0f} MiB{' (warm-up)' if i < warmup else ''}", file=sys.stderr)
    return total


def parse_duration(text: str) -> float | None:
    """Seconds of a Rust `{:?}` duration (`1.234s`, `12.3ms`, `45µs`)."""
    for unit, scale in (("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9), ("s", 1.0)):
        if text.endswith(unit):
            try:
                return float(text[: -len(unit)]) * scale
            except ValueError:
                return None
    return None


def parse_size_mib(text: str) -> int:
    """MiB of a JVM-style size (`4g`, `512m`)."""
    units = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}
    text = text.strip().lower()
    if text[-1:] in units and text[:-1].isdigit():
        return int(int(text[:-1]) * units[text[-1]])
    raise SystemExit(f"compare: not a size like 4g or 512m: {text!r}")


def cluster_peak_rss(cluster_dir: str) -> int:
    """The summed peak RSS (VmHWM) of the running JVMs of the local cluster in `cluster_dir`."""
    if not cluster_dir:
        return 0
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if cluster_dir not in (proc / "cmdline").read_text(errors="replace"):
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def reset_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def table_digests(folder: Path) -> dict[str, str]:
    """SHA-256 of each table file of the contract in `folder`, read in 16 MiB blocks."""
    digests = {}
    for table in duckdb_cohorts.TABLE_COLUMNS:
        h = hashlib.sha256()
        with open(folder / f"{table}.parquet", "rb") as f:
            while block := f.read(1 << 24):
                h.update(block)
        digests[table] = h.hexdigest()
    return digests


def duckdb_command(tables: Path, out: Path) -> list:
    """The DuckDB baseline over the Parquet folder `tables`, the 25 dates, into `out`."""
    return [sys.executable, HERE / "duckdb_cohorts.py", tables, out, "--threads", "2", "--index-date-range", INDEX_DATE_RANGE]


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("*") if p.is_file())


def capture(command: list[str], cwd: Path | None = None) -> str:
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Harness:
    def __init__(self, args):
        self.args = args
        self.work = args.work_dir.resolve()
        self.logs = self.work / "logs"
        self.root = Path(capture(["git", "rev-parse", "--show-toplevel"], cwd=HERE))
        if not (self.root / "Cargo.toml").is_file():
            raise SystemExit(f"compare: cannot find the repository root from {HERE}")
        self.target = Path(os.environ.get("CARGO_TARGET_DIR", self.root / "target"))
        if not self.target.is_absolute():
            self.target = self.root / self.target
        self.venv_bin = Path(sys.executable).parent
        self.rows: list[str] = []  # markdown table rows
        self.notes: list[str] = []
        self.failures: list[str] = []
        self.targets: list[tuple[str, bool]] = []
        self.xtask_ready: bool | None = None

    # ---- our side -------------------------------------------------------------------------
    def xtask(self, *args) -> list[str]:
        if self.args.xtask:
            return [str(self.args.xtask.resolve()), *args]
        if self.args.via_cargo:
            return ["cargo", "xtask", *args]
        return [str(self.target / "release" / "xtask"), *args]

    def ensure_xtask(self) -> None:
        """Builds the release driver once (untimed), like the first `cargo xtask` would."""
        if self.xtask_ready is None and self.args.xtask:
            self.xtask_ready = self.args.xtask.is_file() and os.access(self.args.xtask, os.X_OK)
            self.xtask_error = f"--xtask {self.args.xtask} is not an executable file"
        if self.xtask_ready is None:
            print("compare: building the release driver (`cargo xtask --help`, untimed)", file=sys.stderr)
            proc = subprocess.run(["cargo", "xtask", "--help"], cwd=self.root, capture_output=True, text=True)
            self.xtask_ready = proc.returncode == 0
            if not self.xtask_ready:
                self.xtask_error = f"`cargo xtask --help` failed (exit {proc.returncode}):\n    " + "\n    ".join(
                    proc.stderr.strip().splitlines()[-15:]
                )
        if not self.xtask_ready:
            raise PartFailed(self.xtask_error)

    def require_subcommand(self, *words: str) -> None:
        """Fails clearly when the driver does not have the subcommand yet."""
        self.ensure_xtask()
        proc = subprocess.run(self.xtask(*words, "--help"), cwd=self.root, capture_output=True, text=True)
        if proc.returncode != 0:
            raise PartFailed(
                f"the Rust side is not available yet: `cargo xtask {' '.join(words)} --help` exited "
                f"{proc.returncode}:\n    " + "\n    ".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
            )

    def our_study(self) -> Path:
        """A fresh copy of the repo's study (project.yaml, analysis/, codelists/)."""
        source = self.args.study_dir.resolve() if self.args.study_dir else self.root
        missing = [p for p in ("project.yaml", "analysis/study_definition.yaml", "codelists") if not (source / p).exists()]
        if missing:
            raise PartFailed(f"the study at {source} is incomplete: missing {', '.join(missing)}")
        dest = self.work / "our_study"
        reset_dir(dest)
        dest.mkdir(parents=True)
        shutil.copy2(source / "project.yaml", dest / "project.yaml")
        for folder in ("analysis", "codelists"):
            shutil.copytree(source / folder, dest / folder)
        return dest

    # ---- report ---------------------------------------------------------------------------
    def add_row(self, part: str, m: Measurement, ratio: str = "") -> None:
        spread = f"{min(m.seconds):.3f}–{max(m.seconds):.3f}"
        command = shell_words(m.command) if m.command else "the commands above, back to back"
        command = command.replace(str(self.work) + "/", "work/").replace(str(self.root) + "/", "")
        command = re.sub(r"token=[^;' ]*", "token=***", command)  # a Spark Connect URL's token
        self.rows.append(
            f"| {part} | {m.label} | `{command}` | {len(m.seconds)} | {m.median:.3f} | {spread} | "
            f"{m.peak / 2**20:.0f} | {ratio} |"
        )

    def target_check(self, text: str, met: bool) -> None:
        self.targets.append((text, met))

    # ---- (a) ------------------------------------------------------------------------------
    def part_a(self) -> None:
        a = self.work / "a"
        ce_study = a / "cohortextractor_study"
        reset_dir(ce_study)
        shutil.copytree(HERE / "original_study", ce_study, ignore=shutil.ignore_patterns("output", "__pycache__"))
        ce = self.venv_bin / "cohortextractor"
        measures_dir = ce_study / "output" / "measures"

        def check_ce():
            inputs = sorted(measures_dir.glob("input_*.csv"))
            combined = [measures_dir / f"measure_pulse_ox_{m}.csv" for m in ("by_sex", "by_region", "by_age_band", "total")]
            if len(inputs) != 25 or not all(p.is_file() for p in combined):
                raise PartFailed(f"cohortextractor wrote {len(inputs)} input files (want 25) in {measures_dir}")

        steps = [
            Measurement(
                "cohortextractor generate_cohort",
                [ce, "generate_cohort", "--study-definition", "study_definition", "--index-date-range",
                 INDEX_DATE_RANGE, "--output-dir=output/measures", "--expectations-population=10000"],
            ),
            Measurement(
                "cohortextractor generate_measures",
                [ce, "generate_measures", "--study-definition", "study_definition", "--output-dir=output/measures"],
            ),
        ]
        print("compare: (a) cohortextractor 1.93.3", file=sys.stderr)
        ce_total = measure_group(steps, self.args.runs, self.args.warmup, ce_study, self.logs,
                                 before=lambda: reset_dir(ce_study / "output"), check=check_ce)
        ce_total.label = "cohortextractor 1.93.3 (both actions)"
        for step in steps:
            self.add_row("a", step)

        print("compare: (a) cargo xtask run-all", file=sys.stderr)
        try:
            self.require_subcommand("run-all")
            study = self.our_study()
        except PartFailed:
            self.add_row("a", ce_total)
            raise

        def reset_ours():
            for name in ("output", "metadata", ".pipeline"):
                reset_dir(study / name)

        def check_ours():
            inputs = sorted((study / "output" / "measures").glob("input_*.csv"))
            measures_out = sorted((study / "output" / "measures").glob("measure_*.csv"))
            if len(inputs) != 25 or not measures_out:
                raise PartFailed(f"run-all wrote {len(inputs)} input files and {len(measures_out)} measure files in {study}/output/measures")

        ours = measure(Measurement("ours: run-all", self.xtask("run-all", "--project-dir", study)),
                       self.args.runs, self.args.warmup, self.root, self.logs, before=reset_ours, check=check_ours)
        ratio = ce_total.median / ours.median
        self.add_row("a", ce_total)
        self.add_row("a", ours, f"**{ratio:.1f}× faster**")
        self.target_check(f"(a) run-all ≥ 20× faster than cohortextractor: {ratio:.1f}×", ratio >= 20)

    # ---- (b) ------------------------------------------------------------------------------
    def generated_dir(self, patients: int | None = None) -> Path:
        return self.work / f"ehr_{self.args.patients if patients is None else patients}"

    def tables_dir(self) -> Path:
        return self.args.tables.resolve() if self.args.tables else self.generated_dir()

    def part_b(self) -> None:
        print(f"compare: (b) generate-ehr --patients {self.args.patients}", file=sys.stderr)
        m, counts, identical, runs = self.generate_tables(self.args.patients, self.args.runs, self.args.warmup)
        self.add_row("b", m)
        self.notes.append(
            f"(b) tables: {counts['patients']:,} patients, {counts['practice_registrations']:,} registrations, "
            f"{counts['clinical_events']:,} clinical events ({counts['clinical_events'] / max(counts['patients'], 1):.1f} "
            f"per patient); byte-identical across the {runs} runs: {'yes' if identical else 'NO'}"
        )
        if counts["patients"] != self.args.patients:
            raise PartFailed(f"generate-ehr wrote {counts['patients']} patients, asked for {self.args.patients}")
        if not identical:
            self.failures.append("(b) generate-ehr with the same seed wrote different bytes across runs")
        self.target_check(f"(b) generate-ehr {self.args.patients:,} patients < 30 s: {m.median:.1f} s", m.median < 30)

    def generate_tables(self, patients: int, runs: int, warmup: int,
                        label: str = "ours: generate-ehr") -> tuple[Measurement, dict[str, int], bool, int]:
        """Times generate-ehr into `work/ehr_<patients>` (emptied before every run) and checks that
        every run wrote the same bytes. Returns (measurement, rows per table, identical, runs).
        When they were identical, `work/ehr_<patients>.json` records the seed, the tables'
        SHA-256 and the measurement, so part g can reuse the folder (`stored_tables`)."""
        self.require_subcommand("generate-ehr")
        out = self.generated_dir(patients)
        digests: list[dict[str, str]] = []

        def check():
            files = {t: out / f"{t}.parquet" for t in duckdb_cohorts.TABLE_COLUMNS}
            missing = [str(p) for p in files.values() if not p.is_file()]
            if missing:
                raise PartFailed(f"generate-ehr did not write {', '.join(missing)}")
            digests.append(table_digests(out))

        manifest = self.manifest_path(patients)
        manifest.unlink(missing_ok=True)
        m = measure(
            Measurement(label,
                        self.xtask("generate-ehr", "--patients", str(patients), "--seed", str(self.args.seed),
                                   "--format", "parquet", "--output-dir", out)),
            runs, warmup, self.root, self.logs, before=lambda: reset_dir(out), check=check,
        )
        con = duckdb.connect()
        counts = {t: con.execute(f"SELECT count(*) FROM read_parquet('{out / (t + '.parquet')}')").fetchone()[0]
                  for t in duckdb_cohorts.TABLE_COLUMNS}
        con.close()
        identical = all(d == digests[0] for d in digests)
        if identical and counts["patients"] == patients:
            manifest.write_text(json.dumps({
                "patients": patients, "seed": self.args.seed, "sha256": digests[-1], "counts": counts,
                "generate_ehr": {"seconds": m.seconds, "peak_rss": m.peak_rss, "command": shell_words(m.command),
                                 "measured": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                                 "commit": self.commit()},
            }, indent=1) + "\n")
        return m, counts, identical, len(digests)

    def manifest_path(self, patients: int) -> Path:
        return self.work / f"ehr_{patients}.json"

    def stored_tables(self, patients: int) -> dict | None:
        """The manifest of `work/ehr_<patients>` when the folder is complete, was generated with
        this --seed and still has the recorded bytes (SHA-256 of every table); else None."""
        try:
            stored = json.loads(self.manifest_path(patients).read_text())
        except (OSError, ValueError):
            return None
        out = self.generated_dir(patients)
        if stored.get("patients") != patients or stored.get("seed") != self.args.seed:
            return None
        if not all((out / f"{t}.parquet").is_file() for t in duckdb_cohorts.TABLE_COLUMNS):
            return None
        return stored if table_digests(out) == stored.get("sha256") else None

    # ---- (c) ------------------------------------------------------------------------------
    def part_c(self) -> None:
        tables = self.tables_dir()
        if not all((tables / f"{t}.parquet").is_file() for t in duckdb_cohorts.TABLE_COLUMNS):
            raise PartFailed(f"no Parquet tables in {tables} (run part b, or pass --tables DIR)")
        c = self.work / "c"
        duck_out, our_out = c / "duckdb", c / "ours"
        print(f"compare: (c) DuckDB over {tables}", file=sys.stderr)
        duck = measure(Measurement("DuckDB (duckdb_cohorts.py, 2 threads)", duckdb_command(tables, duck_out)),
                       self.args.runs, self.args.warmup, HERE, self.logs, before=lambda: reset_dir(duck_out))
        print("compare: (c) our generate_cohort --database-url", file=sys.stderr)
        try:
            self.require_subcommand("exec")
            study = self.our_study()
        except PartFailed:
            self.add_row("c", duck)
            raise
        ours = measure(Measurement("ours: generate_cohort --database-url", self.cohort_command(tables, our_out)),
                       self.args.runs, self.args.warmup, study, self.logs, before=lambda: reset_dir(our_out))
        ratio = duck.median / ours.median
        self.add_row("c", duck)
        self.add_row("c", ours, f"**{ratio:.2f}× DuckDB's speed**")
        self.target_check(f"(c) ours no slower than DuckDB: {ratio:.2f}× DuckDB's speed", ratio >= 1)
        self.target_check(f"(c) ours peak RSS < 4 GB: {ours.peak / 1e9:.2f} GB", ours.peak < 4e9)
        self.per_date = self.compare_outputs(duck_out, our_out)

    def cohort_command(self, tables: Path, out: Path) -> list[str]:
        """Our generate_cohort over the Parquet folder `tables`, the 25 dates, into `out`."""
        return self.xtask("exec", "cohortextractor:latest", "generate_cohort", "--study-definition", "study_definition",
                          "--index-date-range", INDEX_DATE_RANGE, "--output-dir", out, "--database-url", f"file://{tables}")

    def compare_outputs(self, duck_out: Path, our_out: Path, dates: list[dt.date] | None = None,
                        part: str = "(c)") -> list[str]:
        """Per date (default: all 25): row counts, had_pulse_ox sums and whole rows must agree.
        Records a note or a failure under `part`; returns the per-date table's lines."""
        dates = dates or duckdb_cohorts.parse_index_date_range(INDEX_DATE_RANGE)
        con = duckdb.connect()
        con.execute("SET threads = 2")
        lines, bad = ["| date | rows (DuckDB) | rows (ours) | had_pulse_ox (DuckDB) | had_pulse_ox (ours) | rows differing |",
                      "|---|---|---|---|---|---|"], []
        for date in dates:
            name = f"input_{date.isoformat()}.csv"
            files = [duck_out / name, our_out / name]
            for f in files:
                if not f.is_file():
                    raise PartFailed(f"{part} missing output {f}")
            srcs = [f"read_csv('{f}', header=true, all_varchar=true)" for f in files]
            headers = [f.open().readline().strip() for f in files]
            stats = [con.execute(f"SELECT count(*), COALESCE(sum(CAST(had_pulse_ox AS BIGINT)), 0) FROM {s}").fetchone() for s in srcs]
            differing = con.execute(
                f"SELECT (SELECT count(*) FROM (SELECT * FROM {srcs[0]} EXCEPT ALL SELECT * FROM {srcs[1]}))"
                f" + (SELECT count(*) FROM (SELECT * FROM {srcs[1]} EXCEPT ALL SELECT * FROM {srcs[0]}))"
            ).fetchone()[0] if headers[0] == headers[1] else "header differs"
            lines.append(f"| {date} | {stats[0][0]} | {stats[1][0]} | {stats[0][1]} | {stats[1][1]} | {differing} |")
            if stats[0] != stats[1] or differing != 0:
                bad.append(f"{date}: DuckDB {stats[0]} vs ours {stats[1]}, differing rows {differing}"
                           + (f" (headers {headers[0]!r} vs {headers[1]!r})" if headers[0] != headers[1] else ""))
        con.close()
        if bad:
            self.failures.append(f"{part} outputs differ:\n  " + "\n  ".join(bad))
        else:
            self.notes.append(f"{part} {'all ' if len(dates) == 25 else ''}{len(dates)} dates"
                              f"{'' if len(dates) == 25 else ' (' + ', '.join(map(str, dates)) + ')'}: "
                              "same row counts, same had_pulse_ox sums, identical rows")
        return lines

    # ---- (u) ------------------------------------------------------------------------------
    def make_unsorted(self, tables: Path) -> Path:
        """`work/unsorted_<name>`: a copy of the Parquet folder `tables` whose rows are in
        hash(patient_id) order (a patient's rows keep their order), in row groups of 100,000
        rows, made by DuckDB (untimed) unless the copy of these very tables (SHA-256) is there."""
        out = self.work / f"unsorted_{tables.name}"
        stamp = self.work / f"unsorted_{tables.name}.json"
        want = {"tables": str(tables), "sha256": table_digests(tables)}
        try:
            if json.loads(stamp.read_text()) == want and all(
                    (out / f"{t}.parquet").is_file() for t in duckdb_cohorts.TABLE_COLUMNS):
                return out
        except (OSError, ValueError):
            pass
        print(f"compare: (u) copying {tables} in hash(patient_id) order to {out} (untimed)", file=sys.stderr)
        stamp.unlink(missing_ok=True)
        reset_dir(out)
        out.mkdir(parents=True)
        con = duckdb.connect()
        con.execute("SET threads = 2")
        for t in duckdb_cohorts.TABLE_COLUMNS:
            src, dst = tables / f"{t}.parquet", out / f"{t}.parquet"
            con.execute(
                f"COPY (SELECT * EXCLUDE (file_row_number) FROM read_parquet('{src}', file_row_number = true) "
                f"ORDER BY hash(patient_id), file_row_number) TO '{dst}' (FORMAT parquet, ROW_GROUP_SIZE 100000)")
        con.close()
        stamp.write_text(json.dumps(want) + "\n")
        return out

    def part_u(self) -> None:
        """Tables not sorted by patient: ours over the unsorted copy (it sorts into a temporary
        folder first) vs ours over the sorted tables vs DuckDB over the unsorted copy."""
        tables = self.tables_dir()
        if not all((tables / f"{t}.parquet").is_file() for t in duckdb_cohorts.TABLE_COLUMNS):
            raise PartFailed(f"no Parquet tables in {tables} (run part b, or pass --tables DIR)")
        unsorted = self.make_unsorted(tables)
        u = self.work / "u"
        duck_out, sorted_out, unsorted_out = u / "duckdb", u / "ours_sorted", u / "ours_unsorted"
        print(f"compare: (u) DuckDB over {unsorted}", file=sys.stderr)
        duck = measure(Measurement("DuckDB over the unsorted copy", duckdb_command(unsorted, duck_out)),
                       self.args.runs, self.args.warmup, HERE, self.logs, before=lambda: reset_dir(duck_out))
        self.add_row("u", duck)
        self.require_subcommand("exec")
        study = self.our_study()

        def no_sort_folder_left():
            left = [p.name for p in unsorted_out.glob(".sort-by-patient-*")]
            if left:
                raise PartFailed(f"(u) the temporary sort folder was left in {unsorted_out}: {', '.join(left)}")

        print("compare: (u) ours over the sorted tables, then over the unsorted copy", file=sys.stderr)
        ours_sorted = measure(Measurement("ours over the sorted tables", self.cohort_command(tables, sorted_out)),
                              self.args.runs, self.args.warmup, study, self.logs,
                              before=lambda: reset_dir(sorted_out))
        ours_unsorted = measure(
            Measurement("ours over the unsorted copy (sorting first)", self.cohort_command(unsorted, unsorted_out)),
            self.args.runs, self.args.warmup, study, self.logs, before=lambda: reset_dir(unsorted_out),
            check=no_sort_folder_left)
        self.add_row("u", ours_sorted, f"{duck.median / ours_sorted.median:.2f}× DuckDB's speed")
        extra = ours_unsorted.median - ours_sorted.median
        self.add_row("u", ours_unsorted, f"{duck.median / ours_unsorted.median:.2f}× DuckDB's speed; sorting "
                                         f"+{extra:.2f} s ({ours_unsorted.median / ours_sorted.median:.2f}× sorted)")
        self.target_check(f"(u) ours over unsorted tables peak RSS <= 1 GB: {ours_unsorted.peak / 1e9:.2f} GB",
                          ours_unsorted.peak <= 1e9)
        names = sorted(p.name for p in sorted_out.iterdir())
        if names != sorted(p.name for p in unsorted_out.iterdir()):
            self.failures.append("(u) the unsorted run wrote other files than the sorted run")
        else:
            _, mismatch, errors = filecmp.cmpfiles(sorted_out, unsorted_out, names, shallow=False)
            if mismatch or errors:
                self.failures.append(f"(u) files differ between the sorted and unsorted runs: {', '.join(mismatch + errors)}")
            else:
                self.notes.append(f"(u) the unsorted copy gives byte-identical files to the sorted tables ({len(names)} files)")
        self.compare_outputs(duck_out, unsorted_out, part="(u)")

    # ---- (w) ------------------------------------------------------------------------------
    def part_w(self) -> None:
        """The CSV writer alone: DuckDB's COPY … TO csv vs ours over the same 25 cohorts."""
        tables = self.tables_dir()
        if not all((tables / f"{t}.parquet").is_file() for t in duckdb_cohorts.TABLE_COLUMNS):
            raise PartFailed(f"no Parquet tables in {tables} (run part b, or pass --tables DIR)")
        w = self.work / "w"
        rows_dir, duck_out, our_out = w / "rows", w / "duckdb", w / "ours"
        w.mkdir(parents=True, exist_ok=True)
        source = w / "rows.source"  # the tables the cached rows were computed from
        if len(list(rows_dir.glob("input_*.csv"))) != 25 or not source.is_file() or source.read_text() != str(tables):
            print(f"compare: (w) the 25 cohorts over {tables} (DuckDB, untimed)", file=sys.stderr)
            reset_dir(rows_dir)
            source.unlink(missing_ok=True)
            run_timed(duckdb_command(tables, rows_dir), HERE, self.logs / "w-rows.log")
            source.write_text(str(tables))
        self.require_subcommand("bench-csv-writer")
        study_dir = self.args.study_dir.resolve() if self.args.study_dir else self.root

        def timed(label: str, command: list, log_name: str) -> Measurement:
            """One process doing --runs timed writes; its own per-run times are the figures."""
            reset_dir(duck_out if "DuckDB" in label else our_out)
            log = self.logs / log_name
            _, rss = run_timed(command, self.root, log)
            m = Measurement(label, command)
            for line in log.read_text().splitlines():
                if ": run " in line and line.endswith(" s"):
                    m.seconds.append(float(line.rsplit(" ", 2)[-2]))
            if len(m.seconds) != self.args.runs:
                raise PartFailed(f"{label}: expected {self.args.runs} timed runs in {log}")
            m.peak_rss.append(rss)
            print(f"  {label}: median {m.median:.3f} s, peak RSS {rss / 2**20:.0f} MiB", file=sys.stderr)
            return m

        runs = str(self.args.runs)
        duck = timed("DuckDB COPY … TO csv (2 threads)",
                     [sys.executable, HERE / "duckdb_csv_writer.py", rows_dir, duck_out, "--runs", runs, "--threads", "2"],
                     "w-duckdb.log")
        ours = timed("ours: output::write_batch (csv)",
                     self.xtask("bench-csv-writer", rows_dir, our_out, runs, "--study-definition",
                                study_dir / "analysis" / "study_definition.yaml"),
                     "w-ours.log")
        ratio = ours.median / duck.median
        self.add_row("w", duck)
        self.add_row("w", ours, f"**{ratio:.2f}× DuckDB's time**")
        self.target_check(f"(w) our CSV writing ≤ 1.3× DuckDB's: {ratio:.2f}×", ratio <= 1.3)
        con = duckdb.connect()
        con.execute("SET threads = 2")
        bad, same_bytes = [], 0
        names = sorted(p.name for p in rows_dir.glob("input_*.csv"))
        for name in names:
            files = [duck_out / name, our_out / name]
            if not all(f.is_file() for f in files):
                raise PartFailed(f"(w) missing output {name}")
            if filecmp.cmp(files[0], files[1], shallow=False):
                same_bytes += 1
                continue
            srcs = [f"read_csv('{f}', header=true, all_varchar=true)" for f in files]
            differing = con.execute(
                f"SELECT (SELECT count(*) FROM (SELECT * FROM {srcs[0]} EXCEPT ALL SELECT * FROM {srcs[1]}))"
                f" + (SELECT count(*) FROM (SELECT * FROM {srcs[1]} EXCEPT ALL SELECT * FROM {srcs[0]}))"
            ).fetchone()[0]
            if differing:
                bad.append(f"{name}: {differing} rows differ")
        con.close()
        if bad:
            self.failures.append("(w) outputs differ:\n  " + "\n  ".join(bad))
        else:
            self.notes.append(f"(w) all {len(names)} files hold the same rows as DuckDB's "
                              f"({same_bytes} byte-identical, the rest equal as values)")

    # ---- (g) ------------------------------------------------------------------------------
    def part_g(self) -> None:
        """The growth curve: generate-ehr, DuckDB and ours at each of --growth-sizes patients."""
        self.require_subcommand("generate-ehr")
        self.require_subcommand("exec")
        study = self.our_study()
        dates = duckdb_cohorts.parse_index_date_range(INDEX_DATE_RANGE)
        sample = self.sample_dates(dates)
        for patients in self.args.growth_sizes:
            large = patients >= self.args.growth_large
            runs, warmup = (self.args.growth_runs_large, 0) if large else (self.args.runs, self.args.warmup)
            self._part_g(study, patients, runs, warmup, sample if large else dates)
        self.growth_targets()

    def sample_dates(self, dates: list[dt.date]) -> list[dt.date]:
        """--growth-sample-dates (first, middle, last or YYYY-MM-DD) as index dates of the study."""
        named = {"first": dates[0], "middle": dates[len(dates) // 2], "last": dates[-1]}
        picked = []
        for word in self.args.growth_sample_dates.split(","):
            word = word.strip()
            try:
                date = named[word] if word in named else dt.date.fromisoformat(word)
            except ValueError:
                raise PartFailed(f"--growth-sample-dates: {word!r} is not first, middle, last or a date") from None
            if date not in dates:
                raise PartFailed(f"--growth-sample-dates: {date} is not one of the study's index dates "
                                 f"({dates[0]} to {dates[-1]} by month)")
            if date not in picked:
                picked.append(date)
        return sorted(picked)

    def _part_g(self, study: Path, patients: int, runs: int, warmup: int, dates: list[dt.date]) -> None:
        size = f"{patients:,} patients"
        g = self.work / "g" / str(patients)
        duck_out, our_out = g / "duckdb", g / "ours"
        reset_dir(g)
        # About 0.9 KB of CSV per patient per side (25 dates), and 0.15 KB of tables.
        need, free = patients * 1950, shutil.disk_usage(self.work).free
        if free < need:
            raise PartFailed(f"{size}: needs about {need / 1e9:.1f} GB free under {self.work}, "
                             f"{free / 1e9:.1f} GB are")
        row = {"patients": patients, "runs": runs, "warmup": warmup, "dates": len(dates)}
        self.growth.append(row)
        tables = self.generated_dir(patients)
        stored = None if self.args.growth_regenerate else self.stored_tables(patients)
        if stored:
            gen = stored["generate_ehr"]
            row["gen"] = Measurement("ours: generate-ehr (stored)", [], gen["seconds"], gen["peak_rss"])
            row["gen_stored"] = f"{gen['measured']}, commit {gen['commit']}"
            self.notes.append(f"(g) {size}: reused {tables.relative_to(self.work.parent)} (complete, same seed, "
                              f"SHA-256 as recorded); its generate-ehr figures were measured {row['gen_stored']}")
        else:
            print(f"compare: (g) generate-ehr --patients {patients}", file=sys.stderr)
            gen, counts, identical, n = self.generate_tables(patients, runs, warmup,
                                                             label=f"ours: generate-ehr ({size})")
            self.notes.append(f"(g) {size}: tables of {counts['clinical_events']:,} clinical events; "
                              + (f"byte-identical across the {n} runs: {'yes' if identical else 'NO'}" if n > 1 else
                                 "1 run, so no check of the same bytes across runs"))
            if counts["patients"] != patients:
                raise PartFailed(f"generate-ehr wrote {counts['patients']} patients, asked for {patients}")
            if not identical:
                self.failures.append(f"(g) {size}: generate-ehr with the same seed wrote different bytes across runs")
            self.add_row("g", gen)
            row["gen"] = gen
        try:
            print(f"compare: (g) DuckDB over {size}", file=sys.stderr)
            duck = measure(Measurement(f"DuckDB (duckdb_cohorts.py, 2 threads; {size})", duckdb_command(tables, duck_out)),
                           runs, warmup, HERE, self.logs, before=lambda: reset_dir(duck_out))
            self.add_row("g", duck)
            row["duck"] = duck
            print(f"compare: (g) ours over {size}", file=sys.stderr)
            ours = measure(Measurement(f"ours: generate_cohort --database-url ({size})", self.cohort_command(tables, our_out)),
                           runs, warmup, study, self.logs, before=lambda: reset_dir(our_out))
            self.add_row("g", ours, f"{ours.median / duck.median:.2f}× DuckDB's time")
            row["ours"] = ours
            row["details"] = self.compare_outputs(duck_out, our_out, dates, part=f"(g) {size}:")
            row["out_bytes"] = (folder_bytes(duck_out), folder_bytes(our_out))
        finally:
            if not self.args.growth_keep_outputs:
                reset_dir(g)
        if "out_bytes" in row:
            kept = "kept" if self.args.growth_keep_outputs else "deleted after the check"
            self.notes.append(f"(g) {size}: the outputs ({row['out_bytes'][0] / 1e6:,.0f} MB DuckDB's, "
                              f"{row['out_bytes'][1] / 1e6:,.0f} MB ours) {kept}; the tables are kept in "
                              f"{tables.relative_to(self.work.parent)} ({folder_bytes(tables) / 1e6:,.0f} MB)")

    def growth_targets(self) -> None:
        """The issue's targets at the large sizes; the linear one against --growth-base's time."""
        base = next((r for r in self.growth if r["patients"] == self.args.growth_base and "ours" in r), None)
        for r in self.growth:
            if r["patients"] < self.args.growth_large:
                continue
            size = f"{r['patients']:,} patients"
            if "gen" in r:
                stored = f" (stored: measured {r['gen_stored']})" if "gen_stored" in r else ""
                self.target_check(f"(g) generate-ehr {size} < 60 s: {r['gen'].median:.1f} s{stored}",
                                  r["gen"].median < 60)
            if "ours" not in r:
                continue
            self.target_check(f"(g) ours {size} peak RSS ≤ 2 GB: {r['ours'].peak / 1e9:.2f} GB", r["ours"].peak <= 2e9)
            if base is None:
                self.notes.append(f"(g) {size}: no time at --growth-base {self.args.growth_base:,} patients, "
                                  "so the linear-time target was not checked")
                continue
            bound = 1.1 * r["patients"] / base["patients"]
            ratio = r["ours"].median / base["ours"].median
            self.target_check(f"(g) ours {size} time ≤ {bound:.1f}× the {base['patients']:,}-patient time "
                              f"(1.1× linear): {ratio:.2f}×", ratio <= bound)

    def growth_table(self) -> list[str]:
        """The growth curve as a Markdown table (one line per size that ran)."""
        base = next((r for r in self.growth if r["patients"] == self.args.growth_base and "ours" in r), None)
        fmt = lambda m: f"{m.median:.2f} / {m.peak / 2**20:.0f}" if m else "—"
        lines = ["| patients (runs) | generate-ehr s / peak MiB | DuckDB s / peak MiB | ours s / peak MiB | "
                 f"ours / DuckDB time | ours time / {self.args.growth_base:,}-patient time |",
                 "|---|---|---|---|---|---|"]
        for r in self.growth:
            ours, duck = r.get("ours"), r.get("duck")
            runs = f"{r['runs']} run{'s' if r['runs'] > 1 else ''}" + (f", {r['warmup']} warm-up" if r["warmup"] else "")
            gen = fmt(r.get("gen")) + (" (stored)" if "gen_stored" in r else "")
            vs_duck = f"{ours.median / duck.median:.2f}×" if ours and duck else "—"
            vs_base = f"{ours.median / base['ours'].median:.2f}×" if ours and base else "—"
            lines.append(f"| {r['patients']:,} ({runs}) | {gen} | {fmt(duck)} | {fmt(ours)} | {vs_duck} | {vs_base} |")
        return lines

    # ---- (p) ------------------------------------------------------------------------------
    def start_postgres(self) -> tuple[str, callable]:
        """A private PostgreSQL server under work/pg on a free loopback port: (URL, stop)."""
        bindir = None
        for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
            if (candidate / "initdb").is_file():
                bindir = candidate
                break
        if bindir is None and shutil.which("initdb"):
            bindir = Path(shutil.which("initdb")).parent
        if bindir is None:
            raise PartFailed("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        pg = self.work / "pg"
        reset_dir(pg)
        pg.mkdir(parents=True)
        as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as `postgres`
            as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(pg, "postgres")
        subprocess.run([*as_user, bindir / "initdb", "-D", pg / "data", "-U", "sro", "-A", "trust", "-E", "UTF8",
                        "--no-sync", "--locale=C.UTF-8"], check=True, capture_output=True)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {pg} -c fsync=off -c synchronous_commit=off "
                   f"-c full_page_writes=off -c shared_buffers={self.args.pg_shared_buffers} "
                   f"-c work_mem={self.args.pg_work_mem} -c max_parallel_workers_per_gather=2")
        subprocess.run([*as_user, bindir / "pg_ctl", "-D", pg / "data", "-l", pg / "server.log", "-o", options,
                        "-w", "-t", "60", "start"], check=True, capture_output=True, stdin=subprocess.DEVNULL)

        def stop():
            subprocess.run([*as_user, bindir / "pg_ctl", "-D", pg / "data", "-m", "fast", "stop"], capture_output=True)

        self.notes.append(f"(p) PostgreSQL {capture([str(bindir / 'postgres'), '--version'])}: {options}")
        return f"postgresql://sro@127.0.0.1:{port}/postgres", stop

    def part_p(self) -> None:
        tables = self.tables_dir()
        if not all((tables / f"{t}.parquet").is_file() for t in duckdb_cohorts.TABLE_COLUMNS):
            raise PartFailed(f"no Parquet tables in {tables} (run part b, or pass --tables DIR)")
        self.require_subcommand("load-ehr")
        url, stop = self.start_postgres()
        try:
            self._part_p(tables, url)
        finally:
            stop()

    def _part_p(self, tables: Path, url: str) -> None:
        p = self.work / "p"
        study = self.our_study()
        print(f"compare: (p) load-ehr {tables} into {url}", file=sys.stderr)
        load = measure(Measurement("ours: load-ehr into PostgreSQL", self.xtask("load-ehr", "--from", tables, "--to", url)),
                       1, 0, study, self.logs)
        self.add_row("p", load)
        outs = {k: p / k for k in ("one_pass", "per_date", "polars", "duckdb")}

        def cohort(out: Path, date_range: str, database_url: str) -> list[str]:
            return self.xtask("exec", "cohortextractor:latest", "generate_cohort", "--study-definition", "study_definition",
                              "--index-date-range", date_range, "--output-dir", out, "--database-url", database_url)

        print("compare: (p) one statement set for all 25 dates", file=sys.stderr)
        one = measure(Measurement("ours: PostgreSQL, one statement set", cohort(outs["one_pass"], INDEX_DATE_RANGE, url)),
                      self.args.runs, self.args.warmup, study, self.logs, before=lambda: reset_dir(outs["one_pass"]))
        print("compare: (p) the same SQL once per index date", file=sys.stderr)
        dates = duckdb_cohorts.parse_index_date_range(INDEX_DATE_RANGE)
        steps = [Measurement(f"per-date {d}", cohort(outs["per_date"], d.isoformat(), url)) for d in dates]
        loop = measure_group(steps, self.args.runs, self.args.warmup, study, self.logs,
                             before=lambda: reset_dir(outs["per_date"]))
        loop.label = "PostgreSQL, the same SQL once per index date (25 runs)"
        print("compare: (p) polars engine over the folder", file=sys.stderr)
        polars = measure(Measurement("ours: polars engine over the folder", cohort(outs["polars"], INDEX_DATE_RANGE, f"file://{tables}")),
                         self.args.runs, self.args.warmup, study, self.logs, before=lambda: reset_dir(outs["polars"]))
        print("compare: (p) DuckDB", file=sys.stderr)
        duck = measure(Measurement("DuckDB (duckdb_cohorts.py, 2 threads)", duckdb_command(tables, outs["duckdb"])),
                       self.args.runs, self.args.warmup, HERE, self.logs, before=lambda: reset_dir(outs["duckdb"]))
        ratio = loop.median / one.median
        self.add_row("p", loop)
        self.add_row("p", one, f"**{ratio:.2f}× the per-date loop**")
        self.add_row("p", polars, f"{one.median / polars.median:.2f}× PostgreSQL's time")
        self.add_row("p", duck, f"{one.median / duck.median:.2f}× PostgreSQL's time")
        self.target_check(f"(p) PostgreSQL one statement set >= 5x faster than once per date: {ratio:.2f}×", ratio >= 5)
        # Identical files: PostgreSQL both ways and polars byte for byte; DuckDB row for row.
        bad = []
        for d in dates:
            name = f"input_{d.isoformat()}.csv"
            for other in ("per_date", "polars"):
                a, b = outs["one_pass"] / name, outs[other] / name
                if not (a.is_file() and b.is_file() and filecmp.cmp(a, b, shallow=False)):
                    bad.append(f"{name}: one_pass vs {other}")
        if bad:
            self.failures.append("(p) outputs differ: " + ", ".join(bad))
        else:
            self.notes.append(f"(p) all {len(dates)} dates: PostgreSQL (one pass), PostgreSQL (per date) and polars "
                              "files byte-identical")
        self.per_date = self.compare_outputs(outs["duckdb"], outs["one_pass"])

    # ---- (s) ------------------------------------------------------------------------------
    def part_s(self) -> None:
        tables = self.tables_dir()
        if not all((tables / f"{t}.parquet").is_file() for t in duckdb_cohorts.TABLE_COLUMNS):
            raise PartFailed(f"no Parquet tables in {tables} (run part b, or pass --tables DIR)")
        self.require_subcommand("load-ehr")
        cluster_bin = self.target / "debug" / "examples" / "local_cluster"
        if not cluster_bin.is_file():
            # Only starts JVMs: the debug build is enough, and shares the workspace's debug deps.
            print("compare: (s) building the local_cluster example (debug, untimed)", file=sys.stderr)
            proc = subprocess.run(["cargo", "build", "--quiet", "--workspace", "--examples"], cwd=self.root,
                                  capture_output=True, text=True)
            if proc.returncode != 0 or not cluster_bin.is_file():
                raise PartFailed("cannot build the local_cluster example:\n    " + "\n    ".join(proc.stderr.splitlines()[-10:]))
        # One metastore and warehouse for every cluster size: the tables are loaded once.
        s = self.work / "s"
        reset_dir(s)
        (s / "results").mkdir(parents=True)
        self.spark_loaded = False
        polars = None
        for workers in self.args.spark_workers:
            polars = self._part_s(cluster_bin, tables, workers, s, polars)

    def _spark_confs(self, s: Path) -> list[str]:
        confs = {
            "spark.sql.catalogImplementation": "hive",
            "spark.sql.warehouse.dir": str(s / "warehouse"),
            "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={s / 'metastore'};create=true",
            "spark.sql.shuffle.partitions": str(self.args.spark_partitions),
        }
        return [a for k, v in confs.items() for a in ("--conf", f"{k}={v}")]

    def _part_s(self, cluster_bin: Path, tables: Path, workers: int, s: Path, polars):
        cores = max(1, (os.cpu_count() or 2) // workers)
        total_mib = parse_size_mib(self.args.spark_executor_memory)
        memory = f"{max(512, total_mib // workers)}m"
        print(f"compare: (s) starting a local Spark cluster: {workers} worker(s) x {cores} core(s), {memory}", file=sys.stderr)
        started = time.perf_counter()
        cluster = subprocess.Popen(
            [cluster_bin, "--workers", str(workers), "--worker-cores", str(cores), "--worker-memory", memory,
             "--driver-memory", self.args.spark_driver_memory, *self._spark_confs(s)],
            cwd=self.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            lines = []
            while not lines or not lines[-1].startswith(("started ", "error")):
                line = cluster.stdout.readline()
                if not line:
                    break
                lines.append(line.strip())
            values = dict(line.split("=", 1) for line in lines if "=" in line.split(" ")[0])
            if "SPARK_CONNECT_URL" not in values:
                rest = cluster.stdout.read().strip().splitlines()  # the log's end, after the error line
                raise PartFailed("the local Spark cluster did not start:\n    " + "\n    ".join((lines + rest)[-30:]))
            startup = time.perf_counter() - started
            cluster_dir = values.get("SPARK_CLUSTER_DIR", "")
            base = values["SPARK_CONNECT_URL"] + ";database=sro_bench"
            self.notes.append(f"(s) {workers} worker(s): {lines[-1]} (the start-up: master, worker(s), Connect server "
                              f"and executor registration; {startup:.1f} s wall for the whole start)")
            study = self.our_study()
            if not self.spark_loaded:
                load = measure(Measurement(f"ours: load-ehr into Spark ({workers} worker(s))",
                                           self.xtask("load-ehr", "--from", tables, "--to", base)), 1, 0, study, self.logs)
                self.add_row("s", load)
                self.spark_loaded = True
            cohort = lambda o, u: self.xtask("exec", "cohortextractor:latest", "generate_cohort", "--study-definition",
                                             "study_definition", "--index-date-range", INDEX_DATE_RANGE,
                                             "--output-dir", o, "--database-url", u)
            if polars is None:
                ref = s / "polars"
                polars = measure(Measurement("ours: polars engine over the folder", cohort(ref, f"file://{tables}")),
                                 self.args.runs, self.args.warmup, study, self.logs, before=lambda: reset_dir(ref))
                polars.out = ref
                self.add_row("s", polars)
            paths = {
                "Arrow batches": base,
                "Parquet files": f"{base};result_dir={s / 'results'};parquet_rows=0",
            }
            for path, url in paths.items():
                out = s / f"w{workers}-{path.split()[0].lower()}"
                label = f"ours: Spark, {workers} worker(s), result as {path}"
                os.environ["SRO_SQL_TIMINGS"] = "1"
                try:
                    spark = measure(Measurement(label, cohort(out, url)), self.args.runs, self.args.warmup, study,
                                    self.logs, before=lambda: reset_dir(out))
                finally:
                    del os.environ["SRO_SQL_TIMINGS"]
                self.add_row("s", spark, f"{spark.median / polars.median:.2f}× polars' time")
                split = self.spark_split(label)
                jvm = cluster_peak_rss(cluster_dir)
                self.notes.append(
                    f"(s) {workers} worker(s), {path}, last run: query {split[0]:.1f} s (the steps and the population), "
                    f"result transfer {split[1]:.1f} s, the rest (start, connect, checks, writing files) "
                    f"{spark.seconds[-1] - split[0] - split[1]:.1f} s; cluster JVMs' peak RSS so far {jvm / GIB:.1f} GiB")
                dates = duckdb_cohorts.parse_index_date_range(INDEX_DATE_RANGE)
                bad = [d for d in dates if not filecmp.cmp(out / f"input_{d}.csv", polars.out / f"input_{d}.csv", shallow=False)]
                if bad:
                    self.failures.append(f"(s) {workers} worker(s), {path}: files differ from polars' on {', '.join(map(str, bad))}")
                else:
                    self.notes.append(f"(s) {workers} worker(s), {path}: all {len(dates)} files byte-identical to the polars engine's")
                leftover = list((s / "results").iterdir())
                if leftover:
                    self.failures.append(f"(s) the Parquet result folder was not cleaned up: {leftover[:3]}")
        finally:
            cluster.stdin.close()
            try:
                cluster.wait(timeout=120)
            except subprocess.TimeoutExpired:
                cluster.kill()  # its watchdog stops the JVMs
                cluster.wait()
        return polars

    def spark_split(self, label: str) -> tuple[float, float]:
        """(query, result transfer) seconds from the last run's SRO_SQL_TIMINGS lines."""
        logs = sorted(self.logs.glob(f"{label}-run*.log"))
        query, transfer = 0.0, 0.0
        if not logs:
            return query, transfer
        for line in logs[-1].read_text(errors="replace").splitlines():
            parts = line.strip().split("  ", 1)
            if len(parts) != 2:
                continue
            secs = parse_duration(parts[0])
            if secs is None:
                continue
            if parts[1].startswith("the result"):
                transfer += secs
            else:
                query += secs
        return query, transfer

    # ---- driver ---------------------------------------------------------------------------
    def commit(self) -> str:
        """The short commit of the checkout, and whether it has uncommitted changes."""
        commit = capture(["git", "rev-parse", "--short", "HEAD"], cwd=self.root)
        dirty = " (uncommitted changes)" if capture(["git", "status", "--porcelain"], cwd=self.root) else ""
        return commit + dirty

    def machine(self) -> list[str]:
        cpu = "unknown"
        try:
            cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
        except (OSError, StopIteration):
            pass
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        import importlib.metadata as md

        return [
            f"- date: {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; commit {self.commit()}",
            f"- machine: {cpu}, {os.cpu_count()} cores, {mem / GIB:.1f} GiB RAM; {platform.system()} {platform.release()}",
            f"- Python {platform.python_version()}; opensafely-cohort-extractor {md.version('opensafely-cohort-extractor')}, "
            f"pandas {md.version('pandas')}, numpy {md.version('numpy')}, scipy {md.version('scipy')}; duckdb {duckdb.__version__}",
            f"- {capture(['rustc', '--version'])}; our side: `{shell_words(self.xtask())}`",
            f"- runs: median of {self.args.runs} after {self.args.warmup} untimed warm-up run(s); peak RSS = max over the runs "
            + ("(the command's maximum resident set size, from GNU `/usr/bin/time -f %M`)" if gnu_time_ok() else
               "(**no GNU time**: wait4 of the child, which also counts this harness's own peak as a floor)"),
        ]

    def run(self) -> int:
        self.work.mkdir(parents=True, exist_ok=True)
        self.per_date: list[str] = []
        self.growth: list[dict] = []  # part g: one entry per size, filled as its steps finish
        parts = {"a": self.part_a, "b": self.part_b, "c": self.part_c, "g": self.part_g, "p": self.part_p,
                 "s": self.part_s, "u": self.part_u, "w": self.part_w}
        for name in self.args.parts:
            try:
                parts[name]()
            except PartFailed as err:
                self.failures.append(f"({name}) FAILED: {err}")
                print(f"compare: ({name}) FAILED: {err}", file=sys.stderr)
        report = ["## Benchmark results", "", *self.machine(), "",
                  "| part | what | command | runs | median s | min–max s | peak RSS MiB | ratio |",
                  "|---|---|---|---|---|---|---|---|", *self.rows, ""]
        if self.growth:
            report += ["Growth curve (g): median of each size's runs (after its warm-up runs); peak RSS = max over "
                       "the runs", "", *self.growth_table(), ""]
        if self.targets:
            report += ["Targets:", *[f"- {'met' if ok else '**NOT met**'}: {text}" for text, ok in self.targets], ""]
        if self.notes:
            report += ["Checks:", *[f"- {n}" for n in self.notes], ""]
        if self.per_date:
            report += ["<details><summary>(c) per-date comparison</summary>", "", *self.per_date, "", "</details>", ""]
        for r in self.growth:
            if r.get("details"):
                report += [f"<details><summary>(g) {r['patients']:,} patients: per-date comparison</summary>", "",
                           *r["details"], "", "</details>", ""]
        if self.failures:
            report += ["Failures:", *[f"- {f}" for f in self.failures], ""]
        text = "\n".join(report)
        print(text)
        out = self.work / f"results-{dt.datetime.now().strftime('%Y%m%dT%H%M%S')}.md"
        out.write_text(text + "\n")
        print(f"compare: report written to {out}", file=sys.stderr)
        if self.failures:
            return 1
        if self.args.strict and not all(ok for _, ok in self.targets):
            return 1
        return 0


def sizes(text: str) -> list[int]:
    """A comma-separated list of positive patient counts, ascending."""
    try:
        values = sorted({int(v.replace("_", "")) for v in text.split(",") if v.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of patient counts: {text!r}") from None
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError(f"need at least one patient count, each >= 1: {text!r}")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per command (median reported)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs first, per command")
    parser.add_argument("--parts", default="abc", help="which parts to run, e.g. 'a', 'bc' or 'bp' (default abc)")
    parser.add_argument("--pg-shared-buffers", default="2GB", help="(p) the server's shared_buffers")
    parser.add_argument("--pg-work-mem", default="256MB", help="(p) the server's work_mem")
    parser.add_argument("--spark-workers", type=lambda v: [int(x) for x in v.split(",")], default=[1, 2],
                        help="(s) the cluster sizes to run, e.g. 1,2 (default)")
    parser.add_argument("--spark-executor-memory", default="4g",
                        help="(s) executor memory of the whole cluster, split evenly between the workers (as are the cores)")
    parser.add_argument("--spark-driver-memory", default="2g", help="(s) the Connect server's heap")
    parser.add_argument("--spark-partitions", type=int, default=8, help="(s) spark.sql.shuffle.partitions")
    parser.add_argument("--patients", type=int, default=1_000_000, help="patients for (b)")
    parser.add_argument("--seed", type=int, default=1, help="seed for (b)")
    parser.add_argument("--tables", type=Path, help="(c), (p), (s), (u), (w) over this Parquet folder instead of (b)'s output")
    parser.add_argument("--growth-sizes", type=sizes, default=[100_000, 1_000_000, 10_000_000],
                        help="(g) patients per size, e.g. 100000,1000000,10000000 (default)")
    parser.add_argument("--growth-large", type=int, default=10_000_000,
                        help="(g) sizes from this many patients on run --growth-runs-large times without warm-up, "
                             "are checked on --growth-sample-dates only, and get the 10M targets (default 10000000)")
    parser.add_argument("--growth-runs-large", type=int, default=1, help="(g) timed runs at the large sizes (default 1)")
    parser.add_argument("--growth-sample-dates", default="first,middle,last",
                        help="(g) the dates whose rows are compared at the large sizes: first, middle, last or "
                             "YYYY-MM-DD, comma-separated (default first,middle,last)")
    parser.add_argument("--growth-base", type=int, default=1_000_000,
                        help="(g) the size the time ratios and the linear-time target refer to (default 1000000)")
    parser.add_argument("--growth-regenerate", action="store_true",
                        help="(g) time generate-ehr at every size even when work/ehr_N is stored and intact")
    parser.add_argument("--growth-keep-outputs", action="store_true",
                        help="(g) keep each size's CSV outputs (about 9 GB per side at 10M) instead of deleting them")
    parser.add_argument("--study-dir", type=Path, help="our study to copy (default: the repo root)")
    parser.add_argument("--work-dir", type=Path, default=HERE / "work")
    parser.add_argument("--xtask", type=Path, help="time this driver executable (skips the untimed build)")
    parser.add_argument("--via-cargo", action="store_true", help="time `cargo xtask ...` instead of the built binary")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is not met")
    args = parser.parse_args(argv)
    args.parts = [p for p in args.parts if p in "abcgpsuw"]
    if args.runs < 1 or args.warmup < 0 or args.growth_runs_large < 1 or not args.parts:
        parser.error("need --runs >= 1, --warmup >= 0, --growth-runs-large >= 1 and at least one of a, b, c, g, p, s, u, w "
                     "in --parts")
    return Harness(args).run()


if __name__ == "__main__":
    sys.exit(main())
