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
from .population import ACTIVE, GONE, NEVER, Population
from .purchases import ChoiceParams
from .status import StatusRules
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
    rules: StatusRules = StatusRules(),  # noqa: B008
) -> Outcome:
    """Same contract as :func:`loyaltysim.purchases.purchase_step`, one customer at a time."""
    n_firms = pop.n_firms
    reward_eur = terms.reward_eur()
    open_ = [True] * n_firms if terms.open is None else [bool(x) for x in terms.open]
    cols: dict[str, list] = {k: [] for k in Outcome.__dataclass_fields__}
    for i in (int(r) for r in rows):
        repeat = _poisson(float(pop.purchase_rate[i]) * dt, float(draws.trips[i]))
        trial = bool(pop.trial_pending[i])
        if repeat == 0 and not trial:
            continue
        # member terms of this customer (per firm, or personal: tiers)
        rate_rows = terms.member_rates(np.array([i]))
        rebates = [float(x) for x in np.atleast_2d(rate_rows[0])[0]]
        earn_rates = [float(x) for x in np.atleast_2d(rate_rows[1])[0]]
        gs, offers, members, prices = [], [], [], []
        for f in range(n_firms):
            gs.append(_g(float(pop.engagement[i, f])))
            members.append(bool(pop.member[i, f]))
            offers.append(int(pop.offer_until[i, f]) >= week)
            price = float(terms.price[f]) * (
                1.0 - rebates[f] * members[f] - float(terms.offer_depth[f]) * offers[f]
            )
            prices.append(max(price, 0.0))
        in_market = [p for p, o in zip(prices, open_, strict=True) if o]
        mean_price = sum(in_market) / len(in_market)
        utils = []
        remembered = sum(float(h) for h in pop.habit[i]) + choice.habit_prior
        for f in range(n_firms):
            beta = float(pop.price_sensitivity[i]) * (
                1.0 - choice.engagement_price_relief * max(gs[f], 0.0)
            )
            util = (
                choice.engagement_weight * gs[f]
                + choice.loyalty_weight * float(pop.habit[i, f]) / remembered
                + float(pop.taste[i, f])
                - beta * (prices[f] - mean_price)
            )
            if np.isfinite(terms.threshold).any():
                points_eur = float(pop.points[i, f]) * float(terms.point_value[f]) * members[f]
                util += choice.points_weight * beta * points_eur / float(pop.basket[i])
            utils.append(util if open_[f] else -math.inf)
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
        d = float(pop.dropout[i]) * (1.0 - choice.engagement_churn_relief * g_c)
        u = float(draws.churn[i])
        if rules.cohort:
            # survive purchase after purchase; no purchase after dropping out
            made, left = 0, False
            while made < repeat:
                made += 1
                if u < 1.0 - (1.0 - d) ** made:
                    left = True
                    break
            k = made + trial
            pop.trial_pending[i] = False
        else:
            k = repeat
            left = u < 1.0 - (1.0 - d) ** k

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
            pop.offer_until[i, c] = NEVER

        prev_home = int(pop.home[i])
        total = float(pop.recent[i].sum())
        share = float(pop.recent[i, prev_home]) / total if total > 0 else 0.0
        if share >= rules.loyal_threshold:
            pop.last_loyal_week[i] = week
            recent = int(pop.last_interaction[i, prev_home]) > week - rules.active_window
            pop.last_loyal_active[i] = recent
        lookback = rules.main_persistence + rules.active_window
        was_loyal = int(pop.last_loyal_week[i]) > week - lookback
        was_active = was_loyal and bool(pop.last_loyal_active[i])

        failed = float(draws.failure[i]) < float(terms.failure[c])
        pop.engagement[i, c] += -memory.failure_penalty if failed else memory.experience_gain
        a = memory.loyalty_smoothing
        for f in range(n_firms):
            pop.habit[i, f] = pop.habit[i, f] * a + (1.0 if f == c else 0.0)

        home = _main_firm(pop, i, c, k, week, rules)
        prev = int(pop.last_firm[i])
        pop.last_firm[i] = c
        pop.purchases[i] += k
        pop.spend[i] += paid
        pop.firm_spend[i, c] += paid
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


def _main_firm(pop: Population, i: int, c: int, k: int, week: int, rules: StatusRules) -> int:
    """Decay the purchase history, add this step's purchases, and move the main firm only
    to a firm that has stayed on top for ``main_persistence`` weeks."""
    factor = rules.main_decay ** (week - int(pop.recent_week[i]))
    for f in range(pop.n_firms):
        pop.recent[i, f] *= factor
    pop.recent[i, c] += k
    pop.recent_week[i] = week
    main = int(pop.home[i])
    best = max(range(pop.n_firms), key=lambda f: (pop.recent[i, f], -f))
    top = main if pop.recent[i, main] >= pop.recent[i, best] else best
    if top == main:
        pop.challenger[i] = -1
        return main
    if int(pop.challenger[i]) != top:
        pop.challenger[i] = top
        pop.challenge_since[i] = week
    if week - int(pop.challenge_since[i]) >= rules.main_persistence:
        pop.home[i] = top
        pop.challenger[i] = -1
        return top
    return main


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
                pop.habit[i, f] *= 1.0 - rate
