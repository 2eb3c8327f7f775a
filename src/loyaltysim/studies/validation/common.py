"""What every check shares: the context (seeds, sizes, overrides), cached runs (in a pool of
worker processes), confidence intervals over seeds, and the result records."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

LOG_COLUMNS = ["customer_id", "date", "week", "firm", "units", "amount"]


@dataclass
class Measured:
    """What a check's function returns: per-seed values of each measured quantity."""

    values: dict[str, Sequence[float]]
    headline: str  # the key of ``values`` that the summary table shows
    verdict: str  # pass | fail | report
    evidence: str  # what the number is evidence of (a paragraph)
    figure: Callable[[Any], None] | None = None  # draws on a matplotlib Figure


@dataclass
class Result:
    name: str
    family: str
    source: str
    target: str
    headline: str
    measured: dict[str, dict[str, float]]
    verdict: str
    evidence: str
    seeds: list[int]
    seconds: float
    figure: Callable[[Any], None] | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "figure"}
        return out


def mean_ci(values: Sequence[float], level: float = 0.95) -> dict[str, float]:
    """Mean with a t-interval over seeds (NaN bounds with one seed; NaNs dropped)."""
    x = np.asarray([v for v in values if v is not None], float)
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return {"mean": math.nan, "lo": math.nan, "hi": math.nan, "n": 0}
    mean = float(x.mean())
    if n == 1:
        return {"mean": mean, "lo": math.nan, "hi": math.nan, "n": 1}
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return {"mean": mean, "lo": mean - half, "hi": mean + half, "n": n}


def summarise_values(values: dict[str, Sequence[float]]) -> dict[str, dict[str, float]]:
    return {k: {**mean_ci(v), "values": [float(x) for x in v]} for k, v in values.items()}


def fmt(ci: dict[str, float], digits: int = 3) -> str:
    """``mean [lo, hi]`` with ``digits`` significant digits."""
    if not np.isfinite(ci["mean"]):
        return "n/a"
    g = f"{{:.{digits}g}}"
    if not np.isfinite(ci["lo"]):
        return g.format(ci["mean"])
    return f"{g.format(ci['mean'])} [{g.format(ci['lo'])}, {g.format(ci['hi'])}]"


def merge_overrides(user: Sequence[str], own: Sequence[str]) -> list[str]:
    """The user's overrides, then the check's own; a check's key replaces the user's."""
    keys = {o.split("=", 1)[0].lstrip("+~") for o in own}
    return [o for o in user if o.split("=", 1)[0].lstrip("+~") not in keys] + list(own)


@dataclass
class RunData:
    metrics: pd.DataFrame
    customers: pd.DataFrame | None
    log: pd.DataFrame | None  # customer_id, week, day (days since week 0), firm
    population: dict[str, np.ndarray] | None = None


def read_log(path: Path, start_date: Any) -> pd.DataFrame:
    """A run's transaction log, compacted to what the checks read: who bought, in which
    week, on which day (days since ``start_date``) and where (runs are held in memory)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = pq.read_table(path, columns=LOG_COLUMNS)
    start = np.datetime64(str(start_date), "D").astype(np.int64)
    # days since 1970 as integers: no Python date objects (reading them dominated the time)
    day = raw.column("date").cast(pa.int32()).to_numpy() - start
    return pd.DataFrame(
        {
            "customer_id": raw.column("customer_id").to_numpy().astype(np.int32),
            "week": raw.column("week").to_numpy().astype(np.int16),
            "day": day.astype(np.int32),
            "firm": raw.column("firm").to_pandas().astype("category"),
        }
    )


def load_run(run_dir: Path) -> RunData:
    """A finished run folder (``loyaltysim`` or a sweep's job) as the checks' run data:
    its metrics table and, if it wrote them, its compacted transaction log and who is a
    member of each firm's programme at the end (``customers``: customer_id, member_*)."""
    from omegaconf import OmegaConf

    run_dir = Path(run_dir)
    metrics = pd.read_csv(run_dir / "metrics.csv")
    log = None
    if (run_dir / "transactions.parquet").is_file():
        start = OmegaConf.load(run_dir / "config.yaml").market.start_date
        log = read_log(run_dir / "transactions.parquet", start)
    customers = None
    if (run_dir / "customers.parquet").is_file():  # only who is a member (Liu's measure)
        import pyarrow.parquet as pq

        path = run_dir / "customers.parquet"
        names = [n for n in pq.read_schema(path).names if n.startswith("member_")]
        customers = pq.read_table(path, columns=["customer_id", *names]).to_pandas()
    return RunData(metrics, customers, log)


def simulate(
    overrides: Sequence[str],
    seed: int,
    log: bool,
    keep: Sequence[str] = (),
    customers: bool = False,
) -> RunData:
    """One run (in a worker process): metrics, the log if ``log``, the customer table if
    ``customers`` (big; few checks read it) and the population arrays named in ``keep``."""
    from ...runs.runner import load_config, run_one

    extra = ["output.figure=false", "output.print_summary=false"]
    if log:
        extra.append("output.transactions=true")
    cfg = load_config([*overrides, *extra], seed=seed)
    with tempfile.TemporaryDirectory(prefix="loyaltysim-validate-") as tmp:
        res = run_one(cfg, tmp if log else None, keep_model=bool(keep))
        table = read_log(Path(tmp) / "transactions.parquet", cfg.market.start_date) if log else None
    pop = None
    if keep:
        pop = {k: np.asarray(getattr(res.model.population, k)).copy() for k in keep}
        res.model.release()
    return RunData(res.metrics, res.customers if customers else None, table, pop)


def _simulate_job(args: tuple) -> RunData:
    return simulate(*args)


@dataclass
class Context:
    """Seeds, size (quick or full), the user's overrides and a cache of finished runs."""

    seeds: Sequence[int]
    quick: bool = False
    overrides: Sequence[str] = ()
    workers: int = 1
    _cache: dict[tuple, RunData] = field(default_factory=dict, repr=False)
    _pool: ProcessPoolExecutor | None = field(default=None, repr=False)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def pick(self, quick: Any, full: Any) -> Any:
        return quick if self.quick else full

    def runs(
        self,
        own: Sequence[str],
        log: bool = False,
        keep: Sequence[str] = (),
        customers: bool = False,
    ) -> list[RunData]:
        """One run per seed of the check's overrides ``own`` (after the user's)."""
        return self.batch([own], log, keep, customers)[0]

    def batch(
        self,
        arms: Sequence[Sequence[str]],
        log: bool = False,
        keep: Sequence[str] = (),
        customers: bool = False,
    ) -> list[list[RunData]]:
        """Runs for every arm and seed (paired: arm k at seed s shares seed s's customers),
        from the cache where possible, the rest in a pool of ``workers`` processes."""
        jobs = {}
        for own in arms:
            ov = tuple(merge_overrides(self.overrides, own))
            for seed in self.seeds:
                key = (ov, int(seed), log, tuple(keep), customers)
                if key not in self._cache:
                    jobs[key] = key
        if jobs:
            if self.workers > 1 and len(jobs) > 1:
                if self._pool is None:  # one pool for the whole suite: workers start once
                    self._pool = ProcessPoolExecutor(max_workers=self.workers)
                done = list(self._pool.map(_simulate_job, jobs.values()))
            else:
                done = [simulate(*a) for a in jobs.values()]
            self._cache.update(zip(jobs, done, strict=True))
        out = []
        for own in arms:
            ov = tuple(merge_overrides(self.overrides, own))
            out.append([self._cache[(ov, int(s), log, tuple(keep), customers)] for s in self.seeds])
        return out


def verdict(ok: bool) -> str:
    return "pass" if ok else "fail"
