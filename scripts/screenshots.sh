#!/usr/bin/env bash
# Regenerate the docs screenshots in docs/: the live app (through its browser test) and
# one scenario report (loyaltysim-ask, small market, rendered by headless chromium).
#   bash scripts/screenshots.sh     (python scripts/figures.py --browser runs it too)
source "$(dirname "$0")/_bootstrap.sh"
LOYALTYSIM_SCREENSHOTS=docs .venv/bin/python -m pytest -q tests/test_app.py -k browser
.venv/bin/loyaltysim-ask scenario=replace_rebate_with_thanks seeds=5 customers.n=1500 \
    out=outputs/screenshots/ask
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1500 \
    --screenshot="$PWD/docs/report.png" "file://$PWD/outputs/screenshots/ask/answer/report.html"
echo "written: docs/app.png docs/report.png"
