"""An answer across the ensemble of plausible worlds: every arm against the baseline in each
world (seeds paired within the world), then one sentence per arm over the worlds (better in
k of n, the median world, the middle 80% and the range), and where the answer flips (the
uncertainties that move the effect most, the region where the verdict reverses, a figure).

:func:`world_effects` builds the long table :mod:`.summary` reads; :func:`arm_sentence`
says it for a manager; :func:`flips` adds :mod:`.sensitivity`, :mod:`.discovery` and
:mod:`.figure` per arm.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ...runs.collect import Collected
from .summary import ArmSummary, sentence

# what each arm's effect in a world is, from the headline columns of one world's answer
HEAD_COLUMNS = {
    "profit_pct": "pct",
    "profit_pct_ci_low": "pct_lo",
    "profit_pct_ci_high": "pct_hi",
    "profit_per_1000_eur": "per_1000",
    "profit_per_1000_ci_low": "per_1000_lo",
    "profit_per_1000_ci_high": "per_1000_hi",
}


def world_effects(
    collected: Collected, worlds: Sequence[str], answer_one
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Each world's headline (``answer_one(collected_of_world)``: one row per arm, the
    columns of :func:`loyaltysim.studies.comparison.headline`) and the long table of
    :mod:`.summary`: ``world``, ``arm``, ``pct`` (profit effect as % of the baseline's
    profit in that world), its CI over the world's seeds, ``per_1000`` (EUR per 1,000
    customers), ``payback_week``, ``up_front`` (the arm's paired profit gain was below zero
    early on and later recovered: it costs money first) and the break-even margin."""
    heads, rows = {}, []
    first = collected.runs["week"].min() if len(collected.runs) else 0
    for world in worlds:
        summary = collected.summary[collected.summary["world"].astype(str) == world]
        runs = collected.runs[collected.runs["world"].astype(str) == world]
        if summary.empty:
            continue
        head = answer_one(Collected(runs, summary, collected.failures, ["arm"]))
        heads[world] = head
        part = head.rename(columns=HEAD_COLUMNS)
        part.insert(0, "world", world)
        week = part["payback_week"].to_numpy(float)
        part["up_front"] = np.isfinite(week) & (week > first)
        rows.append(part)
    if not rows:
        return pd.DataFrame(columns=["world", "arm", *HEAD_COLUMNS.values()]), heads
    return pd.concat(rows, ignore_index=True), heads


@dataclass(frozen=True)
class Extras:
    """What an arm's sentence adds to :func:`.summary.sentence`: the median world's
    break-even margin and, for an arm that costs money up front, its payback week."""

    break_even: str = ""
    payback: str = ""


def extras(effects: pd.DataFrame, arm: str, weeks: int) -> Extras:
    """The break-even gross margin in the median world (and the worlds' middle 80%) and
    the payback week, said only where the arm costs money up front in most worlds."""
    rows = effects[effects["arm"].astype(str) == arm]
    be = rows.get("break_even_margin_pct", pd.Series(dtype=float)).to_numpy(float)
    be = be[np.isfinite(be)]
    text = ""
    if len(be) and len(be) * 2 >= len(rows):
        p10, med, p90 = np.percentile(be, [10, 50, 90])
        margin = rows["margin_pct"].to_numpy(float)
        at = (
            f" (the runs' margin is {np.nanmedian(margin):.0f}%)"
            if np.isfinite(margin).any()
            else ""
        )
        above = rows.get("pays_above_break_even", pd.Series(dtype=object)).dropna()
        side = ""
        if len(above) and above.astype(bool).all():
            side = ": pays at margins above it"
        elif len(above) and not above.astype(bool).any():
            side = ": pays at margins below it"
        text = (
            f"break-even gross margin {med:.0f}% in the median world (middle 80% of worlds "
            f"{p10:.0f} to {p90:.0f}%){side}{at}"
        )
    pay = ""
    up = rows["up_front"].to_numpy(bool) if "up_front" in rows else np.zeros(len(rows), bool)
    if up.sum() * 2 > len(rows):
        week = np.where(up, rows["payback_week"].to_numpy(float), np.inf)
        med = float(np.median(np.where(np.isfinite(week), week, np.inf)))
        never = int((~np.isfinite(rows["payback_week"].to_numpy(float))).sum())
        pay = (
            f"costs money up front in {int(up.sum())} of {len(rows)} worlds; pays back in "
            f"week {med:.0f} in the median world"
            if np.isfinite(med)
            else f"costs money up front and does not pay back within {weeks} weeks in the "
            "median world"
        ) + (f" (never within the horizon in {never})" if never and np.isfinite(med) else "")
    return Extras(text, pay)


def horizon_words(weeks: int) -> str:
    """ "3 years" for 156 weeks, "1 year" for 52, "60 weeks" otherwise."""
    if weeks % 52 == 0 and weeks >= 52:
        return "1 year" if weeks == 52 else f"{weeks // 52} years"
    return f"{weeks} weeks"


def arm_sentence(s: ArmSummary, title: str, ex: Extras, weeks: int) -> str:
    """One arm across the worlds, e.g. "Withdrawing the rebate at week 78: profit over 3
    years +2.1% in the median plausible world (...); better in 14 of 16 worlds ...;
    break-even gross margin 21% in the median world"."""
    if s.low == 0 == s.high:
        return f"{title}: no difference from the baseline in any of the {s.n} worlds."
    text = sentence(s, title, outcome=f"profit over {horizon_words(weeks)}").rstrip(".")
    for part in (ex.break_even, ex.payback):
        text += f"; {part}" if part else ""
    return text + "."


def scope_words(
    n_worlds: int,
    seeds: int,
    customers: int,
    weeks: int,
    margin: float,
    quick: bool,
    total_worlds: int,
) -> list[str]:
    """What the sentences cover: the worlds (the outer level), the seeds within a world,
    the horizon, the market size and the margin; a quick answer says it is quick."""
    lines = [
        f"The median, the middle 80% (10th to 90th percentile) and the range are over the "
        f"{n_worlds} plausible worlds (the accepted worlds of the calibration: what the data "
        f"cannot tell apart); each world's own 95% CI is over its {seeds} seeds, paired "
        "across the arms (common random numbers).",
        f"Horizon {weeks} weeks"
        + (f" ({horizon_words(weeks)})" if horizon_words(weeks) != f"{weeks} weeks" else "")
        + f", a market of {customers:,} customers"
        + (f", a {margin:.0f}% gross margin." if np.isfinite(margin) else "."),
    ]
    if quick:
        lines.append(
            f"Quick answer: {n_worlds} of {total_worlds} worlds and {seeds} seeds each; run "
            "without quick= for the full ensemble."
        )
    return lines


def flips(
    effects: pd.DataFrame,
    values: pd.DataFrame,
    arms: Mapping[str, str],
    dest: Path,
    top: int = 3,
    box: tuple[Mapping[str, tuple[float, float]], str] | None = None,
) -> tuple[list[str], list[Path]]:
    """Per arm: the uncertainties that move its effect most (total Sobol index on a
    quadratic emulator fitted to the worlds, over ``box``: the bounds and what they are,
    by default the box the accepted worlds span), the
    box where the verdict reverses (PRIM on the emulator's dense sample) and the figure of
    the effect in each world against the two most influential uncertainties (the flip
    boundary, the emulator's zero contour, drawn). Returns Markdown lines and figures."""
    from .discovery import reversal_box
    from .figure import worlds_figure
    from .sensitivity import emulated_points, fit_emulator, sobol_indices

    lines: list[str] = []
    figures: list[Path] = []
    names = list(values.columns)
    for arm, title in arms.items():
        rows = effects[effects["arm"].astype(str) == arm].set_index("world")
        table = values.join(rows["pct"], how="inner").reset_index()
        lines += ["", f"### {title}", ""]
        if len(table) < 2 or not names:
            lines.append(
                f"Too few worlds ({len(table)}) to say which uncertainties move the effect."
            )
            continue
        if np.ptp(table["pct"].to_numpy(float)) < 1e-9:
            lines.append(
                f"The effect is {table['pct'].iloc[0]:+.1f}% in every world: no uncertainty "
                "moves it, and it cannot flip."
            )
            continue
        bounds, where = box or (None, "the box the worlds span")
        emu = fit_emulator(table, names, "pct", bounds=bounds)
        with warnings.catch_warnings():  # SALib divides by a zero spread of a flat emulator
            warnings.simplefilter("ignore", RuntimeWarning)
            sob = sobol_indices(emu, n=256)
        ranked = ", ".join(
            f"{k} (total Sobol index {r.ST:.2f})" for k, r in sob.head(top).iterrows()
        )
        lines.append(
            f"Moves the effect most: {ranked}; on a quadratic emulator of the {len(table)} "
            f"worlds over {where} (its residual spread {emu.rmse:.2f} points of %)."
        )
        sample = emulated_points(emu, "pct")
        flip = (sample["pct"] < 0).any() and (sample["pct"] > 0).any()
        found = None  # not `box`: that is the bounds every arm is read over
        if flip:
            found = reversal_box(sample, names, "pct")
            lines.append(
                "Where it flips: "
                + found.describe("the effect is below zero", "emulated worlds")
                + "."
            )
        else:
            sign = "better" if sample["pct"].min() > 0 else "worse"
            lines.append(f"Where it flips: nowhere in the box; {sign} in every emulated world.")
        axes = (sob.index[0], sob.index[1] if len(sob) > 1 else sob.index[0])
        fig = worlds_figure(
            table,
            "pct",
            axes,
            dest / f"flip_{arm}.png",
            found,
            emu,
            title=f"{title}: profit effect (%) in each world",
        )
        figures.append(fig)
        lines.append(f"![{title}: where the answer flips]({fig.name})")
    return lines, figures
