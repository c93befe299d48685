#!/usr/bin/env bash
# The main job: sets up (or reuses) .venv, then runs a Hummingbot V2 strategy through the Extended connector
# against the local Extended emulator (no keys, no internet). Extra arguments go to scripts/run_main_job.py.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" "$ROOT/scripts/run_main_job.py" "$@"
