"""Word of mouth (S8, S11): engaged customers recommend their firm to a neighbour.

Each week an active customer recommends their home firm with probability
``rate * dt * word_of_mouth[segment] * max(g(E), 0) * (1 + boost)``: engagement, not
purchase frequency, drives recommendation, so customers who will not buy again soon also
make these "hidden acts of loyalty" (S8). A recommended prospect joins the category as that
firm's customer with probability ``conversion``; a recommended customer of another firm
gains engagement with the recommended firm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .memory import engagement_g
from .network import Network
from .params import CONSTANT, UNCERTAINTY, ConfigError, Params, param
from .population import ACTIVE, ORIGIN_REFERRAL, PROSPECT, Population


@dataclass(frozen=True)
class ReferralParams(Params):
    """Word of mouth on the social network (S8, S11)."""

    rate: float = param(
        0.01,
        lo=0,
        hi=1,
        kind=UNCERTAINTY,
        unit="per week",
        doc="weekly recommendation probability at g(E)=1",
        plausible=(0.002, 0.05),
        source="reason: Bass imitation q about 0.38 a year (brief) spread over 8 neighbours "
        "and a 0.3 conversion gives a few % a week at full engagement; most are far below",
    )
    conversion: float = param(
        0.3,
        lo=0,
        hi=1,
        kind=UNCERTAINTY,
        unit="probability",
        doc="probability a recommended prospect joins",
        plausible=(0.05, 0.5),
        source="reason: referred prospects convert far more often than cold ones; no "
        "category-level estimate",
    )
    wom_gain: float = param(
        0.5,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="engagement",
        doc="engagement a recommendation gives an existing customer",
        plausible=(0.0, 1.0),
        source="reason: a friend's word is at most about one good personal contact",
    )
    network_degree: int = param(
        8, lo=2, hi=1000, kind=CONSTANT, unit="people", doc="mean number of neighbours (even)"
    )
    rewiring: float = param(
        0.1, lo=0, hi=1, kind=CONSTANT, unit="probability", doc="Watts-Strogatz rewiring"
    )

    def check(self) -> None:
        if self.network_degree % 2:
            raise ConfigError("network_degree", self.network_degree, "an even integer >= 2")


@dataclass
class Referrals:
    referrers: np.ndarray  # rows who recommended this step
    firm: np.ndarray  # the firm each recommended
    joined: np.ndarray  # prospects who joined the category through a recommendation
    joined_firm: np.ndarray

    def made_for(self, firm: int) -> np.ndarray:
        """Rows who recommended ``firm`` this step."""
        return self.referrers[self.firm == firm]


def referral_step(
    pop: Population,
    net: Network,
    rows: np.ndarray,
    params: ReferralParams,
    wom: np.ndarray,
    boost: np.ndarray,
    dt: float,
    rng: np.random.Generator,
    week: int = 0,
) -> Referrals:
    """Recommendations by the active customers ``rows``; updates engagement in place.

    Args:
        wom: word-of-mouth multiplier per segment.
        boost: extra relative referral propensity per person this step (S11's surprises).
    """
    u = rng.random(rows.size)
    # g < 1, so nobody's probability exceeds this bound: only customers whose draw falls
    # below it need their engagement looked up (the same outcome, a fraction of the work)
    bound = params.rate * dt * wom.max() * (1.0 + boost.max())
    cand = np.flatnonzero(u < bound)
    rows_c = rows[cand]
    home = pop.home[rows_c]
    g = np.maximum(engagement_g(np.take(pop.engagement.ravel(), rows_c * pop.n_firms + home)), 0.0)
    prob = params.rate * dt * wom[pop.segment[rows_c]] * g * (1.0 + boost[rows_c])
    says = u[cand] < prob
    referrers, firm = rows_c[says], home[says]
    pop.interacted(referrers, firm, week)  # a recommendation is an act of loyalty (S8)
    contact = net.neighbour(referrers, rng.random(referrers.size))
    convert = rng.random(referrers.size) < params.conversion
    has = contact >= 0
    status = np.where(has, pop.status[np.maximum(contact, 0)], -1)

    existing = has & (status == ACTIVE)
    other = existing & (pop.home[np.maximum(contact, 0)] != firm)
    np.add.at(pop.engagement, (contact[other], firm[other]), params.wom_gain)

    new = has & (status == PROSPECT) & convert
    joined, first = np.unique(contact[new], return_index=True)
    pop.referrals[referrers] += 1
    return Referrals(referrers, firm, joined, firm[new][first])


def admit_referred(pop: Population, refs: Referrals, n_firms: int, week: int) -> np.ndarray:
    """Referred prospects join as customers of the recommended firm; returns joins per firm."""
    for f in range(n_firms):
        pop.activate(refs.joined[refs.joined_firm == f], f, week, ORIGIN_REFERRAL)
    return np.bincount(refs.joined_firm, minlength=n_firms)
