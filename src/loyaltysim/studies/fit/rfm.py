"""A checked log as a CLV model reads it: purchase occasions and the per-customer
calibration summary (frequency x, recency t_x, age T, in weeks)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .files import LogError

MIN_REPEAT_BUYERS = 30  # customers with a repeat purchase in calibration: 4 parameters need some


def occasions(frame: pd.DataFrame) -> pd.DataFrame:
    """Purchase occasions: a customer's purchases on one day are one occasion (amounts and
    units summed), as in Fader, Hardie & Lee's CDNOW analysis."""
    day = frame["date"].dt.normalize().rename("day")
    values = [c for c in ("amount", "units") if c in frame]
    # grouped by the key Series themselves: no copy of the frame with a day column
    grouped = frame[values or ["customer"]].groupby([frame["customer"], day], sort=True)
    out = grouped.sum() if values else grouped.size().to_frame("rows")
    return out.reset_index()


@dataclass
class RFM:
    """Per-customer calibration summary in weeks (index: customer id). ``first`` is the
    first purchase day; ``m`` the mean spend of repeat occasions (NaN without amounts or
    repeats); ``start`` the log's first day and ``end`` the first day after calibration."""

    table: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def repeat_buyers(self) -> int:
        return int((self.table["x"] > 0).sum())


def rfm(occ: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> RFM:
    """x, t_x, T (weeks) of the customers whose first purchase is before ``end``; a purchase
    on day d counts at the middle of the day (T runs to the start of ``end``)."""
    cal = occ[occ["day"] < end]
    g = cal.groupby("customer")["day"]
    first, last, count = g.min(), g.max(), g.size()
    table = pd.DataFrame(
        {
            "first": first,
            "x": count - 1,
            "tx": (last - first).dt.days / 7.0,
            "T": ((end - first).dt.days - 0.5) / 7.0,
        }
    )
    if "amount" in cal:
        repeat = cal[cal["day"] > cal["customer"].map(first)]
        table["m"] = repeat.groupby("customer")["amount"].mean().reindex(table.index)
    return RFM(table, start, end)


def check_repeat_buyers(summary: RFM) -> None:
    if summary.repeat_buyers < MIN_REPEAT_BUYERS:
        raise LogError(
            f"only {summary.repeat_buyers} customers bought again in the calibration period; "
            f"a fit needs at least {MIN_REPEAT_BUYERS} (a longer log or a later "
            "--calibration-end)"
        )
