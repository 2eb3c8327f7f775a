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


def test_ensemble_benchmark_reports_its_ratios(tmp_path):
    out = tmp_path / "bench.json"
    text = run("bench_ensemble.py", "--rounds", "2", "--small", "300", "--large", "1200",
               "--warmup", "2", "--weeks", "3", "--customers", "200", "--worlds", "2",
               "--seeds", "1", "--thread-customers", "400", "--thread-weeks", "2",
               "--threads", "2", "--json", str(out))  # fmt: skip
    assert text.count("load average") == 5 and "identical metrics" in text
    figures = json.loads(out.read_text())
    per = figures["per_customer"]
    assert per["small_compiled_over_large"]["median"] > 0
    assert figures["job"]["job_over_simulation"]["median"] > 1  # imports, composing, writing
    ens = figures["ensemble"]
    assert ens["runs"] == 2 * 3 * 1
    for name in ("naive", "run_arms_numpy", "run_arms"):
        s = ens[f"{name}_cpu_s"]
        assert 0 < s["min"] <= s["median"] <= s["max"]
    assert figures["threads"]["threads"] == 2 and figures["threads"]["wall_speedup"]["min"] > 0


def test_agents_benchmark_alternates_the_engines_and_times_cpu(tmp_path):
    out = tmp_path / "bench.json"
    run("bench_agents.py", "--customers", "400", "--steps", "1", "--agent-steps", "2",
        "--json", str(out))  # fmt: skip
    (fig,) = json.loads(out.read_text())
    assert fig["identical_metrics"] == "yes"
    assert fig["load_average_before"] and fig["load_average_after"]
    for clock in ("cpu", "wall"):
        s = fig[f"arrays_over_agents_{clock}"]
        assert 0 < s["min"] <= s["median"] <= s["max"]
    assert fig["agents_customer_steps_per_cpu_s"] > 0


def test_fit_benchmark_reports_the_rows_times_and_phases(tmp_path):
    out = tmp_path / "bench.json"
    text = run("bench_fit.py", "--rows", "5000", "--formats", "parquet", "--json", str(out))
    assert text.count("load average") == 2, text
    line = re.search(r"parquet: (\d+) rows, (\d+) customers: wall ([\d.]+) s, CPU ([\d.]+) s, "
                     r"peak RSS ([\d.]+) GiB; (.*)", text)  # fmt: skip
    assert line, text
    rows, customers = int(line.group(1)), int(line.group(2))
    assert 4000 < rows < 6000 and 0 < customers < rows
    assert float(line.group(3)) > 0 and float(line.group(4)) > 0 and float(line.group(5)) > 0
    for phase in ("read", "summarise", "fit", "holdout", "write"):
        assert re.search(rf"{phase} [\d.]+/[\d.]+/[\d.]+", line.group(6)), text
    fig = json.loads(out.read_text())["parquet"]
    assert fig["rows"] == rows and set(fig["phases"]) >= {"read", "fit", "write"}
    assert all(v > 0 for v in fig["bgnbd"].values())
