"""The purchase rule, vectorised over all active customers: when they buy, where, and at what.

One call of :func:`purchase_step` plays one model step of category purchases:

1. Purchase timing (buy-till-you-die): ``k ~ Poisson(rate * dt)`` purchase occasions (plus a
   trial purchase for a BG/NBD cohort's first week).
2. Firm choice by multinomial logit. For customer i and firm f, with g = E/(1+|E|)::

       p_if    = price_f * (1 - rebate_if * member_if - offer_f * offer_if)  (S1, S6)
       beta_if = beta_i * (1 - price_relief * max(g_if, 0))                   (S4)
                        * (1 + dissatisfaction_price * max(-g_if, 0))
       U_if    = -beta_if * (p_if - pbar_i) + w_E * g_if + w_H * L_if
                 + taste_if + w_P * beta_if * points_value_if / basket_i       (S3, S13)

   where ``L_if = H_if / (sum_g H_ig + k)`` is the firm's share of the customer's
   remembered purchases (habit, step 5) with a prior of ``k`` purchases, and ``pbar_i`` is
   the mean effective price over the firms in the market: engagement makes a customer less
   sensitive to a firm's price *difference* from the others (S4), not to the category's
   price level. Choice probabilities are softmax(U_i); the choice is the
   inverse CDF at one uniform draw.
3. Payment: rebates, poaching offers and points redemptions come off list price; members
   earn points on what they paid (less breakage). Rebates and earn rates may differ per
   customer (a tiered programme sets them through :attr:`Terms.personal`).
4. Service: a failure (probability 1 - quality_f) removes engagement; a good purchase adds
   a little (S3).
5. Memory: the habit stock ``H <- a H + 1[chosen]`` (Guadagni & Little's smoothing,
   unnormalised: see :mod:`loyaltysim.model.memory`); ``taste_if`` is the persistent taste.
6. Main firm (:func:`update_main`): the firm with the most purchases in the customer's
   recent history (decayed with half-life ``main_window_weeks``); another firm becomes the
   main firm only after staying on top for ``main_persistence_weeks``. A change of main
   firm is a defection (churn to a competitor): real and lasting, not a passing flip.
7. Drop-out: after its k purchases a customer leaves the category with probability
   ``1 - (1 - d_ic)^k`` with ``d_ic = min(1, d_i (1 - churn_relief * max(g_ic, 0))
   (1 + dissatisfaction_churn * max(-g_ic, 0)))`` (BG/NBD with S4's engagement relief and
   the dissatisfied customer's quicker exit).
   In a BG/NBD cohort the trial purchase carries no drop-out and a customer who drops out
   after the j-th purchase of a step makes no further purchases in it.

The same rules, written for one customer at a time, are the Mesa agent
:class:`loyaltysim.engines.agents.Customer` (``engine=agents``), the specification this engine is
tested against: both give the same results on the same draws. The market plays large pools
with compiled loops (:mod:`loyaltysim.engines.kernel`, through
:mod:`loyaltysim.engines.engine`) that repeat
these array rules operation for operation; this module stays the readable version they are
tested against, bit for bit.
"""

from __future__ import annotations

import numpy as np

from .choice import ChoiceParams
from .memory import MemoryParams, engagement_g, habit_loyalty
from .population import GONE, NEVER, Population
from .status import StatusRules, loyal_before, update_main
from .trades import Draws, FirmSales, Outcome, Terms

__all__ = [
    "ChoiceParams",
    "Draws",
    "FirmSales",
    "Outcome",
    "StatusRules",
    "Terms",
    "purchase_step",
]


def poisson_from_uniform(lam: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Poisson(lam) counts by inverting the CDF at ``u`` (so one uniform fixes the count)."""
    p = np.exp(-lam)
    k = np.zeros(lam.shape, np.int64)
    idx = np.flatnonzero(u > p)
    # carry compacted copies of the customers still climbing the CDF
    lam_i, u_i, p_i = lam[idx], u[idx], p[idx]
    cdf_i = p_i.copy()
    i = 1
    while idx.size:
        p_i *= lam_i / i
        cdf_i += p_i
        k[idx] += 1
        # p underflows to 0 only for u within rounding of 1: stop there
        more = (u_i > cdf_i) & (p_i > 0)
        idx, lam_i, u_i, p_i, cdf_i = idx[more], lam_i[more], u_i[more], p_i[more], cdf_i[more]
        i += 1
    return k


def choose(utility: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Multinomial-logit choice: index of the firm whose CDF bracket holds ``u``.

    ``utility`` is ``(customers, firms)``; the work runs firm by firm on contiguous columns,
    which for a handful of firms is several times faster than reducing along axis 1.
    """
    cols = np.ascontiguousarray(utility.T)
    cols -= cols.max(axis=0)
    np.exp(cols, out=cols)
    target = u * cols.sum(axis=0)
    chosen = np.zeros(u.shape, np.int64)
    cum = np.zeros(u.shape)
    for col in cols[:-1]:
        cum += col
        chosen += target > cum
    return chosen


def _at_choice(values: np.ndarray, own: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Each buyer's value at their chosen firm, from per-firm or per-customer terms."""
    return values[chosen] if values.ndim == 1 else values.ravel()[own]


def utilities(
    pop: Population,
    rows: np.ndarray,
    terms: Terms,
    week: int,
    choice: ChoiceParams,
    rebate: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Logit utilities of ``rows`` for every firm.

    Returns ``(utility, g, has_offer, member, habit)``, each ``(len(rows), F)``; the last
    four are the gathered customer state, reused by :func:`purchase_step`. ``rebate`` is
    the member rebate per firm or per (row, firm) (default: ``terms.rebate``).
    """
    rebate = terms.rebate if rebate is None else rebate
    g = engagement_g(np.take(pop.engagement, rows, axis=0))
    habit = np.take(pop.habit, rows, axis=0)
    member = np.take(pop.member, rows, axis=0)
    has_offer = np.take(pop.offer_until, rows, axis=0) >= week
    beta = 1.0 - choice.engagement_price_relief * np.maximum(g, 0.0)
    beta *= 1.0 + choice.dissatisfaction_price * np.maximum(-g, 0.0)
    beta *= pop.price_sensitivity[rows, None]
    discount = np.zeros_like(g)
    if rebate.any():
        discount += rebate * member
    if terms.offer_depth.any():
        discount += terms.offer_depth * has_offer
    unit_price = terms.price * (1.0 - discount)
    np.maximum(unit_price, 0.0, out=unit_price)
    # price relative to the mean over the firms in the market (S4 acts on differences)
    in_market = unit_price if terms.open is None else unit_price[:, terms.open]
    unit_price -= in_market.mean(axis=1, keepdims=True)
    u = choice.engagement_weight * g
    u += choice.loyalty_weight * habit_loyalty(habit, choice.habit_prior)
    u += np.take(pop.taste, rows, axis=0)
    u -= beta * unit_price
    if np.isfinite(terms.threshold).any():
        points_eur = np.take(pop.points, rows, axis=0) * terms.point_value * member
        u += choice.points_weight * beta * points_eur / pop.basket[rows, None]
    if terms.open is not None:
        u[:, ~terms.open] = -np.inf  # not yet in the market: never chosen
    return u, g, has_offer, member, habit


def purchase_step(
    pop: Population,
    rows: np.ndarray,
    terms: Terms,
    draws: Draws,
    week: int,
    dt: float,
    choice: ChoiceParams,
    memory: MemoryParams,
    rules: StatusRules = StatusRules(),  # noqa: B008  (a frozen default)
) -> Outcome:
    """Play one step of purchases for the active customers ``rows``; updates ``pop`` in place.

    ``rules`` classify each buyer's status toward their main firm before the step (loyal,
    active loyal), so that defections can be split into passive and active loyal (S6).
    """
    n_firms = pop.n_firms
    trips = poisson_from_uniform(pop.purchase_rate[rows] * dt, draws.trips[rows])
    trial = pop.trial_pending[rows]
    buying = (trips > 0) | trial
    b = rows[buying]
    repeat = trips[buying]
    rebate_rate, earn_rate = terms.member_rates(b)
    util, g, has_offer, member, habit = utilities(pop, b, terms, week, choice, rebate_rate)
    c = choose(util, draws.choice[b])
    # flat indices: row-major (customer, firm) cells of the gathered and the full arrays
    own = np.arange(b.size) * n_firms + c
    cell = b * n_firms + c
    g_own = g.ravel()[own]
    g_c = np.maximum(g_own, 0.0)
    member_c = member.ravel()[own]
    offer_c = has_offer.ravel()[own]

    d = pop.dropout[b] * (1.0 - choice.engagement_churn_relief * g_c)
    d *= 1.0 + choice.dissatisfaction_churn * np.maximum(-g_own, 0.0)
    np.minimum(d, 1.0, out=d)
    if rules.cohort:
        # BG/NBD: drop-out may follow each repeat purchase; none are made after it
        with np.errstate(divide="ignore", invalid="ignore"):
            j = np.floor(np.log1p(-draws.churn[b]) / np.log1p(-d)) + 1
        left = j <= repeat
        k = np.where(left, j, repeat).astype(np.int64) + trial[buying]
        pop.trial_pending[b] = False
    else:
        k = repeat
        left = draws.churn[b] < 1.0 - (1.0 - d) ** k

    units = pop.basket[b] * (1.0 + choice.engagement_basket_lift * g_c) * k
    list_value = terms.price[c] * units
    rebate = list_value * _at_choice(rebate_rate, own, c) * member_c
    offer = list_value * terms.offer_depth[c] * offer_c
    before_points = np.maximum(list_value - rebate - offer, 0.0)

    if np.isfinite(terms.threshold).any():
        points = pop.points.ravel()
        balance = points[cell]
        reward_pts = terms.threshold[c]
        redeem = member_c & (balance >= reward_pts)
        redeemed = np.where(redeem, np.minimum(terms.reward_eur()[c], before_points), 0.0)
        paid = before_points - redeemed
        earned = paid * _at_choice(earn_rate, own, c) * terms.points_keep[c] * member_c
        points[cell] = balance - np.where(redeem, reward_pts, 0.0) + earned
    else:  # no firm runs a points scheme this step
        redeemed = earned = np.zeros(b.size)
        paid = before_points
    pop.offer_until.ravel()[cell[offer_c]] = NEVER

    failed = draws.failure[b] < terms.failure[c]
    pop.engagement.ravel()[cell] += np.where(
        failed, -memory.failure_penalty, memory.experience_gain
    )

    prev_home = pop.home[b]
    recent = np.take(pop.recent, b, axis=0)  # gathered once: status, then main firm
    was_loyal, was_active = loyal_before(pop, b, recent, week, rules)

    habit *= memory.loyalty_smoothing
    habit.ravel()[own] += 1.0
    pop.habit[b] = habit

    home = update_main(pop, b, recent, c, k, week, rules)
    prev = pop.last_firm[b]
    pop.last_firm[b] = c
    pop.purchases[b] += k
    pop.spend[b] += paid
    pop.firm_spend.ravel()[cell] += paid

    gone = b[left]
    pop.status[gone] = GONE
    pop.left_week[gone] = week

    return Outcome(
        buyers=b,
        firm=c,
        prev_firm=prev,
        prev_home=prev_home,
        home=home,
        was_loyal=was_loyal,
        was_active=was_active,
        trips=k,
        units=units,
        list_value=list_value,
        rebate=rebate,
        offer=offer,
        redeemed=redeemed,
        paid=paid,
        points_earned=earned,
        member=member_c,
        failed=failed,
        left=left,
    )
