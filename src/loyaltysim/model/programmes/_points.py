"""A points scheme, shared by the programmes that run one (``discount`` in points mode,
``tiered``): members earn points per euro paid and redeem a reward worth
``redemption_threshold x point_value_eur`` once they hold that many points; a share
``breakage`` of earned points is never redeemed (S1, S13). Not a programme type itself
(a private module: discovery skips it)."""

from __future__ import annotations

from dataclasses import dataclass

from ..params import LEVER, param
from ..trades import Terms
from .base import ProgrammeParams


@dataclass(frozen=True)
class PointsParams(ProgrammeParams):
    """Settings of a points scheme (the base of a programme's params, never used alone)."""

    signup_prob: float = param(
        0.15,
        lo=0,
        hi=1,
        kind=LEVER,
        unit="probability",
        doc="probability a non-member buyer joins at a purchase",
    )
    points_per_eur: float = param(
        1.0,
        lo=0,
        hi=1e6,
        kind=LEVER,
        unit="points per EUR",
        doc="points earned per EUR paid (the base tier's rate where there are tiers)",
    )
    point_value_eur: float = param(
        0.01, lo=0, hi=1e6, kind=LEVER, unit="EUR", doc="EUR per point at redemption"
    )
    redemption_threshold: float = param(
        500.0, lo=0, hi=1e12, lo_open=True, kind=LEVER, unit="points", doc="points for one reward"
    )
    breakage: float = param(
        0.15, lo=0, hi=1, kind=LEVER, unit="fraction", doc="share of earned points never redeemed"
    )


def set_points_terms(terms: Terms, firm: int, p: PointsParams) -> None:
    """Write the points scheme of ``firm`` into this step's terms."""
    terms.points_per_eur[firm] = p.points_per_eur
    terms.point_value[firm] = p.point_value_eur
    terms.threshold[firm] = p.redemption_threshold
    terms.points_keep[firm] = 1.0 - p.breakage
