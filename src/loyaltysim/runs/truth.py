"""The truth behind a transaction log: each customer's hidden traits and history.

A run with ``output.truth=true`` writes ``truth.parquet`` beside ``transactions.parquet``:
one row per person who was a customer in the observed period (the rows of the customer
table; ``customer_id`` is the log's), with what a CLV model tries to infer from the log:

- ``purchase_rate``: the customer's category purchase rate lambda, purchases per week
  (gamma across customers, ``customers.purchase_rate_*``); the log holds
  Poisson(lambda) purchase occasions a week while the customer is alive;
- ``dropout_per_purchase``: the probability p of leaving the category after a purchase
  (beta across customers, ``customers.dropout_*``), before any engagement relief (S4:
  ``customers.choice.engagement_churn_relief`` lowers it for engaged customers);
- ``dropout_per_week``: the weekly drop-out probability that p implies at rate lambda
  with no engagement, ``1 - exp(-lambda p)`` (the chance that one of a week's
  Poisson(lambda) purchases is followed by drop-out);
- ``alive_end``: still in the category after the last week (bool);
- ``dropout_week``: the week the customer left, after that week's purchases; null while
  alive (negative: left during the warm-up, so absent from the log); ``dropout_date``: the
  last day of that week (no purchase of the customer is dated later);
- ``segment`` (S10), ``origin`` (initial, paid, referral), ``joined_week`` (negative: a
  customer since the warm-up);
- per firm F: ``member_joined_F`` (first week after which the customer was a member of F's
  programme, null if never), ``member_end_F`` (a member after the last week) and
  ``engagement_F`` (the engagement stock E with F after the last week: touchpoints,
  positive minus negative, decayed; g = E / (1 + |E|) enters choice);
- ``engagement_wNNN``: the engagement stock with the focal firm after NNN weeks (every
  ``EVERY`` weeks of the observed period).

The recorder only reads the population after each step, so a run draws the same numbers
with and without it (its outputs are bit-identical).
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..model.customers import SEGMENTS
from ..model.population import ACTIVE, GONE, NEVER, ORIGINS

EVERY = 13  # weeks between snapshots of engagement (a quarter)


class TruthRecorder:
    """Watches a :class:`~loyaltysim.engines.market.Market` step by step (membership joins,
    quarterly engagement) and writes the truth table at the end."""

    def __init__(self, model: Any) -> None:
        pop = model.population
        self.model = model
        self.joined = np.full(pop.member.shape, NEVER, np.int32)
        self.joined[pop.member] = 0  # members before week 0 (a programme's start)
        self.snapshots: dict[int, np.ndarray] = {}

    def observe(self) -> None:
        """Call after each observed step: records first joins and the quarterly snapshot."""
        model = self.model
        pop = model.population
        week = model.week  # weeks played so far; the step just played ended at week - 1
        new = pop.member & (self.joined == NEVER)
        self.joined[new] = week - model.config.market.step_weeks
        if week % EVERY == 0:
            self.snapshots[week] = pop.engagement[:, 0].copy()

    def table(self) -> pd.DataFrame:
        """The truth table (see the module docstring for the columns)."""
        model = self.model
        pop = model.population
        rows = np.flatnonzero(
            (pop.status == ACTIVE) | ((pop.status == GONE) & (pop.left_week >= 0))
        )
        gone = pop.status[rows] == GONE
        left = np.where(gone, pop.left_week[rows], -1)
        start = np.datetime64(_dt.date.fromisoformat(model.config.market.start_date), "D")
        step = model.config.market.step_weeks
        last_day = start + (7 * (left + step) - 1).astype("timedelta64[D]")
        lam, p = pop.purchase_rate[rows], pop.dropout[rows]
        table: dict[str, Any] = {
            "customer_id": rows.astype(np.int64),
            "purchase_rate": lam,
            "dropout_per_purchase": p,
            "dropout_per_week": -np.expm1(-lam * p),
            "alive_end": ~gone,
            "dropout_week": pd.array(np.where(gone, left, 0), dtype="Int32"),
            "dropout_date": pd.Series(last_day).where(gone),
            "segment": np.array(SEGMENTS, dtype=object)[pop.segment[rows]],
            "origin": np.array(ORIGINS, dtype=object)[pop.origin[rows]],
            "joined_week": pop.joined_week[rows],
        }
        table["dropout_week"][~gone] = pd.NA
        for f, name in enumerate(model.firm_names):
            joined = self.joined[rows, f]
            col = pd.array(np.where(joined == NEVER, 0, joined), dtype="Int32")
            col[joined == NEVER] = pd.NA
            table[f"member_joined_{name}"] = col
            table[f"member_end_{name}"] = pop.member[rows, f]
            table[f"engagement_{name}"] = pop.engagement[rows, f]
        for week, values in sorted(self.snapshots.items()):
            table[f"engagement_w{week:03d}"] = values[rows]
        out = pd.DataFrame(table)
        out["dropout_date"] = out["dropout_date"].astype("datetime64[s]")
        return out

    def write(self, path: Path) -> int:
        """Write ``truth.parquet``; returns its number of rows."""
        table = self.table()
        table.to_parquet(path, index=False)
        return len(table)
