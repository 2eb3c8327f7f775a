"""Engagement-based programme (S3, S6, S7, S8, S10, S11).

The firm contacts its audience through the channels that reach each segment. A contact is
well personalised with probability ``personalisation`` and then adds engagement (scaled by
the segment's response); a badly personalised one removes engagement and can push the
customer to a rival (S7). Customers who recommend the firm are thanked (S8), and now and
then a member gets a surprise that adds engagement and makes them more likely to tell
friends that week (S11). Every contact has a cost by channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import CHANNELS, LEVER, UNCERTAINTY, ConfigError, param
from .base import Programme, ProgrammeParams, StepContext, register


@dataclass(frozen=True)
class EngagementParams(ProgrammeParams):
    type: str = param("engagement", kind=LEVER)
    signup_prob: float = param(0.3, lo=0, hi=1, kind=LEVER)
    audience: str = param(
        "members", choices=("members", "customers"), kind=LEVER, doc="who is contacted"
    )
    contacts_per_week: float = param(
        0.25, lo=0, hi=7, kind=LEVER, doc="mean contacts per audience member per week"
    )
    channels: tuple[str, ...] = param(("digital", "phone"), choices=CHANNELS, kind=LEVER)
    personalisation: float = param(
        0.8, lo=0, hi=1, kind=LEVER, doc="probability a contact is well personalised (S7)"
    )
    contact_gain: float = param(0.6, lo=0, kind=UNCERTAINTY, doc="engagement from a good contact")
    bad_contact_penalty: float = param(
        1.0, lo=0, kind=UNCERTAINTY, doc="engagement lost to a badly personalised contact (S7)"
    )
    cost_per_contact_digital: float = param(0.05, lo=0, kind=LEVER, doc="EUR per digital contact")
    cost_per_contact_phone: float = param(1.0, lo=0, kind=LEVER, doc="EUR per phone contact")
    thank_referrals: bool = param(True, kind=LEVER, doc="thank customers who recommend (S8)")
    thanks_gain: float = param(1.0, lo=0, kind=UNCERTAINTY, doc="engagement from a thank-you")
    thanks_cost_eur: float = param(0.5, lo=0, kind=LEVER)
    surprise_rate: float = param(
        0.005, lo=0, hi=1, kind=LEVER, doc="weekly probability of a surprise per member (S11)"
    )
    surprise_gain: float = param(2.0, lo=0, kind=UNCERTAINTY)
    surprise_cost_eur: float = param(5.0, lo=0, kind=LEVER)
    surprise_referral_boost: float = param(
        3.0, lo=0, kind=UNCERTAINTY, doc="relative rise in referral propensity that week (S11)"
    )

    def check(self, path: str) -> None:
        super().check(path)
        if self.type != "engagement":
            raise ConfigError(f"{path}.type", self.type, "engagement")
        if not self.channels:
            raise ConfigError(
                f"{path}.channels",
                list(self.channels),
                "a non-empty list of " + ", ".join(CHANNELS),
            )


@register
class EngagementProgramme(Programme):
    key = "engagement"
    Params = EngagementParams
    params: EngagementParams

    def _audience(self, ctx: StepContext) -> np.ndarray:
        # called before purchases: every row of active_rows is still active
        rows = ctx.active_rows
        if self.params.audience == "members":
            return rows[ctx.pop.member[rows, self.firm]]
        return rows[ctx.pop.home[rows] == self.firm]

    def weekly(self, ctx: StepContext) -> float:
        if not self.active(ctx.week):
            return 0.0
        p, f, pop = self.params, self.firm, ctx.pop
        uses = np.array([c in p.channels for c in CHANNELS])
        reach = ctx.reach & uses  # (segments, channels) usable for this programme
        reachable_seg = reach.any(axis=1)
        # the cheaper channel is used where a segment can be reached by both
        seg_cost = np.where(reach[:, 0], p.cost_per_contact_digital, p.cost_per_contact_phone)
        rows = self._audience(ctx)
        rows = rows[reachable_seg[pop.segment[rows]]]
        seg = pop.segment[rows]
        resp = ctx.response[seg]
        n = ctx.rng.poisson(p.contacts_per_week * ctx.dt, rows.size)
        good = ctx.rng.binomial(n, p.personalisation)
        cells = rows * pop.n_firms + f
        pop.engagement.ravel()[cells] += resp * p.contact_gain * good - p.bad_contact_penalty * (
            n - good
        )
        pop.contacted[rows[n > 0], f] = True
        cost = float(np.sum(n * seg_cost[seg]))

        lucky = ctx.rng.random(rows.size) < p.surprise_rate * ctx.dt
        if p.audience == "customers":
            lucky &= pop.member[rows, f]
        pop.engagement[rows[lucky], f] += resp[lucky] * p.surprise_gain
        pop.contacted[rows[lucky], f] = True
        ctx.referral_boost[rows[lucky]] += p.surprise_referral_boost
        return cost + p.surprise_cost_eur * int(lucky.sum())

    def on_referrals(self, ctx: StepContext, referrers: np.ndarray) -> float:
        p = self.params
        if not (p.thank_referrals and self.active(ctx.week)) or referrers.size == 0:
            return 0.0
        resp = ctx.response[ctx.pop.segment[referrers]]
        ctx.pop.engagement[referrers, self.firm] += resp * p.thanks_gain
        ctx.pop.contacted[referrers, self.firm] = True
        return p.thanks_cost_eur * referrers.size
