#!/usr/bin/env bash
# Creates (or reuses) the local virtual environment .venv with everything the connector, its tests and the
# main job need: pinned dependencies, Hummingbot 20260922 built from its PyPI sdist, and the working tree's
# connector linked into the installed Hummingbot package (so edits need no reinstall). Idempotent: a second
# run with nothing changed does nothing but check.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${EXTENDED_VENV:-$ROOT/.venv}"
HUMMINGBOT_VERSION="20260922"

log() { printf '[setup] %s\n' "$*" >&2; }

pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  log "Python 3.11 is required (set PYTHON=/path/to/python3.11)"; return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  PY="$(pick_python)"
  log "creating virtual environment $VENV with $PY"
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

REQ_HASH="$(cat "$ROOT/requirements.txt" | sha256sum | cut -d' ' -f1)"
STAMP="$VENV/.requirements.sha256"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$REQ_HASH" ]; then
  log "installing pinned dependencies (requirements.txt)"
  # This machine's pip may list extra local indexes that do not exist; their warnings are noise.
  "${PIP[@]}" install -q -r "$ROOT/requirements.txt" 2>&1 | { grep -v "^WARNING: Location" || true; } >&2
  echo "$REQ_HASH" > "$STAMP"
else
  log "dependencies up to date"
fi

installed_hb="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("hummingbot"))' 2>/dev/null || true)"
if [ "$installed_hb" != "$HUMMINGBOT_VERSION" ]; then
  log "building hummingbot==$HUMMINGBOT_VERSION from its sdist (about a minute: each Cython module is listed as it is translated, then as it is compiled)"
  CFG="$(mktemp)"
  printf '[build_ext]\nparallel = 2\n' > "$CFG"
  # -v shows the build's own output; keep only the lines that show progress.
  WITHOUT_CYTHON_OPTIMIZATIONS=1 DIST_EXTRA_CONFIG="$CFG" \
    "${PIP[@]}" install -v --no-deps "hummingbot==$HUMMINGBOT_VERSION" 2>&1 |
    awk '/Cythonizing|building .* extension|Successfully installed|^ *(error|ERROR)[: ]/ { n++; printf "[setup]   %4d %s\n", n, substr($0, 1, 140); fflush() }'
  rm -f "$CFG"
  "$VENV/bin/python" -c 'import hummingbot' || { log "hummingbot build failed"; exit 1; }
else
  log "hummingbot $HUMMINGBOT_VERSION already installed"
fi

"$VENV/bin/python" "$ROOT/scripts/dev_link.py" >&2
