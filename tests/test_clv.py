"""The CLV recipe in one call: a run's, a sweep's or a DataFrame's transaction log as the
RFM summary CLV libraries fit (weeks, observation period ending with the last simulated
week), and the log itself with ``date`` as datetime64[ns]."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from loyaltysim import load_config, rfm_summary, run_one, transactions
from loyaltysim.runs.collect import UsageError

START = "2025-01-06"  # a Monday: model weeks and pandas' weeks coincide


def _log(rows: list[tuple[int, int, str, float]]) -> pd.DataFrame:
    """A log of (customer, day since START, firm, EUR paid) rows, as the model writes it."""
    start = pd.Timestamp(START)
    return pd.DataFrame(
        {
            "customer_id": [c for c, *_ in rows],
            "date": [(start + pd.Timedelta(days=d)).date() for _, d, *_ in rows],  # as stored
            "week": [d // 7 for _, d, *_ in rows],
            "firm": [f for *_, f, _ in rows],
            "amount": [a for *_, a in rows],
        }
    )


HAND = _log(
    [
        (1, 0, "focal", 10.0),  # week 0
        (1, 2, "focal", 5.0),  # week 0 again: one purchase week
        (1, 8, "focal", 20.0),  # week 1
        (1, 22, "focal", 30.0),  # week 3
        (2, 15, "focal", 7.0),  # week 2
        (2, 40, "focal", 9.0),  # week 5: after the observation period
        (3, 1, "rival", 4.0),  # another firm's customer
    ]
)


def test_a_hand_made_log_gives_the_known_summary():
    end = pd.Timestamp(START) + pd.Timedelta(days=34)  # the last day of week 4
    weeks = rfm_summary(HAND, "focal", start_date=START, observation_end=end)
    assert weeks.to_dict("list") == {
        "customer_id": [1, 2],
        "frequency": [2.0, 0.0],  # purchase weeks 0, 1, 3: two repeat weeks; none
        "recency": [3.0, 0.0],  # first to last purchase week
        "T": [4.0, 2.0],  # first purchase week to week 4
        "monetary_value": [25.0, 0.0],  # mean of weeks 1 and 3 (EUR 20, 30); no repeats
    }
    days = rfm_summary(HAND, "focal", unit="D", start_date=START, observation_end=end)
    assert days.set_index("customer_id").loc[1].tolist() == [3.0, 22.0, 34.0, 55 / 3]
    # by default the period ends with the week of the latest purchase (week 5)
    assert rfm_summary(HAND, "focal", start_date=START)["T"].tolist() == [5.0, 3.0]
    everyone = rfm_summary(HAND, None, start_date=START, observation_end=end)
    assert everyone["customer_id"].tolist() == [1, 2, 3]
    with pytest.raises(UsageError, match="firm = 'nobody' is not in the log; allowed: focal"):
        rfm_summary(HAND, "nobody")
    with pytest.raises(UsageError, match="unit = 'M'; allowed: W, D"):
        rfm_summary(HAND, unit="M")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clv") / "run"
    cfg = load_config(
        ["output.transactions=true", "output.figure=false"],
        customers__n=300,
        market__horizon_weeks=12,
        seed=1,
    )
    run_one(cfg, folder)
    return folder


def test_the_log_has_every_firm_and_real_dates(run_dir):
    log = transactions(run_dir)
    assert log["date"].dtype == "datetime64[ns]"
    assert set(log["firm"]) == {"focal", "rival1", "rival2"}
    assert ((log["date"] - pd.Timestamp(START)).dt.days // 7 == log["week"]).all()
    focal = transactions(run_dir, firm="focal")
    assert set(focal["firm"]) == {"focal"} and len(focal) == (log["firm"] == "focal").sum()


@pytest.mark.parametrize("unit", ["W", "D"])
def test_the_summary_is_what_pymc_marketing_computes(run_dir, unit):
    utils = pytest.importorskip("pymc_marketing.clv.utils", reason="the clv extra")
    log = transactions(run_dir, firm="focal")
    last_day = pd.Timestamp(START) + pd.Timedelta(days=7 * 12 - 1)  # week 11's last day
    ref = utils.rfm_summary(
        log, "customer_id", "date", "amount", time_unit=unit, observation_period_end=last_day
    )
    mine = rfm_summary(run_dir, firm="focal", unit=unit)
    assert list(mine.columns) == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    ref = ref.set_index("customer_id").sort_index()
    pd.testing.assert_frame_equal(mine.set_index("customer_id"), ref[mine.columns[1:]])
    if unit == "W":
        assert mine["T"].max() == 11  # a first purchase in week 0, the period ends in week 11


def test_a_sweep_summary_keeps_runs_apart(tmp_path):
    cmd = [sys.executable, "-m", "loyaltysim", "-m", "debug=default"]
    cmd += ["market.horizon_weeks=8", "output.transactions=true", "output.customer_table=false"]
    cmd += ["firm/programme=none,discount", "seed=0,1", f"hydra.sweep.dir={tmp_path}"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = rfm_summary(tmp_path, firm="focal")
    assert {"run", "arm", "seed", "customer"} <= set(summary.columns)
    assert summary["customer_id"].is_unique  # the same number in two runs: two customers
    assert set(summary["arm"]) == {"none", "discount"} and set(summary["seed"]) == {0, 1}
    assert summary.groupby("arm")["run"].nunique().to_dict() == {"discount": 2, "none": 2}
    for run, part in summary.groupby("run"):  # each run as its own folder summarises it
        alone = rfm_summary(tmp_path / run, firm="focal")
        assert (part["customer_id"] == run + "/" + part["customer"].astype(str)).all()
        assert part["customer"].tolist() == alone["customer_id"].tolist()
        cols = ["frequency", "recency", "T", "monetary_value"]
        assert part[cols].reset_index(drop=True).equals(alone[cols])
    log = transactions(tmp_path, firm="focal")
    assert log["date"].dtype == "datetime64[ns]" and set(log["run"]) == set(summary["run"])


def test_a_run_without_the_log_says_how_to_get_one(tmp_path):
    folder = tmp_path / "run"
    cfg = load_config(["output.figure=false"], customers__n=200, market__horizon_weeks=4)
    run_one(cfg, folder)
    with pytest.raises(UsageError, match="output.transactions=true"):
        rfm_summary(folder)


def test_the_readme_clv_recipe_runs_as_written(tmp_path):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "rfm_summary" in b]
    assert len(blocks) == 1, "the README's CLV recipe is one Python block"
    cfg = load_config(["customers.n=400", "market.horizon_weeks=40", "output.transactions=true"])
    run_one(cfg, tmp_path / "clv")
    code = blocks[0].replace('"outputs/clv"', repr(str(tmp_path / "clv")))
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102  (the README's own code)
    data = scope["data"]
    assert list(data.columns[:5]) == ["customer_id", "frequency", "recency", "T", "monetary_value"]
    assert (data["T"] <= 39).all() and data["frequency"].sum() > 0
    # the recipe is the one-firm summary, not every firm's purchases
    assert data.equals(rfm_summary(tmp_path / "clv", firm="focal"))
