"""Firms as Mesa agents, and the firm-side phases of a step (S5, S12).

A firm has a list price, a unit cost, a service quality, an acquisition budget, a pricing
policy, a loyalty programme and, possibly, poaching offers. The phases here:

- :func:`review_prices`: adaptive firms move their price every ``interval_weeks`` in the
  direction that raised profit over the last window, else turn back (S12);
- :func:`offer_terms`: what each firm offers this step (price, member terms, offers);
- :func:`acquire`: each firm buys ``budget / cost per customer`` new customers (stochastic
  rounding); the cost per customer rises by ``crowding`` for each poaching firm (S5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .mesa_core import Agent, Model
from .params import CONSTANT, LEVER, UNCERTAINTY, ConfigError, Params, param
from .poaching import PoachingParams
from .population import ORIGIN_PAID, Population
from .programmes import Programme, ProgrammeParams
from .trades import Terms


@dataclass(frozen=True)
class PricingParams(Params):
    """Pricing policy (S12): fixed, or adaptive hill-climbing on profit."""

    policy: str = param("fixed", choices=("fixed", "adaptive"), kind=LEVER, doc="pricing policy")
    interval_weeks: int = param(
        4, lo=1, kind=LEVER, unit="weeks", doc="weeks between price reviews"
    )
    step_eur: float = param(
        0.1, lo=0, lo_open=True, hi=1e4, kind=LEVER, unit="EUR", doc="price move per review"
    )
    min_price: float = param(0.0, lo=0, hi=1e9, kind=LEVER, unit="EUR/unit", doc="lowest price")
    max_price: float = param(1e9, lo=0, hi=1e9, kind=LEVER, unit="EUR/unit", doc="highest price")

    def check(self) -> None:
        if self.max_price < self.min_price:
            raise ConfigError("max_price", self.max_price, f">= min_price {self.min_price}")


@dataclass(frozen=True)
class AcquisitionParams(Params):
    """Paid acquisition (S5)."""

    weekly_budget_per_1000: float = param(
        17.0,
        lo=0,
        hi=1e7,
        kind=LEVER,
        unit="EUR per week per 1,000 customers at week 0",
        doc="acquisition spend at most, per 1,000 of the market's customers at week 0 "
        "(customers.n): EUR 170 a week in a market of 10,000. Scaled to the market so that a "
        "market of any size has the same dynamics per customer (and the calibration's small "
        "markets stand for the default one); set once, it does not follow the firm's size. "
        "The default replaces the customers the central world loses (scripts/steady_budget.py)",
    )
    cost_per_customer: float = param(
        60.0,
        lo=0.01,
        hi=1e6,
        kind=UNCERTAINTY,
        unit="EUR",
        doc="EUR per acquired customer",
        plausible=(20.0, 200.0),
        source="brief: acquisition costs 5-25x retention (Rosenberg & Czepiel ~6x); a few "
        "euros a year of retention contact puts acquisition at tens to hundreds of euros",
    )

    def weekly_budget(self, customers: int) -> float:
        """EUR a week the firm may spend on acquisition in a market of ``customers`` at
        week 0."""
        return self.weekly_budget_per_1000 * (customers / 1000)


@dataclass(frozen=True)
class FirmParams(Params):
    """A firm: its price, costs, service, acquisition, pricing policy, programme, offers."""

    name: str = param("focal", kind=CONSTANT, doc="name in every table and figure")
    price: float = param(
        5.0, lo=0, lo_open=True, hi=1e9, kind=LEVER, unit="EUR/unit", doc="list price"
    )
    unit_cost: float = param(
        3.5,
        lo=0,
        hi=1e9,
        kind=UNCERTAINTY,
        unit="EUR/unit",
        doc="cost of a unit sold",
        plausible=(2.5, 4.5),
        source="reason: gross margins of 10-50% of a EUR 5 list price, typical of retail",
    )
    service_quality: float = param(
        0.97,
        lo=0,
        hi=1,
        kind=LEVER,
        unit="probability",
        doc="1 - probability a purchase meets a service failure",
    )
    pricing: PricingParams = param(PricingParams())
    acquisition: AcquisitionParams = param(AcquisitionParams())
    programme: ProgrammeParams = param(ProgrammeParams())
    poaching: PoachingParams = param(PoachingParams())
    entry_week: int = param(
        0,
        lo=0,
        kind=LEVER,
        unit="week",
        doc="week the firm enters the market (before it: no sales, no programme, no offers)",
    )

    def check(self) -> None:
        # an empty name would label every table and figure with nothing, and could not
        # be told apart in them
        if not self.name.strip():
            raise ConfigError("name", self.name, "a non-empty name")
        p = self.pricing
        if p.policy == "adaptive" and not p.min_price <= self.price <= p.max_price:
            raise ConfigError(
                "price", self.price, f"between pricing bounds {p.min_price}..{p.max_price}"
            )


class Firm(Agent):
    """A firm in the market. Index 0 is the focal firm; the others are competitors.

    Attributes:
        price: current list price, EUR per unit (changes under adaptive pricing, S12).
        programme: its loyalty programme (``none``, ``discount``, ``engagement``, ...).
        cumulative_profit: EUR since week 0.
    """

    def __init__(self, model: Model, index: int, params: FirmParams, programme: Programme):
        super().__init__(model)
        self.index = index
        self.params = params
        self.name = params.name
        self.price = params.price
        self.programme = programme
        self.cumulative_profit = 0.0
        self._window_profit = 0.0
        self._previous_window: float | None = None
        self._direction = 1.0

    @property
    def role(self) -> str:
        return "focal" if self.index == 0 else "competitor"

    @property
    def failure_rate(self) -> float:
        return 1.0 - self.params.service_quality

    def book_profit(self, profit: float) -> None:
        self.cumulative_profit += profit
        self._window_profit += profit

    def in_market(self, week: int) -> bool:
        """Whether the firm has entered the market by ``week`` (firms there from week 0 are
        also there during the warm-up, at negative weeks)."""
        return max(week, 0) >= self.params.entry_week

    def review_price(self, week: int) -> None:
        """Adaptive pricing (S12): every ``interval_weeks`` keep moving the price in the
        direction that raised profit over the last window, else turn back; stay in bounds."""
        p = self.params.pricing
        since = week - self.params.entry_week
        if p.policy != "adaptive" or since <= 0 or week % p.interval_weeks:
            return
        if self._previous_window is not None and self._window_profit < self._previous_window:
            self._direction = -self._direction
        self._previous_window = self._window_profit
        self._window_profit = 0.0
        self.price = float(
            np.clip(self.price + self._direction * p.step_eur, p.min_price, p.max_price)
        )

    def poaching_active(self, week: int) -> bool:
        return self.in_market(week) and self.params.poaching.active(week)

    def acquisition_cost(self, n_poachers: int, crowding: float) -> float:
        """EUR per acquired customer; rises with every firm making poaching offers (S5)."""
        return self.params.acquisition.cost_per_customer * (1.0 + crowding * n_poachers)


def review_prices(firms: list[Firm], week: int) -> None:
    """Phase: adaptive firms review their prices (S12)."""
    for firm in firms:
        firm.review_price(week)


def offer_terms(firms: list[Firm], week: int, programmes: bool = True) -> Terms:
    """Phase: each firm's terms for the step: price, service, member terms, poaching depth
    (no member terms and no offers with ``programmes=False``: the warm-up)."""
    terms = Terms.plain(
        np.array([f.price for f in firms]), np.array([f.failure_rate for f in firms])
    )
    for firm in firms if programmes else []:
        firm.programme.set_terms(terms, week)
    for firm in firms if programmes else []:
        if firm.poaching_active(week):
            terms.offer_depth[firm.index] = firm.params.poaching.depth
    if any(not f.in_market(week) for f in firms):
        terms.open = np.array([f.in_market(week) for f in firms])
    return terms


def acquire(
    firms: list[Firm],
    pop: Population,
    week: int,
    dt: float,
    n_poachers: int,
    crowding: float,
    rngs: list[np.random.Generator],
    customers: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Phase: paid acquisition (S5). Each firm buys ``budget * dt / cost`` new customers
    (stochastic rounding, one uniform from ``rngs[firm]`` a step) from the prospect queue,
    where ``budget`` is its weekly budget in a market of ``customers`` at week 0
    (:meth:`AcquisitionParams.weekly_budget`); returns (acquired, cost EUR) per firm."""
    acquired = np.zeros(len(firms), np.int64)
    cost = np.zeros(len(firms))
    for firm, rng in zip(firms, rngs, strict=True):
        u = rng.random()  # drawn in every step, also before the firm enters
        if not firm.in_market(week):
            continue
        unit = firm.acquisition_cost(n_poachers, crowding)
        expected = firm.params.acquisition.weekly_budget(customers) * dt / unit
        n = int(expected) + int(u < expected - int(expected))
        rows = pop.take_prospects(n)
        pop.activate(rows, firm.index, week, ORIGIN_PAID)
        acquired[firm.index] = rows.size
        cost[firm.index] = rows.size * unit
    return acquired, cost
