"""Real Hydra multiruns end to end: the default (local), joblib and basic launchers, collect,
compare, failures, skip-on-rerun. Each sweep runs in a subprocess into a temporary folder.
More on reliability (stale runs, killed workers, locks, corrupt runs) in test_reliability.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loyaltysim.runs.collect import collect
from loyaltysim.runs.sweep import DONE, ERROR, run_id
from loyaltysim.studies.compare import compare, to_markdown, write

TINY = [
    "customers.n=300",
    "market.horizon_weeks=8",
    "output.figure=false",
    "output.customer_table=false",
]


def sweep(
    sweep_dir: Path,
    *overrides: str,
    launcher: str = "local",
    rc: int = 0,
    env: dict | None = None,
    flags: tuple[str, ...] = (),
    tiny: list[str] = TINY,
) -> subprocess.CompletedProcess:
    """Run ``loyaltysim -m`` into ``sweep_dir``; check its exit status."""
    env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
    cmd = [
        sys.executable,
        "-m",
        "loyaltysim",
        *flags,
        "-m",
        *tiny,
        *overrides,
        f"hydra/launcher={launcher}",
        f"hydra.sweep.dir={sweep_dir}",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == rc, proc.stdout + proc.stderr
    return proc


def test_joblib_sweep_collect_and_compare(tmp_path):
    proc = sweep(tmp_path, "firm/programme=none,discount", "seed=0,1,2", launcher="joblib")
    assert "6/6 runs finished (6 done, 0 failed)" in proc.stdout
    runs = sorted(p for p in tmp_path.iterdir() if (p / DONE).exists())
    assert len(runs) == 6

    col = collect(tmp_path)
    assert col.factors == ["firm/programme"]
    assert len(col.runs) == 6 * 8 * 3  # runs x steps x firms
    assert set(col.runs["firm/programme"]) == {"none", "discount"}
    assert sorted(col.runs["seed"].unique()) == [0, 1, 2]
    assert {"run_id", "step", "week", "firm", "profit", "repeat_rate"} <= set(col.runs.columns)
    assert len(col.summary) == 6 * 3
    assert (tmp_path / "collected" / "runs.parquet").is_file()
    assert pd.read_parquet(tmp_path / "collected" / "runs.parquet").shape == col.runs.shape

    cmp = compare(col, baseline="none")
    assert set(cmp.arms["arm"]) == {"none", "discount"}
    assert (cmp.arms.groupby("arm")["n"].first() == 3).all()
    diff = cmp.differences.set_index("metric")
    assert set(cmp.differences["arm"]) == {"discount"} and (diff["n_pairs"] == 3).all()
    # the discount arm pays rebates the baseline does not: a positive cost difference in
    # every pair (3 pairs of tiny markets are too few for a CI that excludes zero), and the
    # paired interval around the mean difference recomputed from the runs
    focal = col.summary[col.summary["firm"] == "focal"].set_index(["firm/programme", "seed"])
    paired = focal.loc["discount", "programme_cost_eur"] - focal.loc["none", "programme_cost_eur"]
    assert (paired > 0).all() and (focal.loc["none", "programme_cost_eur"] == 0).all()
    cost = diff.loc["programme_cost_eur"]
    assert cost["diff"] == pytest.approx(paired.mean())
    half = stats.t.ppf(0.975, 2) * paired.std(ddof=1) / np.sqrt(3)
    assert cost["ci_low"] == pytest.approx(paired.mean() - half)
    # effects as % of the baseline and per 1,000 customers (market of 300), recomputed
    focal = col.summary[col.summary["firm"] == "focal"]
    base = focal[focal["firm/programme"] == "none"]["cumulative_profit_eur"].mean()
    profit = diff.loc["cumulative_profit_eur"]
    assert profit["pct_of_baseline"] == pytest.approx(100 * profit["diff"] / base)
    assert profit["per_1000"] == pytest.approx(profit["diff"] * 1000 / 300)
    assert profit["per_1000_ci_low"] == pytest.approx(profit["ci_low"] * 1000 / 300)
    assert np.isnan(diff.loc["share_end_pct", "per_1000"])  # pp per customer: meaningless
    paths = write(col, cmp, col.factors, tmp_path / "comparison")
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    md = (tmp_path / "comparison" / "comparison.md").read_text()
    # arms named in words, the baseline in bold, money as €1,234
    assert "Δ vs no programme (EUR)" in md and "| discount programme | 3 | €" in md
    assert "| **no programme** | 3 |" in md and not re.search(r"\de-\d", md)


def test_cli_compare_command(tmp_path):
    sweep(tmp_path, "firm.price=5.0,5.5", "seed=0,1")
    proc = subprocess.run(
        [sys.executable, "-m", "loyaltysim.studies.compare", str(tmp_path), "--baseline", "5.0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Δ vs price = 5.0" in proc.stdout
    assert (tmp_path / "comparison" / "report.html").is_file()
    assert (tmp_path / "comparison" / "differences.png").is_file()


def test_failed_run_is_recorded_and_rerun_skips_finished_runs(tmp_path):
    # a test hook makes three runs raise inside the run (an invalid value no longer gets
    # that far: the sweeper refuses the whole sweep before launching, test_bad_input.py)
    broken = run_id([*TINY, "firm.price=5.0", "seed=1"])
    others = [run_id([*TINY, "firm.price=5.5", f"seed={s}"]) for s in (0, 1)]
    hook = {"LOYALTYSIM_TEST_HOOK": "fail:" + ";".join([broken, *others])}
    proc = sweep(tmp_path, "firm.price=5.0,5.5", "seed=0,1", rc=1, env=hook)
    assert "finished: 1 done, 3 failed" in proc.stdout
    done = [p for p in tmp_path.iterdir() if (p / DONE).exists()]
    failed = [p for p in tmp_path.iterdir() if (p / ERROR).exists()]
    assert len(done) == 1 and len(failed) == 3
    errors = {p.name: json.loads((p / ERROR).read_text()) for p in failed}
    assert {e["error"] for e in errors.values()} == {"RuntimeError"}
    assert "this run fails" in errors[others[0]]["message"]
    assert errors[others[0]]["config"]["firm"]["price"] == 5.5
    assert any(o.startswith("seed=") for o in errors[others[0]]["overrides"])

    finished = done[0]
    before = {f: f.stat().st_mtime_ns for f in finished.rglob("*")}
    hook = {"LOYALTYSIM_TEST_HOOK": "fail:" + ";".join(others)}
    proc = sweep(tmp_path, "firm.price=5.0,5.5", "seed=0,1", rc=1, env=hook)
    after = {f: f.stat().st_mtime_ns for f in finished.rglob("*")}
    assert after == before, "a finished run was touched (.hydra/ included)"
    assert (tmp_path / broken / DONE).exists() and not (tmp_path / broken / ERROR).exists()
    assert "1 runs already finished" in proc.stdout
    # the failed attempt is kept, whole, beside the sweep
    kept = list((tmp_path / "superseded").glob(f"{broken}.failed-*"))
    assert len(kept) == 1 and (kept[0] / ERROR).is_file()

    col = collect(tmp_path)
    assert col.runs["run_id"].nunique() == 2 and len(col.failures) == 2
    assert set(col.failures["error"]) == {"RuntimeError"}


def test_basic_launcher_still_works(tmp_path):
    proc = sweep(tmp_path, "seed=0,1", launcher="basic")
    assert "2 done, 0 failed" in proc.stdout
    assert len([p for p in tmp_path.iterdir() if (p / DONE).exists()]) == 2


def test_sweep_draws_figures_only_when_asked(tmp_path):
    # output.figure: null (the default) draws none in a sweep; true draws one per run
    tiny = [o for o in TINY if not o.startswith("output.figure")]
    sweep(tmp_path, "output.figure=null,true", tiny=tiny)
    null, true = (tmp_path / run_id([*tiny, f"output.figure={v}"]) for v in ("null", "true"))
    assert (null / DONE).is_file() and not (null / "figure.png").exists()
    assert (true / DONE).is_file() and (true / "figure.png").is_file()


def test_run_ids_are_stable_readable_and_safe():
    a = run_id(["seed=1", "firm/programme=discount"])
    assert a == run_id(["firm/programme=discount", "seed=1"]) == "firm+programme=discount,seed=1"
    long = run_id([f"customers.segments.quiet.share=0.{i}" for i in range(30)])
    assert len(long) <= 120 and "/" not in long
    assert run_id([]) == "default"


@pytest.mark.parametrize("n_pairs", [3])
def test_markdown_reports_units(tmp_path, n_pairs):
    sweep(tmp_path, "firm/programme=none,engagement", f"seed=range(0,{n_pairs})")
    md = to_markdown(compare(collect(tmp_path), baseline="none"))
    for unit in ("(EUR)", "(%)", "(pp)", "(%/year)", "Payback"):
        assert unit in md


def test_a_jobs_file_sweeps_several_grids_as_one_with_the_folders_of_each(tmp_path):
    """``hydra.sweeper.jobs``: each command line expands as its own ``-m`` would (the same
    run folders as two sweeps), all launched together; a bad file is one line, exit 2."""
    listing = tmp_path / "jobs.yaml"
    listing.write_text('- ["firm/programme=discount", "seed=0,1"]\n- ["seed=2"]\n')
    proc = sweep(tmp_path / "one", f"hydra.sweeper.jobs={listing}")
    assert "3/3 runs finished (3 done, 0 failed)" in proc.stdout
    sweep(tmp_path / "a", "firm/programme=discount", "seed=0,1")
    sweep(tmp_path / "b", "seed=2")
    expected = [[run_id([*TINY, "firm/programme=discount", f"seed={s}"]) for s in (0, 1)]]
    expected.append([run_id([*TINY, "seed=2"])])
    meta = json.loads((tmp_path / "one" / "sweep.json").read_text())
    assert meta["groups"] == expected
    for name, other in [*zip(expected[0], ["a", "a"], strict=True), (expected[1][0], "b")]:
        one = (tmp_path / "one" / name / "metrics.csv").read_bytes()
        assert one == (tmp_path / other / name / "metrics.csv").read_bytes()
    again = sweep(tmp_path / "one", f"hydra.sweeper.jobs={listing}")
    assert "3 runs already finished" in again.stdout
    listing.write_text("seed: 1\n")
    bad = sweep(tmp_path / "bad", f"hydra.sweeper.jobs={listing}", rc=2)
    assert "hydra.sweeper.jobs" in bad.stderr and "Traceback" not in bad.stderr
