"""``loyaltysim-optimise`` (:mod:`.optimise` is its command line): search a programme's
levers for the design with the best expected profit across worlds, with a risk criterion
beside it (Optuna, ask-and-tell).

    loyaltysim-optimise programme=engagement trials=100 worlds=default seeds=5
    loyaltysim-optimise programme=discount lever.rebate_rate=0:0.2 trials=30
    loyaltysim-optimise programme=engagement lever.contacts_per_week=0,0.25,0.5,1 \\
        lever.personalisation=0.5,0.8,1 worlds=all seeds=3 out=outputs/optimise/eng

``lever.KEY=LO:HI`` searches a range of the programme setting ``firm.programme.KEY`` (an
integer range for an integer setting), ``lever.KEY=A,B,C`` a list of values; without any,
the programme's usual levers (:data:`DEFAULT_LEVERS`). ``worlds=``: ``default`` (the default
config, the central world), ``all`` (every world in conf/world) or names/paths separated by
``,``. Every candidate design plays in every world with the same seeds (common random
numbers) against the same no-programme baseline, played once per world and seed; the warm-up
is played once per world and seed and shared by every design. The objective is the expected
profit effect (EUR, the mean over worlds of the mean over seeds); the risk criterion is the
mean effect in the worst decile of worlds (``risk=worst_decile``, at least one world) or in
the worst world (``risk=worst``). Beside it, every design's max regret (``max_regret_eur``
in trials.csv and designs.csv): the most profit it gives up in any one world against the
best design known in that world, every trial and every shipped design; it needs the whole
search, so it ranks the designs found rather than steering the search. The study lives in
``<out>/study.journal``: a killed search resumes, and a rerun with more trials plays only
the new ones. Other ``key=value`` arguments are overrides for every run
(``firm.price=5.5``). Defaults: trials=30, seeds=3, customers=2000, weeks=52,
worlds=default, risk=worst_decile, out=outputs/optimise/<programme>.

By default the markets are played in this process, one after another. With
``launcher=NAME`` (``local``, ``basic``, ``joblib``, or a plugin's such as ``ray`` or
``submitit_slurm``) they are played as sweeps (``loyaltysim -m``) into ``<out>/runs`` on
that Hydra launcher, ``batch`` designs at a time (TPE proposes the batch before it sees its
results), ``jobs=N`` at a time where the launcher takes ``n_jobs``: a run is a run folder
like any sweep's, so a rerun reuses finished runs and a failed run is recorded there.
"""

from __future__ import annotations

import dataclasses
import math
import re
import time
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..runs.collect import UsageError
from .worlds.ensemble import world_list

DEFAULT_LEVERS: dict[str, dict[str, Any]] = {
    "engagement": {
        "contacts_per_week": (0.0, 2.0),
        "personalisation": (0.0, 1.0),
        "thanks_cost_eur": (0.0, 2.0),
        "surprise_rate": (0.0, 0.05),
    },
    "discount": {"rebate_rate": (0.0, 0.2), "signup_prob": (0.05, 0.6)},
    "tiered": {"top_points_per_eur": (1.0, 4.0), "signup_prob": (0.05, 0.6)},
}
RISKS = ("worst_decile", "worst")
QUIET = ["output.figure=false", "output.customer_table=false"]


@dataclass(frozen=True)
class Lever:
    """One searched setting of the programme: a range (``low``, ``high``) or ``choices``."""

    key: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    integer: bool = False

    def distribution(self):
        import optuna.distributions as d

        if self.choices is not None:
            return d.CategoricalDistribution(list(self.choices))
        if self.integer:
            return d.IntDistribution(int(self.low), int(self.high))
        return d.FloatDistribution(float(self.low), float(self.high))


def _lever_fields(programme: str, kind: str = "lever") -> dict[str, tuple[Any, dict[str, Any]]]:
    """The programme's settings of ``kind`` (``lever``: the firm's choices; ``uncertainty``,
    ``constant``: the world's) with their type and metadata."""
    from ..model.params import meta_of
    from ..model.programmes.base import REGISTRY

    if programme not in REGISTRY or programme == "none":
        known = ", ".join(sorted(k for k in REGISTRY if k != "none"))
        raise UsageError(f"programme = {programme!r}; allowed: one of {known}")
    cls = REGISTRY[programme].Params
    hints = typing.get_type_hints(cls)
    return {
        f.name: (hints[f.name], meta_of(f))
        for f in dataclasses.fields(cls)
        if meta_of(f)["kind"] == kind and f.name != "type"
    }


def _not_a_lever(programme: str, key: str, fields: Mapping[str, Any]) -> UsageError:
    """Why ``key`` cannot be searched: how customers respond (``customers.contact``), a
    property of the world, not the firm's choice; a constant; or no setting at all."""
    from ..model.contact import ContactParams

    world = "a property of the world (how customers respond), not the firm's choice; vary it "
    why = "it has no such setting"
    if key in {f.name for f in dataclasses.fields(ContactParams)}:
        why = f"it is customers.contact.{key}, an uncertainty: {world}across worlds instead"
    elif key in _lever_fields(programme, "uncertainty"):
        why = f"it is an uncertainty: {world}across worlds (worlds=all) instead"
    elif key in _lever_fields(programme, "constant"):
        why = "it is a constant of the programme, not the firm's choice"
    return UsageError(
        f"lever {key!r} is not a lever of programme {programme}: {why}; "
        f"allowed: {', '.join(sorted(fields))}"
    )


def make_levers(programme: str, levers: Mapping[str, Any] | None) -> list[Lever]:
    """Levers from ``{key: (lo, hi) or [choices]}``; a one-line UsageError for a key that is
    not a lever of the programme or a value its setting does not allow."""
    fields = _lever_fields(programme)
    levers = DEFAULT_LEVERS.get(programme, {}) if not levers else levers
    if not levers:
        raise UsageError(f"programme {programme!r} has no default levers; give lever.KEY=LO:HI")
    out = []
    for key, spec in levers.items():
        if key not in fields:
            raise _not_a_lever(programme, key, fields)
        tp = fields[key][0]
        if isinstance(spec, tuple):
            lo, hi = spec
            if not lo < hi:
                raise UsageError(f"lever {key} = {lo}:{hi}; allowed: a range LO:HI with LO < HI")
            out.append(Lever(key, lo, hi, integer=tp is int))
        else:
            choices = tuple(dict.fromkeys(spec))
            if not choices:
                raise UsageError(f"lever {key} = []; allowed: at least one value")
            out.append(Lever(key, choices=choices))
    return out


def _value(lever: Lever, value: Any) -> Any:
    return int(value) if lever.integer else value


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
        import sys

        import yaml

        from .options import sweep_lines

        self.runs_dir.mkdir(parents=True, exist_ok=True)
        self._calls += 1
        listing = self.runs_dir.parent / "sweeps" / f"batch-{self._calls:04d}.yaml"
        listing.parent.mkdir(exist_ok=True)
        lines, search = sweep_lines(lines)
        listing.write_text(yaml.safe_dump(lines, default_flow_style=None, width=10**6))
        cmd = [sys.executable, "-m", "loyaltysim", "-m", f"hydra.sweeper.jobs={listing}", *search]
        cmd += [f"hydra.sweep.dir={self.runs_dir}", f"hydra/launcher={self.launcher}"]
        cmd += [f"hydra.launcher.n_jobs={self.jobs}"] if self.jobs else []
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


@dataclass
class Result:
    """A finished search: every completed trial (a DataFrame), the best, and where it went."""

    trials: Any
    best: dict[str, Any]
    out: Path
    runs: int
    new_trials: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def _spec(programme, levers, worlds, seeds, overrides, risk) -> dict[str, str]:
    return {
        "programme": programme,
        "levers": repr([dataclasses.astuple(lv) for lv in levers]),
        "worlds": ",".join(worlds),
        "seeds": ",".join(map(str, seeds)),
        "overrides": " ".join(overrides),
        "risk": risk,
    }


def optimise(
    programme: str,
    levers: Mapping[str, Any] | None = None,
    worlds: Sequence[str] | str = ("default",),
    seeds: int | Sequence[int] = 3,
    customers: int = 2000,
    weeks: int = 52,
    trials: int = 30,
    risk: str = "worst_decile",
    out: str | Path = "outputs/optimise",
    sampler_seed: int = 0,
    overrides: Sequence[str] = (),
    report: bool = True,
    quiet: bool = True,
    launcher: str | None = None,
    jobs: int | None = None,
    batch: int = 4,
) -> Result:
    """Search the ``levers`` of ``programme`` for the best expected profit effect over
    ``worlds`` with ``trials`` trials (in total, counting those a previous call stored in
    ``out``). Every lever discrete and ``trials`` at least the grid's size: the grid is
    enqueued (``study.enqueue_trial``), so it is searched exhaustively; otherwise TPE (seeded with
    ``sampler_seed``). The programme's shipped design (its defaults) is enqueued first
    where it lies in the searched space, so the best is never worse than it. With
    ``launcher`` (a Hydra launcher's name) the markets run as sweeps into ``out/runs``,
    ``batch`` new designs a sweep (``jobs`` at a time); without, in this process."""
    import optuna

    from .optimise_report import trials_frame, write_report
    from .optimise_study import completed, grid_points, open_study

    if risk not in RISKS:
        raise UsageError(f"risk = {risk!r}; allowed: one of {', '.join(RISKS)}")
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise UsageError(f"trials = {trials!r}; allowed: an integer >= 1")
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise UsageError(f"seeds = {seeds!r}; allowed: a count >= 1 or a list of integers")
    lv = make_levers(programme, levers)
    size = [f"customers.n={customers}", f"market.horizon_weeks={weeks}"]
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise UsageError(f"batch = {batch!r}; allowed: an integer >= 1 (designs a sweep)")
    if launcher is not None and not _LAUNCHER.fullmatch(str(launcher)):
        raise UsageError(
            f"launcher = {launcher!r}; allowed: a Hydra launcher's name (local, basic, "
            "joblib, ray, submitit_slurm, ...)"
        )
    args = (programme, world_list(worlds), seed_list, [*size, *overrides])
    if launcher is None:
        ev: Evaluator = Evaluator(*args)
    else:
        ev = SweepEvaluator(*args, launcher=str(launcher), runs_dir=Path(out) / "runs", jobs=jobs)
    for w in ev.worlds:  # every world and lever value checked before anything runs
        ev.config(w, "none")
        for lever in lv:
            for v in lever.choices or (lever.low, lever.high):
                try:
                    ev.config(w, programme, {lever.key: _value(lever, v)})
                except UsageError as err:
                    raise UsageError(f"lever {lever.key} = {v!r}: {err}") from None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if quiet:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = open_study(
        out, _spec(programme, lv, ev.worlds, seed_list, ev.overrides, risk), sampler_seed
    )
    grid = grid_points(lv)
    if grid is not None:  # a finite space: at most every design once, the grid first
        trials = min(trials, len(grid))
    if not study.trials:
        shipped = _shipped(programme, lv)
        for design in ([shipped] if shipped is not None else []) + (
            grid if grid is not None and trials >= len(grid) else []
        ):
            study.enqueue_trial(design, skip_if_exists=True)
    dists = {x.key: x.distribution() for x in lv}
    seen = {_key(t.params, lv): (t.value, dict(t.user_attrs)) for t in completed(study)}
    started, new = time.time(), 0
    size_of_batch = batch if launcher is not None else 1
    while len(completed(study)) < trials:
        asked, fresh = [], {}  # this batch's trials; its new designs, by key
        for _ in range(min(size_of_batch, trials - len(completed(study)))):
            trial = study.ask(dists)
            design = {x.key: _value(x, trial.params[x.key]) for x in lv}
            asked.append((trial, design))
            if _key(design, lv) not in seen:
                fresh.setdefault(_key(design, lv), design)
        played = dict(zip(fresh, _evaluate(ev, list(fresh.values())), strict=True))
        for key, e in played.items():
            attrs = {
                "risk_eur": e.risk(risk),
                "loyal_pp": e.loyalty(),
                "by_world_eur": e.profit.mean(axis=1).tolist(),
                "runs": e.profit.size,
            }
            seen[key] = (e.expected(), attrs)
        for trial, design in asked:
            key = _key(design, lv)
            value, attrs = seen[key]
            # a design played before (or twice in this batch) takes its values, no new runs
            first = key in played
            for k, v in attrs.items():
                trial.set_user_attr(k, v if first or k != "runs" else 0)
            study.tell(trial, value)
            if first:
                played.pop(key)  # the batch's later trials of this design are repeats
                new += 1
    table = trials_frame(study, lv, ev.worlds)
    best = table.sort_values(["expected_eur", "number"], ascending=[False, True]).iloc[0]
    result = Result(table, best.to_dict(), out, ev.runs, new, time.time() - started)
    if report:
        write_report(result, ev, lv, risk)
    return result


_LAUNCHER = re.compile(r"[A-Za-z0-9_]+")


def _evaluate(ev: Evaluator, designs: list[dict[str, Any]]) -> list[Evaluation]:
    if not designs:
        return []
    if isinstance(ev, SweepEvaluator):
        return ev.evaluate_many(designs)
    return [ev.evaluate(d) for d in designs]


def _key(design: Mapping[str, Any], levers: list[Lever]) -> tuple:
    return tuple(repr(design[x.key]) for x in levers)


def _shipped(programme: str, levers: list[Lever]) -> dict[str, Any] | None:
    """The programme's defaults for the levers, where every one lies in the searched space."""
    from ..model.programmes.base import REGISTRY

    default = REGISTRY[programme].Params()
    design = {x.key: getattr(default, x.key) for x in levers}
    for x in levers:
        v = design[x.key]
        inside = v in x.choices if x.choices is not None else x.low <= v <= x.high
        if not inside:
            return None
    return design
