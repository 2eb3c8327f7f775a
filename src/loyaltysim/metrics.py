"""Outcomes of a run: the per-step, per-firm metrics table and the final customer table.

Column meanings (money in EUR per step unless "cumulative"):

- ``customers``: active customers whose home firm it is (highest purchase loyalty).
- ``purchases``, ``units``; ``share``: the firm's share of the step's purchase occasions.
- ``revenue`` at list price; ``cogs`` = unit cost x units; ``gross_margin`` = revenue - cogs.
- ``programme_cost``: rebates, points redeemed, joining gifts, contacts, thanks, surprises.
- ``acquisition_cost``: paid acquisition plus poaching discounts granted.
- ``profit`` = gross_margin - programme_cost - acquisition_cost; ``cumulative_profit``.
- ``repeat_rate``: of buyers whose previous purchase was with the firm, the share who
  bought from it again; ``scr``: mean purchase loyalty of its customers (smoothed share of
  category requirements).
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

import numpy as np
import pandas as pd

from .customers import engagement_g
from .params import SEGMENTS
from .population import ACTIVE, GONE, ORIGINS, PROSPECT, Population

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
    "scr": float,
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
        self.steps = 0

    def record(self, values: dict[str, np.ndarray]) -> None:
        missing = set(COLUMNS) - set(values)
        if missing:
            raise KeyError(f"metrics missing: {sorted(missing)}")
        for c in COLUMNS:
            self.data[c][self.steps] = values[c]
        self.steps += 1

    def frame(self, firm_names: list[str], start_date: str, step_weeks: int) -> pd.DataFrame:
        """Tidy table: one row per (step, firm), steps numbered from 1."""
        s, f = self.steps, self.n_firms
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


def column_counts(mask: np.ndarray) -> np.ndarray:
    """True values per column of a ``(rows, firms)`` mask (column by column: for a few
    columns this is several times faster than ``sum(axis=0)``)."""
    return np.array([np.count_nonzero(mask[:, f]) for f in range(mask.shape[1])], np.int64)


def population_metrics(
    pop: Population, n_firms: int, loyal_threshold: float, active_threshold: float
) -> dict[str, np.ndarray]:
    """Stock metrics of the active population at the end of a step."""
    rows = pop.active_index()
    lf = pop.home[rows]
    own = np.arange(rows.size) * n_firms + lf
    loyalty = np.take(pop.loyalty, rows, axis=0)
    member = np.take(pop.member, rows, axis=0)
    own_loyalty = loyalty.ravel()[own]
    own_g = engagement_g(np.take(pop.engagement.ravel(), rows * n_firms + lf))
    customers = np.bincount(lf, minlength=n_firms)
    loyal_own = own_loyalty >= loyal_threshold
    active = loyal_own & (own_g >= active_threshold)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_g = np.bincount(lf, own_g, n_firms) / customers
        scr = np.bincount(lf, own_loyalty, n_firms) / customers
    # membership by loyal status, over all active customers (S9: loyal non-members and
    # disloyal members both exist)
    loyal = loyalty >= loyal_threshold
    members = column_counts(member)
    loyal_members = column_counts(loyal & member)
    loyal_nonmembers = column_counts(loyal) - loyal_members
    return {
        "customers": customers,
        "active_loyal": np.bincount(lf[active], minlength=n_firms),
        "passive_loyal": np.bincount(lf[loyal_own & ~active], minlength=n_firms),
        "mean_engagement": mean_g,
        "scr": scr,
        "members": members,
        "loyal_members": loyal_members,
        "loyal_nonmembers": loyal_nonmembers,
        "disloyal_members": members - loyal_members,
        "disloyal_nonmembers": rows.size - members - loyal_nonmembers,
    }


def customer_table(pop: Population, firm_names: list[str], loyal_threshold: float) -> pd.DataFrame:
    """One row per person who was ever a customer, with traits and final state."""
    rows = np.flatnonzero(pop.status != PROSPECT)
    names = np.array([*firm_names, ""], dtype=object)
    lf = pop.home[rows]
    table = {
        "customer_id": rows,
        "status": np.where(pop.status[rows] == GONE, "gone", "active"),
        "segment": np.array(SEGMENTS, dtype=object)[pop.segment[rows]],
        "origin": np.array(ORIGINS, dtype=object)[pop.origin[rows]],
        "price_sensitivity": pop.price_sensitivity[rows],
        "purchase_rate": pop.purchase_rate[rows],
        "dropout": pop.dropout[rows],
        "basket": pop.basket[rows],
        "joined_week": pop.joined_week[rows],
        "left_week": pop.left_week[rows],
        "home_firm": names[lf],
        "last_firm": names[pop.last_firm[rows]],
        "purchases": pop.purchases[rows],
        "spend": pop.spend[rows],
        "referrals": pop.referrals[rows],
        "loyal": (pop.loyalty[rows, lf] >= loyal_threshold) & (pop.status[rows] == ACTIVE),
    }
    for f, name in enumerate(firm_names):
        table[f"engagement_{name}"] = pop.engagement[rows, f]
        table[f"loyalty_{name}"] = pop.loyalty[rows, f]
        table[f"member_{name}"] = pop.member[rows, f]
        table[f"points_{name}"] = pop.points[rows, f]
    return pd.DataFrame(table)
