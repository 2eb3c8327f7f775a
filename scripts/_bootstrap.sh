# Sourced by scripts/run.sh and scripts/test.sh: make .venv with the project installed.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else 1)'; then
    echo "loyaltysim needs Python 3.11-3.13; found: $("$PY" --version 2>&1). Set PYTHON=..." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
STAMP=.venv/.loyaltysim-installed
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    # the app, notebook, sensitivity, CLV, Ray and Slurm extras: their tests run in CI too
    .venv/bin/python -m pip install --quiet -e ".[test,app,notebooks,sensitivity,clv,ray,slurm]"
    echo "$WANT" > "$STAMP"
fi
export MPLBACKEND=Agg
