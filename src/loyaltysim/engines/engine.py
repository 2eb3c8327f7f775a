"""The array engine's fast path: the customer rules of one step played by the compiled loops
of :mod:`~loyaltysim.engines.kernel`, with the same inputs and results as the NumPy rules.

:func:`trade` is :func:`~loyaltysim.model.purchases.purchase_step` followed by
:func:`~loyaltysim.model.metrics.purchase_flows`; :func:`settle` is
:func:`~loyaltysim.model.memory.decay_memory` followed (on observed steps) by
:func:`~loyaltysim.model.metrics.population_metrics`. Both give bit-identical state, outcomes and
metrics (tests/test_kernel.py). The market uses them when :func:`use_kernel` says so:
numba is importable, the market has fewer than eight firms, and the environment variable
``LOYALTYSIM_KERNEL`` is ``numba``, or unset (``auto``) and the pool holds at least
``AUTO_MIN_POOL`` people or the loops for its number of firms are already loaded in this
process (by a larger market, or :func:`preferring_kernel`: their load is paid, and they play
a small market twice as fast as NumPy); ``LOYALTYSIM_KERNEL=numpy`` selects the NumPy rules
(the readable reference the kernel is tested against).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from ..model.memory import MemoryParams, decay_memory
from ..model.metrics import population_metrics, purchase_flows, stock_table
from ..model.params import ConfigError
from ..model.population import Population
from ..model.purchases import ChoiceParams, purchase_step
from ..model.referrals import referral_step
from ..model.status import StatusRules
from ..model.trades import Draws, Outcome, Terms
from .threads import THREADS_ENV, threads  # noqa: F401  (the settings read here, too)

KERNEL_ENV = "LOYALTYSIM_KERNEL"
CHOICES = ("auto", "numba", "numpy")
# "auto" compiles for pools from this size: loading the compiled loops costs a process about
# half a second, which a smaller run (one per worker process in a sweep) does not win back
AUTO_MIN_POOL = 50_000
_PREFER = [False]  # inside preferring_kernel(): "auto" compiles at any size


def selected() -> str:
    """The engine the environment asks for: ``auto`` (default, also when set but empty),
    ``numba`` or ``numpy``, spelt exactly so (as the README lists them). Anything else
    (``NUMBA`` too) is a :class:`~loyaltysim.model.params.ConfigError`, which the
    command-line tools report in one line (exit status 2) before any run."""
    raw = os.environ.get(KERNEL_ENV, "auto")
    value = raw or "auto"
    if value not in CHOICES:
        raise ConfigError(f"{KERNEL_ENV} (environment variable)", raw, ", ".join(CHOICES))
    return value


def use_kernel(n_firms: int, pool: int) -> bool:
    """Whether a market of ``n_firms`` firms and ``pool`` people plays its customers with the
    compiled loops: with ``numba``, or ``auto`` and a pool of at least ``AUTO_MIN_POOL`` or
    loops already loaded for ``n_firms`` (:func:`kernel_loaded`); never without numba or with
    eight firms or more. The results are the same either way."""
    choice = selected()
    if choice == "numpy":
        return False
    if choice == "auto" and pool < AUTO_MIN_POOL and not (_PREFER[0] or kernel_loaded(n_firms)):
        return False
    try:
        from . import kernel
    except ImportError:  # numba missing: the NumPy rules
        return False
    return n_firms < kernel.MAX_FIRMS


def kernel_loaded(n_firms: int) -> bool:
    """Whether this process holds the compiled loops for ``n_firms`` firms already (it has
    played such a market with them), so that using them costs no load."""
    kernel = sys.modules.get(__package__ + ".kernel")
    if kernel is None:
        return False
    return any(len(sig[0]) == n_firms for sig in kernel.buy.signatures)


@contextmanager
def preferring_kernel() -> Iterator[None]:
    """Inside: ``auto`` uses the compiled loops at any size (for a process about to run many
    small markets: :func:`loyaltysim.runs.ensemble.run_arms` loads them once with it)."""
    before = _PREFER[0]
    _PREFER[0] = True
    try:
        yield
    finally:
        _PREFER[0] = before


class ArrayRules:
    """The NumPy rules of phases 5, 7 and 9 (``engine=arrays``, pools too small to compile).

    Every engine has this contract: :meth:`trade` (purchases and their per-firm flows),
    ``referral_step`` and :meth:`settle` (decay, forgetting and, on observed steps, the stock
    metrics). :class:`CompiledRules` replaces trade and settle by the compiled loops; the
    Mesa agents (:class:`~loyaltysim.engines.crowd.Crowd`) replace the three rules they call."""

    compiled = False
    purchase_step = staticmethod(purchase_step)
    referral_step = staticmethod(referral_step)
    decay_memory = staticmethod(decay_memory)

    def trade(
        self,
        pop: Population,
        rows: np.ndarray,
        terms: Terms,
        draws: Draws,
        week: int,
        dt: float,
        choice: ChoiceParams,
        memory: MemoryParams,
        rules: StatusRules,
        unit_cost: np.ndarray,
    ) -> tuple[Outcome, dict[str, np.ndarray]]:
        """Phase 5: the buyers' outcome and the per-firm flows of the step."""
        out = self.purchase_step(pop, rows, terms, draws, week, dt, choice, memory, rules)
        return out, purchase_flows(out, unit_cost)

    def settle(
        self,
        pop: Population,
        decay: float,
        forget: np.ndarray,
        forget_rows: np.ndarray,
        observed: bool,
        loyal_threshold: float,
        week: int,
        active_window: int,
    ) -> dict[str, np.ndarray] | None:
        """Phase 9 and 10's stocks: as :func:`settle`."""
        self.decay_memory(pop, decay, forget, forget_rows)
        if not observed:
            return None
        return population_metrics(pop, pop.n_firms, loyal_threshold, week, active_window)


class CompiledRules(ArrayRules):
    """The compiled loops (:func:`trade`, :func:`settle`) for trade and settle."""

    compiled = True

    def __init__(self) -> None:
        self._no_trip: np.ndarray | None = None  # purchase rates are fixed: computed once

    def trade(self, pop, rows, terms, draws, week, dt, choice, memory, rules, unit_cost):
        if self._no_trip is None:
            self._no_trip = no_trip_odds(pop, dt)
        return trade(
            pop, rows, terms, draws, week, dt, choice, memory, rules, unit_cost, self._no_trip
        )

    def settle(self, pop, decay, forget, forget_rows, observed, loyal_threshold, week, window):
        return settle(pop, decay, forget, forget_rows, observed, loyal_threshold, week, window)


def array_engine(n_firms: int, pool: int) -> ArrayRules:
    """The array engine of a market: compiled where :func:`use_kernel` says so."""
    return CompiledRules() if use_kernel(n_firms, pool) else ArrayRules()


def no_trip_odds(pop: Population, dt: float) -> np.ndarray:
    """``exp(-rate * dt)`` per person: the probability of no purchase in a step, computed as
    :func:`~loyaltysim.model.purchases.poisson_from_uniform` computes it."""
    return np.exp(-(pop.purchase_rate * dt))


def trade(
    pop: Population,
    rows: np.ndarray,
    terms: Terms,
    draws: Draws,
    week: int,
    dt: float,
    choice: ChoiceParams,
    memory: MemoryParams,
    rules: StatusRules,
    unit_cost: np.ndarray,
    no_trip: np.ndarray | None = None,
) -> tuple[Outcome, dict[str, np.ndarray]]:
    """One step of purchases for the active customers ``rows`` (updates ``pop`` in place):
    the buyers' :class:`Outcome` and the per-firm flows of
    :func:`~loyaltysim.model.metrics.purchase_flows`. ``no_trip``: :func:`no_trip_odds` of the
    pool, if the caller keeps it (purchase rates do not change)."""
    from . import kernel as k
    from . import threaded as th

    n_firms = pop.n_firms
    week = int(week)
    no_trip = no_trip_odds(pop, dt) if no_trip is None else no_trip
    b, repeat, lo, hi = th.timing(
        rows, pop.purchase_rate, no_trip, np.uint64(draws.trips.key), pop.trial_pending,
        pop.recent_week,
        float(dt), week,
    )  # fmt: skip
    rebate, earn = terms.member_rates(b)
    personal = rebate.ndim == 2
    rebate = np.ascontiguousarray(np.atleast_2d(rebate), dtype=float)
    earn = np.ascontiguousarray(np.atleast_2d(earn), dtype=float)
    # the main-firm decay as NumPy computes it (its SIMD pow may differ from libm's)
    decay_pow = rules.main_decay ** np.arange(lo, hi + 1)
    is_open = np.ones(n_firms, bool) if terms.open is None else terms.open.astype(bool)
    par = np.array(
        [
            choice.engagement_weight,
            choice.loyalty_weight,
            choice.habit_prior,
            choice.points_weight,
            choice.engagement_price_relief,
            choice.engagement_churn_relief,
            choice.engagement_basket_lift,
            memory.loyalty_smoothing,
            memory.experience_gain,
            memory.failure_penalty,
            rules.loyal_threshold,
            choice.dissatisfaction_price,
            choice.dissatisfaction_churn,
        ],
        float,
    )
    # the outcome in four arrays, one row per buyer (few memory streams for the loop to
    # write); its fields are their columns
    packed = [
        np.empty((b.size, len(names)), dtype)
        for names, dtype in zip(k.OUTCOME_COLUMNS, (np.int64, np.int32, bool, float), strict=True)
    ]
    fields = {n: a[:, i] for names, a in zip(k.OUTCOME_COLUMNS, packed, strict=True)
              for i, n in enumerate(names)}  # fmt: skip
    out = Outcome(buyers=b, **fields)
    fsum = np.zeros((n_firms, 4))
    count = np.zeros((n_firms, 8), np.int64)
    th.buy(
        (k.firms_tag(n_firms),), b, repeat,
        (week, bool(rules.cohort), int(rules.active_window), int(rules.main_persistence), par,
        pop.engagement, pop.habit, pop.member, pop.offer_until, pop.taste, pop.points,
        pop.recent, pop.recent_week, pop.home, pop.challenger, pop.challenge_since,
        pop.last_interaction, pop.last_loyal_week, pop.last_loyal_active, pop.last_firm,
        pop.purchases, pop.spend, pop.firm_spend, pop.status, pop.left_week,
        pop.trial_pending, pop.price_sensitivity, pop.dropout, pop.basket,
        np.uint64(draws.choice.key), np.uint64(draws.failure.key), np.uint64(draws.churn.key),
        np.asarray(terms.price, float)), rebate, earn, personal,
        (np.asarray(terms.offer_depth, float), is_open,
        bool(np.isfinite(terms.threshold).any()), np.asarray(terms.point_value, float),
        np.asarray(terms.threshold, float), terms.reward_eur(),
        np.asarray(terms.points_keep, float), np.asarray(terms.failure, float),
        decay_pow, int(lo)),
        packed, fsum, count,
    )  # fmt: skip
    units, revenue = fsum[:, k.F_UNITS].copy(), fsum[:, k.F_REVENUE].copy()
    cogs = units * unit_cost
    with np.errstate(invalid="ignore", divide="ignore"):
        repeat_rate = count[:, k.C_STAYED] / count[:, k.C_RETURNING]
    flows = {
        "purchases": count[:, k.C_PURCHASES].copy(),
        "units": units,
        "revenue": revenue,
        "cogs": cogs,
        "gross_margin": revenue - cogs,
        "member_discounts": fsum[:, k.F_MEMBER_DISC].copy(),
        "offer_discounts": fsum[:, k.F_OFFER_DISC].copy(),
        "repeat_rate": repeat_rate,
        "churn_to_competitor": count[:, k.C_CHURN].copy(),
        "defected_active_loyal": count[:, k.C_DEF_ACTIVE].copy(),
        "defected_passive_loyal": count[:, k.C_DEF_PASSIVE].copy(),
        "switched_in": count[:, k.C_SWITCHED_IN].copy(),
        "churn_out": count[:, k.C_CHURN_OUT].copy(),
    }
    return out, flows


def settle(
    pop: Population,
    decay: float,
    forget: np.ndarray,
    forget_rows: np.ndarray,
    observed: bool,
    loyal_threshold: float,
    week: int,
    active_window: int,
) -> dict[str, np.ndarray] | None:
    """End of step: memory decay and forgetting (``forget``: the weekly rate per segment;
    ``forget_rows``, the people of the forgetful segments, is the NumPy rules' contract: the
    compiled pass over the active customers reads each one's segment instead, as in
    :func:`~loyaltysim.model.memory.decay_memory`); on ``observed`` steps, the stock metrics of
    :func:`~loyaltysim.model.metrics.population_metrics` (else ``None``)."""
    from . import kernel as k
    from . import threaded as th

    n_firms = pop.n_firms
    ssum = np.zeros((n_firms, 2))
    scount = np.zeros((n_firms, 7), np.int64)
    rows = pop.active_index()
    th.settle([
        k.firms_tag(n_firms), rows, pop.segment, np.asarray(forget, float), pop.habit,
        pop.contacted, bool(observed), float(decay), pop.engagement, pop.recent, pop.member,
        pop.home, pop.last_interaction, float(loyal_threshold), int(week), int(active_window),
        ssum, scount,
    ])  # fmt: skip
    n_active = rows.size
    if not observed:
        return None
    home, firm = scount[:, k.K_HOME : k.K_HOME + 3], scount[:, k.K_FIRM : k.K_FIRM + 4]
    customers = home.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_g = ssum[:, k.S_G] / customers
        mean_scr = ssum[:, k.S_SCR] / customers
    return stock_table(
        customers,
        active_loyal=home[:, 2].copy(),
        passive_loyal=home[:, 1].copy(),
        mean_engagement=mean_g,
        mean_scr=mean_scr,
        members=firm[:, 2] + firm[:, 3],
        loyal_members=firm[:, 3].copy(),
        loyal_nonmembers=firm[:, 1].copy(),
        n_active=n_active,
    )
