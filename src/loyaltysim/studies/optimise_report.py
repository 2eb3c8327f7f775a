"""What ``loyaltysim-optimise`` writes: every trial, the best design against the shipped
ones in every world, and the Pareto front of profit against loyalty (CSV and a figure).

The front is the non-dominated set of the evaluated trials (no other trial has at least the
profit effect and at least the loyalty effect, and more of one): the search itself is
single-objective, on the profit a firm decides by, and every trial already measured its
loyalty effect, so the front costs no further runs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..runs.io import config_dir


def world_label(world: str) -> str:
    """A world's name in column names: a world file's stem, a conf/world name as is."""
    return Path(world).stem if world.endswith((".yaml", ".yml")) else world


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def trials_frame(study, levers, worlds: Sequence[str] = ()) -> pd.DataFrame:
    """One row per completed trial: its number, lever values, expected profit effect
    (EUR), risk criterion (EUR), loyalty effect (pp) and mean effect in each world
    (``<world>_eur``, as in designs.csv)."""
    import optuna

    rows = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        row: dict[str, Any] = {"number": t.number}
        row.update({x.key: t.params[x.key] for x in levers})
        row["expected_eur"] = t.value
        row["risk_eur"] = t.user_attrs.get("risk_eur")
        row["loyal_pp"] = t.user_attrs.get("loyal_pp")
        row["runs"] = t.user_attrs.get("runs")
        for i, v in enumerate(t.user_attrs.get("by_world_eur", [])):
            row[f"{world_label(worlds[i]) if i < len(worlds) else f'world_{i}'}_eur"] = v
        rows.append(row)
    return pd.DataFrame(rows)


def pareto_front(table: pd.DataFrame, x: str = "expected_eur", y: str = "loyal_pp"):
    """The rows of ``table`` no other row dominates in (``x``, ``y``), both maximised,
    sorted by ``x`` (first of equal designs kept)."""
    pts = table[[x, y]].to_numpy(float)
    keep = []
    for i, (a, b) in enumerate(pts):
        dominated = (pts[:, 0] >= a) & (pts[:, 1] >= b) & ((pts[:, 0] > a) | (pts[:, 1] > b))
        same = (pts[:i, 0] == a) & (pts[:i, 1] == b)
        if not dominated.any() and not same.any():
            keep.append(i)
    return table.iloc[keep].sort_values(x).reset_index(drop=True)


def shipped_programmes() -> list[str]:
    """The programme types shipped in conf/programme (but none)."""
    return sorted(p.stem for p in (config_dir() / "programme").glob("*.yaml") if p.stem != "none")


def designs_table(best: dict, ev, levers, risk: str) -> pd.DataFrame:
    """The best design and each shipped programme at its defaults: expected effect, risk,
    loyalty and the mean effect in every world (EUR against no programme)."""
    rows = []
    settings = {x.key: best[x.key] for x in levers}
    named = [(f"best {ev.programme}", ev.programme, settings)]
    named += [(f"shipped {p}", p, {}) for p in shipped_programmes()]
    for name, programme, design in named:
        e = ev.evaluate(design, programme)
        row = {"design": name, "programme": programme, "settings": json.dumps(design)}
        row.update(expected_eur=e.expected(), risk_eur=e.risk(risk), loyal_pp=e.loyalty())
        row.update(
            {
                f"{world_label(w)}_eur": v
                for w, v in zip(ev.worlds, e.profit.mean(axis=1), strict=True)
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def world_columns(table: pd.DataFrame, worlds: Sequence[str]) -> list[str]:
    return [f"{world_label(w)}_eur" for w in worlds if f"{world_label(w)}_eur" in table]


def add_max_regret(trials: pd.DataFrame, designs: pd.DataFrame, worlds: Sequence[str]) -> float:
    """Add ``max_regret_eur`` to both tables: per design, the most profit (EUR) it gives up
    in any one world against the best design known in that world (every trial searched and
    every shipped design), so a design that is never far from the best wherever the world
    turns out to be scores low. Returns the best-known effect's sum over worlds (a check)."""
    cols = world_columns(trials, worlds)
    if not cols:
        return float("nan")
    best = pd.concat([trials[cols], designs[cols]]).max(axis=0)
    for t in (trials, designs):
        t["max_regret_eur"] = (best - t[cols]).max(axis=1)
    return float(best.sum())


def rounded(table: pd.DataFrame) -> pd.DataFrame:
    """Floats as a reader wants them in a CSV: EUR to the cent, pp to 4 decimals, other
    numbers (lever values) to 6 significant digits."""
    out = table.copy()
    for c in out.columns:
        if out[c].dtype.kind != "f":
            continue
        if c.endswith("_eur"):
            out[c] = out[c].round(2)
        elif c.endswith("_pp"):
            out[c] = out[c].round(4)
        else:
            out[c] = [float(f"{v:.6g}") if np.isfinite(v) else v for v in out[c]]
    return out


def plot_front(table: pd.DataFrame, front: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.scatter(table["expected_eur"], table["loyal_pp"], s=14, color="0.6", label="trials")
    ax.plot(front["expected_eur"], front["loyal_pp"], "o-", color="C0", label="Pareto front")
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel("expected profit effect vs no programme (EUR)")
    ax.set_ylabel("loyalty effect (pp of customers actively loyal)")
    ax.set_title("Designs searched: profit against loyalty")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_report(result, ev, levers, risk: str) -> None:
    """Write trials.csv, designs.csv, pareto.csv, pareto.png and summary.md into the folder;
    fills ``result.extra`` with the designs table and the front."""
    out = result.out
    table = result.trials
    designs = designs_table(result.best, ev, levers, risk)
    add_max_regret(table, designs, ev.worlds)
    rounded(table).to_csv(out / "trials.csv", index=False)
    front = pareto_front(table)
    rounded(front).to_csv(out / "pareto.csv", index=False)
    plot_front(table, front, out / "pareto.png")
    rounded(designs).to_csv(out / "designs.csv", index=False)
    result.runs = ev.runs
    result.extra.update(designs=designs, front=front)
    settings = ", ".join(f"{x.key} = {result.best[x.key]}" for x in levers)
    md = [
        f"# Best {ev.programme} design",
        "",
        f"{settings}: expected profit effect EUR {result.best['expected_eur']:,.0f} against "
        f"no programme (mean over {_n(len(ev.worlds), 'world')} of the mean over "
        f"{_n(len(ev.seeds), 'seed')}); {risk.replace('_', ' ')} of worlds EUR "
        f"{result.best['risk_eur']:,.0f}; loyalty {result.best['loyal_pp']:+.2f} pp.",
        "",
        _regret_line(table, levers, len(ev.worlds)),
        "",
        f"{len(table)} trials, {result.new_trials} new in this call; {ev.runs} markets played "
        f"in this call, the baseline and the shipped designs replayed for the table below "
        f"included ({result.seconds:.1f} s for the trials).",
        "",
        _table_text(rounded(designs)),
        "",
        f"Pareto front (profit, loyalty): {len(front)} designs, pareto.csv and pareto.png.",
    ]
    (out / "summary.md").write_text("\n".join(md) + "\n")


def _regret_line(table: pd.DataFrame, levers, worlds: int) -> str:
    """The design of least max regret: the risk criterion of a firm that fears most being
    far from the best in the world that turns out true."""
    if "max_regret_eur" not in table or table["max_regret_eur"].isna().all():
        return "Max regret: not computed (no per-world effects)."
    r = table.sort_values(["max_regret_eur", "number"]).iloc[0]
    settings = ", ".join(f"{x.key} = {r[x.key]}" for x in levers)
    return (
        f"Least max regret across {_n(worlds, 'world')}: {settings} (trial {int(r['number'])}) "
        f"gives up at most EUR {r['max_regret_eur']:,.0f} in any world against the best "
        "design known there (every trial and every shipped design; max_regret_eur in "
        "trials.csv and designs.csv)."
    )


def _table_text(table: pd.DataFrame) -> str:
    return table.to_markdown(index=False) if _has_tabulate() else table.to_string(index=False)


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


__all__ = ["designs_table", "pareto_front", "plot_front", "trials_frame", "write_report"]
