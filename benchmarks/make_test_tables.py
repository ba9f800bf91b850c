#!/usr/bin/env python3
"""A small, seeded EHR table folder (the tables of the README's "Data: dummy or real") for testing the DuckDB SQL.

NOT the benchmark data set (that comes from `cargo xtask generate-ehr`). It deliberately puts
many rows on the edges the cohort rules care about: registrations that start or end exactly on
an index date, overlapping registrations with equal start dates, open-ended registrations,
null regions, events exactly on d and on d + 1 month, codes in the wrong case, null codes.

    make_test_tables.py OUTPUT_DIR [--patients 10000] [--events-per-patient 30] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REGIONS = [
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
]
PULSE_OX = ["Y2a44", "Y2a45", "Y2a46", "Y2a47", "Y2a48", "Y2a49", "Y2a4a", "Y2a4b", "Y2b97", "Y2b98", "Y2b99", "YA796"]
BACKGROUND = ["XaJqx", "Xa7wI", "22K..", "246..", "44P..", "X77WQ", "XE0Uc", "1371.", "y2a48", "Y2A44"]
EPOCH = np.datetime64("1970-01-01", "D")


def month_starts(first: str, last: str) -> np.ndarray:
    return np.arange(np.datetime64(first, "M"), np.datetime64(last, "M") + 1).astype("datetime64[D]")


def generate(patients: int, events_per_patient: float, seed: int) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    n = patients
    ids = rng.choice(np.arange(1, 10 * n + 1), size=n, replace=False)  # unsorted, with gaps

    # patients: date of birth on the 1st of a month, 1905..2021 (a few aged >= 110 or unborn).
    births = month_starts("1905-01", "2021-06")
    dob = rng.choice(births, size=n)
    sex = rng.choice(np.array(["M", "F", "I", "U"]), size=n, p=[0.49, 0.49, 0.01, 0.01])
    sex_null = rng.random(n) < 0.005
    death = np.where(rng.random(n) < 0.02, rng.choice(month_starts("2018-01", "2021-12"), size=n), np.datetime64("NaT"))
    patients_table = pa.table(
        {
            "patient_id": pa.array(ids, pa.int64()),
            "date_of_birth": pa.array(dob.astype("datetime64[D]"), pa.date32()),
            "sex": pa.array(np.where(sex_null, None, sex).tolist(), pa.string()),
            "date_of_death": pa.array(death.astype("datetime64[D]"), pa.date32()),
        }
    )

    # practice_registrations: 1-4 per patient; starts anywhere 2015..2021, a third of them on a
    # month start (an index date); ends null, or on a month start, or any day; some overlap.
    practices = 300
    practice_region = rng.choice(len(REGIONS), size=practices)
    counts = rng.choice([1, 2, 3, 4], size=n, p=[0.55, 0.3, 0.1, 0.05])
    reg_patient = np.repeat(ids, counts)
    m = len(reg_patient)
    any_day = np.arange(np.datetime64("2015-01-01"), np.datetime64("2021-06-30"))
    index_days = month_starts("2018-06", "2021-03")
    start = np.where(rng.random(m) < 0.35, rng.choice(index_days, size=m), rng.choice(any_day, size=m))
    length = rng.integers(0, 2000, size=m).astype("timedelta64[D]")
    end = np.where(rng.random(m) < 0.3, rng.choice(index_days, size=m), start + length)
    end = np.where(end < start, start + length, end)
    end = np.where(rng.random(m) < 0.4, np.datetime64("NaT"), end)
    # Duplicate starts within a patient for the tie-break rules: copy the previous row's start.
    same_start = (rng.random(m) < 0.1) & np.r_[False, reg_patient[1:] == reg_patient[:-1]]
    start = np.where(same_start, np.r_[start[:1], start[:-1]], start)
    end = np.where(same_start & (end < start), np.datetime64("NaT"), end)
    practice = rng.integers(0, practices, size=m)
    region = np.array(REGIONS, dtype=object)[practice_region[practice]]
    region = np.where(rng.random(m) < 0.02, None, region)
    registrations_table = pa.table(
        {
            "patient_id": pa.array(reg_patient, pa.int64()),
            "start_date": pa.array(start.astype("datetime64[D]"), pa.date32()),
            "end_date": pa.array(end.astype("datetime64[D]"), pa.date32()),
            "practice_pseudo_id": pa.array(practice + 1, pa.int64()),
            "practice_nuts1_region_name": pa.array(region.tolist(), pa.string()),
            "practice_stp": pa.array([f"E540000{p % 42:02d}" for p in practice], pa.string()),
        }
    )

    # clinical_events: Poisson(events_per_patient) per patient, 2018-06..2021-03, 20% on a
    # month start; pulse oximetry codes rare before mid-2020 and common after.
    k = rng.poisson(events_per_patient, size=n)
    ev_patient = np.repeat(ids, k)
    e = len(ev_patient)
    days = np.arange(np.datetime64("2018-06-01"), np.datetime64("2021-03-01"))
    ev_date = np.where(rng.random(e) < 0.2, rng.choice(index_days, size=e), rng.choice(days, size=e))
    p_pulse = np.where(ev_date >= np.datetime64("2020-06-01"), 0.08, 0.003)
    is_pulse = rng.random(e) < p_pulse
    code = np.where(is_pulse, rng.choice(PULSE_OX, size=e), rng.choice(BACKGROUND, size=e)).astype(object)
    code = np.where(rng.random(e) < 0.01, None, code)
    value = np.where(rng.random(e) < 0.3, np.round(rng.normal(95, 3, size=e), 1), np.nan)
    events_table = pa.table(
        {
            "patient_id": pa.array(ev_patient, pa.int64()),
            "date": pa.array(ev_date.astype("datetime64[D]"), pa.date32()),
            "ctv3_code": pa.array(code.tolist(), pa.string()),
            "snomedct_code": pa.array([None] * e, pa.string()),
            "numeric_value": pa.array(value, pa.float64(), from_pandas=True),
        }
    )
    return {
        "patients": patients_table,
        "practice_registrations": registrations_table,
        "clinical_events": events_table,
    }


def write(tables: dict[str, pa.Table], output_dir: Path) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        tmp = output_dir / f".{name}.parquet.tmp"
        pq.write_table(table, tmp)
        tmp.replace(output_dir / f"{name}.parquet")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--events-per-patient", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.patients < 1:
        parser.error("--patients must be at least 1")
    tables = generate(args.patients, args.events_per_patient, args.seed)
    write(tables, args.output_dir)
    for name, table in tables.items():
        print(f"{name}: {table.num_rows} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
