#!/usr/bin/env bash
# Sets up benchmarks/.venv if needed, then runs compare.py with the given arguments, e.g.
#   benchmarks/compare.sh                 # parts a, b, c; median of 3 runs
#   benchmarks/compare.sh --parts a --runs 5
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
"$here/setup.sh" >&2
exec "$here/.venv/bin/python" "$here/compare.py" "$@"
