"""The live app's teaching presets (see :mod:`loyaltysim.app`): the plotted quantities, the
sliders with their starting values, ranges and units, and the watched customer by default.

They are chosen so that the story shows within the horizon (your firm runs the engagement
programme, loyalty forms in the first year, rivals may poach from week 52) and are not the
library's defaults (conf/), which drive results/ and the regression values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .engines.market import Market

PROGRAMMES = ("none", "discount", "engagement")


@dataclass(frozen=True)
class Series:
    """One plotted quantity per firm: a column of the market's metrics, scaled for display."""

    column: str  # metrics column (loyaltysim.model.metrics)
    scale: float  # display unit per metrics unit
    title: str  # the plot's title
    ylabel: str  # the y axis, with its unit
    counts_customers: bool = False  # a head count: the y axis runs 0..the market's size


SERIES = {  # reporter stem -> what it shows
    "share %": Series("share", 100.0, "Share of the week's purchases", "share of purchases (%)"),
    "profit kEUR": Series(
        "cumulative_profit", 1e-3, "Cumulative profit (after programme costs)", "profit (kEUR)"
    ),
    "active loyal": Series(
        "active_loyal",
        1.0,
        "Active loyal customers (repeat buyers, engaged lately)",
        "customers",
        counts_customers=True,
    ),
    "passive loyal": Series(
        "passive_loyal",
        1.0,
        "Passive loyal customers (repeat buyers, not engaged lately)",
        "customers",
        counts_customers=True,
    ),
    "members": Series("members", 1.0, "Programme members", "customers", counts_customers=True),
}
ENGINES = ("arrays", "agents")
AGENTS_MAX = 5000  # customers: the agent engine is for small markets
AUTO = -1  # the watched customer "auto": see default_watched

# Teaching presets: a market that runs a step in milliseconds and its two years in seconds.
CUSTOMERS = 400  # customers at week 0 (the pool also holds as many prospects)
HORIZON_WEEKS = 104  # a year for loyalty to form, a year for rivals to break it


@dataclass(frozen=True)
class Lever:
    """One slider of the page: a :class:`LiveMarket` keyword a teacher can move.

    ``value`` is the teaching preset; ``fmt`` formats a value for the slider's caption and
    ``unit`` follows it (``fmt`` may carry the unit itself, e.g. a percentage).
    """

    name: str  # LiveMarket keyword
    label: str
    value: float
    lo: float
    hi: float
    step: float
    unit: str = ""
    fmt: str = "{:g}"

    @property
    def integer(self) -> bool:
        """Whether the slider moves in whole numbers (weeks, ids, seeds)."""
        return all(float(v).is_integer() for v in (self.value, self.lo, self.hi, self.step))

    def caption(self, value: float) -> str:
        """The slider's label with its current value and unit, e.g. ``Your price: 5.00 EUR``."""
        if self.name == "customer" and int(value) == AUTO:
            shown = "auto (your firm's most frequent buyer)"
        else:
            shown = f"{self.fmt.format(value)} {self.unit}".strip()
        return f"{self.label}: {shown}"


LEVERS = (
    Lever(
        "rebate_rate",
        "Member rebate (discount programme)",
        0.05,
        0.0,
        0.3,
        0.01,
        "off list price",
        "{:.0%}",
    ),
    # 100%: at the calibrated defaults a programme with a fifth of its contacts badly
    # personalised loses money and forms little active loyalty (S7); the preset starts from
    # a well-run programme and the slider shows what carelessness costs
    Lever(
        "personalisation",
        "Personalisation (engagement programme)",
        1.0,
        0.0,
        1.0,
        0.05,
        "of contacts well personalised",
        "{:.0%}",
    ),
    Lever("price", "Your price", 5.0, 3.5, 7.0, 0.1, "EUR per unit", "{:.2f}"),
    Lever("half_life_weeks", "Engagement half-life", 12, 1, 52, 1, "weeks", "{:.0f}"),
    # the rate is a weekly probability; one offer at a time (valid 4 weeks), so 1 = always
    Lever(
        "poaching_rate",
        "Rivals' poaching rate",
        0.0,
        0.0,
        1.0,
        0.05,
        "chance per week a customer gets an offer",
        "{:.2f}",
    ),
    Lever(
        "poaching_depth",
        "Rivals' poaching offer",
        0.25,
        0.0,
        0.5,
        0.05,
        "off their list price",
        "{:.0%}",
    ),
    Lever(
        "poaching_start_week",
        "Rivals start poaching",
        52,
        0,
        HORIZON_WEEKS,
        1,
        "",
        "in week {:.0f}",
    ),
    Lever("customer", "Watched customer", AUTO, AUTO, 2 * CUSTOMERS - 1, 1, "", "id {:.0f}"),
    Lever("seed", "Seed", 0, 0, 99, 1),
)
LEVER = {lever.name: lever for lever in LEVERS}


def default_watched(model: Market) -> int:
    """The customer the memory plot follows when none is chosen: of your firm's customers
    at week 0 (after the warm-up), among the quarter who buy most often (highest purchase
    rate), the one least likely to leave the category after a purchase (lowest dropout;
    the lowest id on ties), so that the plot shows a memory that keeps moving. Any active
    customer if your firm has none; customer 0 if nobody is active."""
    pop = model.population
    active = pop.active_index()
    mine = active[pop.home[active] == model.firms[0].index]
    pool = mine if mine.size else active
    if not pool.size:
        return 0
    frequent = pool[pop.purchase_rate[pool] >= np.quantile(pop.purchase_rate[pool], 0.75)]
    return int(frequent[np.argmin(pop.dropout[frequent])])


def teaching_defaults() -> dict:
    """The keywords the page builds its first market from: every lever at its preset, the
    teaching market's size and horizon, and the selects' first values."""
    return {
        "customers": CUSTOMERS,
        "horizon_weeks": HORIZON_WEEKS,
        "programme": "engagement",
        "engine": "arrays",
        **{lever.name: lever.value for lever in LEVERS},
    }
