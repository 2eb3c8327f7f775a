"""Per-customer reference implementation of the customer rules (tests and benchmarks only).

Plain Python loops over customers and firms, written from the equations in
:mod:`loyaltysim.purchases` and :mod:`loyaltysim.memory`, not from their array code, so
that an indexing or broadcasting mistake in the vectorised engine shows up as a
disagreement. It takes the same
uniform draws, so both must produce the same outcome on the same state.
"""

from __future__ import annotations

import math

import numpy as np

from .memory import MemoryParams
from .population import ACTIVE, GONE, Population
from .purchases import ChoiceParams
from .trades import Draws, Outcome, Terms


def _poisson(lam: float, u: float) -> int:
    k, p = 0, math.exp(-lam)
    cdf = p
    while u > cdf and p > 0:
        k += 1
        p *= lam / k
        cdf += p
    return k


def _g(e: float) -> float:
    return e / (1.0 + abs(e))


def purchase_step(
    pop: Population,
    rows: np.ndarray,
    terms: Terms,
    draws: Draws,
    week: int,
    dt: float,
    choice: ChoiceParams,
    memory: MemoryParams,
    loyal_threshold: float = 0.6,
    active_threshold: float = 0.3,
) -> Outcome:
    """Same contract as :func:`loyaltysim.purchases.purchase_step`, one customer at a time."""
    n_firms = pop.n_firms
    reward_eur = terms.reward_eur()
    cols: dict[str, list] = {k: [] for k in Outcome.__dataclass_fields__}
    for i in (int(r) for r in rows):
        k = _poisson(float(pop.purchase_rate[i]) * dt, float(draws.trips[i]))
        if k == 0:
            continue
        # member terms of this customer (per firm, or personal: tiers)
        rate_rows = terms.member_rates(np.array([i]))
        rebates = [float(x) for x in np.atleast_2d(rate_rows[0])[0]]
        earn_rates = [float(x) for x in np.atleast_2d(rate_rows[1])[0]]
        utils, gs, offers, members = [], [], [], []
        for f in range(n_firms):
            g = _g(float(pop.engagement[i, f]))
            beta = float(pop.price_sensitivity[i]) * (
                1.0 - choice.engagement_price_relief * max(g, 0.0)
            )
            member = bool(pop.member[i, f])
            offer = int(pop.offer_until[i, f]) >= week
            price = float(terms.price[f]) * (
                1.0 - rebates[f] * member - float(terms.offer_depth[f]) * offer
            )
            util = (
                choice.engagement_weight * g
                + choice.loyalty_weight * float(pop.loyalty[i, f])
                - beta * max(price, 0.0)
            )
            if np.isfinite(terms.threshold).any():
                points_eur = float(pop.points[i, f]) * float(terms.point_value[f]) * member
                util += choice.points_weight * beta * points_eur / float(pop.basket[i])
            if terms.open is not None and not terms.open[f]:
                util = -math.inf
            utils.append(util)
            gs.append(g)
            offers.append(offer)
            members.append(member)
        top = max(utils)
        weights = [math.exp(x - top) for x in utils]
        total = sum(weights)
        target = float(draws.choice[i]) * total
        c, cum = n_firms - 1, 0.0
        for f, w in enumerate(weights):
            cum += w
            if target <= cum:
                c = f
                break

        g_c = max(gs[c], 0.0)
        units = float(pop.basket[i]) * (1.0 + choice.engagement_basket_lift * g_c) * k
        list_value = float(terms.price[c]) * units
        rebate = list_value * rebates[c] * members[c]
        offer = list_value * float(terms.offer_depth[c]) * offers[c]
        before = max(list_value - rebate - offer, 0.0)
        balance = float(pop.points[i, c])
        redeem = members[c] and balance >= float(terms.threshold[c])
        redeemed = min(float(reward_eur[c]), before) if redeem else 0.0
        paid = before - redeemed
        earned = paid * earn_rates[c] * float(terms.points_keep[c]) * members[c]
        pop.points[i, c] = balance - (float(terms.threshold[c]) if redeem else 0.0) + earned
        if offers[c]:
            pop.offer_until[i, c] = -1

        prev_home = int(pop.home[i])
        was_loyal = bool(pop.loyalty[i, prev_home] >= loyal_threshold)
        was_active = was_loyal and gs[prev_home] >= active_threshold

        failed = float(draws.failure[i]) < float(terms.failure[c])
        pop.engagement[i, c] += -memory.failure_penalty if failed else memory.experience_gain
        a = memory.loyalty_smoothing
        for f in range(n_firms):
            pop.loyalty[i, f] = pop.loyalty[i, f] * a + ((1.0 - a) if f == c else 0.0)

        best = max(range(n_firms), key=lambda f: (pop.loyalty[i, f], -f))
        home = prev_home if pop.loyalty[i, prev_home] >= pop.loyalty[i, best] else best
        pop.home[i] = home
        prev = int(pop.last_firm[i])
        pop.last_firm[i] = c
        pop.purchases[i] += k
        pop.spend[i] += paid
        pop.firm_spend[i, c] += paid

        d = float(pop.dropout[i]) * (1.0 - choice.engagement_churn_relief * g_c)
        left = float(draws.churn[i]) < 1.0 - (1.0 - d) ** k
        if left:
            pop.status[i] = GONE
            pop.left_week[i] = week

        for key, value in (
            ("buyers", i),
            ("firm", c),
            ("prev_firm", prev),
            ("prev_home", prev_home),
            ("home", home),
            ("was_loyal", was_loyal),
            ("was_active", was_active),
            ("trips", k),
            ("units", units),
            ("list_value", list_value),
            ("rebate", rebate),
            ("offer", offer),
            ("redeemed", redeemed),
            ("paid", paid),
            ("points_earned", earned),
            ("member", members[c]),
            ("failed", failed),
            ("left", left),
        ):
            cols[key].append(value)
    return Outcome(**{k: np.array(v) for k, v in cols.items()})


def decay_memory(
    pop: Population, decay: float, forget: np.ndarray, forget_rows: np.ndarray
) -> None:
    """Per-customer version of :func:`loyaltysim.memory.decay_memory`."""
    n, n_firms = pop.engagement.shape
    for i in range(n):
        for f in range(n_firms):
            pop.engagement[i, f] *= decay
    for i in (int(r) for r in forget_rows):
        if pop.status[i] != ACTIVE:
            continue
        rate = float(forget[pop.segment[i]])
        for f in range(n_firms):
            if not pop.contacted[i, f]:
                pop.loyalty[i, f] *= 1.0 - rate
