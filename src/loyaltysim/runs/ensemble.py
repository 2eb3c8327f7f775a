"""Several markets in one process: arms that share a world and a seed share its warm-up.

:func:`run_arms` is the engine of an ensemble (worlds x arms x seeds) played in one
process, as opposed to a sweep's one process per job.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig

from ..engines.market import Market
from ..engines.warmstart import WarmStart, warmup_key
from ..model.config import SimConfig, make_config
from .limits import check
from .runner import RunResult, run_one


def run_arms(
    configs: Sequence[SimConfig | Mapping[str, Any] | DictConfig],
    seed: int | None = None,
    share_warmup: bool = True,
    keep_customers: bool = False,
) -> list[RunResult]:
    """Run several markets in this process, one result per config in order (each with its
    own seed, or all with ``seed``). Markets whose warm-ups are identical (same
    :func:`~loyaltysim.engines.market.warmup_key`: arms that differ only in programmes,
    poaching, pricing policies or the horizon) play it once and each starts from a copy of
    its final state: the same results as playing it each (``share_warmup=False``), at a
    fraction of the cost where the warm-up is long. No run folders are written; customer
    tables are kept with ``keep_customers``. Where the markets together are large enough to
    pay for loading the compiled loops (``AUTO_MIN_POOL`` customers), ``auto`` uses them for
    every market, however small (same results)."""
    from ..engines import engine

    cfgs = [c if isinstance(c, SimConfig) else make_config(c) for c in configs]
    if seed is not None:
        cfgs = [dataclasses.replace(c, seed=int(seed)) for c in cfgs]
    for cfg in cfgs:
        check(cfg)
    groups: dict[str, list[int]] = {}
    for i, cfg in enumerate(cfgs):
        shared = share_warmup and cfg.engine == "arrays"
        groups.setdefault(warmup_key(cfg) if shared else f"own {i}", []).append(i)
    results: list[RunResult | None] = [None] * len(cfgs)
    many = sum(c.customers.n for c in cfgs if c.engine == "arrays") >= engine.AUTO_MIN_POOL
    with engine.preferring_kernel() if many else contextlib.nullcontext():
        for members in groups.values():
            warm = None
            if len(members) > 1 and share_warmup and cfgs[members[0]].engine == "arrays":
                # the first arm's market, warmed up, gives its state away: it is not run
                warm = WarmStart.of(Market(cfgs[members[0]]), copy_state=False)
            for i in members:
                results[i] = run_one(cfgs[i], keep_customers=keep_customers, warm=warm)
            del warm
    return results  # type: ignore[return-value]
