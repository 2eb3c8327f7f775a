"""The split of a programme's gain by channel (issue 22 item 5): retention is the
customers a lower rate of losing them kept (to the category's end or to a rival), not
the difference in how many left. Hand-made customer bases whose answer is known in
closed form; the split's sum is an identity checked on random flows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltysim.studies.validation.channels import base_split, decompose

WEEKS = 40


def base(
    h_out: float,
    h_riv: float,
    switched_in: np.ndarray | float = 3.0,
    new: np.ndarray | float = 2.0,
    start: float = 100.0,
) -> pd.DataFrame:
    """Weekly counts of one firm's customers: each week a share h_out of those present at
    its start leave the category and h_riv leave for a rival, then the inflows arrive."""
    ins = np.broadcast_to(np.asarray(switched_in, float), WEEKS)
    new = np.broadcast_to(np.asarray(new, float), WEEKS)
    rows, c = [], start
    for t in range(WEEKS):
        out, riv = h_out * c, h_riv * c
        c = c - out - riv + ins[t] + new[t]
        rows.append(
            {
                "customers": c,
                "churn_out": out,
                "churn_to_competitor": riv,
                "switched_in": ins[t],
                "acquired": new[t] / 2,
                "referred": new[t] / 2,
            }
        )
    return pd.DataFrame(rows)


def extra(m0: pd.DataFrame, m1: pd.DataFrame) -> float:
    return float((m1["customers"] - m0["customers"]).sum())


def test_a_lower_attrition_rate_is_all_retention():
    m0, m1 = base(0.02, 0.03), base(0.015, 0.03)
    parts = base_split(m0, m1)
    assert parts["retention_category"] == pytest.approx(extra(m0, m1))
    for k in ("retention_rivals", "won_from_rivals", "new_customers", "initial"):
        assert parts[k] == pytest.approx(0, abs=1e-9)


def test_fewer_lost_to_rivals_is_retention_too():
    """Gopalakrishnan et al.'s attrition: a retailer loses a customer to a rival as surely
    as to the category's end."""
    m0, m1 = base(0.02, 0.03), base(0.02, 0.01)
    parts = base_split(m0, m1)
    assert parts["retention_rivals"] == pytest.approx(extra(m0, m1))
    assert parts["retention_category"] == pytest.approx(0, abs=1e-9)


def test_a_larger_base_losing_customers_at_the_same_rate_shows_no_retention():
    """The old split counted the extra departures of a grown base against retention."""
    more = np.zeros(WEEKS)
    more[0] = 10.0
    m0, m1 = base(0.02, 0.03), base(0.02, 0.03, switched_in=3.0 + more)
    parts = base_split(m0, m1)
    assert (m1["churn_out"] > m0["churn_out"]).iloc[1:].all()  # more leave: a larger base
    assert parts["retention_category"] == pytest.approx(0, abs=1e-9)
    assert parts["retention_rivals"] == pytest.approx(0, abs=1e-9)
    # ten more customers in week 1, each staying on with probability 0.95 a week
    kept = 10 * sum(0.95**t for t in range(WEEKS))
    assert parts["won_from_rivals"] == pytest.approx(kept)
    assert parts["won_from_rivals"] == pytest.approx(extra(m0, m1))


def test_a_different_start_is_initial():
    m0, m1 = base(0.02, 0.03), base(0.02, 0.03, start=110.0)
    parts = base_split(m0, m1)
    assert parts["initial"] == pytest.approx(extra(m0, m1))
    assert parts["retention_category"] == pytest.approx(0, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    h=st.tuples(*[st.floats(0.0, 0.2)] * 4),
    flows=st.lists(st.floats(0, 20), min_size=2 * WEEKS, max_size=2 * WEEKS),
)
def test_the_channels_add_up_to_the_extra_customer_weeks(h, flows):
    m0 = base(h[0], h[1], switched_in=np.array(flows[:WEEKS]))
    m1 = base(h[2], h[3], new=np.array(flows[WEEKS:]))
    parts = base_split(m0, m1)
    assert sum(parts.values()) == pytest.approx(extra(m0, m1), abs=1e-6)


def with_sales(m: pd.DataFrame) -> pd.DataFrame:
    """The same frequency, basket and margin per customer-week in every arm."""
    m["purchases"] = 0.5 * m["customers"]
    m["units"] = 2.0 * m["purchases"]
    m["gross_margin"] = 3.0 * m["units"]
    return m


@pytest.mark.parametrize("lower", ["category", "rivals"])
def test_decompose_charges_retention_its_share_of_the_margin_gain(lower):
    m0 = with_sales(base(0.02, 0.03))
    m1 = with_sales(base(0.01, 0.03) if lower == "category" else base(0.02, 0.02))
    parts = decompose(m0, m1, detail=True)
    assert parts["retention"] == pytest.approx(100)
    assert parts[f"retention_{lower}"] == pytest.approx(100)
    assert parts["frequency"] == pytest.approx(0, abs=1e-9)
    additive = {k: v for k, v in parts.items() if not k.startswith("retention_")}
    assert sum(additive.values()) == pytest.approx(100)
    assert "retention_category" not in decompose(m0, m1)
    assert parts["retention_existing"] == pytest.approx(100)


def test_retention_of_the_existing_customers_leaves_the_new_ones_out():
    """Half the extra customers come from a lower attrition rate, the rest are new ones:
    retention's share of the existing customers' gain is the whole of it."""
    m0 = with_sales(base(0.02, 0.03))
    m1 = with_sales(base(0.015, 0.03, new=2.0 + 1.0))
    parts = decompose(m0, m1, detail=True)
    assert 0 < parts["new_customers"] < 100
    assert parts["retention"] + parts["new_customers"] == pytest.approx(100)
    expect = 100 * parts["retention"] / (100 - parts["new_customers"])
    assert parts["retention_existing"] == pytest.approx(expect)
    assert parts["retention_existing"] == pytest.approx(100)
