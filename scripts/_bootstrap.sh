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
# Every step says what it does on stderr (stdout is the job's own output): the first
# install takes about two minutes, which a silent terminal makes look like a hang.
say() { echo "loyaltysim set-up: $*" >&2; }
progress() { grep -E --line-buffered '^(Collecting|Installing|Successfully)' >&2 || true; }
if [ ! -x .venv/bin/python ]; then
    say "creating .venv with $("$PY" --version 2>&1) ($PY)"
    "$PY" -m venv .venv
fi
STAMP=.venv/.loyaltysim-installed
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    say "upgrading pip in .venv"
    .venv/bin/python -m pip install --quiet --upgrade pip
    # the app, notebook, docs, sensitivity, CLV, Ray, Slurm and optimise extras: their tests
    # run in CI
    EXTRAS="test,app,notebooks,docs,sensitivity,clv,ray,slurm,optimise"
    say "installing loyaltysim and its extras ($EXTRAS; about 2 minutes, once) ..."
    # pip's progress bars fill a CI log; its one line per package shows it is moving. pip's
    # errors go to stderr, unfiltered; pipefail makes pip's status the pipeline's.
    if ! .venv/bin/python -m pip install --progress-bar off -e ".[$EXTRAS]" | progress; then
        say "installing failed (pip's errors are above)"
        exit 1
    fi
    echo "$WANT" > "$STAMP"
    say "done; later calls reuse .venv (until pyproject.toml changes)"
fi
export MPLBACKEND=Agg
