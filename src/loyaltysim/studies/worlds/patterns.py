"""Claims across the worlds that are not an arm's profit effect: a share with its CI (S9:
random designs not paid back), which holds in a world whose CI lies above the claim's
threshold, and a pattern that is found or not (S7: an interior optimum contact rate). Read
from each world's results folder; :mod:`.claims` puts them in the README's section."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

# claims about a share (%), not an arm's effect: (experiment, file, statistic, threshold,
# what the claim says): it holds in a world whose 95% CI lies above the threshold
SHARES: dict[str, tuple[str, str, str, float, str]] = {
    "S9 random discount designs not paid back at week 104": (
        "design_lottery",
        "summary.csv",
        "not_paid_back",
        50.0,
        "S9 (most programmes fail within two years: over half not paid back)",
    ),
}


# claims that are true or false in a world, not measured with a CI: (experiment, file,
# statistic, what the claim says, what it means in that world)
FLAGS: dict[str, tuple[str, str, str, str, str]] = {
    "S7 an interior optimum contact rate at the best personalisation": (
        "personalisation",
        "summary.csv",
        "interior_optimum",
        "S7 (more contact is not always better)",
        "at the highest personalisation the most profitable rate beats no contact and is "
        "below the highest rate tested, by the point estimates",
    ),
}


def claim_shares(folder: Path) -> dict[str, dict]:
    """Each share claim's % and 95% CI read from one world's results folder."""
    out = {}
    for claim, (exp, file, statistic, _, _) in SHARES.items():
        path = Path(folder) / exp / file
        if not path.is_file():
            continue
        table = pd.read_csv(path)
        row = table[table["statistic"] == statistic]
        if not row.empty:
            out[claim] = {k: float(row.iloc[0][k]) for k in ("pct", "pct_lo", "pct_hi")}
    return out


def claim_flags(folder: Path) -> dict[str, bool]:
    """Each flag claim's value (true or false) read from one world's results folder."""
    out = {}
    for claim, (exp, file, statistic, _, _) in FLAGS.items():
        path = Path(folder) / exp / file
        if path.is_file():
            table = pd.read_csv(path)
            row = table[table["statistic"] == statistic]
            if not row.empty:
                out[claim] = bool(row.iloc[0]["value"])
    return out


def share_verdict(claim: str, lo: float, hi: float) -> str:
    """holds (the CI above the claim's threshold), fails (below) or not resolved."""
    threshold = SHARES[claim][3]
    return "holds" if lo > threshold else "fails" if hi < threshold else "not resolved"


def share_rows(table: pd.DataFrame, central: Mapping[str, dict] | None) -> list[str]:
    """The section's table of share claims: worlds where it holds, fails, is unresolved."""
    rows = []
    for claim in SHARES:
        if f"{claim} share" not in table:
            continue
        v = table[f"{claim} verdict"]
        x = table[f"{claim} share"].to_numpy(float)
        c = (central or {}).get(claim)
        default = f"{c['pct']:.0f}% [{c['pct_lo']:.0f}, {c['pct_hi']:.0f}]" if c else "n/a"
        rows.append(
            f"| {claim} | {(v == 'holds').sum()} of {len(v)} | {(v == 'fails').sum()} of "
            f"{len(v)} | {(v == 'not resolved').sum()} | {np.median(x):.0f}% | "
            f"{x.min():.0f} to {x.max():.0f}% | {default} |"
        )
    return rows


def flag_rows(table: pd.DataFrame, central: Mapping | None) -> list[str]:
    rows = []
    for claim in FLAGS:
        if f"{claim} verdict" not in table:
            continue
        v = table[f"{claim} verdict"]
        c = (central or {}).get(claim)
        default = "n/a" if c is None else ("holds" if c else "fails")
        rows.append(
            f"| {claim} | {(v == 'holds').sum()} of {len(v)} | {(v == 'fails').sum()} of "
            f"{len(v)} | 0 | n/a | n/a | {default} |"
        )
    return rows


def flag_lead(claim: str, table: pd.DataFrame) -> str:
    """A flag claim's README lead: in how many worlds it is true."""
    v = table[f"{claim} verdict"]
    _, _, _, what, meaning = FLAGS[claim]
    return f"{what} holds in {(v == 'holds').sum()} of {len(v)} plausible worlds ({meaning})."


def share_lead(claim: str, table: pd.DataFrame) -> str:
    """A share claim's README lead: in how many worlds it holds, the median and range."""
    v, x = table[f"{claim} verdict"], table[f"{claim} share"].to_numpy(float)
    what, n = SHARES[claim][4], len(v)
    return (
        f"{what} holds in {(v == 'holds').sum()} of {n} plausible worlds (each world's 95% CI "
        f"above {SHARES[claim][3]:.0f}%), fails in {(v == 'fails').sum()}, not resolved in "
        f"{(v == 'not resolved').sum()}; median world {np.median(x):.0f}% (worlds "
        f"{x.min():.0f} to {x.max():.0f}%)."
    )
