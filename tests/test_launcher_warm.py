"""Sweeps whose jobs share a warm-up (:mod:`loyaltysim.runs.warmpool`): the default launcher
plays each world and seed's warm-up once and forks the jobs from it. The run folders must be
the same, byte for byte in their tables, as when every job plays its own
(``hydra.launcher.share_warmups=false``); a killed job of a shared group is still recorded
as that run's failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd

from loyaltysim.runs import warmpool
from loyaltysim.runs.runner import load_config
from loyaltysim.runs.sweep import DONE, ERROR, run_id
from test_sweep import sweep

SMALL = ["customers.n=300", "market.horizon_weeks=6", "market.warmup_weeks=4",
         "output.figure=false"]  # fmt: skip
# two worlds (the second's price sensitivity changes its warm-up) x 2 seeds x 3 arms
GRID = ("firm/programme=none,discount,engagement", "seed=1,2",
        "customers.price_sensitivity_median=0.8,1.2")  # fmt: skip


def _runs(folder):
    return sorted(p for p in folder.iterdir() if (p / DONE).is_file())


def test_groups_by_warmup_key_in_order_of_first_job():
    a = load_config(["firm/programme=none"], seed=1)
    b = load_config(["firm/programme=discount"], seed=1)  # same warm-up as a
    c = load_config(["firm/programme=none"], seed=2)  # another seed: another warm-up
    assert warmpool.groups([a, c, None, b, c]) == [[0, 3], [1, 4], [2]]


def test_shared_warmups_give_the_runs_of_unshared_ones(tmp_path):
    shared, own = tmp_path / "shared", tmp_path / "own"
    sweep(shared, *GRID, tiny=SMALL)
    sweep(own, *GRID, "hydra.launcher.share_warmups=false", tiny=SMALL)
    runs = _runs(shared)
    assert len(runs) == 12 and [p.name for p in runs] == [p.name for p in _runs(own)]
    for run in runs:
        other = own / run.name
        for table in ("metrics.csv", "summary.csv"):
            assert (run / table).read_bytes() == (other / table).read_bytes(), (run, table)
        assert pd.read_parquet(run / "customers.parquet").equals(
            pd.read_parquet(other / "customers.parquet")
        )
        # the shared sweep's jobs did start from the warm-up played in the sweep process
        assert json.loads((run / "manifest.json").read_text())["shared_warmup"] is True
        assert json.loads((other / "manifest.json").read_text())["shared_warmup"] is False
    # and the worlds differ (in their customers): a warm-up shared across them would show
    a, b = (pd.read_parquet(shared / run_id([*SMALL, "firm/programme=none", "seed=1",
            f"customers.price_sensitivity_median={m}"]) / "customers.parquet")
            for m in ("0.8", "1.2"))  # fmt: skip
    assert not a.equals(b)


def test_a_killed_job_of_a_shared_group_is_recorded_and_the_others_finish(tmp_path):
    grid = ("firm/programme=none,discount,engagement", "seed=1")
    killed = run_id([*SMALL, "firm/programme=discount", "seed=1"])
    proc = sweep(tmp_path, *grid, tiny=SMALL, rc=1, env={"LOYALTYSIM_TEST_HOOK": f"kill:{killed}"})
    assert "finished: 2 done, 1 failed" in proc.stdout, proc.stdout + proc.stderr
    error = json.loads((tmp_path / killed / ERROR).read_text())
    assert error["error"] == "WorkerKilled" and error["signal"] == "SIGKILL"
    assert len(_runs(tmp_path)) == 2


def _preload_in_a_fresh_process(overrides: list[str]) -> list[str]:
    code = (
        "from loyaltysim.runs import warmpool\n"
        "from loyaltysim.runs.runner import load_config\n"
        "from loyaltysim.engines import engine\n"
        f"cfg = load_config({overrides!r}, seed=1)\n"
        "n = len(cfg.firm_params())\n"
        "before = engine.use_kernel(n, 3000)\n"
        "warmpool.preload([cfg] * (engine.AUTO_MIN_POOL // 3000 + 1))\n"
        "print(before, engine.use_kernel(n, 3000))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "LOYALTYSIM_KERNEL"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    return out.stdout.split() or [out.stderr]


def test_preload_of_a_programme_that_starts_late_loads_the_loops():
    # the calibration's late-start arms (start_week=26 of 156): the tiny market must keep a
    # horizon its programme fits in, and no preload failure may fail the sweep
    late = ["customers.n=3000", "firm/programme=discount", "firm.programme.start_week=26"]
    assert _preload_in_a_fresh_process(late) == ["False", "True"]


def test_preload_loads_the_compiled_loops_for_small_jobs_in_a_fresh_process():
    # in a fresh process (this one may hold the loops already): before, auto picks the NumPy
    # rules for 3,000 people; after preloading for jobs that total AUTO_MIN_POOL, the loops
    code = (
        "from loyaltysim.runs import warmpool\n"
        "from loyaltysim.runs.runner import load_config\n"
        "from loyaltysim.engines import engine\n"
        "cfg = load_config(['customers.n=3000'], seed=1)\n"
        "n = len(cfg.firm_params())\n"
        "before = engine.use_kernel(n, 3000)\n"
        "warmpool.preload([cfg] * (engine.AUTO_MIN_POOL // 3000 + 1))\n"
        "print(before, engine.use_kernel(n, 3000))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "LOYALTYSIM_KERNEL"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.split() == ["False", "True"], out.stdout + out.stderr
