"""The speed benchmarks run and report what the README quotes (tiny sizes: no timing is
checked here; the figures come from running them by hand, see README "Speed")."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if k != "LOYALTYSIM_KERNEL"},  # auto
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_mesa_anchor_runs_as_many_customers_as_the_model_by_default():
    out = run("bench_mesa_anchor.py", "--customers", "3000", "--steps", "2",
              "--anchor-steps", "1", "--repeats", "1")  # fmt: skip
    anchor = re.search(r"mesa_anchor_customer_steps_per_s\s+([\d,]+)\s+\(([\d,]+) agents,", out)
    model = re.search(r"model_customer_steps_per_s\s+([\d,]+)\s+\(([\d,]+) customers\)", out)
    ratio = re.search(r"model_over_anchor\s+([\d.]+)x", out)
    assert anchor and model and ratio, out
    assert anchor.group(2) == model.group(2) == "3,000"
    rates = [float(m.group(1).replace(",", "")) for m in (anchor, model)]
    assert min(rates) > 0
    assert float(ratio.group(1)) == pytest.approx(rates[1] / rates[0], abs=0.06)
    # a pool of 6,000 is below the compiled kernel's threshold: the NumPy rules played it
    assert re.search(r"model_engine\s+NumPy rules \(LOYALTYSIM_KERNEL=", out), out


def test_customer_benchmark_times_both_engines_on_both_markets(tmp_path):
    out = tmp_path / "bench.json"
    run("bench_customers.py", "--customers", "3000", "--steps", "2", "--repeats", "1",
        "--json", str(out))  # fmt: skip
    figures = json.loads(out.read_text())
    for market in ("default", "busy"):
        for engine in ("numba", "numpy"):
            assert figures[f"{market}_{engine}_customer_steps_per_s"] > 0
        assert figures[f"{market}_kernel_over_numpy"] == pytest.approx(
            figures[f"{market}_numba_customer_steps_per_s"]
            / figures[f"{market}_numpy_customer_steps_per_s"]
        )
    assert figures["rules_kernel_customer_steps_per_s"] > 0
    assert figures["people_in_pool"] == 6000 and figures["firms"] == 3
