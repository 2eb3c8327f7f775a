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
or is not resolved. A verdict at the defaults is the central world's; this table says
whether it is the ensemble's. A world runs with its file's exact values, the defaults with
three significant digits, so the central world's row differs slightly from the verdicts
in ``results/README.md``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

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


def verdict(lo: float, hi: float) -> str:
    return "holds" if lo > 0 else "fails" if hi < 0 else "not resolved"


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
    for claim in EFFECTS:
        v = table[f"{claim} verdict"]
        pct = table[f"{claim} pct"]
        lines.append(
            f"| {claim} | {(v == 'holds').sum()} | {(v == 'fails').sum()} | "
            f"{(v == 'not resolved').sum()} | {pct.min():+.1f}% to {pct.max():+.1f}% |"
        )
    head = ["world", *PARAMS.values(), *EFFECTS]
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in table.iterrows():
        name = f"`{r['world'].split('_', 2)[-1]}`" + (" (central)" if r["central"] else "")
        cells = [name, *(f"{r[p]:.3g}" for p in PARAMS.values())]
        for claim in EFFECTS:
            cells.append(
                f"{r[f'{claim} pct']:+.1f}% [{r[f'{claim} pct_lo']:+.1f}, "
                f"{r[f'{claim} pct_hi']:+.1f}]; {r[f'{claim} per_1000']:+,.0f} EUR/1000"
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
