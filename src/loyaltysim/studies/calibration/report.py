"""What a calibration writes to its folder (``results/calibration/`` for ``literature``):

- ``candidates.csv``: every candidate world (parameters, statistics, targets met,
  distance, accepted); ``accepted.csv``: the ensemble, one row per accepted world, nearest
  to the targets first, with the most central one flagged;
- ``targets.csv`` and ``targets.png``: each target's statistic over all candidates and over
  the accepted ones, against the target; ``parameters.csv``: what the targets pin down;
- ``pairs.png``: pairwise plots of the parameters (accepted worlds in colour);
- ``central.yaml``: the most central world's overrides, ready to paste as defaults;
- ``summary.json`` and ``README.md``: acceptance rate, cost, what is pinned and what is open,
  and how the ensemble depends on the confirmation rule (``rules``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import accept
from .readme import readme, shown
from .sample import nested, world_yaml
from .targets import Calibration


def _figure(size: tuple[float, float]):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=size, dpi=80, layout="constrained")


def targets_figure(cal: Calibration, cands: pd.DataFrame, path: Path) -> None:
    k = len(cal.targets)
    cols = min(3, k)
    rows = math.ceil(k / cols)
    fig = _figure((4.2 * cols, 2.8 * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    acc = cands["accepted"]
    for ax, t in zip(axes, cal.targets, strict=False):
        x = cands[t.statistic].astype(float)
        finite = x[np.isfinite(x)]
        bins = np.histogram_bin_edges(finite, bins=20) if finite.size else 10
        ax.hist(finite, bins=bins, color="0.75", label="all candidates")
        if acc.any():
            ax.hist(x[acc][np.isfinite(x[acc])], bins=bins, color="C0", label="accepted")
        lo, hi = t.bounds
        ax.axvspan(lo, hi, color="g", alpha=0.15, label="target +- tolerance")
        if finite.size:  # the data, and the band only as far as it is near them
            x0, x1 = float(finite.min()), float(finite.max())
            pad = 0.5 * (x1 - x0) or 1.0
            ax.set_xlim(
                min(x0, max(lo, x0 - pad)) - 0.05 * pad, max(x1, min(hi, x1 + pad)) + 0.05 * pad
            )
        ax.set(title=t.name, xlabel=t.statistic)
        ax.title.set_fontsize(9)
        ax.xaxis.label.set_fontsize(8)
    for ax in axes[k:]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7)
    fig.savefig(path)


def pairs_figure(cal: Calibration, cands: pd.DataFrame, central: str | None, path: Path) -> None:
    keys = [p.key for p in cal.parameters]
    d = len(keys)
    cell = min(1.9, 18 / max(d, 1))  # 22 uncertainties at 1.9 in a cell made a 4 MB image
    fig = _figure((cell * d + 1, cell * d + 1))
    axes = np.array(fig.subplots(d, d, squeeze=False))
    acc = cands[cands["accepted"]]
    for i, yk in enumerate(keys):
        for j, xk in enumerate(keys):
            ax = axes[i, j]
            if i == j:
                ax.hist(cands[xk], bins=15, color="0.8")
                if len(acc):
                    ax.hist(acc[xk], bins=15, color="C0")
            else:
                ax.scatter(cands[xk], cands[yk], s=4, color="0.8")
                ax.scatter(acc[xk], acc[yk], s=8, color="C0")
                if central is not None:
                    ax.scatter(
                        cands.at[central, xk], cands.at[central, yk], s=40, marker="*", color="C3"
                    )
            ax.tick_params(labelsize=6)
            if i == d - 1:
                ax.set_xlabel(xk.split(".")[-1], fontsize=7)
            if j == 0:
                ax.set_ylabel(yk.split(".")[-1], fontsize=7)
    fig.suptitle(f"{cal.name}: accepted worlds (blue), central (star), all candidates (grey)")
    fig.savefig(path)


def central_yaml(cal: Calibration, cands: pd.DataFrame, world: str) -> str:
    values = {p.key: _py(cands.at[world, p.key]) for p in cal.parameters}
    return world_yaml(world, values, f" (most central accepted world of {cal.name})")


def overrides_of(cal: Calibration, cands: pd.DataFrame, world: str) -> list[str]:
    return [f"{p.key}={_py(cands.at[world, p.key])}" for p in cal.parameters]


def _py(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def write(cal: Calibration, cands: pd.DataFrame, meta: dict[str, Any]) -> dict[str, Any]:
    """Write the folder; returns the summary (also in ``summary.json``)."""
    out = cal.out
    out.mkdir(parents=True, exist_ok=True)
    central = accept.central(cal, cands)
    best = accept.best_fit(cands)
    cands = cands.copy()
    cands["central"] = cands.index == central
    cands.to_csv(out / "candidates.csv")
    acc = cands[cands["accepted"]].sort_values("distance")
    acc.to_csv(out / "accepted.csv")
    bind = accept.binding(cal, cands)
    bind.to_csv(out / "targets.csv", index=False)
    pins = accept.pinned(cal, cands)
    pins.to_csv(out / "parameters.csv", index=False)
    targets_figure(cal, cands, out / "targets.png")
    pairs_figure(cal, cands, central, out / "pairs.png")
    if central is not None:
        (out / "central.yaml").write_text(central_yaml(cal, cands, central))
    elif (out / "central.yaml").exists():
        (out / "central.yaml").unlink()
    measured = int((cands["status"] == "measured").sum())
    closest, misses, worst = None, [], None
    if measured:  # history matching's least implausible world: what an empty ensemble nears
        closest = str(cands.loc[cands["status"] == "measured", "implausibility"].idxmin())
        worst = float(cands.at[closest, "implausibility"])
        misses = [
            t.name for t in cal.targets if t.enforce and not cands.at[closest, f"meets_{t.name}"]
        ]
        values = {p.key: _py(cands.at[closest, p.key]) for p in cal.parameters}
        note = f" (least implausible world of {cal.name}: {worst:.2f}; misses {misses or 'none'})"
        search = shown(str((out / "candidates").resolve()))  # the candidates' group is there
        text = world_yaml(closest, values, note).replace(
            f"#   loyaltysim world={closest}",
            f"#   loyaltysim hydra.searchpath=[file://{search}] world={closest}",
        )
        (out / "closest.yaml").write_text(text)
    summary = {
        "calibration": cal.name,
        "file": shown(cal.source_file),
        "candidates": len(cands),
        "measured": measured,
        "failed": int(len(cands) - measured),
        "accepted": len(acc),
        "acceptance_rate": len(acc) / len(cands) if len(cands) else 0.0,
        "central": central,
        "central_overrides": overrides_of(cal, cands, central) if central else [],
        "best_fit": best,
        "closest": closest,
        "closest_implausibility": worst,
        "closest_misses": misses,
        "closest_overrides": overrides_of(cal, cands, closest) if closest else [],
        "replications": cal.replications,
        "confirm_replications": cal.confirm_replications if cal.confirms else None,
        "confirm_cutoff": cal.confirm_cutoff if cal.confirms else None,
        "confirm_rule": cal.confirm_rule if cal.confirms else None,
        "confirm_z": cal.confirm_z if cal.confirms and cal.confirm_rule == "noise" else None,
        "screen_accepted": int(cands["screen_accepted"].sum()) if cal.confirms else None,
        "confirmed_screen_rejects": (
            int((cands["accepted"] & ~cands["screen_accepted"]).sum()) if cal.confirms else None
        ),
        "customers": cal.customers,
        "weeks": cal.weeks,
        **meta,
    }
    summary.update(_cost(out, summary))
    if cal.confirms and "screen_implausibility" in cands:  # how the verdicts hang on the rule
        table = accept.rules(cal, cands, int(meta.get("arms", 1)), meta.get("pooled_se") or {})
        summary["rules"] = json.loads(table.to_json(orient="records"))  # None, not NaN
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (out / "README.md").write_text(readme(cal, summary, bind, pins, cands))
    return summary


def _cost(out: Path, s: dict[str, Any]) -> dict[str, Any]:
    """Append this call's cost to ``cost.csv``; totals over the calls that ran something
    with the current run code (``code``: runs of other code are stale, the sweeps redo
    them, so their cost is history, not part of these results)."""
    from ...runs.runrecord import code_hash

    path = out / "cost.csv"
    code = code_hash()
    row = pd.DataFrame([{**{k: s.get(k) for k in COST}, "code": code}])
    if s.get("new_runs"):
        old = pd.read_csv(path, dtype={"code": str}) if path.is_file() else None
        row = row if old is None else pd.concat([old, row], ignore_index=True)
        row.to_csv(path, index=False)
    elif path.is_file():
        row = pd.read_csv(path, dtype={"code": str})  # a hex hash may look like a number
    else:
        return {"total_runs_made": 0, "total_run_minutes": 0.0}
    row = row[row["code"] == code] if "code" in row else row[:0]
    runs, secs = int(row["new_runs"].sum()), float(row["run_seconds"].sum())
    return {
        "total_runs_made": runs,
        "total_run_minutes": round(secs / 60, 1),
        "seconds_per_run": round(secs / runs, 2) if runs else None,
    }


COST = ("candidates", "runs", "new_runs", "run_seconds", "measure_seconds", "hydra_args")


__all__ = ["write", "central_yaml", "overrides_of", "nested"]
