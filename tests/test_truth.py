"""truth.parquet: each customer's hidden traits agree with the transaction log they made."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from conftest import small_config
from loyaltysim.runs.runner import run_one

WEEKS = 52


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    path = tmp_path_factory.mktemp("truth")
    # a programme (sign-ups), rivals, a fast drop-out so that many leave within the run
    cfg = small_config(
        "firm/programme=engagement",
        "customers.n=3000",
        f"market.horizon_weeks={WEEKS}",
        "customers.dropout_b=40",
        "output.transactions=true",
        "output.truth=true",
        seed=21,
    )
    run_one(cfg, path)
    return (
        path,
        pd.read_parquet(path / "truth.parquet"),
        pd.read_parquet(path / "transactions.parquet"),
        pd.read_parquet(path / "customers.parquet"),
    )


def test_truth_rows_are_the_customer_table_with_its_traits(run):
    _, truth, _, customers = run
    assert truth["customer_id"].tolist() == customers["customer_id"].tolist()
    for col in ("purchase_rate", "segment", "joined_week"):
        assert truth[col].tolist() == customers[col].tolist(), col
    assert np.array_equal(truth["dropout_per_purchase"], customers["dropout"])
    assert (truth["alive_end"] == (customers["status"] == "active")).all()


def test_nobody_buys_after_dropping_out_and_the_last_purchase_is_in_the_dropout_week(run):
    _, truth, log, _ = run
    gone = truth[~truth["alive_end"]].set_index("customer_id")
    assert len(gone) > 200  # enough leavers for the check to mean something
    last = log.groupby("customer_id").agg(date=("date", "max"), week=("week", "max"))
    seen = gone.join(last, how="inner")
    # drop-out follows a purchase in the same week (buy-till-you-die: no purchase, no exit)
    assert (seen["week"] == seen["dropout_week"]).all()
    assert (pd.to_datetime(seen["date"]) <= seen["dropout_date"]).all()
    assert len(seen) == len(gone[gone["dropout_week"] >= 0])


def test_customers_alive_at_the_end_have_no_dropout(run):
    _, truth, _, _ = run
    alive = truth[truth["alive_end"]]
    assert alive["dropout_week"].isna().all() and alive["dropout_date"].isna().all()
    assert truth.loc[~truth["alive_end"], "dropout_week"].notna().all()


def test_purchase_counts_match_rates_times_weeks_alive(run):
    """Wald's identity: while a customer is alive each week brings Poisson(lambda) purchase
    occasions whatever happened before, so the expected count is lambda times the weeks
    alive (the drop-out week included). Tolerance: 4 Poisson standard deviations."""
    _, truth, log, _ = run
    t = truth.set_index("customer_id")
    start = np.maximum(t["joined_week"], 0)
    end = t["dropout_week"].astype("float").fillna(WEEKS - 1).to_numpy() + 1
    weeks = np.clip(end - start, 0, None)
    expected = float((t["purchase_rate"] * weeks).sum())
    counts = log.groupby("customer_id").size()
    actual = float(counts.sum())
    assert abs(actual - expected) < 4 * np.sqrt(expected), (actual, expected)
    # and the same within rate quartiles: a log that ignored the rates would fail here
    q = pd.qcut(t["purchase_rate"], 4, labels=False)
    for k in range(4):
        rows = q[q == k].index
        e = float((t.loc[rows, "purchase_rate"] * weeks[rows]).sum())
        a = float(counts.reindex(rows, fill_value=0).sum())
        assert abs(a - e) < 4 * np.sqrt(e), (k, a, e)


def test_membership_history_agrees_with_the_log(run):
    _, truth, log, _ = run
    joined = truth.set_index("customer_id")["member_joined_focal"]
    assert joined.notna().sum() > 50
    # a purchase flagged as a member's is at or after the week the customer joined
    member = log[log["member"] & (log["firm"] == "focal")]
    weeks = member.groupby("customer_id")["week"].min()
    first = joined.reindex(weeks.index)
    assert first.notna().all() and (weeks >= first).all()
    assert truth["member_end_focal"].sum() <= joined.notna().sum()
    assert [c for c in truth if c.startswith("engagement_w")] == [
        "engagement_w013",
        "engagement_w026",
        "engagement_w039",
        "engagement_w052",
    ]
    assert np.array_equal(truth["engagement_w052"], truth["engagement_focal"])


def test_truth_changes_nothing_else_and_is_deterministic(tmp_path):
    def digest(p):
        return hashlib.sha256(p.read_bytes()).hexdigest()

    base = ("output.transactions=true", "firm/programme=engagement")
    a = run_one(small_config(*base, "output.truth=true", seed=4), tmp_path / "a")
    b = run_one(small_config(*base, "output.truth=true", seed=4), tmp_path / "b")
    c = run_one(small_config(*base, seed=4), tmp_path / "c")
    assert digest(a.path / "truth.parquet") == digest(b.path / "truth.parquet")
    for name in ("transactions.parquet", "customers.parquet", "metrics.csv"):
        assert digest(a.path / name) == digest(c.path / name), name
    assert not (c.path / "truth.parquet").exists()
