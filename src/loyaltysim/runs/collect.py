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
import functools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import runrecord
from .runner import summarise
from .runrecord import DONE, ERROR


@dataclass
class Collected:
    runs: pd.DataFrame
    summary: pd.DataFrame
    failures: pd.DataFrame
    factors: list[str]  # override keys that vary across the runs (the sweep's factors)


def _key(override: str) -> tuple[str, str]:
    key, _, value = override.lstrip("+~").partition("=")
    return key, value


@functools.lru_cache(maxsize=4096)
def _value(text: str):
    """Override values as YAML scalars: '0.05' -> 0.05, 'null' -> None, 'none' -> 'none'."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, str, bool)) or value is None else text


# libyaml's safe loader where PyYAML was built with it: the same values, about ten times
# faster on a run's config.yaml (a fifth of collecting a few hundred runs)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UsageError(ValueError):
    """A mistake in how collect or compare was called (exit status 2 on the command line)."""


_NOT_RUNS = {"collected", "comparison", runrecord.SUPERSEDED, runrecord.LOCKS}


def run_dirs(sweep_dir: Path) -> list[Path]:
    """Run folders of a sweep: those holding a marker, a run's files or Hydra's record."""
    return sorted(
        p
        for p in Path(sweep_dir).iterdir()
        if p.is_dir()
        and p.name not in _NOT_RUNS
        and ((p / DONE).exists() or (p / ERROR).exists() or (p / ".hydra").is_dir())
    )


def _failure(run: Path, error: str, message: str, overrides: str = "") -> dict[str, str]:
    return {"run_id": run.name, "error": error, "message": message, "overrides": overrides}


def _read_error(run: Path) -> dict[str, str]:
    try:
        err = json.loads((run / ERROR).read_text())
        return _failure(run, err["error"], err["message"], " ".join(err["overrides"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return _failure(run, "CorruptRun", f"{ERROR} unreadable: {type(exc).__name__}: {exc}")


def collect(sweep_dir: str | Path, write: bool = True, verify: bool = True) -> Collected:
    """Read every finished run of a sweep; optionally write ``<sweep>/collected/``.

    Each finished run is checked against its record (``done.json``: file sizes and
    checksums, steps x firms rows); a run that fails the check, or has no marker, is listed
    in ``failures`` (error ``CorruptRun`` or ``IncompleteRun``) instead of being collected.
    Re-running the sweep reruns those. With no finished run at all the tables are empty and
    ``failures.csv`` is still written; a folder with no run folder at all (empty, or not a
    sweep) is a :class:`UsageError`.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise UsageError(f"no such sweep folder: {sweep_dir}")
    runs_found = run_dirs(sweep_dir)
    if not runs_found:
        # an empty folder, or one that is no sweep: nothing to collect, and no collected/
        # written into it (compare refuses it too)
        raise UsageError(
            f"{sweep_dir} holds no run folders (no done.json, error.json or .hydra/ in any "
            "subfolder); allowed: a sweep folder written by loyaltysim -m"
        )
    tables, summaries, failures, overrides = [], [], [], {}
    for run in runs_found:
        if not (run / DONE).exists():
            if (run / ERROR).exists():
                failures.append(_read_error(run))
            else:
                failures.append(_failure(run, "IncompleteRun", "no done.json or error.json"))
            continue
        problem = runrecord.verify(run, deep=verify)
        if problem is None:
            try:
                done = runrecord.read_done(run)
                ov = dict(_key(o) for o in done["overrides"])
                config = yaml.load((run / "config.yaml").read_text(), Loader=_LOADER)
                seed = config["seed"]
                metrics = pd.read_csv(run / "metrics.csv")
                summary = summarise(metrics)
                # the market's size, for effects per 1,000 customers
                summary["market_customers"] = config["customers"]["n"]
            except Exception as exc:  # whatever is wrong, name the run and go on
                problem = f"unreadable: {type(exc).__name__}: {exc}"
        if problem is not None:
            failures.append(_failure(run, "CorruptRun", problem))
            continue
        overrides[run.name] = ov
        for frame in (metrics, summary):
            frame.insert(0, "seed", seed)
            frame.insert(0, "run_id", run.name)
        tables.append(metrics)
        summaries.append(summary)
    keys = sorted({k for ov in overrides.values() for k in ov} - {"seed"})
    factors = [k for k in keys if len({ov.get(k) for ov in overrides.values()}) > 1]
    runs = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    summary = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame()
    for frame in (runs, summary) if tables else ():
        # each run's values parsed once, then spread over its rows (a runs table has a row
        # per week and firm: parsing per row cost minutes for a few hundred runs)
        codes, ids = pd.factorize(frame["run_id"])
        for i, key in enumerate(keys):
            # object dtype: a column mixing null and 78 must not turn into floats and NaN
            per_run = np.empty(len(ids), dtype=object)
            per_run[:] = [_value(overrides[r].get(key, "")) for r in ids]
            frame.insert(2 + i, key, pd.Series(per_run[codes], index=frame.index, dtype=object))
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
    """``loyaltysim-collect SWEEP``: exit 0 when all runs were collected, 1 when some failed
    or are corrupt (listed, and in failures.csv), 2 for a usage mistake."""
    ap = argparse.ArgumentParser(description="Collect a loyaltysim sweep folder into tidy tables.")
    ap.add_argument("sweep_dir", type=Path)
    args = ap.parse_args(argv)
    try:
        res = collect(args.sweep_dir)
    except UsageError as err:
        print(f"loyaltysim-collect: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    n_runs = res.runs["run_id"].nunique() if len(res.runs) else 0
    print(f"collected {n_runs} runs ({len(res.failures)} failed) from {args.sweep_dir}")
    print(f"factors: {', '.join(res.factors) or '(none besides seed)'}")
    print(f"tables in {args.sweep_dir / 'collected'}: runs.parquet, summary.csv, failures.csv")
    for row in res.failures.itertuples():
        print(f"failed: {row.run_id}: {row.error}: {row.message}", file=sys.stderr)
    if len(res.failures):
        print("re-run the sweep into the same folder to rerun the failed runs", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
