"""The programme interface and its registry.

A programme type is one module in this package (or a plugin module named by a
``loyaltysim.programmes`` entry point) defining a params dataclass and a :class:`Programme`
subclass decorated with ``@register("key")``, plus one ``conf/programme/<key>.yaml``; it is
discovered automatically and selected with ``firm/programme=<key>`` or
``competitor/programme=<key>``. The market calls a programme at fixed points of each step:

- :meth:`Programme.start` once, when the population exists: allocate per-customer state;
- :meth:`Programme.withdraw` once, at ``end_week`` (S1);
- :meth:`Programme.set_terms` before purchases: what members pay, per firm or per customer
  (through ``terms.personal``, e.g. tiers);
- :meth:`Programme.weekly`: contacts, surprises, tier reviews and their costs;
- :meth:`Programme.after_purchase`: sign-ups and anything else that reacts to this firm's
  purchases (``sales.buyers``, ``sales.paid``, ``sales.units``, ... of this step);
- :meth:`Programme.on_referrals`: thanks for customers who recommended the firm (S8).

Every hook that spends returns the programme cost it incurred (EUR), booked when paid.
``pop.firm_spend`` holds what each customer has paid each firm so far.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np

from ..params import LEVER, ConfigError, Params, param, register_polymorphic

if TYPE_CHECKING:
    from ..contact import ContactParams
    from ..customers import SegmentTable
    from ..population import Population
    from ..trades import FirmSales, Terms


@dataclass(frozen=True)
class ProgrammeParams(Params):
    """Settings every programme has: its type, when it runs, and how customers join (S13)."""

    type: str = param("none", kind=LEVER, doc="registry key of the programme type")
    start_week: int = param(0, lo=0, kind=LEVER, unit="week", doc="first week it runs")
    end_week: int | None = param(
        None, lo=0, kind=LEVER, unit="week", doc="week it is withdrawn (null: never; S1)"
    )
    signup_prob: float = param(
        0.0,
        lo=0,
        hi=1,
        kind=LEVER,
        unit="probability",
        doc="probability a non-member buyer joins at a purchase",
    )
    joining_gift_eur: float = param(
        0.0, lo=0, hi=1e6, kind=LEVER, unit="EUR", doc="gift paid to each new member"
    )
    gift_signup_lift: float = param(
        0.5,
        lo=0,
        hi=100,
        kind=LEVER,
        unit="fraction",
        doc="relative rise in sign-up probability when a gift is offered (S13)",
    )

    def check(self) -> None:
        if self.end_week is not None and self.end_week <= self.start_week:
            raise ConfigError(
                "end_week", self.end_week, f"null or > start_week ({self.start_week})"
            )
        owner = REGISTRY.get(self.type)
        if owner is None:
            raise ConfigError("type", self.type, "one of " + ", ".join(sorted(REGISTRY)))
        if type(self) is not owner.Params:
            raise ConfigError("type", self.type, f"{type(self).__name__}'s own type")


@dataclass
class StepContext:
    """What a programme may read and write during one step."""

    pop: Population
    week: int
    dt: float
    rng: np.random.Generator  # this firm's programme stream
    active_rows: np.ndarray  # rows of active customers at the start of the step
    segments: SegmentTable  # channels that reach each segment, response to contact (S10)
    referral_boost: np.ndarray  # (N,) extra relative referral propensity this step (S11)
    contact: ContactParams  # how customers respond to contact (customers.contact)


class Programme:
    """No programme: the neutral element every other programme extends.

    Attributes:
        params: the validated settings (an instance of ``Params``).
        firm: index of the firm running it (column in the population's per-firm arrays).
        withdrawn: whether it has been withdrawn (S1).
    """

    key: ClassVar[str] = "none"
    Params: ClassVar[type[ProgrammeParams]] = ProgrammeParams

    def __init__(self, params: ProgrammeParams, firm: int) -> None:
        self.params = params
        self.firm = firm
        self.withdrawn = False

    def start(self, pop: Population) -> None:
        """Called once the population exists: allocate per-customer state (none here)."""

    def active(self, week: int) -> bool:
        p = self.params
        return p.start_week <= week and (p.end_week is None or week < p.end_week)

    def set_terms(self, terms: Terms, week: int) -> None:
        """Write this firm's member terms into ``terms`` (nothing by default)."""

    def weekly(self, ctx: StepContext) -> float:
        """Contacts and other weekly actions; returns their cost (EUR)."""
        return 0.0

    def after_purchase(self, ctx: StepContext, sales: FirmSales) -> float:
        """Sign-ups among this step's buyers at this firm; returns joining gifts paid (EUR)."""
        p = self.params
        if p.signup_prob <= 0 or not self.active(ctx.week):
            return 0.0
        buyers = sales.buyers
        col = ctx.pop.member[:, self.firm]
        u = ctx.rng.random(buyers.size)
        prob = p.signup_prob * (1.0 + p.gift_signup_lift * (p.joining_gift_eur > 0))
        joiners = buyers[(u < min(prob, 1.0)) & ~col[buyers]]
        col[joiners] = True
        return p.joining_gift_eur * joiners.size

    def on_referrals(self, ctx: StepContext, referrers: np.ndarray) -> float:
        """Response to customers who recommended this firm this step; returns its cost."""
        return 0.0

    def withdraw(self, pop: Population) -> None:
        """End the programme: membership and unredeemed points lapse (S1)."""
        pop.member[:, self.firm] = False
        pop.points[:, self.firm] = 0.0
        self.withdrawn = True


REGISTRY: dict[str, type[Programme]] = {}
P = TypeVar("P", bound=type[Programme])


def register(key: str) -> Callable[[P], P]:
    """Class decorator adding a programme type to the registry under ``key``.

    The class's ``Params`` must be a :class:`ProgrammeParams` subclass whose ``type``
    defaults to ``key``.
    """

    def add(cls: P) -> P:
        default = cls.Params.__dataclass_fields__["type"].default
        if default != key:
            raise TypeError(f"{cls.__name__}.Params.type defaults to {default!r}, not {key!r}")
        if key in REGISTRY and REGISTRY[key] is not cls:
            raise TypeError(f"programme {key!r} is registered twice ({REGISTRY[key]}, {cls})")
        cls.key = key
        REGISTRY[key] = cls
        return cls

    return add


register("none")(Programme)


def params_class(data: Mapping[str, Any] | Any) -> type[ProgrammeParams]:
    """The params dataclass for programme data, chosen by its ``type`` key."""
    kind = data.get("type", "none") if isinstance(data, Mapping) else data.type
    if kind not in REGISTRY:
        raise ConfigError("type", kind, "one of " + ", ".join(sorted(REGISTRY)))
    return REGISTRY[kind].Params


def make_programme(params: ProgrammeParams, firm: int) -> Programme:
    return REGISTRY[params.type](params, firm)


register_polymorphic("programme", params_class)


# ---------------------------------------------------------------- phases of a market step
def withdraw_due(programmes: list[Programme], pop: Population, week: int) -> None:
    """Phase: programmes past their ``end_week`` are withdrawn, once (S1)."""
    for prog in programmes:
        end = prog.params.end_week
        if end is not None and week >= end and not prog.withdrawn:
            prog.withdraw(pop)


def weekly_costs(programmes: list[Programme], ctxs: list[StepContext]) -> np.ndarray:
    """Phase: every programme acts on its audience; returns its cost per firm (EUR)."""
    cost = np.zeros(len(programmes))
    for prog, ctx in zip(programmes, ctxs, strict=True):
        cost[prog.firm] += prog.weekly(ctx)
    return cost


def after_purchase_costs(
    programmes: list[Programme], ctxs: list[StepContext], sales: list[FirmSales]
) -> np.ndarray:
    """Phase: each programme reacts to its firm's purchases (sign-ups, ...); cost per firm."""
    cost = np.zeros(len(programmes))
    for prog, ctx, firm_sales in zip(programmes, ctxs, sales, strict=True):
        cost[prog.firm] += prog.after_purchase(ctx, firm_sales)
    return cost


def referral_costs(
    programmes: list[Programme], ctxs: list[StepContext], referrers: list[np.ndarray]
) -> np.ndarray:
    """Phase: each programme answers the customers who recommended its firm (S8)."""
    cost = np.zeros(len(programmes))
    for prog, ctx, rows in zip(programmes, ctxs, referrers, strict=True):
        cost[prog.firm] += prog.on_referrals(ctx, rows)
    return cost
