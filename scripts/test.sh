#!/usr/bin/env bash
# The whole test suite: set up (first time only), then pytest. Extra arguments go to pytest.
source "$(dirname "$0")/_bootstrap.sh"
exec .venv/bin/python -m pytest -q "$@"
