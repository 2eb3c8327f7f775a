"""Outcomes of a run: the per-step, per-firm metrics table and the final customer table.

Column meanings (money in EUR per step unless "cumulative"):

- ``customers``: active customers whose home firm it is (highest purchase loyalty).
- ``purchases``, ``units``; ``share``: the firm's share of the step's purchase occasions.
- ``revenue`` at list price; ``cogs`` = unit cost x units; ``gross_margin`` = revenue - cogs.
- ``programme_cost``: rebates, points redeemed, joining gifts, contacts, thanks, surprises.
- ``acquisition_cost``: paid acquisition plus poaching discounts granted.
- ``profit`` = gross_margin - programme_cost - acquisition_cost; ``cumulative_profit``.
- ``repeat_rate``: of buyers whose previous purchase was with the firm, the share who
  bought from it again; ``mean_scr``: its customers' mean share of category requirements
  at it (their share of recent purchases made there, 0-1).
- ``churn_to_competitor`` (home firm changed to a rival), of which
  ``defected_active_loyal`` and ``defected_passive_loyal`` were loyal to it before (S6),
  ``switched_in``, ``churn_out`` (left the
  category), ``acquired`` (paid), ``referred`` (joined through a recommendation).
- ``active_loyal`` / ``passive_loyal`` (S6); ``loyal_members``, ``loyal_nonmembers``,
  ``disloyal_members``, ``disloyal_nonmembers`` over all active customers (S9);
  ``members``; ``mean_engagement`` of its customers (g(E), -1..1); ``referrals`` made for it.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .customers import SEGMENTS
from .memory import engagement_g
from .population import ACTIVE, GONE, ORIGINS, Population
from .trades import Outcome

# every column of the metrics table, in order, with its dtype (counts are integers)
COLUMN_TYPES: dict[str, type] = {
    "price": float,
    "customers": np.int64,
    "purchases": np.int64,
    "units": float,
    "share": float,
    "revenue": float,
    "cogs": float,
    "gross_margin": float,
    "programme_cost": float,
    "acquisition_cost": float,
    "profit": float,
    "cumulative_profit": float,
    "repeat_rate": float,
    "mean_scr": float,
    "churn_to_competitor": np.int64,
    "defected_active_loyal": np.int64,
    "defected_passive_loyal": np.int64,
    "switched_in": np.int64,
    "churn_out": np.int64,
    "acquired": np.int64,
    "referred": np.int64,
    "referrals": np.int64,
    "active_loyal": np.int64,
    "passive_loyal": np.int64,
    "loyal_members": np.int64,
    "loyal_nonmembers": np.int64,
    "disloyal_members": np.int64,
    "disloyal_nonmembers": np.int64,
    "members": np.int64,
    "mean_engagement": float,
    "offers_sent": np.int64,
}
COLUMNS = tuple(COLUMN_TYPES)
COUNT_COLUMNS = frozenset(c for c, t in COLUMN_TYPES.items() if t is np.int64)


class Recorder:
    """Preallocated ``(steps, firms)`` arrays, one per column, filled step by step."""

    def __init__(self, n_steps: int, n_firms: int) -> None:
        self.n_firms = n_firms
        self.data = {c: np.zeros((n_steps, n_firms), dtype) for c, dtype in COLUMN_TYPES.items()}

    def record(self, step: int, values: dict[str, np.ndarray]) -> None:
        """Store the values of step ``step`` (1-based, the model's clock)."""
        missing = set(COLUMNS) - set(values)
        if missing:
            raise KeyError(f"metrics missing: {sorted(missing)}")
        for c in COLUMNS:
            self.data[c][step - 1] = values[c]

    def frame(
        self, steps: int, firm_names: list[str], start_date: str, step_weeks: int
    ) -> pd.DataFrame:
        """Tidy table of the first ``steps`` steps: one row per (step, firm), from step 1."""
        s, f = steps, self.n_firms
        step = np.repeat(np.arange(1, s + 1), f)
        week = step * step_weeks
        start = np.datetime64(_dt.date.fromisoformat(start_date), "D")
        out = {
            "step": step,
            "week": week,
            "date": start + (week * 7).astype("timedelta64[D]"),
            "firm": np.tile(np.array(firm_names, dtype=object), s),
        }
        for c in COLUMNS:
            out[c] = self.data[c][:s].reshape(-1)
        return pd.DataFrame(out)


@dataclass
class StepLedger:
    """Per-firm money and counts booked during one step, outside the purchase flows."""

    programme_cost: np.ndarray  # EUR: contacts, gifts, thanks, surprises (+ member discounts)
    acquisition_cost: np.ndarray  # EUR: paid acquisition (+ poaching discounts used)
    acquired: np.ndarray
    referred: np.ndarray
    referrals: np.ndarray
    offers_sent: np.ndarray

    @classmethod
    def empty(cls, n_firms: int) -> StepLedger:
        def counts() -> np.ndarray:
            return np.zeros(n_firms, np.int64)

        return cls(np.zeros(n_firms), np.zeros(n_firms), counts(), counts(), counts(), counts())

    def profit(self, gross_margin: np.ndarray) -> np.ndarray:
        """profit = gross margin - programme cost - acquisition cost (EUR, per firm)."""
        return gross_margin - self.programme_cost - self.acquisition_cost

    def row(
        self,
        flows: dict[str, np.ndarray],
        stocks: dict[str, np.ndarray],
        price: np.ndarray,
        profit: np.ndarray,
        cumulative_profit: np.ndarray,
    ) -> dict[str, np.ndarray]:
        """Every metrics column of the step."""
        total = flows["purchases"].sum()
        n_firms = price.size
        return {
            **flows,
            **stocks,
            "price": price,
            "share": flows["purchases"] / total if total else np.full(n_firms, np.nan),
            "programme_cost": self.programme_cost,
            "acquisition_cost": self.acquisition_cost,
            "profit": profit,
            "cumulative_profit": cumulative_profit,
            "acquired": self.acquired,
            "referred": self.referred,
            "referrals": self.referrals,
            "offers_sent": self.offers_sent,
        }


def purchase_flows(out: Outcome, unit_cost: np.ndarray) -> dict[str, np.ndarray]:
    """Per-firm flows of one step's purchases (EUR, counts), from the buyers' outcomes.

    Returns the metrics columns that purchases decide, plus ``member_discounts`` (rebates
    and points redeemed: programme cost) and ``offer_discounts`` (poaching discounts used:
    acquisition cost), which the market books into those costs.
    """
    n_firms = unit_cost.size

    def per_firm(weights: np.ndarray | None = None, mask: np.ndarray | None = None):
        firms = out.firm if mask is None else out.firm[mask]
        w = weights if weights is None or mask is None else weights[mask]
        return np.bincount(firms, w, minlength=n_firms)

    units = per_firm(out.units)
    revenue = per_firm(out.list_value)
    cogs = units * unit_cost
    had = out.prev_firm >= 0
    returning = np.bincount(out.prev_firm[had], minlength=n_firms)
    stayed = per_firm(mask=had & (out.prev_firm == out.firm)).astype(np.int64)
    moved = out.home != out.prev_home
    with np.errstate(invalid="ignore", divide="ignore"):
        repeat = stayed / returning
    return {
        "purchases": per_firm(out.trips).astype(np.int64),
        "units": units,
        "revenue": revenue,
        "cogs": cogs,
        "gross_margin": revenue - cogs,
        "member_discounts": per_firm(out.rebate + out.redeemed),
        "offer_discounts": per_firm(out.offer),
        "repeat_rate": repeat,
        "churn_to_competitor": np.bincount(out.prev_home[moved], minlength=n_firms),
        "defected_active_loyal": np.bincount(
            out.prev_home[moved & out.was_active], minlength=n_firms
        ),
        "defected_passive_loyal": np.bincount(
            out.prev_home[moved & out.was_loyal & ~out.was_active], minlength=n_firms
        ),
        "switched_in": np.bincount(out.home[moved], minlength=n_firms),
        "churn_out": np.bincount(out.home[out.left], minlength=n_firms),
    }


def column_counts(mask: np.ndarray) -> np.ndarray:
    """True values per column of a ``(rows, firms)`` mask (column by column: for a few
    columns this is several times faster than ``sum(axis=0)``)."""
    return np.array([np.count_nonzero(mask[:, f]) for f in range(mask.shape[1])], np.int64)


def population_metrics(
    pop: Population, n_firms: int, loyal_threshold: float, week: int, active_window: int
) -> dict[str, np.ndarray]:
    """Stock metrics of the active population at the end of the step that started in
    ``week``: customers per main firm, loyal ones split into active (interacted with it
    within ``active_window`` weeks) and passive (S6), membership by loyal status (S9).
    The reference for the compiled :func:`loyaltysim.engines.kernel.settle` (bit-identical)."""
    rows = pop.active_index()
    home = pop.home[rows]
    own = np.arange(rows.size) * n_firms + home
    loyalty = pop.requirement_shares(rows)
    member = np.take(pop.member, rows, axis=0)
    own_loyalty = loyalty.ravel()[own]
    own_g = engagement_g(np.take(pop.engagement.ravel(), rows * n_firms + home))
    customers = np.bincount(home, minlength=n_firms)
    loyal_own = own_loyalty >= loyal_threshold
    active = loyal_own & pop.recently_interacted(rows, home, week, active_window)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_g = np.bincount(home, own_g, n_firms) / customers
        mean_scr = np.bincount(home, own_loyalty, n_firms) / customers
    # membership by loyal status, over all active customers (S9: loyal non-members and
    # disloyal members both exist)
    loyal = loyalty >= loyal_threshold
    members = column_counts(member)
    loyal_members = column_counts(loyal & member)
    return stock_table(
        customers,
        active_loyal=np.bincount(home[active], minlength=n_firms),
        passive_loyal=np.bincount(home[loyal_own & ~active], minlength=n_firms),
        mean_engagement=mean_g,
        mean_scr=mean_scr,
        members=members,
        loyal_members=loyal_members,
        loyal_nonmembers=column_counts(loyal) - loyal_members,
        n_active=rows.size,
    )


def stock_table(
    customers: np.ndarray,
    active_loyal: np.ndarray,
    passive_loyal: np.ndarray,
    mean_engagement: np.ndarray,
    mean_scr: np.ndarray,
    members: np.ndarray,
    loyal_members: np.ndarray,
    loyal_nonmembers: np.ndarray,
    n_active: int,
) -> dict[str, np.ndarray]:
    """The stock metrics per firm from their counts (customers, loyal by activity, members
    by loyal status), with the disloyal counts derived: every active customer is loyal or
    not, a member or not."""
    return {
        "customers": customers,
        "active_loyal": active_loyal,
        "passive_loyal": passive_loyal,
        "mean_engagement": mean_engagement,
        "mean_scr": mean_scr,
        "members": members,
        "loyal_members": loyal_members,
        "loyal_nonmembers": loyal_nonmembers,
        "disloyal_members": members - loyal_members,
        "disloyal_nonmembers": n_active - members - loyal_nonmembers,
    }


def customer_table(pop: Population, firm_names: list[str], loyal_threshold: float) -> pd.DataFrame:
    """One row per person who was a customer in the observed period (from week 0), with
    traits and final state; people who left during the warm-up are not in it."""
    rows = np.flatnonzero((pop.status == ACTIVE) | ((pop.status == GONE) & (pop.left_week >= 0)))
    names = np.array([*firm_names, ""], dtype=object)
    home = pop.home[rows]
    table = {
        "customer_id": rows,
        "status": np.where(pop.status[rows] == GONE, "gone", "active"),
        "segment": np.array(SEGMENTS, dtype=object)[pop.segment[rows]],
        "origin": np.array(ORIGINS, dtype=object)[pop.origin[rows]],
        "price_sensitivity": pop.price_sensitivity[rows],
        "purchase_rate": pop.purchase_rate[rows],
        "dropout": pop.dropout[rows],
        "basket": pop.basket[rows],
        "joined_week": pop.joined_week[rows],  # < 0: joined during the warm-up
        "left_week": np.where(pop.status[rows] == GONE, pop.left_week[rows], -1),
        "main_firm": names[home],
        "last_firm": names[pop.last_firm[rows]],
        "purchases": pop.purchases[rows],
        "spend": pop.spend[rows],
        "referrals": pop.referrals[rows],
        "loyal": (pop.main_share(rows) >= loyal_threshold) & (pop.status[rows] == ACTIVE),
    }
    for f, name in enumerate(firm_names):
        table[f"engagement_{name}"] = pop.engagement[rows, f]
        table[f"habit_{name}"] = pop.habit[rows, f]
        table[f"member_{name}"] = pop.member[rows, f]
        table[f"points_{name}"] = pop.points[rows, f]
        table[f"spend_{name}"] = pop.firm_spend[rows, f]
    return pd.DataFrame(table)
