#!/usr/bin/env bash
# Create benchmarks/.venv with cohortextractor 1.93.3 (from PyPI) and DuckDB. Idempotent:
# re-running only installs what is missing or at the wrong version.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv with $($python --version 2>&1)"
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" -c "$here/constraints.txt"

# Fail loudly if the environment cannot import what the benchmarks use.
"$venv/bin/python" - <<'PY'
import importlib.metadata as md
import cohortextractor, duckdb, numpy, pandas, scipy  # noqa: F401
from cohortextractor import patients, StudyDefinition, Measure, codelist_from_csv  # noqa: F401
for name in ["opensafely-cohort-extractor", "pandas", "numpy", "scipy", "pyarrow",
             "matplotlib", "seaborn", "duckdb"]:
    print(f"setup: {name}=={md.version(name)}")
PY
echo "setup: ok ($venv)"
