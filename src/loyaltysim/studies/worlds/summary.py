"""Across-worlds summary of an arm's effect: better in k of n worlds, the median world,
the middle 80% of worlds and the range, said in one sentence.

Input is a long table, one row per world and arm: ``world``, ``arm``, ``pct`` (the effect
as % of the baseline arm's outcome), ``pct_lo``/``pct_hi`` (its CI over the seeds within
that world) and optionally ``per_1000`` (EUR per 1,000 customers). :func:`long_effects`
turns the wide ``results/ensemble/claims.csv`` of ``scripts/across_worlds.py`` into it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EFFECT_COLUMNS = ("pct", "pct_lo", "pct_hi", "per_1000", "per_1000_lo", "per_1000_hi")


@dataclass(frozen=True)
class ArmSummary:
    """One arm's effect across ``n`` worlds.

    ``better`` counts worlds whose point estimate is above zero; ``better_ci`` those whose
    seed-CI lies wholly above zero, ``worse_ci`` wholly below (the rest are not resolved
    within their world). ``median``, ``p10``/``p90`` (the middle 80% of worlds) and
    ``low``/``high`` (the full range) are over the worlds' point estimates, in % of the
    baseline; ``median_per_1000`` is the median over worlds of EUR per 1,000 customers."""

    arm: str
    n: int
    better: int
    better_ci: int
    worse_ci: int
    median: float
    p10: float
    p90: float
    low: float
    high: float
    median_per_1000: float = float("nan")

    @property
    def not_resolved(self) -> int:
        return self.n - self.better_ci - self.worse_ci


def verdict(lo: float, hi: float) -> str:
    """A world's verdict from its seed-CI: holds (above zero), fails (below) or not."""
    return "holds" if lo > 0 else "fails" if hi < 0 else "not resolved"


def long_effects(wide: pd.DataFrame, claims: list[str] | None = None) -> pd.DataFrame:
    """The long table (``world``, ``arm``, effect columns) from the wide claims table of
    ``scripts/across_worlds.py`` (columns ``"<claim> pct"``, ``"<claim> pct_lo"``, ...)."""
    if claims is None:
        claims = [c[: -len(" pct")] for c in wide.columns if c.endswith(" pct")]
    parts = []
    for claim in claims:
        cols = {f"{claim} {k}": k for k in EFFECT_COLUMNS if f"{claim} {k}" in wide}
        part = wide[["world", *cols]].rename(columns=cols)
        parts.append(part.assign(arm=claim))
    return pd.concat(parts, ignore_index=True)[
        ["world", "arm", *[k for k in EFFECT_COLUMNS if k in parts[0]]]
    ]


def summarise_arm(effects: pd.DataFrame, arm: str) -> ArmSummary:
    """One arm's :class:`ArmSummary` from the long table."""
    rows = effects[effects["arm"].astype(str) == arm]
    if rows.empty:
        raise ValueError(f"no worlds for arm {arm!r}")
    pct = rows["pct"].to_numpy(float)
    lo = rows["pct_lo"].to_numpy(float)
    hi = rows["pct_hi"].to_numpy(float)
    p10, med, p90 = np.percentile(pct, [10, 50, 90])
    per = rows["per_1000"].to_numpy(float) if "per_1000" in rows else np.full(len(pct), np.nan)
    return ArmSummary(
        arm=arm,
        n=len(pct),
        better=int((pct > 0).sum()),
        better_ci=int((lo > 0).sum()),
        worse_ci=int((hi < 0).sum()),
        median=float(med),
        p10=float(p10),
        p90=float(p90),
        low=float(pct.min()),
        high=float(pct.max()),
        median_per_1000=float(np.median(per)),
    )


def summarise(effects: pd.DataFrame) -> dict[str, ArmSummary]:
    """Every arm's :class:`ArmSummary`, in the table's order of arms."""
    arms = pd.unique(effects["arm"].astype(str))
    return {arm: summarise_arm(effects, arm) for arm in arms}


def sentence(s: ArmSummary, change: str | None = None, outcome: str = "profit over 3 years") -> str:
    """The summary in one sentence, saying what each interval covers, e.g. "Replacing the
    rebate with thanks: profit over 3 years +2.1% in the median plausible world (middle 80%
    of worlds +0.4 to +5.0%; all worlds -0.3 to +6.2%); better in 14 of 16 worlds by the
    point estimate, and in 12 by its 95% CI over seeds within the world (worse in 1)."""
    per = ""
    if np.isfinite(s.median_per_1000):
        per = f", {s.median_per_1000:+,.0f} EUR per 1,000 customers"
    return (
        f"{change or s.arm}: {outcome} {s.median:+.1f}% in the median plausible world{per} "
        f"(middle 80% of worlds {s.p10:+.1f} to {s.p90:+.1f}%; all {s.n} worlds "
        f"{s.low:+.1f} to {s.high:+.1f}%); better in {s.better} of {s.n} worlds by the point "
        f"estimate, and in {s.better_ci} by its 95% CI over seeds within the world "
        f"(worse in {s.worse_ci}, not resolved in {s.not_resolved})."
    )


def claims_markdown(
    table: pd.DataFrame, claims: list[str], params: list[str], *, sentences: bool = True
) -> str:
    """``claims.md`` of ``scripts/across_worlds.py``: the counts per claim, one row per world
    and (with ``sentences``) each claim's across-worlds sentence."""
    lines = [
        "# Claims across the accepted worlds",
        "",
        "Written by `python scripts/across_worlds.py`. The focal firm's cumulative profit over",
        "156 weeks, as % of the baseline arm's (95% CI) and EUR per 1,000 customers, in each",
        "accepted world of the calibration; 20 paired seeds (S3/S4) and 10 (S5). A world runs",
        "with its file's exact values; the defaults are the central world at three significant",
        "digits, so its row differs slightly from `results/README.md`.",
        "",
        "| claim | holds (CI > 0) | fails (CI < 0) | not resolved | range of effects |",
        "|---|---|---|---|---|",
    ]
    for claim in claims:
        v = table[f"{claim} verdict"]
        pct = table[f"{claim} pct"]
        lines.append(
            f"| {claim} | {(v == 'holds').sum()} | {(v == 'fails').sum()} | "
            f"{(v == 'not resolved').sum()} | {pct.min():+.1f}% to {pct.max():+.1f}% |"
        )
    head = ["world", *params, *claims]
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in table.iterrows():
        name = f"`{r['world'].split('_', 2)[-1]}`" + (" (central)" if r["central"] else "")
        cells = [name, *(f"{r[p]:.3g}" for p in params)]
        for claim in claims:
            cells.append(
                f"{r[f'{claim} pct']:+.1f}% [{r[f'{claim} pct_lo']:+.1f}, "
                f"{r[f'{claim} pct_hi']:+.1f}]; {r[f'{claim} per_1000']:+,.0f} EUR/1000"
            )
        lines.append("| " + " | ".join(cells) + " |")
    if sentences:
        lines += ["", "## Across the worlds", ""]
        for s in summarise(long_effects(table, claims)).values():
            lines.append(f"- {sentence(s, outcome='cumulative profit over 156 weeks')}")
        lines += [
            "",
            "The median, middle 80% (10th to 90th percentile) and range are over the worlds'",
            "point estimates; each world's own CI is over its seeds.",
        ]
    return "\n".join(lines) + "\n"
