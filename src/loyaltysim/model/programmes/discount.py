"""Discount-only loyalty programme (S1, S2, S13).

Members get either an immediate rebate (``mode: rebate``) or points per euro paid that are
redeemed as a discount once a threshold is reached (``mode: points``), less breakage. The
cost is booked when paid: rebates and redemptions at the purchase, joining gifts at sign-up.
A referral reward (``referral_reward_points``) is a future-purchase discount: it is worth
something only to a referrer who buys again (S8).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import LEVER, param
from ..trades import Terms
from ._points import PointsParams, set_points_terms
from .base import Programme, StepContext, register


@dataclass(frozen=True)
class DiscountParams(PointsParams):
    type: str = param("discount", kind=LEVER, doc="registry key of the programme type")
    mode: str = param(
        "rebate", choices=("rebate", "points"), kind=LEVER, doc="rebate now or points later"
    )
    rebate_rate: float = param(
        0.05,
        lo=0,
        hi=1,
        hi_open=True,
        kind=LEVER,
        unit="fraction",
        doc="fraction off list price for members",
    )
    referral_reward_points: float = param(
        0.0,
        lo=0,
        hi=1e9,
        kind=LEVER,
        unit="points",
        doc="points credited to a member who recommends the firm (S8)",
    )


@register("discount")
class DiscountProgramme(Programme):
    Params = DiscountParams
    params: DiscountParams

    def set_terms(self, terms: Terms, week: int) -> None:
        if not self.active(week):
            return
        p, f = self.params, self.firm
        if p.mode == "rebate":
            terms.rebate[f] = p.rebate_rate
        else:
            set_points_terms(terms, f, p)

    def on_referrals(self, ctx: StepContext, referrers: np.ndarray) -> float:
        p = self.params
        if p.referral_reward_points > 0 and self.active(ctx.week):
            members = referrers[ctx.pop.member[referrers, self.firm]]
            ctx.pop.points[members, self.firm] += p.referral_reward_points
        return 0.0  # booked when redeemed
