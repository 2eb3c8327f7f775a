"""``loyaltysim-ask``'s answer across the plausible worlds (its default): every arm against
the baseline in each world, one sentence per arm over the worlds, where the answer flips,
written as ``answer.md``, ``answer.csv`` (one row per arm), ``worlds.csv`` (one row per world
and arm) and ``report.html`` under ``<out>/answer``."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..runs.collect import Collected, UsageError, collect
from . import formatting as fmt
from .comparison import compare, headline
from .scenario import Scenario
from .worlds.answer import arm_sentence, extras, flips, scope_words, world_effects
from .worlds.ensemble import not_ruled_out_box, world_values
from .worlds.summary import summarise


def answer_worlds(
    scn: Scenario,
    out: Path,
    job_names: dict[str, list[str]],
    cfg,
    worlds: Sequence[str],
    quick: bool = False,
    total_worlds: int | None = None,
) -> tuple[list[str], list[str], pd.DataFrame, Path]:
    """Compare the arms with the baseline in each world, summarise over the worlds and
    write ``out/answer``; returns the sentences, the notes on what they cover, the per-arm
    table and the answer's folder."""
    customers, weeks = int(cfg.customers.n), int(cfg.market.horizon_weeks)
    col = combine(collect(out / "runs"), job_names)
    if "world" not in col.summary:
        raise UsageError("no run of the ensemble finished; see the logs in " + str(out / "logs"))

    def one(c: Collected) -> pd.DataFrame:
        cmp = compare(c, ["arm"], scn.baseline, scn.firm, 104)
        return headline(c, cmp, c.summary["arm"], customers)

    effects, _ = world_effects(col, worlds, one)
    if effects.empty:
        raise UsageError("no world has finished runs of every arm; see the logs")
    titles = {a.name: a.title for a in scn.arms if a.name != scn.baseline}
    summaries = summarise(effects)
    sentences, rows = [], []
    for arm, title in titles.items():
        if arm not in summaries:
            continue
        s = summaries[arm]
        ex = extras(effects, arm, weeks)
        sentences.append(arm_sentence(s, title, ex, weeks))
        rows.append(
            {
                "arm": arm,
                "worlds": s.n,
                "better_worlds": s.better,
                "better_worlds_ci": s.better_ci,
                "worse_worlds_ci": s.worse_ci,
                "median_pct": s.median,
                "p10_pct": s.p10,
                "p90_pct": s.p90,
                "low_pct": s.low,
                "high_pct": s.high,
                "median_per_1000_eur": s.median_per_1000,
                "break_even": ex.break_even,
                "payback": ex.payback,
            }
        )
    seeds = int(effects["seeds"].min())
    margin = float(np.nanmedian(effects["margin_pct"].to_numpy(float)))
    n = effects["world"].nunique()
    base = next(a.title for a in scn.arms if a.name == scn.baseline)
    against = f"Each arm against the baseline, {fmt.lowered(base)}, in each plausible world:"
    notes = scope_words(n, seeds, customers, weeks, margin, quick, total_worlds or n)
    dest = out / "answer"
    dest.mkdir(parents=True, exist_ok=True)
    head = pd.DataFrame(rows)
    head.to_csv(dest / "answer.csv", index=False)
    effects.to_csv(dest / "worlds.csv", index=False)
    values = world_values(list(effects["world"].unique()))
    flip_lines, figures = flips(effects, values, titles, dest, box=not_ruled_out_box(values))
    firm = fmt.firm_name(scn.firm, scn.firm_names)
    md = [f"# {scn.question}", "", f"Firm: **{firm}**; {customers:,} customers.", ""]
    md += [against, ""] + [f"- {s}" for s in sentences] + [""] + notes
    md += ["", "## Where the answer flips", "", FLIP_NOTE, *flip_lines]
    md += ["", "## Each world", "", markdown_table(_world_table(effects, titles))]
    (dest / "answer.md").write_text("\n".join(md) + "\n")
    write_worlds_html(
        dest / "report.html",
        scn.question,
        firm,
        [against, *sentences],
        notes,
        flip_lines,
        figures,
        _world_table(effects, titles),
    )
    return sentences, [against, *notes], head, dest


def combine(collected: Collected, job_names: dict[str, list[str]]) -> Collected:
    """The collected runs with an ``arm`` column, one copy of a run per arm that ran it."""
    frames = {"runs": [], "summary": []}
    for arm, names in job_names.items():
        for key in frames:
            table = getattr(collected, key)
            sub = table[table["run_id"].isin(names)].copy() if len(table) else table
            sub.insert(2, "arm", arm)
            frames[key].append(sub)
    runs = pd.concat(frames["runs"], ignore_index=True)
    summary = pd.concat(frames["summary"], ignore_index=True)
    if summary.empty:
        raise UsageError("no run finished; see the logs and error.json in the run folders")
    return Collected(runs, summary, collected.failures, ["arm"])


FLIP_NOTE = (
    "Which uncertainties move each effect most: total Sobol indices (SALib) on a quadratic "
    "emulator fitted to the effect in the worlds, over the not-ruled-out space of the "
    "calibration (the box of its candidates within the cutoff: the emulator extrapolates "
    "beyond the accepted worlds there); "
    "where the verdict reverses: the PRIM box (ema_workbench) of the emulated worlds whose "
    "effect is below zero. The figure shows the effect in each world (green better, red "
    "worse) against the two most influential uncertainties, the emulator's zero contour "
    "(the flip boundary, the others at their midpoints) and the box (dashed). With few "
    "worlds the emulator is a sketch, not a finding."
)


def markdown_table(table: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (no optional dependency)."""
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * table.shape[1]]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in table.itertuples(index=False)]
    return "\n".join(lines)


def _world_table(effects: pd.DataFrame, titles: dict[str, str]) -> pd.DataFrame:
    t = effects[effects["arm"].isin(list(titles))]
    return pd.DataFrame(
        {
            "world": t["world"].astype(str).str.replace("literature_", "", regex=False),
            "arm": [titles[a] for a in t["arm"]],
            "profit vs baseline, % (95% CI over seeds)": [
                f"{fmt.number(p, 1, True)}% ({fmt.ci(lo, hi, '%')})"
                for p, lo, hi in zip(t["pct"], t["pct_lo"], t["pct_hi"], strict=True)
            ],
            "per 1,000 customers": [fmt.money(v, True) for v in t["per_1000"]],
            "seeds better": [
                f"{b} of {s}" for b, s in zip(t["better_seeds"], t["seeds"], strict=True)
            ],
        }
    )


def write_worlds_html(
    path: Path,
    title: str,
    firm: str,
    sentences: Sequence[str],
    notes: Sequence[str],
    flip_lines: Sequence[str],
    figures: Sequence[Path],
    table: pd.DataFrame,
) -> Path:
    """The ensemble answer as one self-contained HTML file (figures embedded)."""
    from .report import _STYLE, _img, _table

    esc = html.escape
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p class=note>Firm: <b>{esc(firm)}</b>.</p>",
        f"<h2>The answer across the plausible worlds</h2><p>{esc(sentences[0])}</p>",
        "<ul class=answer>" + "".join(f"<li>{esc(s)}</li>" for s in sentences[1:]) + "</ul>",
        *(f"<p class=note>{esc(n)}</p>" for n in notes),
        f"<h2>Where the answer flips</h2><p class=note>{esc(FLIP_NOTE)}</p>",
    ]
    figs = {Path(f).name: f for f in figures}
    for line in flip_lines:
        if line.startswith("### "):
            parts.append(f"<h3>{esc(line[4:])}</h3>")
        elif line.startswith("!["):
            name = line[line.index("](") + 2 : -1]
            parts.append(_img(figs[name]) if name in figs else "")
        elif line:
            parts.append(f"<p>{esc(line)}</p>")
    rows = [(False, list(r)) for r in table.itertuples(index=False)]
    parts += ["<h2>Each world</h2>", _table(list(table.columns), rows), "</body></html>"]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
