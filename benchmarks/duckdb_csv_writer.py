#!/usr/bin/env python3
"""DuckDB's own CSV writing of a folder of cohorts: the baseline of compare.py part w.

Loads every `input_<date>.csv` of INPUT_DIR into a DuckDB table (not timed; the columns of
duckdb_cohorts.py, typed), then each run writes all of them to OUTPUT_DIR with
`COPY table TO 'file' (FORMAT csv, HEADER true)`, one file after another, and times only
that. Prints each run's time and the median, in the form the Rust side
(`xtask bench-csv-writer`) prints them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import duckdb

COLUMNS = {
    "patient_id": "BIGINT",
    "had_pulse_ox": "INTEGER",
    "region": "VARCHAR",
    "age": "BIGINT",
    "age_band": "VARCHAR",
    "sex": "VARCHAR",
}


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input_dir", type=Path)
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    inputs = sorted(args.input_dir.glob("input_*.csv"))
    if not inputs:
        print(f"duckdb_csv_writer: no input_*.csv files in {args.input_dir}", file=sys.stderr)
        return 1
    args.output_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {int(args.threads)}")
    con.execute("SET preserve_insertion_order = true")
    types = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items()) + "}"
    started = time.perf_counter()
    tables = []
    rows = 0
    for i, path in enumerate(inputs):
        name = f"cohort_{i}"
        con.execute(
            f"CREATE TABLE {name} AS SELECT * FROM read_csv({sql_string(str(path))}, header = true, "
            f"columns = {types}, quote = '\"', escape = '\"')"
        )
        rows += con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        tables.append((name, args.output_dir / path.name))
    print(f"duckdb_csv_writer: read {len(inputs)} files, {rows} rows in {time.perf_counter() - started:.2f} s (not timed)")
    times = []
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        for name, out in tables:
            con.execute(f"COPY {name} TO {sql_string(str(out))} (FORMAT csv, HEADER true, DELIMITER ',')")
        seconds = time.perf_counter() - started
        print(f"duckdb_csv_writer: run {run}: {seconds:.3f} s", flush=True)
        times.append(seconds)
    print(f"duckdb_csv_writer: median {statistics.median(times):.3f} s over {args.runs} run(s), {args.threads} threads")
    con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
