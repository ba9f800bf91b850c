"""Tests for duckdb_cohorts.py: hand-computed cases for every rule, and a plain-Python
reference checked against the SQL on generated tables. Run: benchmarks/.venv/bin/python -m
unittest discover -s benchmarks/tests
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
import tempfile
import unittest
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb_cohorts as dc  # noqa: E402
import make_test_tables  # noqa: E402

D = dt.date.fromisoformat
CODES = ["Y2a44", "Y2a48"]


def write_tables(folder: Path, patients, registrations, events) -> None:
    """Writes row tuples as the three Parquet tables of the contract."""
    schemas = {
        "patients": (
            patients,
            [("patient_id", pa.int64()), ("date_of_birth", pa.date32()), ("sex", pa.string())],
        ),
        "practice_registrations": (
            registrations,
            [
                ("patient_id", pa.int64()),
                ("start_date", pa.date32()),
                ("end_date", pa.date32()),
                ("practice_pseudo_id", pa.int64()),
                ("practice_nuts1_region_name", pa.string()),
            ],
        ),
        "clinical_events": (
            events,
            [("patient_id", pa.int64()), ("date", pa.date32()), ("ctv3_code", pa.string())],
        ),
    }
    for name, (rows, fields) in schemas.items():
        columns = list(zip(*rows)) if rows else [[] for _ in fields]
        table = pa.table(
            {f: pa.array(list(col), t) for (f, t), col in zip(fields, columns)}
        )
        pq.write_table(table, folder / f"{name}.parquet")


def run_cohorts(folder: Path, dates, strategy="preload", codes=CODES):
    out = folder / "out"
    counts = dc.run(folder, out, dates, codes, threads=2, strategy=strategy, out=io.StringIO())
    files = {}
    for date in dates:
        with open(out / f"input_{date.isoformat()}.csv", newline="") as f:
            files[date] = list(csv.reader(f))
    return counts, files


def reference_cohort(patients, registrations, events, date, codes):
    """The rules of the module docstring, one patient at a time."""
    window_end = dc.add_months(date, 1)
    people = {p[0]: p for p in patients}
    active = {}
    for pid, start, end, practice, region in registrations:
        if start <= date and (end is None or end > date):
            key = (start, end or dt.date.max, -practice)
            if pid not in active or key > active[pid][0]:
                active[pid] = (key, region)
    flagged = {pid for pid, day, code in events if code in codes and date <= day <= window_end}
    rows = []
    for pid in sorted(active):
        region = active[pid][1] or ""
        person = people.get(pid)
        age = 0
        if person is not None and person[1] is not None:
            dob = person[1]
            age = date.year - dob.year - ((dob.month, dob.day) > (date.month, date.day))
        band = next(
            (name for name, lo, hi in dc.AGE_BANDS if lo <= age < hi),
            "0",
        )
        sex = (person[2] if person is not None else None) or ""
        rows.append([str(pid), str(int(pid in flagged)), region, str(age), band, sex])
    return rows


class HandComputedCases(unittest.TestCase):
    """Each patient exercises one rule on index date 2020-03-01."""

    DATE = D("2020-03-01")
    PATIENTS = [
        (1, D("1980-03-01"), "F"),  # birthday on d: 40
        (2, D("1980-04-01"), "M"),  # birthday after d: 39
        (3, D("1900-01-01"), "I"),  # 120: default band "0"
        (4, D("2021-01-01"), "U"),  # not yet born: -1, band "0"
        (5, D("2000-01-01"), None),  # no sex
        (6, D("1950-01-01"), "F"),
        (7, D("1950-01-01"), "M"),
        (8, D("1950-01-01"), "M"),
        (9, D("1950-01-01"), "F"),
        (10, D("1940-03-01"), "F"),  # 80 on d: "80+"
        # 11: registered, no patients row: age 0, band "0-19", sex ""
        (12, D("2001-02-01"), "M"),
    ]
    REGISTRATIONS = [
        (1, D("2020-03-01"), None, 1, "London"),  # starts on d: registered
        (2, D("2010-01-01"), D("2020-03-01"), 2, "London"),  # ends on d: not registered
        (2, D("2020-03-02"), None, 3, "London"),  # starts after d: not registered
        (3, D("2010-01-01"), D("2020-03-02"), 4, None),  # ends the day after d; null region
        (4, D("2010-01-01"), None, 5, "North East"),
        (4, D("2015-01-01"), D("2025-01-01"), 6, "North West"),  # latest start wins
        (5, D("2015-01-01"), D("2025-01-01"), 7, "East Midlands"),
        (5, D("2015-01-01"), None, 8, "West Midlands"),  # same start: null end is latest
        (6, D("2015-01-01"), D("2025-01-01"), 9, "London"),
        (6, D("2015-01-01"), D("2025-01-01"), 3, "South East"),  # full tie: lowest practice
        (7, D("2015-01-01"), None, 1, "South West"),
        (8, D("2015-01-01"), None, 1, "South West"),
        (9, D("2015-01-01"), None, 1, "South West"),
        (10, D("2015-01-01"), None, 1, "London"),
        (11, D("2015-01-01"), None, 1, "London"),
        (12, D("2010-01-01"), None, 1, "London"),
        (12, D("2016-01-01"), None, 2, None),  # the winner has no region: ""
    ]
    EVENTS = [
        (1, D("2020-03-01"), "Y2a44"),  # on d: flagged
        (2, D("2020-03-05"), "Y2a44"),  # not registered: no row at all
        (6, D("2020-04-01"), "Y2a48"),  # on d + 1 month: flagged
        (7, D("2020-02-29"), "Y2a44"),  # the day before d: not flagged
        (7, D("2020-04-02"), "Y2a44"),  # the day after d + 1 month: not flagged
        (8, D("2020-03-10"), "y2a44"),  # wrong case: not flagged
        (8, D("2020-03-10"), None),  # null code
        (8, D("2020-03-10"), "XaJqx"),  # another code
        (9, D("2020-03-10"), "Y2a48"),
        (9, D("2020-03-11"), "Y2a44"),  # two matches: still 1
    ]
    EXPECTED = [
        ["patient_id", "had_pulse_ox", "region", "age", "age_band", "sex"],
        ["1", "1", "London", "40", "40-49", "F"],
        ["3", "0", "", "120", "0", "I"],
        ["4", "0", "North West", "-1", "0", "U"],
        ["5", "0", "West Midlands", "20", "20-29", ""],
        ["6", "1", "South East", "70", "70-79", "F"],
        ["7", "0", "South West", "70", "70-79", "M"],
        ["8", "0", "South West", "70", "70-79", "M"],
        ["9", "1", "South West", "70", "70-79", "F"],
        ["10", "0", "London", "80", "80+", "F"],
        ["11", "0", "London", "0", "0-19", ""],
        ["12", "0", "", "19", "0-19", "M"],
    ]

    def check(self, strategy):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_tables(folder, self.PATIENTS, self.REGISTRATIONS, self.EVENTS)
            counts, files = run_cohorts(folder, [self.DATE], strategy)
        self.assertEqual(files[self.DATE], self.EXPECTED)
        self.assertEqual(counts, [(self.DATE, 11)])

    def test_preload(self):
        self.check("preload")

    def test_direct(self):
        self.check("direct")

    def test_reference_agrees_with_hand_computed_rows(self):
        rows = reference_cohort(self.PATIENTS, self.REGISTRATIONS, self.EVENTS, self.DATE, CODES)
        self.assertEqual(rows, self.EXPECTED[1:])

    def test_sorted_by_patient_id_as_integers(self):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            registrations = [(pid, D("2015-01-01"), None, 1, "London") for pid in (100, 9, 20)]
            patients = [(pid, D("2000-01-01"), "F") for pid in (100, 9, 20)]
            write_tables(folder, patients, registrations, [])
            counts, files = run_cohorts(folder, [self.DATE])
        self.assertEqual([row[0] for row in files[self.DATE][1:]], ["9", "20", "100"])
        self.assertEqual(counts, [(self.DATE, 3)])

    def test_no_registered_patients_gives_header_only(self):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_tables(folder, [(1, D("2000-01-01"), "F")], [(1, D("2021-01-01"), None, 1, "London")], [])
            counts, files = run_cohorts(folder, [self.DATE])
        self.assertEqual(files[self.DATE], [self.EXPECTED[0]])
        self.assertEqual(counts, [(self.DATE, 0)])


class AgreesWithReference(unittest.TestCase):
    """Generated tables (make_test_tables.py, full of edge dates): SQL == the Python rules."""

    def test_generated_tables(self):
        dates = dc.parse_index_date_range("2019-01-01 to 2021-01-01 by month")
        codes = dc.read_codelist(dc.DEFAULT_CODELIST)
        for seed in (1, 2):
            tables = make_test_tables.generate(1500, 12, seed)
            patients = list(zip(*(tables["patients"].column(c).to_pylist() for c in ("patient_id", "date_of_birth", "sex"))))
            registrations = list(
                zip(*(tables["practice_registrations"].column(c).to_pylist() for c in dc.TABLE_COLUMNS["practice_registrations"]))
            )
            events = list(zip(*(tables["clinical_events"].column(c).to_pylist() for c in dc.TABLE_COLUMNS["clinical_events"])))
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                make_test_tables.write(tables, folder)
                for strategy in ("preload", "direct"):
                    counts, files = run_cohorts(folder, dates, strategy, codes)
                    flagged_total = 0
                    for date in dates:
                        expected = reference_cohort(patients, registrations, events, date, codes)
                        self.assertEqual(files[date][1:], expected, f"seed {seed}, {strategy}, {date}")
                        flagged = sum(int(row[1]) for row in expected)
                        self.assertIn((date, len(expected)), counts)
                        flagged_total += flagged
                    self.assertGreater(flagged_total, 0, "the generated data flags nobody")


class DatesAndInputs(unittest.TestCase):
    def test_month_range_is_inclusive(self):
        dates = dc.parse_index_date_range("2019-01-01 to 2021-01-01 by month")
        self.assertEqual(len(dates), 25)
        self.assertEqual((dates[0], dates[12], dates[-1]), (D("2019-01-01"), D("2020-01-01"), D("2021-01-01")))

    def test_week_and_single_and_default_period(self):
        self.assertEqual(
            dc.parse_index_date_range("2019-01-01 to 2019-01-15 by week"),
            [D("2019-01-01"), D("2019-01-08"), D("2019-01-15")],
        )
        self.assertEqual(dc.parse_index_date_range("2019-05-03"), [D("2019-05-03")])
        self.assertEqual(len(dc.parse_index_date_range("2019-01-01 to 2019-03-01")), 3)

    def test_bad_ranges(self):
        for text, message in [
            ("2019-01-01 to 2018-01-01", "before"),
            ("2019-01-01 to 2019-03-01 by day", "unknown time period"),
            ("2019-02-30", "not a YYYY-MM-DD date"),
            ("2019-01-31 to 2019-03-31", "no such date"),
        ]:
            with self.assertRaisesRegex(dc.CohortError, message):
                dc.parse_index_date_range(text)

    def test_add_months(self):
        self.assertEqual(dc.add_months(D("2020-12-01"), 1), D("2021-01-01"))
        self.assertEqual(dc.add_months(D("2020-01-15"), 13), D("2021-02-15"))
        with self.assertRaisesRegex(dc.CohortError, "2020-01-31"):
            dc.add_months(D("2020-01-31"), 1)

    def test_codelist(self):
        self.assertEqual(len(dc.read_codelist(dc.DEFAULT_CODELIST)), 12)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "c.csv"
            path.write_text("code,CTV3ID\n1, Y2a44 \n2,\n3,Y2a48\n")
            self.assertEqual(dc.read_codelist(path), ["Y2a44", "Y2a48"])
            path.write_text("code,term\n1,x\n")
            with self.assertRaisesRegex(dc.CohortError, "no column 'CTV3ID'"):
                dc.read_codelist(path)
            with self.assertRaisesRegex(dc.CohortError, "missing.csv"):
                dc.read_codelist(Path(tmp) / "missing.csv")

    def test_missing_table_and_column(self):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_tables(folder, [], [], [])
            (folder / "clinical_events.parquet").unlink()
            with self.assertRaisesRegex(dc.CohortError, "table 'clinical_events'.*does not exist"):
                run_cohorts(folder, [D("2020-01-01")])
            pq.write_table(
                pa.table({"patient_id": pa.array([], pa.int64()), "date": pa.array([], pa.date32())}),
                folder / "clinical_events.parquet",
            )
            with self.assertRaisesRegex(dc.CohortError, "table 'clinical_events': column 'ctv3_code' missing"):
                run_cohorts(folder, [D("2020-01-01")])

    def test_main_reports_errors_without_traceback(self):
        with tempfile.TemporaryDirectory() as tmp:
            stderr = io.StringIO()
            old, sys.stderr = sys.stderr, stderr
            try:
                status = dc.main([str(Path(tmp) / "nowhere"), str(Path(tmp) / "out")])
            finally:
                sys.stderr = old
        self.assertEqual(status, 1)
        self.assertIn("tables folder", stderr.getvalue())


if __name__ == "__main__":
    unittest.main()
