#!/usr/bin/env bash
# The whole test suite: set up (first time only), then pytest. Extra arguments go to pytest.
source "$(dirname "$0")/_bootstrap.sh"
# The app's browser test drives Debian's chromium (never a downloaded browser build). Install
# it where it is missing and we may (root with apt, as in CI); elsewhere that test skips.
if ! command -v chromedriver >/dev/null 2>&1 && [ "${LOYALTYSIM_NO_BROWSER:-0}" != 1 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium and chromium-driver for the browser test (apt-get)" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            chromium chromium-driver >/dev/null) \
            || echo "could not install chromium: the browser test will skip" >&2
    fi
fi
exec .venv/bin/python -m pytest -q "$@"
