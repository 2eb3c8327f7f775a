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

from .config import ReferralParams
from .customers import engagement_g
from .network import Network
from .population import ACTIVE, PROSPECT, Population


@dataclass
class Referrals:
    referrers: np.ndarray  # rows who recommended this step
    firm: np.ndarray  # the firm each recommended
    joined: np.ndarray  # prospects who joined the category through a recommendation
    joined_firm: np.ndarray


def referral_step(
    pop: Population,
    net: Network,
    rows: np.ndarray,
    params: ReferralParams,
    wom: np.ndarray,
    boost: np.ndarray,
    dt: float,
    rng: np.random.Generator,
) -> Referrals:
    """Recommendations by the active customers ``rows``; updates engagement in place."""
    u = rng.random(rows.size)
    # g < 1, so nobody's probability exceeds this bound: only customers whose draw falls
    # below it need their engagement looked up (the same outcome, a fraction of the work)
    bound = params.rate * dt * wom.max() * (1.0 + boost.max())
    cand = np.flatnonzero(u < bound)
    rows_c = rows[cand]
    lf = pop.home[rows_c]
    g = np.maximum(engagement_g(np.take(pop.engagement.ravel(), rows_c * pop.n_firms + lf)), 0.0)
    prob = params.rate * dt * wom[pop.segment[rows_c]] * g * (1.0 + boost[rows_c])
    says = u[cand] < prob
    referrers, firm = rows_c[says], lf[says]
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
