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
from .population import GONE, Population


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
    k = np.zeros(lam.shape, np.int64)
    p = np.exp(-lam)
    cdf = p.copy()
    todo = np.flatnonzero(u > cdf)
    i = 1
    while todo.size:
        p[todo] *= lam[todo] / i
        cdf[todo] += p[todo]
        k[todo] += 1
        # p underflows to 0 only for u within rounding of 1: stop there
        todo = todo[(u[todo] > cdf[todo]) & (p[todo] > 0)]
        i += 1
    return k


def engagement_g(e: np.ndarray) -> np.ndarray:
    """Engagement stock mapped to (-1, 1): g(E) = E / (1 + |E|)."""
    return e / (1.0 + np.abs(e))


def choose(utility: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Multinomial-logit choice: index of the firm whose CDF bracket holds ``u``."""
    z = utility - utility.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    cdf = np.cumsum(z, axis=1)
    target = u * cdf[:, -1]
    chosen = (target[:, None] > cdf).sum(axis=1)
    return np.minimum(chosen, utility.shape[1] - 1)


def utilities(
    pop: Population, rows: np.ndarray, terms: Terms, week: int, choice: ChoiceParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Logit utilities of ``rows`` for every firm; also returns g, offer and member masks."""
    g = engagement_g(pop.engagement[rows])
    relief = 1.0 - choice.engagement_price_relief * np.maximum(g, 0.0)
    beta = pop.price_sensitivity[rows, None] * relief
    member = pop.member[rows]
    has_offer = pop.offer_until[rows] >= week
    unit_price = terms.price * (1.0 - terms.rebate * member - terms.offer_depth * has_offer)
    np.maximum(unit_price, 0.0, out=unit_price)
    u = choice.engagement_weight * g + choice.loyalty_weight * pop.loyalty[rows] - beta * unit_price
    if np.isfinite(terms.threshold).any():
        points_eur = pop.points[rows] * terms.point_value * member
        u += choice.points_weight * beta * points_eur / pop.basket[rows, None]
    return u, g, has_offer, member


def purchase_step(
    pop: Population,
    rows: np.ndarray,
    terms: Terms,
    draws: Draws,
    week: int,
    dt: float,
    choice: ChoiceParams,
    memory: MemoryParams,
) -> Outcome:
    """Play one step of purchases for the active customers ``rows``; updates ``pop`` in place."""
    trips = poisson_from_uniform(pop.purchase_rate[rows] * dt, draws.trips[rows])
    buying = trips > 0
    b = rows[buying]
    k = trips[buying]
    util, g, has_offer, member = utilities(pop, b, terms, week, choice)
    c = choose(util, draws.choice[b])
    m = np.arange(b.size)
    g_c = np.maximum(g[m, c], 0.0)
    member_c = member[m, c]
    offer_c = has_offer[m, c]

    units = pop.basket[b] * (1.0 + choice.engagement_basket_lift * g_c) * k
    list_value = terms.price[c] * units
    rebate = list_value * terms.rebate[c] * member_c
    offer = list_value * terms.offer_depth[c] * offer_c
    before_points = np.maximum(list_value - rebate - offer, 0.0)

    balance = pop.points[b, c]
    reward_pts = terms.threshold[c]
    redeem = member_c & (balance >= reward_pts)
    reward_eur = terms.reward_eur()[c]
    redeemed = np.where(redeem, np.minimum(reward_eur, before_points), 0.0)
    paid = before_points - redeemed
    earned = paid * terms.points_per_eur[c] * terms.points_keep[c] * member_c
    pop.points[b, c] = balance - np.where(redeem, reward_pts, 0.0) + earned
    pop.offer_until[b[offer_c], c[offer_c]] = -1

    failed = draws.failure[b] < terms.failure[c]
    pop.engagement[b, c] += np.where(failed, -memory.failure_penalty, memory.experience_gain)

    a = memory.loyalty_smoothing
    pop.loyalty[b] *= a
    pop.loyalty[b, c] += 1.0 - a

    # home firm: highest purchase loyalty; ties keep the current home
    loyal = pop.loyalty[b]
    prev_home = pop.home[b]
    best = loyal.argmax(axis=1)
    home = np.where(loyal[m, prev_home] >= loyal[m, best], prev_home, best).astype(np.int32)
    pop.home[b] = home
    prev = pop.last_firm[b].copy()
    pop.last_firm[b] = c
    pop.purchases[b] += k
    pop.spend[b] += paid

    d = pop.dropout[b] * (1.0 - choice.engagement_churn_relief * g_c)
    left = draws.churn[b] < 1.0 - (1.0 - d) ** k
    pop.status[b[left]] = GONE
    pop.left_week[b[left]] = week

    return Outcome(
        buyers=b,
        firm=c,
        prev_firm=prev,
        prev_home=prev_home,
        home=home,
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
    by a firm lose a share of their purchase loyalty to it (S6)."""
    pop.engagement *= decay
    if forget_rows.size:
        rate = forget[pop.segment[forget_rows]]
        keep = 1.0 - rate[:, None] * ~pop.contacted[forget_rows]
        pop.loyalty[forget_rows] *= keep
