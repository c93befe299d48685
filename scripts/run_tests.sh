#!/usr/bin/env bash
# The whole test suite: sets up (or reuses) .venv, then runs pytest. Extra arguments go to pytest.
# Fails on any failing test and when no test was collected (pytest exit code 5).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
set +e
"$ROOT/.venv/bin/python" -m pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "run_tests: no tests were collected - failing" >&2
  exit 1
fi
exit "$code"
