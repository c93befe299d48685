#!/usr/bin/env bash
# The whole test suite: sets up (or reuses) .venv, runs pytest, then flake8. Extra arguments go to pytest.
# Fails on any failing test, when no test was collected (pytest exit code 5), and on a style error.
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
if [ "$code" -ne 0 ]; then
  exit "$code"
fi
echo "run_tests: flake8 (style, .flake8)"
"$ROOT/.venv/bin/python" -m flake8 hummingbot extended_emulator scripts test setup.py
