"""Tiered points programme (S13): tiers by rolling spend, a higher earn rate and
recognition for the top tier.

Members earn ``points_per_eur`` points per euro paid and redeem ``redemption_threshold``
points for a reward worth ``threshold x point_value_eur`` (less breakage), as in the
discount programme's points mode. Every ``review_weeks`` the firm reviews each member's
spend with it over the last ``window_weeks`` (rolling, in buckets of ``review_weeks``):
members at or above ``top_tier_spend_eur`` are in the top tier until the next review. Top
members earn ``top_points_per_eur`` instead (a per-customer term), and each promotion is
marked by a recognition (a personal message or perk: ``recognition_gain`` engagement, at
``recognition_cost_eur``). A promotion is the firm's act, not the customer's: it is no
interaction (``pop.last_interaction``, S6), as a contact is none without a response (see
the engagement programme); the member's spend that earned it is counted as purchases.
This module and ``conf/programme/tiered.yaml`` are the whole of the programme: it is
discovered and checked like any other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import LEVER, ConfigError, param
from ..population import Population
from ..trades import FirmSales, Terms
from ._points import PointsParams, set_points_terms
from .base import Programme, StepContext, register


@dataclass(frozen=True)
class TieredParams(PointsParams):
    type: str = param("tiered", kind=LEVER, doc="registry key of the programme type")
    top_points_per_eur: float = param(
        2.0, lo=0, hi=1e6, kind=LEVER, unit="points per EUR", doc="top-tier earn rate (S13)"
    )
    top_tier_spend_eur: float = param(
        500.0,
        lo=0,
        hi=1e9,
        kind=LEVER,
        unit="EUR",
        doc="rolling spend with the firm that qualifies for the top tier",
    )
    window_weeks: int = param(52, lo=1, kind=LEVER, unit="weeks", doc="window of the rolling spend")
    review_weeks: int = param(13, lo=1, kind=LEVER, unit="weeks", doc="weeks between reviews")
    recognition_cost_eur: float = param(
        2.0, lo=0, hi=1e4, kind=LEVER, unit="EUR", doc="cost of recognising one promotion"
    )

    def check(self) -> None:
        super().check()
        if self.window_weeks % self.review_weeks:
            raise ConfigError(
                "window_weeks",
                self.window_weeks,
                f"a multiple of review_weeks ({self.review_weeks})",
            )


@register("tiered")
class TieredProgramme(Programme):
    Params = TieredParams
    params: TieredParams

    def start(self, pop: Population) -> None:
        p = self.params
        # spend of each member with this firm, one bucket per review period of the window
        self.buckets = np.zeros((pop.size, p.window_weeks // p.review_weeks))
        self.top = np.zeros(pop.size, bool)

    def _period(self, week: int) -> int:
        return (week - self.params.start_week) // self.params.review_weeks

    def _rates(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        p = self.params
        return {"points_per_eur": np.where(self.top[rows], p.top_points_per_eur, p.points_per_eur)}

    def set_terms(self, terms: Terms, week: int) -> None:
        if not self.active(week):
            return
        set_points_terms(terms, self.firm, self.params)
        terms.personal[self.firm] = self._rates

    def weekly(self, ctx: StepContext) -> float:
        """At each review: members whose rolling spend qualifies are top tier; promotions
        are recognised. Then the oldest bucket is cleared for the period that starts."""
        p = self.params
        if not self.active(ctx.week) or ctx.week == p.start_week:
            return 0.0
        if (ctx.week - p.start_week) % p.review_weeks:
            return 0.0
        member = ctx.pop.member[:, self.firm]
        qualified = member & (self.buckets.sum(axis=1) >= p.top_tier_spend_eur)
        promoted = np.flatnonzero(qualified & ~self.top)
        self.top = qualified
        self.buckets[:, self._period(ctx.week) % self.buckets.shape[1]] = 0.0
        resp = ctx.segments.response[ctx.pop.segment[promoted]]
        ctx.pop.engagement[promoted, self.firm] += resp * ctx.contact.recognition_gain
        ctx.pop.contacted[promoted, self.firm] = True  # recognised: no interaction (no response)
        return p.recognition_cost_eur * promoted.size

    def after_purchase(self, ctx: StepContext, sales: FirmSales) -> float:
        cost = super().after_purchase(ctx, sales)
        if self.active(ctx.week):
            paid_by_members = sales.member
            bucket = self._period(ctx.week) % self.buckets.shape[1]
            self.buckets[sales.buyers[paid_by_members], bucket] += sales.paid[paid_by_members]
        return cost

    def withdraw(self, pop: Population) -> None:
        super().withdraw(pop)
        self.buckets[:] = 0.0
        self.top[:] = False
