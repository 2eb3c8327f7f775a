"""The vectorised customer rules agree with the per-customer reference on the same draws."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import small_config
from loyaltysim import Market, reference
from loyaltysim.memory import decay_memory
from loyaltysim.population import NEVER
from loyaltysim.purchases import Terms, purchase_step
from loyaltysim.status import StatusRules

STATE = (
    "engagement",
    "habit",
    "recent",
    "recent_week",
    "challenger",
    "challenge_since",
    "trial_pending",
    "last_loyal_week",
    "last_loyal_active",
    "points",
    "offer_until",
    "status",
    "home",
    "last_firm",
    "purchases",
    "spend",
    "left_week",
)


def scrambled_market(seed: int, n: int) -> Market:
    """A small market whose customers carry varied engagement, loyalty, points and offers."""
    cfg = small_config(f"customers.n={n}", "firm/programme=discount", seed=seed)
    model = Market(cfg)
    rng = np.random.default_rng(seed)
    pop = model.population
    shape = pop.engagement.shape
    n = shape[0]
    pop.engagement[:] = rng.normal(0, 2, shape)
    pop.habit[:] = rng.gamma(1.0, 1.5, shape)
    pop.recent[:] = rng.gamma(1.0, 1.0, shape)
    pop.recent_week[:] = rng.integers(-20, 1, n)
    pop.home[:] = pop.recent.argmax(axis=1)
    pop.challenger[:] = np.where(rng.random(n) < 0.4, (pop.home + 1) % shape[1], -1)
    pop.challenge_since[:] = rng.integers(-20, 1, n)
    pop.last_interaction[:] = np.where(rng.random(shape) < 0.4, rng.integers(-20, 5, shape), NEVER)
    pop.trial_pending[:] = rng.random(n) < 0.2
    pop.last_loyal_week[:] = np.where(rng.random(n) < 0.5, rng.integers(-40, 1, n), NEVER)
    pop.last_loyal_active[:] = rng.random(n) < 0.5
    pop.points[:] = rng.integers(0, 80, shape).astype(float)
    pop.member[:] = rng.random(shape) < 0.5
    pop.offer_until[:] = np.where(rng.random(shape) < 0.3, 5, NEVER)
    pop.purchase_rate *= 3  # more buyers per step
    return model


def terms_for(model: Market, rng: np.random.Generator) -> Terms:
    f = len(model.firms)
    terms = Terms.plain(rng.uniform(3, 7, f), rng.uniform(0, 0.2, f))
    terms.rebate[:] = rng.uniform(0, 0.2, f)
    terms.offer_depth[:] = rng.uniform(0, 0.3, f)
    points = rng.random(f) < 0.6
    terms.threshold[points] = 40.0
    terms.point_value[points] = 0.05
    terms.points_per_eur[points] = 1.0
    terms.points_keep[points] = 0.9
    return terms


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 200),
    week=st.integers(0, 8),
    cohort=st.booleans(),
    persistence=st.sampled_from([0, 3, 13]),
)
def test_purchase_step_matches_reference(seed, n, week, cohort, persistence):
    model = scrambled_market(seed, n)
    rng = np.random.default_rng(seed + 1)
    terms = terms_for(model, rng)
    draws = model.draws()
    cfg = model.config.customers
    rows = model.population.active_index()
    pop_vec, pop_ref = model.population, copy.deepcopy(model.population)

    rules = StatusRules(main_persistence=persistence, cohort=cohort)
    args = (rows, terms, draws, week, 1.0, cfg.choice, cfg.memory, rules)
    vec = purchase_step(pop_vec, *args)
    ref = reference.purchase_step(pop_ref, *args)

    assert vec.buyers.size == ref.buyers.size
    for field in vec.__dataclass_fields__:
        a, b = getattr(vec, field), getattr(ref, field)
        if a.size:
            np.testing.assert_allclose(
                a.astype(float), b.astype(float), rtol=1e-12, atol=1e-12, err_msg=field
            )
    for name in STATE:
        np.testing.assert_allclose(
            getattr(pop_vec, name).astype(float),
            getattr(pop_ref, name).astype(float),
            rtol=1e-12,
            atol=1e-12,
            err_msg=name,
        )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_memory_decay_and_forgetting_match_reference(seed):
    model = scrambled_market(seed, 150)
    pop = model.population
    pop.contacted[:] = np.random.default_rng(seed).random(pop.contacted.shape) < 0.5
    ref = copy.deepcopy(pop)
    seg = model.segments
    decay_memory(pop, model.engagement_decay, seg.forget, seg.forget_rows)
    reference.decay_memory(ref, model.engagement_decay, seg.forget, seg.forget_rows)
    np.testing.assert_allclose(pop.engagement, ref.engagement, rtol=1e-14)
    np.testing.assert_allclose(pop.habit, ref.habit, rtol=1e-14)
    assert seg.forget_rows.size > 0


@pytest.mark.parametrize(
    "programme",
    [
        ("firm.programme.mode=points", "firm.programme.redemption_threshold=40"),
        # per-customer earn rates (tiers) reach the reference too
        (
            "firm/programme=tiered",
            "firm.programme.redemption_threshold=40",
            "firm.programme.top_tier_spend_eur=30",
            "firm.programme.review_weeks=4",
            "firm.programme.window_weeks=8",
        ),
    ],
)
def test_full_run_with_reference_rules_equals_vectorised_run(monkeypatch, programme):
    """Swap the reference rules into the market: the whole run, played by the compiled
    kernel where numba is installed, must not change."""
    from loyaltysim import market as market_module

    cfg = small_config(
        "customers.n=120",
        "market.horizon_weeks=20",
        "competitor.poaching.rate=0.2",
        *programme,
        seed=8,
    )
    monkeypatch.setenv("LOYALTYSIM_KERNEL", "numba")
    vec = Market(cfg).run().metrics()
    monkeypatch.setattr(market_module, "purchase_step", reference.purchase_step)
    monkeypatch.setattr(market_module, "decay_memory", reference.decay_memory)
    monkeypatch.setenv("LOYALTYSIM_KERNEL", "numpy")  # the market's NumPy path calls them
    ref = Market(cfg).run().metrics()
    assert vec["purchases"].sum() > 0
    np.testing.assert_allclose(vec.select_dtypes("number"), ref.select_dtypes("number"), rtol=1e-9)
