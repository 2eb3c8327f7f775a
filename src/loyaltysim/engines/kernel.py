"""Compiled loops (numba) for the array engine's hot path: the same rules as
:mod:`~loyaltysim.model.purchases`, :mod:`~loyaltysim.model.memory` and
:func:`~loyaltysim.model.metrics.population_metrics`, one customer at a time, with the
per-firm sums of the metrics added up in the same passes: :func:`timing` (who buys),
:func:`buy` (choice, payment, memory; then status and main firm) and :func:`settle`
(forgetting; the stocks). A person's draws are hashed from the week's stream keys where
needed (:mod:`~loyaltysim.model.counters`).

The NumPy rules stay the readable reference, tested to give identical state, outcomes and
metrics. To be bit-identical the loops repeat NumPy's floating-point operations in the same
order (sums over firms from the first to the last, as NumPy reduces a few columns; the logit
weights ``exp(u - max u)``) and take from NumPy the values its SIMD functions compute for
the state (the odds of no purchase ``exp(-rate dt)``, the main-firm decay ``main_decay **
weeks``). The ``exp`` of the logit weights and ``log1p``/``pow`` of the drop-out come from
the C library and may differ from NumPy's in the last bit; they only meet a uniform draw in
a comparison, so an outcome could differ only for a draw within about 1e-16 of a threshold.

Each buyer reads a row of some 25 arrays spread over the pool: the loops prefetch the rows
of the buyer ``AHEAD`` places on and split the work into passes over fewer arrays. The number
of firms is known when they compile (:func:`firms_tag`), so the loops over firms unroll, and
conditions that are true for a random part of the customers (who buys, who forgets, who is
active) are computed without branches, which the CPU would mispredict. Compiled on first use
and cached on disk (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..model.population import GONE, NEVER
from .kernel_ops import K_FIRM, K_HOME, S_G, S_SCR, observe_row, prefetch, uniform  # noqa: F401

AHEAD = 8  # buyers ahead whose rows are prefetched
MAX_FIRMS = 8  # from 8 columns NumPy sums pairwise: the engine keeps such markets in NumPy

_JIT = {"cache": True, "error_model": "numpy", "nogil": True}

# indices into the float parameters of `buy`
(EW, LW, PRIOR, PW, PRICE_RELIEF, CHURN_RELIEF, LIFT, SMOOTH, GAIN, PENALTY, LOYAL) = range(11)
DISSAT_PRICE, DISSAT_CHURN = 11, 12
# the outcome fields `buy` writes, by array (int64, int32, bool, float), in column order
OUTCOME_COLUMNS = (
    ("firm", "trips"),
    ("prev_firm", "prev_home", "home"),
    ("was_loyal", "was_active", "member", "failed", "left"),
    ("units", "list_value", "rebate", "offer", "redeemed", "paid", "points_earned"),
)
# columns of the per-firm float and count accumulators of `buy`
F_UNITS, F_REVENUE, F_MEMBER_DISC, F_OFFER_DISC = range(4)
C_PURCHASES, C_RETURNING, C_STAYED, C_CHURN = range(4)
C_DEF_ACTIVE, C_DEF_PASSIVE, C_SWITCHED_IN, C_CHURN_OUT = range(4, 8)


def firms_tag(n_firms: int) -> tuple[int, ...]:
    """``n_firms`` zeros, the first argument of :func:`buy` and :func:`settle`: they take
    the number of firms from its length, which numba knows when it compiles (a tuple's
    length is part of its type). Each number of firms gets its own machine code, with the
    loops over firms unrolled: a tenth faster a step than with the number read from an
    array's shape at run time (``bench_customers.py``)."""
    return (0,) * n_firms


@njit(**_JIT)
def timing(rows, rate, no_trip, key, trial, recent_week, dt, week):
    """Purchase occasions ``Poisson(rate * dt)`` by inverting the CDF at each person's draw
    of the purchase stream (``key``: its key of the week; ``no_trip``: ``exp(-rate * dt)``
    per person, as NumPy computes it); returns the buyers (occasions or a trial due), their
    occasions and the range of weeks since their purchase history was last brought up to
    date."""
    n = rows.size
    b = np.empty(n, np.int64)
    repeat = np.empty(n, np.int64)
    nb = 0
    lo, hi = 0, 0
    # who buys first, with no branch (about a third do, at random: a branch on it would
    # be mispredicted one time in three), then the occasions of those who do
    for j in range(n):
        i = rows[j]
        b[nb] = i
        nb += 1 if (uniform(key, i) > no_trip[i]) | trial[i] else 0
    for j in range(nb):
        i = b[j]
        p = no_trip[i]
        x = uniform(key, i)
        k = 0
        if x > p:
            lam = rate[i] * dt
            cdf = p
            m = 1
            while True:
                p *= lam / m
                cdf += p
                k += 1
                if not (x > cdf and p > 0):
                    break
                m += 1
        repeat[j] = k
        e = week - recent_week[i]
        lo = e if j == 0 or e < lo else lo
        hi = e if j == 0 or e > hi else hi
    return b[:nb], repeat[:nb], lo, hi


@njit(**_JIT)
def buy(
    firms, b, repeat, week, cohort, window, persistence, par,  # firms_tag, buyers, rules
    engagement, habit, member, offer_until, taste, points, recent, recent_week, home,
    challenger, challenge_since, last_interaction, last_loyal_week, last_loyal_active,
    last_firm, purchases, spend, firm_spend, status, left_week, trial_pending,
    sensitivity, dropout, basket,  # customer state (the pool's arrays)
    k_choice, k_failure, k_churn,  # keys of the week's choice, service and churn draws
    price, rebate, earn, personal, offer_depth, is_open, has_points, point_value, threshold,
    reward, keep, failure,  # terms
    decay_pow, pow_lo,  # main_decay ** e for e = pow_lo, pow_lo + 1, ...
    o_int, o_week, o_flag, o_eur,  # outcome per buyer (one row each: OUTCOME_* columns)
    fsum, count,  # per-firm sums
):  # fmt: skip
    """One step of purchases for buyers ``b`` (see
    :func:`~loyaltysim.model.purchases.purchase_step`);
    updates the state in place, writes each buyer's outcome and adds the per-firm flows."""
    n_firms = len(firms)
    g = np.empty(n_firms)
    u = np.empty(n_firms)
    lookback = persistence + window
    n_open = 0.0
    for f in range(n_firms):
        n_open += 1.0 if is_open[f] else 0.0
    for j in range(b.size):
        i = b[j]
        r = j if personal else 0
        if j + AHEAD < b.size:
            a = b[j + AHEAD]
            af = a * n_firms
            for arr in (engagement, habit, taste, firm_spend):
                prefetch(arr, af)
            prefetch(member, af)
            prefetch(offer_until, af)
            for arr in (sensitivity, dropout, basket, spend):
                prefetch(arr, a)
            prefetch(purchases, a)
        # utilities (purchases.utilities)
        held = 0.0
        for f in range(n_firms):
            held += habit[i, f]
        held += par[PRIOR]
        mean_price = 0.0
        for f in range(n_firms):
            e = engagement[i, f]
            g[f] = e / (1.0 + abs(e))
            discount = 0.0 + rebate[r, f] * (1.0 if member[i, f] else 0.0)
            discount += offer_depth[f] * (1.0 if offer_until[i, f] >= week else 0.0)
            u[f] = max(price[f] * (1.0 - discount), 0.0)  # unit price, for now
            if is_open[f]:
                mean_price += u[f]
        mean_price /= n_open
        for f in range(n_firms):
            beta = (
                (1.0 - par[PRICE_RELIEF] * max(g[f], 0.0))
                * (1.0 + par[DISSAT_PRICE] * max(-g[f], 0.0))
                * sensitivity[i]
            )
            unit_price = u[f] - mean_price
            v = par[EW] * g[f]
            v += par[LW] * (habit[i, f] / held)
            v += taste[i, f]
            v -= beta * unit_price
            if has_points:
                points_eur = points[i, f] * point_value[f] * (1.0 if member[i, f] else 0.0)
                v += par[PW] * beta * points_eur / basket[i]
            u[f] = v if is_open[f] else -np.inf
        # logit choice (purchases.choose)
        top = u[0]
        for f in range(1, n_firms):
            top = max(top, u[f])
        total = 0.0
        for f in range(n_firms):
            u[f] = 1.0 if u[f] == top else np.exp(u[f] - top)  # exp(0) is 1
            total += u[f]
        target = uniform(k_choice, i) * total
        c = 0
        cum = 0.0
        for f in range(n_firms - 1):
            cum += u[f]
            c += 1 if target > cum else 0

        g_c = max(g[c], 0.0)
        member_c = member[i, c]
        offer_c = offer_until[i, c] >= week
        d = dropout[i] * (1.0 - par[CHURN_RELIEF] * g_c)
        d = min(d * (1.0 + par[DISSAT_CHURN] * max(-g[c], 0.0)), 1.0)
        if cohort:
            jumps = np.floor(np.log1p(-uniform(k_churn, i)) / np.log1p(-d)) + 1
            left = jumps <= repeat[j]
            k = (np.int64(jumps) if left else repeat[j]) + (1 if trial_pending[i] else 0)
            trial_pending[i] = False
        else:
            k = repeat[j]
            kept = 1.0 - d if k == 1 else (1.0 - d) ** np.float64(k)  # x ** 1 is x
            left = uniform(k_churn, i) < 1.0 - kept

        units = basket[i] * (1.0 + par[LIFT] * g_c) * np.float64(k)
        list_value = price[c] * units
        rebate_v = list_value * rebate[r, c] * (1.0 if member_c else 0.0)
        offer_v = list_value * offer_depth[c] * (1.0 if offer_c else 0.0)
        before = max(list_value - rebate_v - offer_v, 0.0)
        redeemed = 0.0
        earned = 0.0
        paid = before
        if has_points:
            balance = points[i, c]
            redeem = member_c and balance >= threshold[c]
            if redeem:
                redeemed = min(reward[c], before)
            paid = before - redeemed
            earned = paid * earn[r, c] * keep[c] * (1.0 if member_c else 0.0)
            points[i, c] = balance - (threshold[c] if redeem else 0.0) + earned
        if offer_c:
            offer_until[i, c] = NEVER
        failed = uniform(k_failure, i) < failure[c]
        engagement[i, c] += -par[PENALTY] if failed else par[GAIN]

        for f in range(n_firms):
            habit[i, f] *= par[SMOOTH]
        habit[i, c] += 1.0

        purchases[i] += k
        spend[i] += paid
        firm_spend[i, c] += paid
        if left:
            status[i] = GONE
            left_week[i] = week

        o_int[j, 0], o_int[j, 1] = c, k
        o_flag[j, 2], o_flag[j, 3], o_flag[j, 4] = member_c, failed, left
        o_eur[j, 0], o_eur[j, 1], o_eur[j, 2], o_eur[j, 3] = units, list_value, rebate_v, offer_v
        o_eur[j, 4], o_eur[j, 5], o_eur[j, 6] = redeemed, paid, earned
        # per-firm flows (metrics.purchase_flows)
        fsum[c, F_UNITS] += units
        fsum[c, F_REVENUE] += list_value
        fsum[c, F_MEMBER_DISC] += rebate_v + redeemed
        fsum[c, F_OFFER_DISC] += offer_v
        count[c, C_PURCHASES] += k

    # status and main firm in a second pass: each pass reads fewer arrays at once
    for j in range(b.size):
        i = b[j]
        c, k, left = o_int[j, 0], o_int[j, 1], o_flag[j, 4]
        if j + AHEAD < b.size:
            a = b[j + AHEAD]
            prefetch(recent, a * n_firms)
            prefetch(last_interaction, a * n_firms)
            for arr in (recent_week, home, challenger, challenge_since, last_loyal_week, last_firm):
                prefetch(arr, a)
            prefetch(last_loyal_active, a)
        # status before the purchases (status.loyal_before)
        prev_home = home[i]
        held = 0.0
        for f in range(n_firms):
            held += recent[i, f]
        share = recent[i, prev_home] / held if held > 0 else 0.0
        loyal = share >= par[LOYAL]
        active = last_interaction[i, prev_home] > week - window
        last_loyal_week[i] = week if loyal else last_loyal_week[i]
        last_loyal_active[i] = active if loyal else last_loyal_active[i]
        was_loyal = last_loyal_week[i] > week - lookback
        was_active = was_loyal & last_loyal_active[i]  # `&`: no branch

        # main firm (status.update_main)
        factor = decay_pow[week - recent_week[i] - pow_lo]
        for f in range(n_firms):
            recent[i, f] *= factor
        recent[i, c] += np.float64(k)
        recent_week[i] = week
        main = home[i]
        best, best_v = main, recent[i, main]
        for f in range(n_firms):
            higher = recent[i, f] > best_v
            best = f if higher else best
            best_v = recent[i, f] if higher else best_v
        since = challenge_since[i]
        contested = best != main
        if contested and challenger[i] != best:
            since = week
        switch = contested and week - since >= persistence
        if switch:
            main = best
        challenger[i] = best if contested and not switch else -1
        challenge_since[i] = since
        home[i] = main

        prev = last_firm[i]
        last_firm[i] = c
        o_week[j, 0], o_week[j, 1], o_week[j, 2] = prev, prev_home, main
        o_flag[j, 0], o_flag[j, 1] = was_loyal, was_active
        if prev >= 0:
            count[prev, C_RETURNING] += 1
            count[c, C_STAYED] += 1 if prev == c else 0
        if main != prev_home:
            count[prev_home, C_CHURN] += 1
            if was_active:
                count[prev_home, C_DEF_ACTIVE] += 1
            elif was_loyal:
                count[prev_home, C_DEF_PASSIVE] += 1
            count[main, C_SWITCHED_IN] += 1
        if left:
            count[main, C_CHURN_OUT] += 1


@njit(**_JIT)
def settle(
    firms, rows, segment, forget, habit, contacted, observe, decay, engagement, recent, member,
    home, last_interaction, loyal_threshold, week, window, ssum, scount,
):  # fmt: skip
    """End of step (memory.decay_memory) for the active customers ``rows``: those of a
    forgetful segment (``forget`` > 0) forget the firms that did not contact them, their
    engagement decays and, with ``observe``, their stocks are summed per firm
    (metrics.population_metrics). One pass: nothing is read of anyone else."""
    n_firms = len(firms)
    share = np.empty(n_firms)
    for j in range(rows.size):
        i = rows[j]
        if j + AHEAD < rows.size:
            a = rows[j + AHEAD] * n_firms
            for arr in (habit, engagement, recent):
                prefetch(arr, a)
            prefetch(last_interaction, a)
            prefetch(contacted, a)
            prefetch(member, a)
        # everyone goes through the forgetting, which multiplies by exactly 1 where the
        # segment's rate is 0: a branch on the segment (random) would often be mispredicted
        rate = forget[segment[i]]
        for f in range(n_firms):
            habit[i, f] *= 1.0 - rate * (0.0 if contacted[i, f] else 1.0)
        for f in range(n_firms):
            engagement[i, f] *= decay
        if not observe:
            continue
        observe_row(
            i, share, engagement, recent, member, home, last_interaction, loyal_threshold,
            week, window, ssum, scount,
        )  # fmt: skip
