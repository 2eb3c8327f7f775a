"""Run the claims that ride on the calibration's open parameters in every accepted world.

    python scripts/across_worlds.py                       # every world -> results/ensemble
    python scripts/across_worlds.py --worlds <id> <id>    # some -> outputs/across_worlds
    python scripts/across_worlds.py --runs /tmp/wruns     # where the runs go (kept: a rerun
                                                          # skips finished ones)
    python scripts/across_worlds.py --calibration <dir> --work <dir> --out <dir>

For each accepted world (``results/calibration/accepted.csv``) it runs the experiments
``head_to_head`` (S3/S4: the engagement programme against none, 20 paired seeds) and
``acquisition_vs_retention`` (S5: moving acquisition budget to retention, 10 paired seeds)
with ``world=<id>``, exactly as ``experiments/run_all.py`` runs them at the defaults, and
writes ``results/ensemble/claims.csv`` and ``claims.md``: each claim's effect on the focal
firm's cumulative profit in every world, as % of the baseline and EUR per 1,000 customers
with 95% CIs, and in how many worlds the claim holds (CI above zero), fails (CI below zero)
or is not resolved, and each claim's across-worlds sentence (the median world, the middle 80%
and the range of worlds: :mod:`loyaltysim.studies.worlds`). A verdict at the defaults is the
central world's; this table says whether it is the ensemble's. A world runs with its file's
exact values, the defaults with three significant digits, so the central world's row differs
slightly from the verdicts in ``results/README.md``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

from loyaltysim.studies.worlds import claims_markdown, verdict

ROOT = Path(__file__).resolve().parents[1]
EFFECTS = {  # claim: (experiment, comparison file under its folder, arm)
    "S3/S4 engagement vs none": ("head_to_head", "comparison.csv", "engagement"),
    "S5 split budget": ("acquisition_vs_retention", "budget/comparison.csv", "split"),
    "S5 all to retention": ("acquisition_vs_retention", "budget/comparison.csv", "retain_all"),
}
PARAMS = {
    "customers.choice.engagement_weight": "engagement weight",
    "customers.choice.engagement_churn_relief": "churn relief",
    "customers.purchase_rate_mean": "purchase rate",
}


def effects(folder: Path) -> dict[str, dict[str, float]]:
    """Each claim's profit effect from one world's experiment folder."""
    out = {}
    for claim, (exp, file, arm) in EFFECTS.items():
        table = pd.read_csv(folder / exp / file)
        row = table[
            (table["arm"].astype(str) == arm) & (table["metric"] == "cumulative_profit_eur")
        ]
        r = row.iloc[0]
        out[claim] = {
            "pct": r["pct_of_baseline"],
            "pct_lo": r["pct_of_baseline_ci_low"],
            "pct_hi": r["pct_of_baseline_ci_high"],
            "per_1000": r["per_1000"],
            "per_1000_lo": r["per_1000_ci_low"],
            "per_1000_hi": r["per_1000_ci_high"],
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", nargs="*", help="world ids (default: every accepted world)")
    ap.add_argument(
        "--calibration",
        default=str(ROOT / "results" / "calibration"),
        help="the calibration folder whose accepted.csv lists the worlds",
    )
    ap.add_argument(
        "--runs",
        default=str(ROOT / "outputs" / "across_worlds" / "runs"),
        help="where the sweeps' runs go (a rerun skips finished runs)",
    )
    ap.add_argument(
        "--work",
        default=str(ROOT / "outputs" / "across_worlds" / "results"),
        help="where each world's experiment results go",
    )
    ap.add_argument(
        "--out",
        default=None,
        help="where claims.csv and claims.md go (default: results/ensemble for every "
        "accepted world, outputs/across_worlds for a subset, so that a partial table never "
        "replaces the curated one)",
    )
    args = ap.parse_args(argv)
    if args.out is None:
        args.out = str(ROOT / ("outputs/across_worlds" if args.worlds else "results/ensemble"))
    accepted = pd.read_csv(Path(args.calibration) / "accepted.csv", index_col="world")
    worlds = args.worlds or list(accepted.index)
    unknown = [w for w in worlds if w not in accepted.index]
    if unknown:
        print(f"across_worlds: not accepted worlds: {', '.join(unknown)}", file=sys.stderr)
        return 2
    rows = []
    for i, world in enumerate(worlds, 1):
        work = Path(args.work) / world
        print(f"[across worlds] {i}/{len(worlds)} {world}", flush=True)
        cmd = [
            sys.executable,
            str(ROOT / "experiments" / "run_all.py"),
            "--only",
            "head_to_head",
            "acquisition_vs_retention",
            "--set",
            f"world={world}",
            "--out",
            str(work),
            "--runs",
            str(Path(args.runs) / world),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode:
            print(done.stdout[-2000:] + done.stderr[-2000:], file=sys.stderr)
            return done.returncode
        row = {"world": world, "central": bool(accepted.at[world, "central"])}
        row |= {label: accepted.at[world, key] for key, label in PARAMS.items()}
        for claim, e in effects(work).items():
            row |= {f"{claim} {k}": v for k, v in e.items()}
            row[f"{claim} verdict"] = verdict(e["pct_lo"], e["pct_hi"])
        rows.append(row)
    table = pd.DataFrame(rows).sort_values(["central", "world"], ascending=[False, True])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "claims.csv", index=False)
    (out / "claims.md").write_text(markdown(table))
    print(f"[across worlds] wrote {out / 'claims.md'}")
    return 0


def markdown(table: pd.DataFrame) -> str:
    return claims_markdown(table, list(EFFECTS), list(PARAMS.values()))


if __name__ == "__main__":
    sys.exit(main())
