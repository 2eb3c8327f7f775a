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


def _statistic(folder: Path, exp: str, file: str, statistic: str) -> pd.Series | None:
    """The row of ``statistic`` in a world's ``<exp>/<file>`` table, or None."""
    path = Path(folder) / exp / file
    if not path.is_file():
        return None
    table = pd.read_csv(path)
    row = table[table["statistic"] == statistic]
    return None if row.empty else row.iloc[0]


def claim_shares(folder: Path) -> dict[str, dict]:
    """Each share claim's % and 95% CI read from one world's results folder."""
    rows = {c: _statistic(folder, *spec[:3]) for c, spec in SHARES.items()}
    return {
        c: {k: float(r[k]) for k in ("pct", "pct_lo", "pct_hi")}
        for c, r in rows.items()
        if r is not None
    }


def claim_flags(folder: Path) -> dict[str, bool]:
    """Each flag claim's value (true or false) read from one world's results folder."""
    rows = {c: _statistic(folder, *spec[:3]) for c, spec in FLAGS.items()}
    return {c: bool(r["value"]) for c, r in rows.items() if r is not None}


def _counts(verdicts: pd.Series) -> tuple[int, int, int]:
    """Worlds where the claim holds, fails and is not resolved."""
    return tuple(int((verdicts == v).sum()) for v in ("holds", "fails", "not resolved"))


def _table_row(claim: str, verdicts: pd.Series, spread: str, default: str) -> str:
    holds, fails, open_ = _counts(verdicts)
    n = len(verdicts)
    return f"| {claim} | {holds} of {n} | {fails} of {n} | {open_} | {spread} | {default} |"


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
        x = table[f"{claim} share"].to_numpy(float)
        c = (central or {}).get(claim)
        default = f"{c['pct']:.0f}% [{c['pct_lo']:.0f}, {c['pct_hi']:.0f}]" if c else "n/a"
        spread = f"{np.median(x):.0f}% | {x.min():.0f} to {x.max():.0f}%"
        rows.append(_table_row(claim, table[f"{claim} verdict"], spread, default))
    return rows


def flag_rows(table: pd.DataFrame, central: Mapping | None) -> list[str]:
    """The section's rows of pattern claims: worlds where the pattern is found or not."""
    rows = []
    for claim in FLAGS:
        if f"{claim} verdict" not in table:
            continue
        c = (central or {}).get(claim)
        default = "n/a" if c is None else ("holds" if c else "fails")
        rows.append(_table_row(claim, table[f"{claim} verdict"], "n/a | n/a", default))
    return rows


def flag_lead(claim: str, table: pd.DataFrame) -> str:
    """A flag claim's README lead: in how many worlds it is true."""
    v = table[f"{claim} verdict"]
    _, _, _, what, meaning = FLAGS[claim]
    return f"{what} holds in {_counts(v)[0]} of {len(v)} plausible worlds ({meaning})."


def share_lead(claim: str, table: pd.DataFrame) -> str:
    """A share claim's README lead: in how many worlds it holds, the median and range."""
    v, x = table[f"{claim} verdict"], table[f"{claim} share"].to_numpy(float)
    (holds, fails, open_), what = _counts(v), SHARES[claim][4]
    return (
        f"{what} holds in {holds} of {len(v)} plausible worlds (each world's 95% CI above "
        f"{SHARES[claim][3]:.0f}%), fails in {fails}, not resolved in {open_}; median world "
        f"{np.median(x):.0f}% (worlds {x.min():.0f} to {x.max():.0f}%)."
    )
