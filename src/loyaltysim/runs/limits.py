"""Checks made before a run allocates anything: will it fit in memory, and will its money
figures stay finite? Both raise :class:`~loyaltysim.model.params.ConfigError` (exit status 2 on the
command line), so an impossible run is refused in one line instead of dying in a
MemoryError or OverflowError traceback. And one check made after a run, before it counts as
done: :func:`check_metrics` (every metric finite), which raises :class:`NonFiniteMetrics`.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

from ..model.params import ConfigError

# Bytes per person in the pool, by what holds them (see population.py, network.py):
# traits and state: 5 float64, 4 int32, 3 int8, 3 int64 (incl. the prospect queue)
PER_PERSON = 5 * 8 + 4 * 4 + 3 + 3 * 8
# per (person, firm): engagement, loyalty, points, firm_spend (float64), offer_until (int32),
# 2 bools
PER_PERSON_FIRM = 4 * 8 + 4 + 2
# whole-pool draws and temporaries of one step (several float64 arrays per person)
PER_PERSON_STEP = 12 * 8
# the referral network: CSR indices (int32) in both directions, and the int32 edge lists
# and sparse temporaries it is built from
PER_EDGE_BUILD = 4 * 4 + 1
# the interpreter, NumPy, pandas, Mesa: a fixed cost; and a margin on the estimate. Measured
# (benchmarks/bench_memory.py): 392 bytes a person in the pool at the peak of a default
# run, ~205 MiB fixed; the estimate is 1.2-1.35x the measured peak (1M customers: 1.15 GiB
# estimated, 0.93 measured; 10M: 8.9 GiB estimated, 6.58 measured at the fifth change)
BASE_BYTES = 300 * 2**20
MARGIN = 1.25

MAX_EUR = 1e12  # any money figure in the config, EUR
MAX_ACQUIRED_PER_WEEK = 1e9  # weekly budget / cost_per_customer


# metrics that are ratios: NaN there means an empty denominator (no buyer, no customer that
# week), which is an honest answer; every other column is a count or a sum and must be finite
RATIO_METRICS = frozenset({"share", "repeat_rate", "mean_scr", "mean_engagement"})


class NonFiniteMetrics(RuntimeError):
    """A run's metrics hold an infinite value, or NaN outside the ratio columns: the run
    is recorded as failed rather than done (its sums overflowed somewhere)."""


def people(cfg: Any) -> int:
    """People in the pool: initial customers plus prospects."""
    n = cfg.customers.n
    return n + int(round(n * cfg.customers.prospects_per_customer))


def estimate_bytes(cfg: Any) -> int:
    """Peak memory of a run, estimated from its config (bytes)."""
    size = people(cfg)
    firms = 1 + cfg.competitor.count
    degree = cfg.customers.referral.network_degree
    per_person = PER_PERSON + PER_PERSON_FIRM * firms + PER_PERSON_STEP + 8
    network = PER_EDGE_BUILD * size * degree / 2
    return int(BASE_BYTES + MARGIN * (size * per_person + network))


def available_bytes() -> int | None:
    """Memory this process may still use: MemAvailable, capped by a cgroup limit if any."""
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        cg = Path("/sys/fs/cgroup")
        limit = (cg / "memory.max").read_text().strip()
        if limit != "max":
            room = int(limit) - int((cg / "memory.current").read_text())
            avail = room if avail is None else min(avail, room)
    except (OSError, ValueError):
        pass
    return avail


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_memory(cfg: Any, available: int | None = None) -> None:
    """Refuse a run whose estimated memory exceeds what is available."""
    need = estimate_bytes(cfg)
    have = available_bytes() if available is None else available
    if have is not None and need > have:
        raise ConfigError(
            "customers.n",
            cfg.customers.n,
            f"a market that fits in memory: {people(cfg):,} people in the pool need about "
            f"{_gib(need)}, {_gib(have)} is available",
        )


def _numbers(obj: Any, path: str):
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{path}.{f.name}" if path else f.name
        if dataclasses.is_dataclass(value):
            yield from _numbers(value, key)
        elif isinstance(value, float):
            yield key, f.name, value, f.metadata.get("doc", "")


def _is_money(name: str, doc: str) -> bool:
    words = ("price", "cost", "budget", "eur", "gift")
    if "sensitivity" in name:  # utility per euro, not euros
        return False
    return any(w in name for w in words) or "EUR" in doc


def check_finite(cfg: Any) -> None:
    """Every number finite, money figures at most 1e12 EUR, and paid acquisition at most
    1e9 customers a week, so that costs, profits and counts stay finite."""
    for key, name, value, doc in _numbers(cfg, ""):
        if not math.isfinite(value):
            raise ConfigError(key, value, "a finite number")
        if _is_money(name, doc) and abs(value) > MAX_EUR:
            raise ConfigError(key, value, f"a money figure of at most {MAX_EUR:g} EUR")
    firms = [("firm", cfg.firm)] + [("competitor", cfg.competitor)] * bool(cfg.competitor.count)
    for path, firm in firms:
        acq = getattr(firm, "acquisition", None)
        if acq is None:
            continue
        ratio = acq.weekly_budget(cfg.customers.n) / acq.cost_per_customer
        if not ratio <= MAX_ACQUIRED_PER_WEEK:
            raise ConfigError(
                f"{path}.acquisition.weekly_budget_per_1000",
                acq.weekly_budget_per_1000,
                f"at most {MAX_ACQUIRED_PER_WEEK:g} x cost_per_customer "
                f"({acq.cost_per_customer:g} EUR) per customers.n/1000 "
                f"({cfg.customers.n / 1000:g}): {MAX_ACQUIRED_PER_WEEK:g} customers a week",
            )


def check(cfg: Any) -> None:
    """All checks before a run allocates: finite figures, then memory."""
    check_finite(cfg)
    check_memory(cfg)


def check_metrics(metrics: Any) -> None:
    """Raise :class:`NonFiniteMetrics` naming the first column and week that holds an
    infinite value (anywhere) or NaN (outside :data:`RATIO_METRICS`)."""
    import numpy as np

    for column in metrics.select_dtypes("number").columns:
        values = metrics[column].to_numpy(dtype=float)
        bad = np.isinf(values) if column in RATIO_METRICS else ~np.isfinite(values)
        if bad.any():
            row = metrics.iloc[int(np.argmax(bad))]
            raise NonFiniteMetrics(
                f"metric {column} = {values[bad][0]} at week {row.get('week', '?')} "
                f"(firm {row.get('firm', '?')}): a figure overflowed; the run is not "
                "recorded as done. Bring the config's sizes, rates and prices back towards "
                "their plausible ranges (loyaltysim-describe)"
            )
