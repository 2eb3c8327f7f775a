"""Poaching offers: a firm's discount to customers of other firms (S6; Chen 1997)."""

from __future__ import annotations

import numpy as np

from .config import PoachingParams
from .customers import engagement_g
from .population import Population


def target_mask(
    pop: Population,
    rows: np.ndarray,
    firm: int,
    target: str,
    loyal_threshold: float,
    active_threshold: float,
) -> np.ndarray:
    """Which of ``rows`` (active customers) the firm's offers aim at.

    ``all``: every customer of another firm; ``passive``: those loyal to their firm but not
    engaged with it (S6's passive loyal); ``high_value``: expected weekly volume
    (purchase rate x basket) at or above the median of the market.
    """
    lf = pop.home[rows]
    mask = lf != firm
    if target == "passive":
        loyal = pop.loyalty[rows, lf] >= loyal_threshold
        engaged = engagement_g(pop.engagement[rows, lf]) >= active_threshold
        mask &= loyal & ~engaged
    elif target == "high_value":
        value = pop.purchase_rate[rows] * pop.basket[rows]
        mask &= value >= np.median(value)
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
    active_threshold: float,
) -> int:
    """Give offers to a random share of the targets without a valid one; returns how many."""
    u = rng.random(rows.size)
    mask = target_mask(pop, rows, firm, params.target, loyal_threshold, active_threshold)
    mask &= pop.offer_until[rows, firm] < week
    mask &= u < min(params.rate * dt, 1.0)
    got = rows[mask]
    pop.offer_until[got, firm] = week + params.offer_weeks - 1
    return int(got.size)
