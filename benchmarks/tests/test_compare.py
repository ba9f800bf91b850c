"""Tests for compare.py with a test double for the Rust driver (a script that answers like
`cargo xtask` using the Python tools), so the harness's checks can be seen to pass and fail.
Run: benchmarks/.venv/bin/python -m unittest discover -s benchmarks/tests
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

import compare  # noqa: E402

FAKE_DRIVER = textwrap.dedent(
    """\
    #!{python}
    # Test double for `cargo xtask`; FAKE_MODE = ok | missing | corrupt | nondeterministic.
    import os, subprocess, sys
    from pathlib import Path
    mode = os.environ.get("FAKE_MODE", "ok")
    args = sys.argv[1:]
    if mode == "missing" and args and args[0] != "--help":
        print(f"error: unrecognized subcommand '{{args[0]}}'", file=sys.stderr)
        sys.exit(2)
    if "--help" in args:
        sys.exit(0)
    def opt(name):
        return args[args.index(name) + 1]
    if args[0] == "run-all":
        out = Path(opt("--project-dir")) / "output" / "measures"
        out.mkdir(parents=True)
        for i in range(25):
            (out / f"input_{{i}}.csv").write_text("patient_id\\n")
        (out / "measure_x.csv").write_text("x\\n")
        sys.exit(0)
    if args[0] == "generate-ehr":
        seed = opt("--seed")
        if mode == "nondeterministic":  # a different seed on every call
            counter = Path(sys.argv[0]).with_suffix(".calls")
            calls = int(counter.read_text()) + 1 if counter.exists() else 1
            counter.write_text(str(calls))
            seed = str(int(seed) + calls)
        sys.exit(subprocess.call([sys.executable, "{bench}/make_test_tables.py", opt("--output-dir"),
                                  "--patients", opt("--patients"), "--seed", seed, "--events-per-patient", "5"]))
    if args[0] == "bench-csv-writer":  # copies the rows, printing the lines part w parses
        import shutil
        src, dst, runs = Path(args[1]), Path(args[2]), int(args[3])
        dst.mkdir(parents=True, exist_ok=True)
        for run in range(1, runs + 1):
            for f in sorted(src.glob("input_*.csv")):
                shutil.copyfile(f, dst / f.name)
            print(f"csv_writer: run {{run}}: 0.{{run}}00 s")
        sys.exit(0)
    if args[0] == "exec":
        out = opt("--output-dir")
        rc = subprocess.call([sys.executable, "{bench}/duckdb_cohorts.py", opt("--database-url")[7:], out,
                              "--strategy", "direct"], stdout=subprocess.DEVNULL)
        if mode == "corrupt":
            f = Path(out) / "input_2020-06-01.csv"
            lines = f.read_text().splitlines(True)
            lines[1] = lines[1].replace(",0,", ",1,", 1) if ",0," in lines[1] else lines[1].replace(",1,", ",0,", 1)
            f.write_text("".join(lines))
        sys.exit(rc)
    sys.exit(2)
    """
)


class CompareHarness(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = Path(cls.tmp.name)
        cls.driver = root / "xtask"
        cls.driver.write_text(FAKE_DRIVER.format(python=sys.executable, bench=HERE))
        cls.driver.chmod(0o755)
        cls.study = root / "study"
        (cls.study / "analysis").mkdir(parents=True)
        (cls.study / "codelists").mkdir()
        (cls.study / "project.yaml").write_text("version: '3.0'\n")
        (cls.study / "analysis" / "study_definition.yaml").write_text("population: {}\n")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_compare(self, mode: str, *args: str) -> tuple[int, str, str]:
        work = Path(self.tmp.name) / f"work-{mode}-{'-'.join(args)}".replace("/", "_")[:80]
        stdout, stderr = io.StringIO(), io.StringIO()
        os.environ["FAKE_MODE"] = mode
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                status = compare.main(
                    ["--xtask", str(self.driver), "--study-dir", str(self.study), "--work-dir", str(work),
                     "--runs", "2", "--warmup", "0", "--patients", "2000", *args]
                )
        finally:
            del os.environ["FAKE_MODE"]
        return status, stdout.getvalue(), stderr.getvalue()

    def test_b_and_c_pass_when_outputs_agree(self):
        status, report, _ = self.run_compare("ok", "--parts", "bc")
        self.assertEqual(status, 0, report)
        self.assertIn("| b | ours: generate-ehr |", report)
        self.assertIn("| c | DuckDB (duckdb_cohorts.py, 2 threads) |", report)
        self.assertIn("(b) tables: 2,000 patients", report)
        self.assertIn("byte-identical across the 2 runs: yes", report)
        self.assertIn("(c) all 25 dates: same row counts, same had_pulse_ox sums, identical rows", report)
        self.assertIn("(b) generate-ehr 2,000 patients < 30 s", report)
        self.assertNotIn("Failures:", report)

    def test_c_fails_when_a_row_differs(self):
        status, report, _ = self.run_compare("ok", "--parts", "b")
        self.assertEqual(status, 0, report)
        tables = next(Path(self.tmp.name).glob("work-ok-*parts-b*/ehr_2000"))
        status, report, _ = self.run_compare("corrupt", "--parts", "c", "--tables", str(tables))
        self.assertEqual(status, 1)
        self.assertIn("(c) outputs differ", report)
        self.assertIn("2020-06-01: DuckDB", report)
        self.assertIn("differing rows 2", report)

    def test_u_sorts_a_copy_and_checks_the_files_against_the_sorted_run(self):
        status, report, _ = self.run_compare("ok", "--parts", "b")
        self.assertEqual(status, 0, report)
        tables = next(Path(self.tmp.name).glob("work-ok-*parts-b*/ehr_2000"))
        work = Path(self.tmp.name) / "work-u"
        status, report, _ = self.run_compare("ok", "--work-dir", str(work), "--parts", "u", "--tables", str(tables))
        self.assertEqual(status, 0, report)
        self.assertIn("| u | DuckDB over the unsorted copy |", report)
        self.assertRegex(report, r"\| u \| ours over the unsorted copy \(sorting first\) \|.*sorting \+")
        self.assertIn("(u) the unsorted copy gives byte-identical files to the sorted tables (25 files)", report)
        self.assertIn("(u) all 25 dates: same row counts, same had_pulse_ox sums, identical rows", report)
        import duckdb
        ids = [r[0] for r in duckdb.sql(f"SELECT patient_id FROM read_parquet('{work}/unsorted_ehr_2000/patients.parquet')").fetchall()]
        self.assertNotEqual(ids, sorted(ids), "the copy is not in patient order")
        self.assertEqual(len(ids), 2000)

    def test_b_fails_when_the_same_seed_gives_different_bytes(self):
        status, report, _ = self.run_compare("nondeterministic", "--parts", "b")
        self.assertEqual(status, 1)
        self.assertIn("byte-identical across the 2 runs: NO", report)
        self.assertIn("wrote different bytes", report)

    def test_missing_subcommands_fail_clearly(self):
        status, report, _ = self.run_compare("missing", "--parts", "b")
        self.assertEqual(status, 1)
        self.assertIn("(b) FAILED: the Rust side is not available yet: `cargo xtask generate-ehr --help` exited 2", report)
        self.assertIn("unrecognized subcommand 'generate-ehr'", report)

    def test_c_without_tables_fails_clearly(self):
        status, report, _ = self.run_compare("ok", "--parts", "c", "--tables", str(Path(self.tmp.name) / "none"))
        self.assertEqual(status, 1)
        self.assertIn("(c) FAILED: no Parquet tables in", report)

    def test_a_times_cohortextractor_and_reports_the_ratio(self):
        status, report, _ = self.run_compare("ok", "--parts", "a", "--runs", "1")
        self.assertEqual(status, 0, report)
        self.assertIn("| a | cohortextractor 1.93.3 (both actions) |", report)
        self.assertRegex(report, r"\| a \| ours: run-all \|.*\*\*[0-9.]+× faster\*\* \|")
        self.assertRegex(report, r"(met|NOT met)\*?\*?: \(a\) run-all ≥ 20× faster than cohortextractor")

    def growth(self, mode: str, *args: str) -> tuple[int, str, Path]:
        work = Path(self.tmp.name) / f"work-g-{mode}"
        status, report, _ = self.run_compare(
            mode, "--work-dir", str(work), "--parts", "g", "--growth-sizes", "300,600", "--growth-base", "300",
            "--growth-large", "600", "--growth-sample-dates", "first,2020-06-01", *args)
        return status, report, work

    def test_g_reports_the_growth_curve_and_deletes_the_outputs(self):
        status, report, work = self.growth("ok")
        self.assertEqual(status, 0, report)
        self.assertIn("| patients (runs) | generate-ehr s / peak MiB | DuckDB s / peak MiB | ours s / peak MiB |", report)
        self.assertRegex(report, r"\| 300 \(2 runs\) \| [0-9.]+ / [0-9]+ \| [0-9.]+ / [0-9]+ \| [0-9.]+ / [0-9]+ \| "
                                 r"[0-9.]+× \| 1\.00× \|")
        self.assertRegex(report, r"\| 600 \(1 run\) \|")
        self.assertIn("(g) 300 patients: all 25 dates: same row counts", report)
        self.assertRegex(report, r"\(g\) 300 patients: tables of [0-9,]+ clinical events; byte-identical across the 2 runs: yes")
        self.assertRegex(report, r"\(g\) 600 patients: tables of [0-9,]+ clinical events; 1 run, so no check")
        self.assertIn("(g) 600 patients: 2 dates (2019-01-01, 2020-06-01): same row counts", report)
        self.assertIn("(g) 600 patients: the outputs (", report)
        self.assertIn("deleted after the check", report)
        self.assertRegex(report, r"(met|NOT met)\*?\*?: \(g\) generate-ehr 600 patients < 60 s")
        self.assertRegex(report, r"(met|NOT met)\*?\*?: \(g\) ours 600 patients peak RSS ≤ 2 GB")
        self.assertRegex(report, r"(met|NOT met)\*?\*?: \(g\) ours 600 patients time ≤ 2\.2× the 300-patient time")
        self.assertFalse((work / "g" / "600").exists())
        self.assertTrue((work / "ehr_600" / "patients.parquet").is_file())
        # Intact stored tables are reused (figures from the manifest); changed bytes are not.
        status, report, work = self.growth("ok")
        self.assertEqual(status, 0, report)
        self.assertIn("(g) 600 patients: reused", report)
        self.assertIn("(stored)", report)
        (work / "ehr_300" / "patients.parquet").write_bytes(b"changed")
        status, report, _ = self.growth("ok")
        self.assertIn("(g) 600 patients: reused", report)
        self.assertNotIn("(g) 300 patients: reused", report)
        self.assertIn("| g | ours: generate-ehr (300 patients) |", report)

    def test_g_fails_when_a_sampled_date_differs(self):
        status, report, _ = self.growth("corrupt")
        self.assertEqual(status, 1)
        self.assertIn("(g) 600 patients: outputs differ", report)
        self.assertIn("2020-06-01: DuckDB", report)

    def test_g_rejects_a_sample_date_outside_the_study(self):
        status, report, _ = self.growth("ok", "--growth-sample-dates", "2020-06-15")
        self.assertEqual(status, 1)
        self.assertIn("(g) FAILED: --growth-sample-dates: 2020-06-15 is not one of the study's index dates", report)

    def test_w_times_the_driver_writer(self):
        status, report, _ = self.run_compare("ok", "--parts", "b")
        tables = next(Path(self.tmp.name).glob("work-ok-*parts-b*/ehr_2000"))
        status, report, _ = self.run_compare("ok", "--parts", "w", "--tables", str(tables))
        self.assertEqual(status, 0, report)
        self.assertRegex(report, r"\| w \| ours: output::write_batch \(csv\) \| `.*xtask bench-csv-writer .*` \| 2 \| 0\.150 \|")
        self.assertIn("(w) all 25 files hold the same rows as DuckDB's (", report)


class PeakMemory(unittest.TestCase):
    @unittest.skipUnless(compare.gnu_time_ok(), "needs GNU /usr/bin/time")
    def test_a_small_command_does_not_inherit_the_harness_peak(self):
        ballast = bytearray(400 * 2**20)
        for i in range(0, len(ballast), 4096):
            ballast[i] = 1
        with tempfile.TemporaryDirectory() as tmp:
            _, small = compare.run_timed(["true"], Path(tmp), Path(tmp) / "true.log")
            _, big = compare.run_timed([sys.executable, "-c", "x = bytearray(200 * 2**20)\n"
                                        "for i in range(0, len(x), 4096): x[i] = 1"], Path(tmp), Path(tmp) / "py.log")
        del ballast
        self.assertLess(small, 50 * 2**20)
        self.assertGreater(big, 200 * 2**20)
        self.assertLess(big, 350 * 2**20)


if __name__ == "__main__":
    unittest.main()
