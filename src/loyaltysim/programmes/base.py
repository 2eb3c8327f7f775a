"""The programme interface and registry.

A programme type is one module defining a params dataclass and a :class:`Programme`
subclass, registered under a key with :func:`register`; the config selects it with
``programme.type`` (``conf/firm/programme/<key>.yaml``). The market calls a programme at
fixed points of each step:

- :meth:`Programme.set_terms` before purchases: what members pay (rebates, points);
- :meth:`Programme.weekly`: contacts, surprises and their costs;
- :meth:`Programme.after_purchase`: sign-ups and joining gifts among this firm's buyers;
- :meth:`Programme.on_referrals`: thanks for customers who recommended the firm (S8);
- :meth:`Programme.withdraw`: once, at ``end_week`` (S1).

Every hook returns the programme cost it incurred (EUR), booked when paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..params import LEVER, ConfigError, param, register_polymorphic

if TYPE_CHECKING:
    from ..customers import Terms
    from ..population import Population


@dataclass(frozen=True)
class ProgrammeParams:
    """Settings every programme has: its type, when it runs, and how customers join (S13)."""

    type: str = param("none", kind=LEVER, doc="registry key of the programme type")
    start_week: int = param(0, lo=0, kind=LEVER, doc="first week the programme runs")
    end_week: int | None = param(
        None, lo=0, kind=LEVER, doc="week the programme is withdrawn (null: never; S1)"
    )
    signup_prob: float = param(
        0.0, lo=0, hi=1, kind=LEVER, doc="probability a non-member buyer joins at a purchase"
    )
    joining_gift_eur: float = param(0.0, lo=0, kind=LEVER, doc="gift paid to each new member")
    gift_signup_lift: float = param(
        0.5, lo=0, kind=LEVER, doc="relative rise in sign-up probability when a gift is offered"
    )

    def check(self, path: str) -> None:
        if self.end_week is not None and self.end_week <= self.start_week:
            raise ConfigError(
                f"{path}.end_week", self.end_week, f"null or > start_week ({self.start_week})"
            )


@dataclass
class StepContext:
    """What a programme may read and write during one step."""

    pop: Population
    week: int
    dt: float
    rng: np.random.Generator
    active_rows: np.ndarray  # rows of active customers at the start of the step
    reach: np.ndarray  # (n_segments, n_channels) bool: which channels reach each segment
    response: np.ndarray  # per segment: multiplier on engagement gained from contact
    referral_boost: np.ndarray  # (N,) extra relative referral propensity this step (S11)


class Programme:
    """No programme: the neutral element every other programme extends."""

    key: ClassVar[str] = "none"
    Params: ClassVar[type[ProgrammeParams]] = ProgrammeParams

    def __init__(self, params: ProgrammeParams, firm: int) -> None:
        self.params = params
        self.firm = firm
        self.withdrawn = False

    def active(self, week: int) -> bool:
        p = self.params
        return p.start_week <= week and (p.end_week is None or week < p.end_week)

    def set_terms(self, terms: Terms, week: int) -> None:
        """Write this firm's member terms into ``terms`` (nothing by default)."""

    def weekly(self, ctx: StepContext) -> float:
        return 0.0

    def after_purchase(self, ctx: StepContext, buyers: np.ndarray) -> float:
        """Sign-ups among ``buyers`` (rows who bought from this firm this step)."""
        p = self.params
        if p.signup_prob <= 0 or not self.active(ctx.week):
            return 0.0
        col = ctx.pop.member[:, self.firm]
        u = ctx.rng.random(buyers.size)
        prob = p.signup_prob * (1.0 + p.gift_signup_lift * (p.joining_gift_eur > 0))
        joiners = buyers[(u < min(prob, 1.0)) & ~col[buyers]]
        col[joiners] = True
        return p.joining_gift_eur * joiners.size

    def on_referrals(self, ctx: StepContext, referrers: np.ndarray) -> float:
        return 0.0

    def withdraw(self, pop: Population) -> None:
        """End the programme: membership and unredeemed points lapse (S1)."""
        pop.member[:, self.firm] = False
        pop.points[:, self.firm] = 0.0
        self.withdrawn = True


REGISTRY: dict[str, type[Programme]] = {"none": Programme}


def register(cls: type[Programme]) -> type[Programme]:
    """Class decorator adding a programme type to the registry under ``cls.key``."""
    REGISTRY[cls.key] = cls
    return cls


def make_programme(params: ProgrammeParams, firm: int) -> Programme:
    return REGISTRY[params.type](params, firm)


def _resolve(key: str, data: Any) -> type:
    kind = data.get("type", "none") if hasattr(data, "get") else getattr(data, "type", "none")
    if kind not in REGISTRY:
        raise ConfigError(f"{key}.type", kind, "one of " + ", ".join(sorted(REGISTRY)))
    return REGISTRY[kind].Params


register_polymorphic("programme", _resolve)
