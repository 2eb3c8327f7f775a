"""Customer rules, vectorised over the whole population.

One call of :func:`purchase_step` plays one model step of category purchases for all active
customers at once:

1. Purchase timing (buy-till-you-die): ``k ~ Poisson(rate * dt)`` purchase occasions.
2. Firm choice by multinomial logit. For customer i and firm f, with g = E/(1+|E|)::

       beta_if = beta_i * (1 - price_relief * max(g_if, 0))                 (S4)
       p_if    = price_f * (1 - rebate_f * member_if - offer_f * offer_if)  (S1, S6)
       U_if    = -beta_if * p_if + w_E * g_if + w_L * L_if
                 + w_P * beta_if * points_value_if / basket_i                (S3, S13)

   Choice probabilities are softmax(U_i); the choice is the inverse CDF at one uniform draw.
3. Payment: rebates, poaching offers and points redemptions come off list price; members
   earn points on what they paid (less breakage).
4. Service: a failure (probability 1 - quality_f) removes engagement; a good purchase adds
   a little (S3).
5. Memory: purchase loyalty L is smoothed, ``L <- a L + (1 - a) 1[chosen]`` (Guadagni &
   Little 1983). The home firm is the one with the highest L (ties keep the old home);
   a change of home firm is churn to a competitor.
6. Drop-out: after its k purchases a customer leaves the category with probability
   ``1 - (1 - d_i (1 - churn_relief * max(g_ic, 0)))^k`` (BG/NBD with S4's engagement relief).

The same rules, written per customer with plain Python loops, live in
:mod:`loyaltysim.reference`; the tests check that both agree on the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import ChoiceParams, MemoryParams
from .population import ACTIVE, GONE, Population


@dataclass
class Terms:
    """What each firm offers this step; every array has one entry per firm (EUR, fractions)."""

    price: np.ndarray  # list price per unit
    rebate: np.ndarray  # fraction off list price for members (discount programme, rebate mode)
    points_per_eur: np.ndarray  # points earned per EUR paid by members
    point_value: np.ndarray  # EUR per point at redemption
    threshold: np.ndarray  # points needed to redeem one reward (inf: no points scheme)
    points_keep: np.ndarray  # 1 - breakage: share of earned points that stay redeemable
    offer_depth: np.ndarray  # fraction off list price for holders of a valid poaching offer
    failure: np.ndarray  # probability that a purchase meets a service failure

    def reward_eur(self) -> np.ndarray:
        """EUR value of one reward per firm (0 where there is no points scheme)."""
        finite = np.isfinite(self.threshold)
        return np.where(finite, np.where(finite, self.threshold, 0.0) * self.point_value, 0.0)

    @classmethod
    def plain(cls, price: np.ndarray, failure: np.ndarray) -> Terms:
        f = len(price)
        zeros = np.zeros(f)
        return cls(
            price=np.asarray(price, float),
            rebate=zeros.copy(),
            points_per_eur=zeros.copy(),
            point_value=zeros.copy(),
            threshold=np.full(f, np.inf),
            points_keep=np.ones(f),
            offer_depth=zeros.copy(),
            failure=np.asarray(failure, float),
        )


@dataclass
class Draws:
    """Uniform draws for one step, one per person in the pool (common random numbers)."""

    trips: np.ndarray
    choice: np.ndarray
    failure: np.ndarray
    churn: np.ndarray


@dataclass
class Outcome:
    """What happened to each buyer this step; arrays are aligned with ``buyers``."""

    buyers: np.ndarray  # row indices
    firm: np.ndarray  # chosen firm
    prev_firm: np.ndarray  # firm of the previous purchase (-1: none)
    prev_home: np.ndarray  # home firm before this step's purchases
    home: np.ndarray  # home firm after them (changes: churn to a competitor)
    was_loyal: np.ndarray  # bool: loyal to the old home firm before this step (L >= threshold)
    was_active: np.ndarray  # bool: ... and engaged with it (g >= threshold): active loyal (S6)
    trips: np.ndarray  # purchase occasions this step (>= 1)
    units: np.ndarray
    list_value: np.ndarray  # EUR at list price
    rebate: np.ndarray  # EUR off as programme rebate
    offer: np.ndarray  # EUR off as poaching offer
    redeemed: np.ndarray  # EUR off as points redemption
    paid: np.ndarray  # EUR paid
    points_earned: np.ndarray
    member: np.ndarray  # bool: member of the chosen firm's programme at the purchase
    failed: np.ndarray  # bool: service failure
    left: np.ndarray  # bool: left the category after this step's purchases


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


def engagement_g(e: np.ndarray) -> np.ndarray:
    """Engagement stock mapped to (-1, 1): g(E) = E / (1 + |E|)."""
    return e / (1.0 + np.abs(e))


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


def home_firm(loyalty: np.ndarray, current: np.ndarray) -> np.ndarray:
    """The firm with the highest purchase loyalty per row; a tie keeps ``current``."""
    cols = np.ascontiguousarray(loyalty.T)
    home = current.astype(np.int32)
    top = cols[home, np.arange(home.size)] if home.size else np.zeros(0)
    for f, col in enumerate(cols):
        higher = col > top
        home[higher] = f
        top = np.where(higher, col, top)
    return home


def utilities(
    pop: Population, rows: np.ndarray, terms: Terms, week: int, choice: ChoiceParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Logit utilities of ``rows`` for every firm.

    Returns ``(utility, g, has_offer, member, loyalty)``, each ``(len(rows), F)``; the last
    four are the gathered customer state, reused by :func:`purchase_step`.
    """
    g = engagement_g(np.take(pop.engagement, rows, axis=0))
    loyalty = np.take(pop.loyalty, rows, axis=0)
    member = np.take(pop.member, rows, axis=0)
    has_offer = np.take(pop.offer_until, rows, axis=0) >= week
    beta = 1.0 - choice.engagement_price_relief * np.maximum(g, 0.0)
    beta *= pop.price_sensitivity[rows, None]
    discount = np.zeros_like(g)
    if terms.rebate.any():
        discount += terms.rebate * member
    if terms.offer_depth.any():
        discount += terms.offer_depth * has_offer
    unit_price = terms.price * (1.0 - discount)
    np.maximum(unit_price, 0.0, out=unit_price)
    u = choice.engagement_weight * g
    u += choice.loyalty_weight * loyalty
    u -= beta * unit_price
    if np.isfinite(terms.threshold).any():
        points_eur = np.take(pop.points, rows, axis=0) * terms.point_value * member
        u += choice.points_weight * beta * points_eur / pop.basket[rows, None]
    return u, g, has_offer, member, loyalty


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
    """Play one step of purchases for the active customers ``rows``; updates ``pop`` in place.

    The thresholds classify each buyer's pre-purchase status toward their home firm (loyal,
    active loyal), so that defections can be split into passive and active loyal (S6).
    """
    n_firms = pop.n_firms
    trips = poisson_from_uniform(pop.purchase_rate[rows] * dt, draws.trips[rows])
    buying = trips > 0
    b = rows[buying]
    k = trips[buying]
    util, g, has_offer, member, loyal = utilities(pop, b, terms, week, choice)
    c = choose(util, draws.choice[b])
    # flat indices: row-major (customer, firm) cells of the gathered and the full arrays
    own = np.arange(b.size) * n_firms + c
    cell = b * n_firms + c
    g_c = np.maximum(g.ravel()[own], 0.0)
    member_c = member.ravel()[own]
    offer_c = has_offer.ravel()[own]

    units = pop.basket[b] * (1.0 + choice.engagement_basket_lift * g_c) * k
    list_value = terms.price[c] * units
    rebate = list_value * terms.rebate[c] * member_c
    offer = list_value * terms.offer_depth[c] * offer_c
    before_points = np.maximum(list_value - rebate - offer, 0.0)

    if np.isfinite(terms.threshold).any():
        points = pop.points.ravel()
        balance = points[cell]
        reward_pts = terms.threshold[c]
        redeem = member_c & (balance >= reward_pts)
        redeemed = np.where(redeem, np.minimum(terms.reward_eur()[c], before_points), 0.0)
        paid = before_points - redeemed
        earned = paid * terms.points_per_eur[c] * terms.points_keep[c] * member_c
        points[cell] = balance - np.where(redeem, reward_pts, 0.0) + earned
    else:  # no firm runs a points scheme this step
        redeemed = earned = np.zeros(b.size)
        paid = before_points
    pop.offer_until.ravel()[cell[offer_c]] = -1

    failed = draws.failure[b] < terms.failure[c]
    pop.engagement.ravel()[cell] += np.where(
        failed, -memory.failure_penalty, memory.experience_gain
    )

    prev_home = pop.home[b]
    at_home = np.arange(b.size) * n_firms + prev_home
    was_loyal = loyal.ravel()[at_home] >= loyal_threshold
    was_active = was_loyal & (g.ravel()[at_home] >= active_threshold)

    a = memory.loyalty_smoothing
    loyal *= a
    loyal.ravel()[own] += 1.0 - a
    pop.loyalty[b] = loyal

    # home firm: highest purchase loyalty; ties keep the current home
    home = home_firm(loyal, prev_home)
    pop.home[b] = home
    prev = pop.last_firm[b]
    pop.last_firm[b] = c
    pop.purchases[b] += k
    pop.spend[b] += paid

    d = pop.dropout[b] * (1.0 - choice.engagement_churn_relief * g_c)
    left = draws.churn[b] < 1.0 - (1.0 - d) ** k
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


def decay_memory(
    pop: Population, decay: float, forget: np.ndarray, forget_rows: np.ndarray
) -> None:
    """End-of-step memory: engagement decays by its half-life; quiet customers not contacted
    by a firm lose a share of their purchase loyalty to it (S6). ``forget_rows`` are the
    people whose segment forgets; only the active ones among them are updated."""
    pop.engagement *= decay
    rows = forget_rows[pop.status[forget_rows] == ACTIVE]
    if rows.size:
        rate = forget[pop.segment[rows]]
        keep = 1.0 - rate[:, None] * ~np.take(pop.contacted, rows, axis=0)
        pop.loyalty[rows] = np.take(pop.loyalty, rows, axis=0) * keep
