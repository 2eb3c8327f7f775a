"""Experiment 2, ``withdrawal``: the programme withdrawn part-way vs kept (S1).

Factors: ``firm/programme`` (each programme type is analysed on its own) and
``firm.programme.end_week``. The baseline is the level whose end week is null (the
programme is kept); the treatment is the other level, the week the programme ends (read
from the sweep, so the sentences name the week the runs used). Paired by seed, for the
focal firm: repeat-purchase rate in the last 13 weeks (pp), churn to competitors over the
run (pp per customer-year), cumulative profit (EUR).

- **S1** (when the discounts end, the loyalty ends): for the ``discount`` programme, the
  repeat rate is expected to fall after withdrawal.
- Any other programme type (``engagement`` in the experiment) is reported as a contrast.
"""

from __future__ import annotations

from pathlib import Path

from ...runs.collect import Collected
from ..compare import compare
from .common import (
    AnalysisError,
    diff,
    fmt_diff,
    levels,
    margin_note,
    require_factor,
    save,
    subset,
    verdict,
)

NUMBER = 2
TITLE = "Programme withdrawal (S1)"
PROGRAMME = "firm/programme"
END_WEEK = "firm.programme.end_week"


def kept_and_withdrawn(
    collected: Collected, sweep_dir: Path | None = None
) -> tuple[object, object]:
    """(baseline, treatment) levels of the end week: null (kept) and the withdrawal week."""
    require_factor(collected, END_WEEK, "withdrawal")
    weeks = levels(collected, END_WEEK, sweep_dir)
    kept = [w for w in weeks if w is None]
    ends = [w for w in weeks if w is not None]
    if len(kept) != 1 or len(ends) != 1:
        raise AnalysisError(
            f"withdrawal: expected {END_WEEK} to take null (kept) and one end week, got {weeks}"
        )
    return kept[0], ends[0]


def analyse(collected: Collected, out_dir: Path, sweep_dir: Path) -> list[str]:
    require_factor(collected, PROGRAMME, "withdrawal")
    kept, week = kept_and_withdrawn(collected, sweep_dir)
    lines = []
    for prog in levels(collected, PROGRAMME, sweep_dir):
        sub = subset(collected, **{PROGRAMME: prog})
        cmp = compare(sub, baseline=str(kept))
        save(sub, cmp, out_dir / str(prog))
        rep = diff(cmp, week, "repeat_rate_pct")
        churn = diff(cmp, week, "churn_to_competitor_per_year_pct")
        profit = diff(cmp, week, "cumulative_profit_eur")
        claim = (
            "**S1** (when the discounts end, the loyalty ends)"
            if prog == "discount"
            else f"Contrast, {prog} programme"
        )
        lines.append(
            f"- {claim}: {prog} programme withdrawn at week {week} vs kept; repeat-purchase rate "
            f"in the last 13 weeks {fmt_diff(rep, 'pp', 2)}; churn to competitors over the "
            f"run {fmt_diff(churn, 'pp/year', 2)}; cumulative profit {fmt_diff(profit, 'EUR', 0)}"
            f"{margin_note(cmp, week)}."
            + (f" Repeat rate falls: {verdict(rep, -1)}." if prog == "discount" else "")
        )
    return lines
