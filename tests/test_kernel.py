"""The compiled kernel (numba) and the NumPy rules agree bit for bit: same state, outcomes,
per-firm flows and stock metrics on the same state and draws, and identical runs for every
programme type. ``LOYALTYSIM_KERNEL`` selects the engine."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from conftest import small_config
from loyaltysim import PROGRAMMES, Market
from loyaltysim.engines import engine
from loyaltysim.model.memory import decay_memory
from loyaltysim.model.metrics import population_metrics, purchase_flows
from loyaltysim.model.purchases import purchase_step
from loyaltysim.model.status import StatusRules
from loyaltysim.runs.ensemble import run_arms
from test_agents import STATE, scrambled_market, terms_for

pytest.importorskip("numba")

FULL_STATE = (*STATE, "member", "taste", "firm_spend", "last_interaction", "contacted")


def assert_same_arrays(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        x, y = np.asarray(a[name]), np.asarray(b[name])
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name, strict=True)


def run_both(monkeypatch, cfg) -> tuple[Market, Market]:
    models = []
    for choice in ("numpy", "numba"):
        monkeypatch.setenv(engine.KERNEL_ENV, choice)
        model = Market(cfg)
        assert model.kernel == (choice == "numba")
        models.append(model.run())
    return models[0], models[1]


@pytest.mark.parametrize("programme", sorted(PROGRAMMES))
def test_runs_are_identical_with_either_engine(monkeypatch, programme):
    cfg = small_config(
        f"firm/programme={programme}",
        "competitor/programme=engagement",
        "competitor.poaching.rate=0.05",
        seed=4,
    )
    numpy_run, kernel_run = run_both(monkeypatch, cfg)
    pd.testing.assert_frame_equal(numpy_run.metrics(), kernel_run.metrics(), check_exact=True)
    pd.testing.assert_frame_equal(numpy_run.customers(), kernel_run.customers(), check_exact=True)
    assert numpy_run.metrics()["purchases"].sum() > 0


@pytest.mark.parametrize(
    "overrides",
    [
        ("firm.programme.mode=points", "firm.programme.redemption_threshold=40"),
        ("customers.bgnbd_cohort=true", "market.warmup_weeks=0"),
        ("firms=entrant", "extra_firms.0.entry_week=12", "extra_firms.0.poaching.start_week=12"),
    ],
    ids=["points", "bgnbd-cohort", "entrant"],
)
def test_points_cohorts_and_entrants_are_identical(monkeypatch, overrides):
    cfg = small_config(*overrides, seed=9)
    numpy_run, kernel_run = run_both(monkeypatch, cfg)
    pd.testing.assert_frame_equal(numpy_run.metrics(), kernel_run.metrics(), check_exact=True)
    pd.testing.assert_frame_equal(numpy_run.customers(), kernel_run.customers(), check_exact=True)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("cohort", [False, True])
def test_trade_equals_purchase_step_on_the_same_state_and_draws(seed, cohort):
    model = scrambled_market(seed, 300)
    rng = np.random.default_rng(seed + 1)
    terms = terms_for(model, rng)
    if seed % 2:  # a firm not yet in the market
        terms.open = np.array([True, False, True])
    draws = model.draws()
    cfg = model.config.customers
    rows = model.population.active_index()
    unit_cost = np.array([1.5, 2.0, 2.5])
    rules = StatusRules(main_persistence=[0, 3, 13][seed % 3], cohort=cohort)
    week = seed % 5
    pop_np, pop_k = model.population, copy.deepcopy(model.population)
    args = (rows, terms, draws, week, 1.0, cfg.choice, cfg.memory, rules)

    out_np = purchase_step(pop_np, *args)
    flows_np = purchase_flows(out_np, unit_cost)
    out_k, flows_k = engine.trade(pop_k, *args, unit_cost)

    assert out_np.buyers.size > 10
    fields = list(out_np.__dataclass_fields__)
    assert_same_arrays(
        {f: getattr(out_np, f) for f in fields}, {f: getattr(out_k, f) for f in fields}
    )
    assert_same_arrays(flows_np, flows_k)
    assert_same_arrays(
        {n: getattr(pop_np, n) for n in FULL_STATE}, {n: getattr(pop_k, n) for n in FULL_STATE}
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("observed", [False, True])
def test_settle_equals_decay_and_stock_metrics(seed, observed):
    model = scrambled_market(seed, 300)
    pop = model.population
    pop.contacted[:] = np.random.default_rng(seed).random(pop.contacted.shape) < 0.5
    pop.status[::7] = 2  # some gone
    pop.last_interaction[:, :] = np.where(pop.last_interaction > 0, 3, pop.last_interaction)
    ref = copy.deepcopy(pop)
    seg = model.segments
    decay_memory(ref, model.engagement_decay, seg.forget, seg.forget_rows)
    expected = population_metrics(ref, ref.n_firms, 0.6, 4, 13)
    got = engine.settle(
        pop, model.engagement_decay, seg.forget, seg.forget_rows, observed, 0.6, 4, 13
    )
    assert_same_arrays(
        {n: getattr(ref, n) for n in FULL_STATE}, {n: getattr(pop, n) for n in FULL_STATE}
    )
    if observed:
        assert_same_arrays(expected, got)
    else:
        assert got is None


def test_regression_values_hold_with_the_kernel(monkeypatch):
    from loyaltysim import run_one
    from test_determinism import REGRESSION

    monkeypatch.setenv(engine.KERNEL_ENV, "numba")
    res = run_one(small_config(seed=0))
    focal = res.summary.set_index("firm").loc["focal"]
    got = {
        "customers_end": int(focal["customers_end"]),
        "purchases": int(res.metrics["purchases"].sum()),
        "cumulative_profit_eur": round(float(focal["cumulative_profit_eur"]), 2),
    }
    assert got == REGRESSION


def test_engine_choice_is_validated(monkeypatch):
    monkeypatch.setenv(engine.KERNEL_ENV, "fortran")
    with pytest.raises(ValueError, match="LOYALTYSIM_KERNEL"):
        engine.use_kernel(3, 1000)
    monkeypatch.setenv(engine.KERNEL_ENV, "numpy")
    assert not engine.use_kernel(3, 10**6)
    monkeypatch.setenv(engine.KERNEL_ENV, "numba")
    assert engine.use_kernel(3, 1000)
    assert not engine.use_kernel(8, 1000)  # NumPy sums 8 or more columns pairwise
    monkeypatch.delenv(engine.KERNEL_ENV)
    assert engine.use_kernel(3, engine.AUTO_MIN_POOL)
    monkeypatch.setattr(engine, "kernel_loaded", lambda n_firms: False)
    assert not engine.use_kernel(3, engine.AUTO_MIN_POOL - 1)  # small: the NumPy rules
    with engine.preferring_kernel():
        assert engine.use_kernel(3, 1000)
    assert not engine.use_kernel(3, 1000)


def test_auto_plays_a_small_market_compiled_once_the_loops_are_loaded(monkeypatch):
    monkeypatch.delenv(engine.KERNEL_ENV, raising=False)
    cfg = small_config(seed=3)
    with engine.preferring_kernel():
        compiled = Market(cfg)
        assert compiled.kernel
        compiled.run()
    assert engine.kernel_loaded(3) and not engine.kernel_loaded(9)
    again = Market(cfg)
    assert again.kernel  # loaded in this process: no load to amortise
    monkeypatch.setenv(engine.KERNEL_ENV, "numpy")
    reference = Market(cfg).run()
    assert not reference.kernel
    assert again.run().metrics().equals(reference.metrics())
    assert compiled.metrics().equals(reference.metrics())


def test_run_arms_uses_the_loops_for_many_small_markets(monkeypatch):
    monkeypatch.delenv(engine.KERNEL_ENV, raising=False)
    monkeypatch.setattr(engine, "kernel_loaded", lambda n_firms: False)
    seen = []
    original = engine.array_engine
    monkeypatch.setattr(
        engine, "array_engine", lambda *a: seen.append(original(*a).compiled) or original(*a)
    )
    few = [small_config(seed=s) for s in (1, 2)]
    run_arms(few)
    assert seen == [False, False]
    many = [small_config("customers.n=20000", "market.horizon_weeks=2", seed=s) for s in (1, 2, 3)]
    run_arms(many)
    assert seen[2:] == [True, True, True]
