"""One warm-up per world and seed: arms that differ only from week 0 share it, and get the
same results as when each plays its own; arms whose warm-ups differ do not share."""

from __future__ import annotations

import dataclasses

import pytest

from conftest import small_config
from loyaltysim.engines.market import Market
from loyaltysim.engines.warmstart import WarmStart, warmup_key
from loyaltysim.runs.ensemble import run_arms
from loyaltysim.runs.runner import run_one

RIVALS = ("competitor.poaching.rate=0.05", "competitor/programme=discount")
ARMS = [
    ("firm/programme=none",),
    ("firm/programme=discount",),
    ("firm/programme=engagement",),
    ("firm/programme=engagement", *RIVALS),  # rivals poach and run a programme from week 0
    ("firm/programme=tiered", "firm.pricing.policy=adaptive"),  # price reviews from week 0
    ("firm/programme=none", "market.horizon_weeks=20"),
]


def configs(*extra: str, seed: int = 5):
    return [small_config(*arm, *extra, seed=seed) for arm in ARMS]


def same(a, b) -> None:
    assert a.metrics.equals(b.metrics)
    assert a.summary.equals(b.summary)
    assert (a.customers is None) == (b.customers is None)
    if a.customers is not None:
        assert a.customers.equals(b.customers)


@pytest.fixture
def warmups(monkeypatch):
    """Counts the warm-ups played."""
    played = []
    original = Market._warm_up
    monkeypatch.setattr(Market, "_warm_up", lambda self: (played.append(1), original(self)))
    return played


def test_arms_that_differ_from_week_0_share_one_warm_up_with_identical_results(warmups):
    cfgs = configs()
    assert len({warmup_key(c) for c in cfgs}) == 1
    shared = run_arms(cfgs, keep_customers=True)
    assert len(warmups) == 1
    own = run_arms(cfgs, share_warmup=False, keep_customers=True)
    assert len(warmups) == 1 + len(cfgs)
    for a, b, cfg in zip(shared, own, cfgs, strict=True):
        same(a, b)
        same(a, run_one(cfg))
    # the arms did differ
    assert not shared[0].metrics.equals(shared[2].metrics)


def test_a_seed_given_to_run_arms_replaces_each_configs_seed(warmups):
    cfgs = configs(seed=1)[:3]
    shared = run_arms(cfgs, seed=9, keep_customers=True)
    assert len(warmups) == 1
    for a, cfg in zip(shared, cfgs, strict=True):
        assert a.config.seed == 9
        same(a, run_one(dataclasses.replace(cfg, seed=9)))


@pytest.mark.parametrize(
    "change",
    [
        "firm.price=5.5",
        "firm.service_quality=0.9",
        "firm.entry_week=3",
        "competitor.count=1",
        "customers.n=500",
        "market.warmup_weeks=12",
        "market.loyal_threshold=0.7",
    ],
)
def test_arms_that_differ_in_the_warm_up_do_not_share(warmups, change):
    base, other = small_config(seed=3), small_config(change, seed=3)
    assert warmup_key(base) != warmup_key(other)
    a, b = run_arms([base, other], keep_customers=True)
    assert len(warmups) == 2
    same(a, run_one(base))
    same(b, run_one(other))


def test_the_key_separates_seeds_and_engines():
    assert warmup_key(small_config(seed=1)) != warmup_key(small_config(seed=2))
    agents = small_config("engine=agents", seed=1)
    assert warmup_key(agents) != warmup_key(small_config(seed=1))
    with pytest.raises(ValueError):
        WarmStart.of(Market(agents))


def test_a_warm_start_of_another_warm_up_is_refused_and_would_give_other_results():
    base, dearer = small_config(seed=4), small_config("firm.price=5.5", seed=4)
    warm = WarmStart.of(Market(base))
    with pytest.raises(ValueError):
        Market(dearer, warm=warm)
    # what the key guards against: started from the other world's week 0, the run differs
    forged = dataclasses.replace(warm, key=warmup_key(dearer))
    assert not Market(dearer, warm=forged).run().metrics().equals(Market(dearer).run().metrics())


def test_a_warm_start_is_not_changed_by_the_arms_started_from_it():
    cfgs = configs(seed=6)[:3]
    warm = WarmStart.of(Market(cfgs[0]))
    first = [Market(c, warm=warm).run().metrics() for c in cfgs]
    again = [Market(c, warm=warm).run().metrics() for c in reversed(cfgs)][::-1]
    assert all(a.equals(b) for a, b in zip(first, again, strict=True))
    with pytest.raises(ValueError):
        WarmStart.of(Market(cfgs[0]).run(1))
