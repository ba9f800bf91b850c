#!/usr/bin/env python3
"""The pulse oximetry study's monthly cohorts, computed with hand-written SQL in DuckDB.

The baseline for benchmark (c): reads a folder of Parquet tables (the contract in
the README's "Data: dummy or real": patients, practice_registrations, clinical_events) and writes one
`input_<YYYY-MM-DD>.csv` per index date with the columns of our `generate_cohort` database mode:
patient_id, had_pulse_ox, region, age, age_band, sex; rows = patients registered on the index
date, sorted by patient_id. Prints `date,rows` per date on stdout.

Strategy (`--strategy`):
  preload (default)  load patients and practice_registrations into DuckDB tables, and the
                     clinical_events rows whose ctv3_code is in the codelist (patient_id, date)
                     into a third; then one query per index date over those tables.
  direct             one query per index date straight over the Parquet files (every date
                     re-reads clinical_events).

Semantics (cohortextractor's TPP backend, as this project's study definitions specify them):
  population    a registration with start_date <= d and (end_date null or end_date > d)
  had_pulse_ox  1 if any clinical_events row has ctv3_code in the codelist (exact,
                case-sensitive) and d <= date <= d + 1 month, else 0
  region        practice_nuts1_region_name of the registration active on d with the latest
                start_date, then latest end_date (null = latest), then lowest
                practice_pseudo_id; '' when null
  age           completed years from date_of_birth to d; 0 when unknown
  age_band      "0-19" ... "70-79" for 10-year bands, "80+" for 80 <= age < 120, else "0"
  sex           as stored; '' when unknown
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
import time
from pathlib import Path

import duckdb

TABLE_COLUMNS = {
    "patients": ["patient_id", "date_of_birth", "sex"],
    "practice_registrations": [
        "patient_id",
        "start_date",
        "end_date",
        "practice_pseudo_id",
        "practice_nuts1_region_name",
    ],
    "clinical_events": ["patient_id", "date", "ctv3_code"],
}

AGE_BANDS = [
    ("0-19", 0, 20),
    ("20-29", 20, 30),
    ("30-39", 30, 40),
    ("40-49", 40, 50),
    ("50-59", 50, 60),
    ("60-69", 60, 70),
    ("70-79", 70, 80),
    ("80+", 80, 120),
]

OUTPUT_COLUMNS = ["patient_id", "had_pulse_ox", "region", "age", "age_band", "sex"]

DEFAULT_RANGE = "2019-01-01 to 2021-01-01 by month"
DEFAULT_CODELIST = Path(__file__).resolve().parent / "original_study/codelists/opensafely-pulse-oximetry.csv"


class CohortError(Exception):
    """A user-facing error: bad arguments, a missing table or column, a malformed codelist."""


def add_months(date: dt.date, months: int) -> dt.date:
    """cohortextractor's month arithmetic: keeps the day of month; a day that does not exist
    (31 February) is an error, not a clamp."""
    zero_based = date.month - 1 + months
    try:
        return date.replace(year=date.year + zero_based // 12, month=zero_based % 12 + 1)
    except ValueError:
        raise CohortError(f"no such date: {date.isoformat()} + {months} month(s)") from None


def parse_index_date_range(text: str) -> list[dt.date]:
    """`DATE`, `DATE to DATE` or `DATE to DATE by week|month`; inclusive, ascending."""

    def parse_date(part: str) -> dt.date:
        part = part.strip()
        try:
            return dt.date.fromisoformat(part)
        except ValueError:
            raise CohortError(f"--index-date-range: {part!r} is not a YYYY-MM-DD date") from None

    if " to " not in text:
        return [parse_date(text)]
    start_text, rest = text.split(" to ", 1)
    end_text, period = rest.split(" by ", 1) if " by " in rest else (rest, "month")
    start, end = parse_date(start_text), parse_date(end_text)
    period = period.strip()
    if period not in ("week", "month"):
        raise CohortError(f"--index-date-range: unknown time period {period!r} (week or month)")
    if end < start:
        raise CohortError(f"--index-date-range: {end} is before {start}")
    dates, date, steps = [], start, 0
    while date <= end:
        dates.append(date)
        steps += 1
        date = start + dt.timedelta(days=7 * steps) if period == "week" else add_months(start, steps)
    return dates


def read_codelist(path: Path, column: str = "CTV3ID") -> list[str]:
    """The codes in `column` of a codelist CSV, stripped, blanks skipped (codelist_from_csv)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or column not in reader.fieldnames:
                raise CohortError(f"{path}: no column {column!r} (columns: {reader.fieldnames})")
            codes = sorted({row[column].strip() for row in reader if (row[column] or "").strip()})
    except OSError as err:
        raise CohortError(f"{path}: {err.strerror}") from None
    if not codes:
        raise CohortError(f"{path}: column {column!r} holds no codes")
    return codes


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def table_path(tables: Path, table: str) -> Path:
    path = tables / f"{table}.parquet"
    if not path.is_file():
        raise CohortError(f"table {table!r}: {path} does not exist")
    return path


def check_columns(con: duckdb.DuckDBPyConnection, tables: Path) -> dict[str, str]:
    """`read_parquet(...)` expressions per table, after checking the contract's columns exist."""
    sources = {}
    for table, columns in TABLE_COLUMNS.items():
        path = table_path(tables, table)
        source = f"read_parquet({sql_string(str(path))})"
        have = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        for column in columns:
            if column not in have:
                raise CohortError(f"table {table!r}: column {column!r} missing in {path}")
        sources[table] = source
    return sources


def age_band_sql(age: str) -> str:
    whens = " ".join(
        f"WHEN {age} >= {lo} AND {age} < {hi} THEN '{band}'" for band, lo, hi in AGE_BANDS
    )
    return f"CASE {whens} ELSE '0' END"


def cohort_sql(date: dt.date, registrations: str, patients: str, coded_events: str) -> str:
    """The cohort on `date`. `coded_events` yields (patient_id, date) of codelist events."""
    d = f"DATE '{date.isoformat()}'"
    window_end = f"DATE '{add_months(date, 1).isoformat()}'"
    age = (
        f"COALESCE(year({d}) - year(p.date_of_birth)"
        f" - CASE WHEN month(p.date_of_birth) > month({d})"
        f" OR (month(p.date_of_birth) = month({d}) AND day(p.date_of_birth) > day({d}))"
        f" THEN 1 ELSE 0 END, 0)"
    )
    return f"""
WITH population AS (
    -- arg_max_null, unlike arg_max, keeps a null region when that registration wins.
    SELECT patient_id,
           COALESCE(arg_max_null(
               practice_nuts1_region_name,
               (start_date, COALESCE(end_date, DATE '9999-12-31'), -practice_pseudo_id)
           ), '') AS region
    FROM {registrations}
    WHERE start_date <= {d} AND (end_date IS NULL OR end_date > {d})
    GROUP BY patient_id
),
flagged AS (
    SELECT DISTINCT patient_id FROM {coded_events}
    WHERE date >= {d} AND date <= {window_end}
),
cohort AS (
    SELECT pop.patient_id,
           CAST(f.patient_id IS NOT NULL AS INTEGER) AS had_pulse_ox,
           pop.region,
           {age} AS age,
           COALESCE(p.sex, '') AS sex
    FROM population pop
    LEFT JOIN flagged f ON f.patient_id = pop.patient_id
    LEFT JOIN {patients} p ON p.patient_id = pop.patient_id
)
SELECT patient_id, had_pulse_ox, region, age, {age_band_sql('age')} AS age_band, sex
FROM cohort
ORDER BY patient_id
"""


def prepare(con: duckdb.DuckDBPyConnection, tables: Path, codes: list[str], strategy: str):
    """Returns (registrations, patients, coded_events) relation names for `cohort_sql`."""
    sources = check_columns(con, tables)
    con.execute("CREATE TEMP TABLE codelist (code VARCHAR)")
    con.executemany("INSERT INTO codelist VALUES (?)", [[c] for c in codes])
    events_sql = (
        f"SELECT patient_id, date FROM {sources['clinical_events']}"
        " WHERE ctv3_code IN (SELECT code FROM codelist)"
    )
    if strategy == "direct":
        return sources["practice_registrations"], sources["patients"], f"({events_sql})"
    cols = ", ".join(TABLE_COLUMNS["practice_registrations"])
    con.execute(
        f"CREATE TEMP TABLE registrations AS SELECT {cols} FROM {sources['practice_registrations']}"
    )
    con.execute(
        "CREATE TEMP TABLE patients AS SELECT patient_id, date_of_birth, sex"
        f" FROM {sources['patients']}"
    )
    con.execute(f"CREATE TEMP TABLE coded_events AS {events_sql}")
    return "registrations", "patients", "coded_events"


def write_cohort(con, sql: str, path: Path) -> int:
    """Writes the query's rows to `path` (via a temporary name); returns the row count."""
    tmp = path.with_name(f".{path.name}.tmp")
    (rows,) = con.execute(
        f"COPY ({sql}) TO {sql_string(str(tmp))} (FORMAT csv, HEADER true, DELIMITER ',')"
    ).fetchone()
    os.replace(tmp, path)
    return int(rows)


def run(
    tables: Path,
    output_dir: Path,
    dates: list[dt.date],
    codes: list[str],
    threads: int = 2,
    strategy: str = "preload",
    out=sys.stdout,
) -> list[tuple[dt.date, int]]:
    """Computes and writes every cohort; returns (date, rows) per date."""
    if not tables.is_dir():
        raise CohortError(f"tables folder {tables} does not exist")
    output_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = true")
        relations = prepare(con, tables, codes, strategy)
        results = []
        print("date,rows", file=out)
        for date in dates:
            rows = write_cohort(
                con, cohort_sql(date, *relations), output_dir / f"input_{date.isoformat()}.csv"
            )
            results.append((date, rows))
            print(f"{date.isoformat()},{rows}", file=out, flush=True)
        return results
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tables", type=Path, help="folder with patients.parquet, practice_registrations.parquet, clinical_events.parquet")
    parser.add_argument("output_dir", type=Path, help="where input_<date>.csv files are written")
    parser.add_argument("--index-date-range", default=DEFAULT_RANGE)
    parser.add_argument("--codelist", type=Path, default=DEFAULT_CODELIST, help="codelist CSV (codes in CTV3ID)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--strategy", choices=["preload", "direct"], default="preload")
    args = parser.parse_args(argv)
    try:
        dates = parse_index_date_range(args.index_date_range)
        codes = read_codelist(args.codelist)
        started = time.perf_counter()
        run(args.tables, args.output_dir, dates, codes, args.threads, args.strategy)
        print(f"duckdb_cohorts: {len(dates)} cohorts in {time.perf_counter() - started:.2f}s", file=sys.stderr)
    except (CohortError, duckdb.Error) as err:
        print(f"duckdb_cohorts: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
