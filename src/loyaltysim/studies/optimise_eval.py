"""How ``loyaltysim-optimise`` scores a design: its paired effects against the
no-programme baseline in every world and seed (:class:`Evaluation`), played in this process
with each world and seed's warm-up and baseline kept (:class:`Evaluator`)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..runs.collect import UsageError

QUIET = ["output.figure=false", "output.customer_table=false"]


@dataclass
class Evaluation:
    """A design's paired effects against the no-programme baseline: EUR of profit and
    percentage points of the market actively loyal to the firm, one row per world, one
    column per seed."""

    profit: np.ndarray
    loyal: np.ndarray

    def expected(self) -> float:
        return float(self.profit.mean(axis=1).mean())

    def risk(self, criterion: str = "worst_decile") -> float:
        by_world = np.sort(self.profit.mean(axis=1))
        if criterion == "worst":
            return float(by_world[0])
        return float(by_world[: max(1, math.ceil(len(by_world) / 10))].mean())

    def loyalty(self) -> float:
        return float(self.loyal.mean(axis=1).mean())


@dataclass
class Evaluator:
    """Plays designs of one programme in every world and seed against the baseline; the
    baseline's results and each world's warm-up are computed once and kept."""

    programme: str
    worlds: list[str]
    seeds: list[int]
    overrides: list[str] = field(default_factory=list)
    runs: int = 0  # markets played by this evaluator (baselines included)
    _base: dict = field(default_factory=dict, repr=False)
    _warm: dict = field(default_factory=dict, repr=False)

    def config(self, world: str, programme: str, settings: Mapping[str, Any] | None = None):
        from ..model.params import ConfigError
        from ..runs.runner import hydra_value, load_config

        items = [*QUIET, *([] if world == "default" else [f"world={world}"]), *self.overrides]
        items += [f"firm/programme={programme}"]
        items += [f"firm.programme.{k}={hydra_value(v)}" for k, v in (settings or {}).items()]
        try:
            return load_config(items)
        except (ConfigError, TypeError, ValueError) as err:
            raise UsageError(str(err).splitlines()[0]) from None

    def _play(self, cfg, w: int, s: int):
        from ..engines.market import Market
        from ..engines.warmstart import WarmStart
        from ..runs.runner import run_one

        cfg = dataclasses.replace(cfg, seed=self.seeds[s])
        warm = None
        if cfg.engine == "arrays":
            if (w, s) not in self._warm:
                self._warm[w, s] = WarmStart.of(Market(cfg))
            warm = self._warm[w, s]
        self.runs += 1
        row = run_one(cfg, keep_customers=False, warm=warm).summary
        row = row[row["firm"] == "focal"].iloc[0]
        n = cfg.customers.n
        return float(row["cumulative_profit_eur"]), 100.0 * float(row["active_loyal_end"]) / n

    def evaluate(self, settings: Mapping[str, Any], programme: str | None = None) -> Evaluation:
        """The design ``settings`` (``firm.programme`` keys) of ``programme`` (this
        evaluator's by default) in every world and seed, paired with the baseline."""
        shape = (len(self.worlds), len(self.seeds))
        profit, loyal = np.zeros(shape), np.zeros(shape)
        for w, world in enumerate(self.worlds):
            cfg = self.config(world, programme or self.programme, settings)
            base_cfg = self.config(world, "none") if (w, 0) not in self._base else None
            for s in range(len(self.seeds)):
                if (w, s) not in self._base:
                    self._base[w, s] = self._play(base_cfg, w, s)
                p, ly = self._play(cfg, w, s)
                profit[w, s] = p - self._base[w, s][0]
                loyal[w, s] = ly - self._base[w, s][1]
        return Evaluation(profit, loyal)
