"""Poaching offers: a firm's discount to customers of other firms (S6; Chen 1997).

From ``start_week`` (market entry), a poaching firm gives each targeted customer of
another firm, with weekly probability ``rate``, an offer of ``depth`` off its list price,
valid for ``offer_weeks``. A rival aims only at what a rival can observe (issue 22): ``all``
customers of other firms, the ``deal_prone`` ones (learnt from coupon redemption), or its
``own_buyers`` (its own sales records). It never reads the other firm's contact log, so any
protection an engaged customer has comes through that customer's own choice. A used
offer's discount is booked as acquisition cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import LEVER, Params, param
from .population import Population


@dataclass(frozen=True)
class PoachingParams(Params):
    """Discount offers to customers of other firms (S6)."""

    rate: float = param(
        0.0, lo=0, hi=1, kind=LEVER, unit="per week", doc="weekly probability a target gets one"
    )
    depth: float = param(
        0.15,
        lo=0,
        hi=1,
        hi_open=True,
        kind=LEVER,
        unit="fraction",
        doc="offer as a fraction of list price",
    )
    target: str = param(
        "all",
        choices=("all", "deal_prone", "own_buyers"),
        kind=LEVER,
        doc="who gets offers, from what a rival observes (default all: it needs no data)",
    )
    start_week: int = param(
        0, lo=0, kind=LEVER, unit="week", doc="week the offers start (market entry)"
    )
    offer_weeks: int = param(4, lo=1, kind=LEVER, unit="weeks", doc="weeks an offer is valid")

    def active(self, week: int) -> bool:
        """Whether offers go out in ``week``."""
        return self.rate > 0 and week >= self.start_week


def target_mask(
    pop: Population,
    rows: np.ndarray,
    firm: int,
    target: str,
    loyal_threshold: float,
    week: int,
    active_window: int,
) -> np.ndarray:
    """Which of ``rows`` (active customers) the firm's offers aim at.

    Only what a rival observes: ``all``: every customer of another firm; ``deal_prone``:
    those whose price sensitivity is at or above the median of ``rows`` (the market; a rival
    learns deal-proneness from who redeems its coupons); ``own_buyers``: those who have
    bought from the rival (its own sales records: a positive entry in its column of
    ``recent``). ``all`` is the default as it needs no data. No target reads the other
    firm's contact or interaction log (``contacted``, ``last_interaction``);
    ``loyal_threshold``, ``week`` and ``active_window`` are kept for the call's shape.
    """
    del loyal_threshold, week, active_window  # no target reads loyalty or contacts
    mask = pop.home[rows] != firm
    if target == "deal_prone" and rows.size:
        sensitivity = pop.price_sensitivity[rows]
        mask &= sensitivity >= np.median(sensitivity)
    elif target == "own_buyers":
        mask &= pop.recent[rows, firm] > 0
    return mask


def send_offers(
    pop: Population,
    rows: np.ndarray,
    firm: int,
    params: PoachingParams,
    week: int,
    dt: float,
    rng: np.random.Generator,
    loyal_threshold: float,
    active_window: int,
) -> int:
    """Give offers to a random share of the targets without a valid one; returns how many."""
    u = rng.random(rows.size)
    mask = target_mask(pop, rows, firm, params.target, loyal_threshold, week, active_window)
    mask &= pop.offer_until[rows, firm] < week
    mask &= u < min(params.rate * dt, 1.0)
    got = rows[mask]
    pop.offer_until[got, firm] = week + params.offer_weeks - 1
    return int(got.size)


def poach(
    offers: list[tuple[int, PoachingParams, np.random.Generator]],
    pop: Population,
    rows: np.ndarray,
    n_firms: int,
    week: int,
    dt: float,
    loyal_threshold: float,
    active_window: int,
) -> np.ndarray:
    """Phase: each poaching firm ``(index, params, rng)`` sends offers; returns offers sent
    per firm."""
    sent = np.zeros(n_firms, np.int64)
    for firm, params, rng in offers:
        sent[firm] = send_offers(
            pop, rows, firm, params, week, dt, rng, loyal_threshold, active_window
        )
    return sent
