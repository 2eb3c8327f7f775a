"""``loyaltysim-optimise launcher=NAME``: the optimiser's markets played as sweeps on a
Hydra launcher (:class:`SweepEvaluator`), ``batch`` designs a sweep, into ``<out>/runs``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..runs.collect import UsageError
from .optimise_eval import QUIET, Evaluation, Evaluator


@dataclass
class SweepEvaluator(Evaluator):
    """An :class:`Evaluator` whose markets are played as sweeps on a Hydra launcher
    (``hydra.sweeper.jobs``: one command line per design and world, the seeds swept), into
    ``runs_dir``; the same configs, so the same results as playing them in process."""

    launcher: str = "local"
    runs_dir: Path = Path("outputs/optimise/runs")
    jobs: int | None = None
    _calls: int = field(default=0, repr=False)

    def _line(self, world: str, programme: str, settings: Mapping[str, Any]) -> list[str]:
        from ..runs.runner import hydra_value

        items = [*QUIET, *([] if world == "default" else [f"world={world}"]), *self.overrides]
        items += [f"firm/programme={programme}"]
        items += [f"firm.programme.{k}={hydra_value(v)}" for k, v in settings.items()]
        return [*items, "seed=" + ",".join(map(str, self.seeds))]

    def _sweep(self, lines: list[list[str]]) -> list[list[str]]:
        """Run the command lines as one sweep; each line's run folders, in seed order."""
        import json
        import os
        import subprocess

        from .options import jobs_command

        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._calls += 1
        listing = self.runs_dir.parent / "sweeps" / f"batch-{self._calls:04d}.yaml"
        listing.parent.mkdir(exist_ok=True)
        launcher = [f"hydra/launcher={self.launcher}"]
        cmd = jobs_command(lines, listing, self.runs_dir, launcher, self.jobs)
        env = {**os.environ, "MPLBACKEND": "Agg"}
        log = listing.with_suffix(".log")
        with open(log, "w") as fh:
            proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
        tail = " ".join(log.read_text().strip().splitlines()[-1:])
        if proc.returncode == 2:
            raise UsageError(f"the sweep was refused: {tail}")
        try:
            meta = json.loads((self.runs_dir / "sweep.json").read_text())
            groups = meta["groups"]
        except (OSError, ValueError, KeyError):
            raise UsageError(f"the sweep did not run (log {log}): {tail}") from None
        if len(groups) != len(lines):
            raise UsageError(f"the sweep ran {len(groups)} of {len(lines)} designs (log {log})")
        self.runs += int(meta["total"]) - int(meta["done_at_start"])
        return groups

    def _read(self, name: str) -> tuple[float, float]:
        """A finished run's focal profit (EUR) and % of the market actively loyal to it."""
        import pandas as pd
        import yaml

        from ..runs.runrecord import DONE
        from ..runs.summary import summarise

        run = self.runs_dir / name
        if not (run / DONE).exists():
            raise UsageError(f"run {name} did not finish: see {run / 'error.json'}; rerun to retry")
        row = summarise(pd.read_csv(run / "metrics.csv"))
        row = row[row["firm"] == "focal"].iloc[0]
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        n = yaml.load((run / "config.yaml").read_text(), Loader=loader)["customers"]["n"]
        return float(row["cumulative_profit_eur"]), 100.0 * float(row["active_loyal_end"]) / n

    def evaluate_many(
        self, designs: Sequence[Mapping[str, Any]], programme: str | None = None
    ) -> list[Evaluation]:
        """Every design in every world and seed, as one sweep (with the baseline where it
        has not run yet), each paired with the baseline seed by seed."""
        lines, tags = [], []
        for w, world in enumerate(self.worlds):
            if (w, 0) not in self._base:
                lines.append(self._line(world, "none", {}))
                tags.append((None, w))
            for i, design in enumerate(designs):
                lines.append(self._line(world, programme or self.programme, design))
                tags.append((i, w))
        shape = (len(self.worlds), len(self.seeds))
        profit = [np.zeros(shape) for _ in designs]
        loyal = [np.zeros(shape) for _ in designs]
        played = {tag: [self._read(n) for n in names] for tag, names in zip(
            tags, self._sweep(lines), strict=True)}  # fmt: skip
        for (i, w), values in played.items():
            if i is None:
                for s, v in enumerate(values):
                    self._base[w, s] = v
        for (i, w), values in played.items():
            for s, (p, ly) in enumerate(values if i is not None else []):
                profit[i][w, s] = p - self._base[w, s][0]
                loyal[i][w, s] = ly - self._base[w, s][1]
        return [Evaluation(p, ly) for p, ly in zip(profit, loyal, strict=True)]

    def evaluate(self, settings: Mapping[str, Any], programme: str | None = None) -> Evaluation:
        return self.evaluate_many([settings], programme)[0]
