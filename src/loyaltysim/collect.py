"""Collect a sweep folder into one tidy table, a per-run summary and a list of failures.

    loyaltysim-collect outputs/multirun/2026-11-23/10-00-00
    -> <sweep>/collected/runs.parquet     one row per (run, step, firm): run_id, the
                                          overrides as columns, seed, step, week, firm, metrics
       <sweep>/collected/summary.csv      one row per (run, firm): headline outcomes
       <sweep>/collected/failures.csv     runs that failed, with their error

All three read straight into pandas (``pd.read_parquet``, ``pd.read_csv``).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from .api import summarise
from .sweep import DONE, ERROR


@dataclass
class Collected:
    runs: pd.DataFrame
    summary: pd.DataFrame
    failures: pd.DataFrame
    factors: list[str]  # override keys that vary across the runs (the sweep's factors)


def _key(override: str) -> tuple[str, str]:
    key, _, value = override.lstrip("+~").partition("=")
    return key, value


def _value(text: str):
    """Override values as YAML scalars: '0.05' -> 0.05, 'null' -> None, 'none' -> 'none'."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, str, bool)) or value is None else text


def run_dirs(sweep_dir: Path) -> list[Path]:
    """Run folders of a sweep: those holding a done or an error marker."""
    return sorted(
        p for p in Path(sweep_dir).iterdir() if (p / DONE).is_file() or (p / ERROR).is_file()
    )


def collect(sweep_dir: str | Path, write: bool = True) -> Collected:
    """Read every finished run of a sweep; optionally write ``<sweep>/collected/``."""
    sweep_dir = Path(sweep_dir)
    tables, summaries, failures, overrides = [], [], [], {}
    for run in run_dirs(sweep_dir):
        if (run / ERROR).is_file() and not (run / DONE).is_file():
            err = json.loads((run / ERROR).read_text())
            failures.append(
                {
                    "run_id": run.name,
                    "error": err["error"],
                    "message": err["message"],
                    "overrides": " ".join(err["overrides"]),
                }
            )
            continue
        done = json.loads((run / DONE).read_text())
        ov = dict(_key(o) for o in done["overrides"])
        overrides[run.name] = ov
        seed = yaml.safe_load((run / "config.yaml").read_text())["seed"]
        metrics = pd.read_csv(run / "metrics.csv")
        summary = summarise(metrics)
        for frame in (metrics, summary):
            frame.insert(0, "seed", seed)
            frame.insert(0, "run_id", run.name)
        tables.append(metrics)
        summaries.append(summary)
    if not tables:
        raise FileNotFoundError(f"no finished runs in {sweep_dir}")
    keys = sorted({k for ov in overrides.values() for k in ov} - {"seed"})
    factors = [k for k in keys if len({ov.get(k) for ov in overrides.values()}) > 1]
    runs = pd.concat(tables, ignore_index=True)
    summary = pd.concat(summaries, ignore_index=True)
    for frame in (runs, summary):
        for i, key in enumerate(keys):
            # object dtype: a column mixing null and 78 must not turn into floats and NaN
            values = [_value(overrides[r].get(key, "")) for r in frame["run_id"]]
            frame.insert(2 + i, key, pd.Series(values, index=frame.index, dtype=object))
    failures_df = pd.DataFrame(failures, columns=["run_id", "error", "message", "overrides"])
    result = Collected(runs, summary, failures_df, factors)
    if write:
        out = sweep_dir / "collected"
        out.mkdir(exist_ok=True)
        runs.to_parquet(out / "runs.parquet", index=False)
        summary.to_csv(out / "summary.csv", index=False)
        failures_df.to_csv(out / "failures.csv", index=False)
        (out / "factors.json").write_text(json.dumps(factors) + "\n")
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Collect a loyaltysim sweep folder into tidy tables.")
    ap.add_argument("sweep_dir", type=Path)
    args = ap.parse_args(argv)
    res = collect(args.sweep_dir)
    n_runs = res.runs["run_id"].nunique()
    print(f"collected {n_runs} runs ({len(res.failures)} failed) from {args.sweep_dir}")
    print(f"factors: {', '.join(res.factors) or '(none besides seed)'}")
    print(f"tables in {args.sweep_dir / 'collected'}: runs.parquet, summary.csv, failures.csv")


if __name__ == "__main__":
    main()
