"""Engagement-based programme (S3, S6, S7, S8, S10, S11).

The firm contacts its audience through the channels that reach each segment. A contact is
well personalised with probability ``personalisation`` and then adds engagement (scaled by
the segment's response); a badly personalised one removes engagement and can push the
customer to a rival (S7). Customers who recommend the firm are thanked (S8), and now and
then a member gets a surprise that adds engagement and makes them more likely to tell
friends that week (S11). Every contact has a cost by channel.

How customers respond (the names below) is theirs, not the programme's: the uncertainties
``customers.contact.*`` (:mod:`~loyaltysim.model.contact`); the programme's settings are
levers only.

Interactions (``pop.last_interaction``: what makes a loyal customer *active*, S6, S10) are
acts of the customer, not of the firm:

- a contact is an interaction only when the customer *responds* to it (clicks, calls back,
  replies). A well-personalised contact is answered with probability ``p(g)``,
  ``logit p = logit(response_prob) + response_engagement * g``, where ``g = E / (1 + |E|)``
  is the customer's engagement with the firm before this week's contacts
  (:func:`~loyaltysim.model.memory.engagement_g`); a badly personalised one with
  ``bad_response_ratio * p(g)``. The number of responses of a customer is binomial over
  their good (and, separately, bad) contacts of the week, drawn from the programme's stream.
- the engagement a relevant contact adds (and a bad one removes) applies whether or not the
  customer responds: it is exposure (the message was seen), not an interaction.
- a surprise is a gift received, not a response: it adds engagement and raises that week's
  referral propensity for every surprised member, but counts as an interaction only if the
  member responds, with the probability ``p(g)`` of a well-personalised contact (one draw
  per surprise).
- contact fatigue: the response probability and the engagement a well-personalised contact
  adds are multiplied by ``exp(-contact_fatigue * n)``, ``n`` the member's recent contacts
  from the firm before this week's (:func:`recent_contacts`: each weighted by
  ``0.5 ** (age / fatigue_half_life_weeks)``); a badly personalised contact removes its
  full penalty. Each contact opts the member out with probability
  ``optout_prob * (1 + optout_fatigue * n)`` (one draw per member, after the others); an
  opted-out member gets no more contacts or surprises from the firm (thanks still). So more
  contact has an interior optimum: the engagement a week brings, ``r exp(-c r h)`` at ``r``
  contacts a week (steady fatigue ``r h``, ``h = q / (1 - q)``, ``q = 0.5 ** (1 /
  half-life)``: 5.3 at 4 weeks), peaks at ``r = 1 / (c h)`` (1.9 at the defaults).
- thanks for a recommendation stay an interaction: the recommendation itself is the
  customer's act (``referrals`` records it too); the thanks answer it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..customers import CHANNELS
from ..memory import engagement_g
from ..params import LEVER, ConfigError, param
from ..population import Population
from .base import Programme, ProgrammeParams, StepContext, register


@dataclass(frozen=True)
class EngagementParams(ProgrammeParams):
    type: str = param("engagement", kind=LEVER, doc="registry key of the programme type")
    signup_prob: float = param(
        0.3,
        lo=0,
        hi=1,
        kind=LEVER,
        unit="probability",
        doc="probability a non-member buyer joins at a purchase",
    )
    audience: str = param(
        "members", choices=("members", "customers"), kind=LEVER, doc="who is contacted"
    )
    contacts_per_week: float = param(
        0.25,
        lo=0,
        hi=7,
        kind=LEVER,
        unit="per week",
        doc="mean contacts per audience member per week",
    )
    channels: tuple[str, ...] = param(
        ("digital", "phone"), choices=CHANNELS, kind=LEVER, doc="channels the firm uses"
    )
    personalisation: float = param(
        0.8,
        lo=0,
        hi=1,
        kind=LEVER,
        unit="probability",
        doc="probability a contact is well personalised (S7)",
    )
    cost_per_contact_digital: float = param(
        0.05, lo=0, hi=1e4, kind=LEVER, unit="EUR", doc="EUR per digital contact"
    )
    cost_per_contact_phone: float = param(
        1.0, lo=0, hi=1e4, kind=LEVER, unit="EUR", doc="EUR per phone contact"
    )
    thank_referrals: bool = param(True, kind=LEVER, doc="thank customers who recommend (S8)")
    thanks_cost_eur: float = param(
        0.5, lo=0, hi=1e4, kind=LEVER, unit="EUR", doc="cost of one thank-you"
    )
    surprise_rate: float = param(
        0.005,
        lo=0,
        hi=1,
        kind=LEVER,
        unit="per week",
        doc="weekly probability of a surprise per member (S11)",
    )
    surprise_cost_eur: float = param(
        5.0, lo=0, hi=1e4, kind=LEVER, unit="EUR", doc="cost of one surprise"
    )

    def check(self) -> None:
        super().check()
        if not self.channels:
            raise ConfigError(
                "channels",
                list(self.channels),
                "a non-empty list of " + ", ".join(CHANNELS),
            )


def response_probability(base: float, slope: float, g: np.ndarray) -> np.ndarray:
    """Probability of responding to a well-personalised contact at engagement ``g``:
    ``logit p = logit(base) + slope * g`` (``base`` at g = 0; exactly 0 or 1 at those ends)."""
    if base <= 0.0 or base >= 1.0:
        return np.full(g.shape, float(base >= 1.0))
    return 1.0 / (1.0 + (1.0 - base) / base * np.exp(-slope * g))


def recent_contacts(pop: Population, cells: np.ndarray, week: int, half_life: float) -> np.ndarray:
    """Contact fatigue before ``week``'s contacts at flat ``(row, firm)`` ``cells``: the
    contacts each member got from the firm, each weighted ``0.5 ** (age / half_life)`` (age in
    weeks): ``r q / (1 - q)``, ``q = 0.5 ** (1 / half_life)``, at a steady ``r`` a week."""
    age = week - np.take(pop.fatigue_week, cells)
    return np.take(pop.fatigue, cells) * 0.5 ** (age / half_life)


@register("engagement")
class EngagementProgramme(Programme):
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
        p, c, f, pop = self.params, ctx.contact, self.firm, ctx.pop
        uses = np.array([c in p.channels for c in CHANNELS])
        reach = ctx.segments.reach & uses  # (segments, channels) usable for this programme
        reachable_seg = reach.any(axis=1)
        # the cheaper channel is used where a segment can be reached by both
        seg_cost = np.where(reach[:, 0], p.cost_per_contact_digital, p.cost_per_contact_phone)
        rows = self._audience(ctx)
        rows = rows[reachable_seg[pop.segment[rows]] & ~pop.opted_out[rows, f]]
        seg = pop.segment[rows]
        resp = ctx.segments.response[seg]
        n = ctx.rng.poisson(p.contacts_per_week * ctx.dt, rows.size)
        good = ctx.rng.binomial(n, p.personalisation)
        cells = rows * pop.n_firms + f
        recent = recent_contacts(pop, cells, ctx.week, c.fatigue_half_life_weeks)
        wear = np.exp(-c.contact_fatigue * recent)
        # engagement and fatigue before this week's contacts set the chance of a response
        g = engagement_g(np.take(pop.engagement, cells))
        answer = wear * response_probability(c.response_prob, c.response_engagement, g)
        pop.engagement.ravel()[cells] += resp * c.contact_gain * wear * good - (
            c.bad_contact_penalty * (n - good)
        )
        pop.fatigue.ravel()[cells] = recent + n
        pop.fatigue_week.ravel()[cells] = ctx.week
        pop.contacted[rows[n > 0], f] = True
        cost = float(np.sum(n * seg_cost[seg]))

        lucky = ctx.rng.random(rows.size) < p.surprise_rate * ctx.dt
        if p.audience == "customers":
            lucky &= pop.member[rows, f]
        # responses: to good contacts, to bad ones, to surprises (drawn after the others)
        replies = ctx.rng.binomial(good, answer) + ctx.rng.binomial(
            n - good, c.bad_response_ratio * answer
        )
        answered = ctx.rng.random(int(lucky.sum())) < answer[lucky]
        pop.interacted(rows[replies > 0], f, ctx.week)  # responded to a contact (S6, S10)
        pop.engagement[rows[lucky], f] += resp[lucky] * c.surprise_gain
        pop.contacted[rows[lucky], f] = True
        pop.interacted(rows[lucky][answered], f, ctx.week)  # responded to the surprise
        ctx.referral_boost[rows[lucky]] += c.surprise_referral_boost
        # opt-outs, drawn last: each of this week's contacts may be one too many
        quit_p = np.minimum(c.optout_prob * (1.0 + c.optout_fatigue * recent), 1.0)
        quits = ctx.rng.random(rows.size) < 1.0 - (1.0 - quit_p) ** n
        pop.opted_out[rows[quits], f] = True
        return cost + p.surprise_cost_eur * int(lucky.sum())

    def on_referrals(self, ctx: StepContext, referrers: np.ndarray) -> float:
        p = self.params
        if not (p.thank_referrals and self.active(ctx.week)) or referrers.size == 0:
            return 0.0
        resp = ctx.segments.response[ctx.pop.segment[referrers]]
        ctx.pop.engagement[referrers, self.firm] += resp * ctx.contact.thanks_gain
        ctx.pop.contacted[referrers, self.firm] = True
        # the recommendation is the customer's act: it and its thanks are an interaction
        ctx.pop.interacted(referrers, self.firm, ctx.week)
        return p.thanks_cost_eur * referrers.size
