"""Candidate worlds to runs, through the sweep machinery, and runs back to statistics.

Each arm the targets need is one Hydra multirun of ``loyaltysim`` over every candidate
world and every replication (``world=<ids> seed=0,...``) into ``<out>/runs``: the same
sweeper and launcher as any sweep (``loyaltysim -m``), so it runs in parallel on any Hydra
launcher (``hydra/launcher=joblib``, ``ray``, ``submitit_slurm`` ...), skips finished runs
(a rerun adds candidates without redoing any), reruns stale or failed ones and records a
run that fails without stopping the others. The candidate worlds are config files under
``<out>/candidates/world/``, put on Hydra's search path for the sweep.
"""

from __future__ import annotations

import functools
import hashlib
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ...runs import runrecord
from ...runs.sweep import run_id
from ..validation.common import load_run
from . import measures
from .targets import Calibration


@dataclass
class Plan:
    arms: list[str]
    worlds: list[str]
    seeds: list[int]

    @property
    def runs(self) -> int:
        return len(self.arms) * len(self.worlds) * len(self.seeds)


def arm_overrides(cal: Calibration, arm: str) -> list[str]:
    """The overrides every run of ``arm`` shares (the world and seed come on top)."""
    own = [
        *cal.overrides,
        *measures.ARMS[arm],
        f"customers.n={cal.customers}",
        f"market.horizon_weeks={cal.weeks}",
        "output.figure=false",
    ]
    if arm in measures.LOGGED:
        own.append("output.transactions=true")
    return own


def job_dir(cal: Calibration, arm: str, world: str, seed: int) -> Path:
    """The folder of one run: the sweep names it after its overrides."""
    return cal.out / "runs" / run_id([*arm_overrides(cal, arm), f"world={world}", f"seed={seed}"])


def plan(cal: Calibration, worlds: list[str]) -> Plan:
    arms = measures.arms_of([t.statistic for t in cal.targets])
    return Plan(arms, list(worlds), list(range(cal.replications)))


def pending(cal: Calibration, p: Plan) -> int:
    """Runs without a ``done.json`` (a quick look; the sweeper itself checks fingerprints)."""
    return sum(
        not (job_dir(cal, a, w, s) / runrecord.DONE).is_file()
        for a in p.arms
        for w in p.worlds
        for s in p.seeds
    )


def made_since(cal: Calibration, p: Plan, since: float) -> int:
    """Runs of the plan that finished after ``since`` (a time.time()): new and rerun ones."""
    return sum(
        (job_dir(cal, a, w, s) / runrecord.DONE).is_file()
        and (job_dir(cal, a, w, s) / runrecord.DONE).stat().st_mtime >= since
        for a in p.arms
        for w in p.worlds
        for s in p.seeds
    )


def sweep(cal: Calibration, p: Plan, hydra_args: list[str]) -> tuple[int, float]:
    """Run every arm's sweep; returns (worst exit status, seconds). Status 2 (a mistake in
    the command, such as a bad launcher option) stops at once."""
    search = (cal.out / "candidates").resolve()
    worst, start = 0, time.perf_counter()
    for arm in p.arms:
        cmd = [
            sys.executable,
            "-m",
            "loyaltysim",
            "-m",
            *arm_overrides(cal, arm),
            "world=" + ",".join(p.worlds),
            "seed=" + ",".join(str(s) for s in p.seeds),
            f"hydra.sweep.dir={(cal.out / 'runs').resolve()}",
            f"hydra.searchpath=[file://{search}]",
            *hydra_args,
        ]
        print(
            f"[loyaltysim calibrate] arm {arm}: {len(p.worlds)} worlds x "
            f"{len(p.seeds)} replications",
            flush=True,
        )
        code = subprocess.run(cmd, check=False).returncode
        if code == 2:
            return 2, time.perf_counter() - start
        worst = max(worst, code)
    return worst, time.perf_counter() - start


def run_state(cal: Calibration, arm: str, world: str, seed: int) -> str:
    folder = job_dir(cal, arm, world, seed)
    if (folder / runrecord.DONE).is_file():
        return "done"
    return "failed" if (folder / runrecord.ERROR).is_file() else "missing"


def measure_world(cal: Calibration, p: Plan, world: str) -> dict[str, object]:
    """The statistics of one world (mean over replications), or why it has none."""
    targets = [t.statistic for t in cal.targets]
    stats = [*targets, *(measures.SE + s for s in targets)]
    runs: dict[str, list] = {}
    for arm in p.arms:
        states = [run_state(cal, arm, world, s) for s in p.seeds]
        bad = [st for st in states if st != "done"]
        if bad:
            return {"status": f"{bad[0]} run ({arm})", **dict.fromkeys(stats, np.nan)}
        runs[arm] = [load_run(job_dir(cal, arm, world, s)) for s in p.seeds]
    try:
        values = measures.measure(targets, runs, cal.customers, cal.weeks)
    except Exception as err:  # a degenerate world (no buyers, say): no statistics
        return {"status": f"not measurable ({type(err).__name__})", **dict.fromkeys(stats, np.nan)}
    return {"status": "measured", **values}


def measure_all(
    cal: Calibration, p: Plan, cache: Path | None = None, workers: int | None = None
) -> pd.DataFrame:
    """Statistics of every world, one row each, measured in ``workers`` processes (default:
    every core). ``cache`` (a CSV) keeps the statistics of worlds whose runs have not
    changed since (keyed by their ``done.json`` times)."""
    old = pd.read_csv(cache, index_col="world") if cache is not None and cache.is_file() else None
    rows, keys, todo = {}, {}, []
    stats = [t.statistic for t in cal.targets]
    stats += [measures.SE + s for s in stats]  # a cache without the errors is re-measured
    for world in p.worlds:
        key = _stamp(cal, p, world)
        if (
            old is not None
            and world in old.index
            and old.at[world, "stamp"] == key
            and all(s in old.columns for s in stats)
        ):
            rows[world] = old.loc[world, ["status", *stats]].to_dict()
        else:
            todo.append(world)
        keys[world] = key
    workers = min(workers or os.cpu_count() or 1, len(todo))
    if workers > 1:  # reading logs and fitting: seconds a world, in parallel
        with ProcessPoolExecutor(workers) as pool:
            done = list(pool.map(measure_world, *zip(*[(cal, p, w) for w in todo], strict=True)))
    else:
        done = [measure_world(cal, p, w) for w in todo]
    rows.update(zip(todo, done, strict=True))
    rows = {w: rows[w] for w in p.worlds}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "world"
    table["stamp"] = pd.Series(keys)
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        merged = (
            table if old is None else pd.concat([old.drop(table.index, errors="ignore"), table])
        )
        merged.to_csv(cache)
    return table.drop(columns="stamp")


def _stamp(cal: Calibration, p: Plan, world: str) -> str:
    marks = []
    for arm in p.arms:
        for s in p.seeds:
            done = job_dir(cal, arm, world, s) / runrecord.DONE
            marks.append(f"{done.stat().st_mtime_ns}" if done.is_file() else "-")
    return f"{_measure_code()}/{cal.customers}/{cal.weeks}/" + ".".join(marks)


@functools.lru_cache(maxsize=1)
def _measure_code() -> str:
    """Hash of the code that measures runs: a change to it re-measures every world."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted([*root.glob("validation/*.py"), root / "calibration" / "measures.py"]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]
