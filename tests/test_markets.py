"""Markets of unequal firms: extra firms with their own settings, and entrants mid-run."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import small_config
from loyaltysim import ConfigError, Market, load_config, run_one
from loyaltysim.studies.checks import check_identities

ENTRANT = (
    "extra_firms=[{name:newcomer,entry_week:10,price:4.6,"
    "programme:{type:discount,rebate_rate:0.1,signup_prob:0.3},"
    "poaching:{rate:0.2,start_week:10}}]"
)


def test_an_entrant_sells_nothing_before_its_entry_week_and_keeps_the_books():
    res = run_one(small_config(ENTRANT, "market.horizon_weeks=24", seed=3))
    check_identities(res, "entrant market")
    m = res.metrics.set_index("firm")
    new = m.loc["newcomer"]
    before = new[new["week"] <= 10]  # steps that start before week 10
    for col in ("customers", "purchases", "acquired", "offers_sent", "members", "revenue"):
        assert (before[col] == 0).all(), col
    after = new[new["week"] > 10]
    assert after["purchases"].sum() > 0 and after["offers_sent"].sum() > 0
    assert after["acquired"].sum() > 0 and after["members"].iloc[-1] > 0


def test_an_entrant_leaves_every_week_before_its_entry_untouched():
    """Common random numbers: an entrant at week 10 changes nothing for the incumbents up to
    week 10, bit for bit."""
    base = run_one(small_config("market.horizon_weeks=16", seed=4)).metrics
    with_entrant = run_one(small_config(ENTRANT, "market.horizon_weeks=16", seed=4)).metrics
    incumbents = with_entrant[with_entrant["firm"] != "newcomer"]
    early_a = base[base["week"] <= 10].reset_index(drop=True)
    early_b = incumbents[incumbents["week"] <= 10].reset_index(drop=True)
    cols = [c for c in base.columns if c != "share"]  # shares are of all firms' purchases
    assert early_a[cols].equals(early_b[cols])
    late = incumbents[incumbents["week"] > 10]["purchases"].to_numpy()
    assert not np.array_equal(late, base[base["week"] > 10]["purchases"].to_numpy())


def test_initial_customers_only_go_to_firms_in_the_market():
    model = Market(small_config(ENTRANT, seed=5))
    homes = model.population.home[model.population.active_index()]
    assert set(np.unique(homes)) == {0, 1, 2}


def test_a_ladder_of_unequal_firms_gives_unequal_sizes():
    res = run_one(
        load_config(
            ["firms=ladder", "customers.n=1500", "market.horizon_weeks=26", "output.figure=false"],
            seed=1,
        )
    )
    check_identities(res, "ladder")
    share = res.summary.set_index("firm")["share_end_pct"]
    assert list(share.index) == ["focal", "b", "c", "d", "e"]
    assert share["focal"] > share["c"] > share["e"] > 0


@pytest.mark.parametrize(
    "override, key",
    [
        ("extra_firms=[{name:focal}]", "extra_firms.0.name"),
        ("extra_firms=[{name:x,entry_week:30}]", "extra_firms.0.entry_week"),
        ("extra_firms=[{name:x,price:-1}]", "extra_firms.0.price"),
        ("extra_firms=[{name:x,programme:{type:discount,foo:1}}]", "extra_firms.0.programme.foo"),
        ("extra_firms=[{name:x,programme:{type:magic}}]", "extra_firms.0.programme.type"),
    ],
)
def test_bad_extra_firms_are_rejected_with_their_key(override, key):
    with pytest.raises(ConfigError) as err:
        small_config(override)
    assert err.value.key == key


def test_some_firm_must_be_in_the_market_at_week_0():
    with pytest.raises(ConfigError, match="entry_week"):
        small_config("firm.entry_week=5", "competitor.entry_week=5")
