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


if __name__ == "__main__":
    unittest.main()
