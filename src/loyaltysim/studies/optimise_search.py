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
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..runs.collect import UsageError
from .optimise_eval import Evaluation, Evaluator
from .optimise_levers import Lever, _shipped, _value, make_levers
from .worlds.ensemble import world_list

RISKS = ("worst_decile", "worst")


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
        from .optimise_sweeps import SweepEvaluator

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
    """The designs' evaluations: one sweep for all of them on a launcher, else one by one."""
    if not designs:
        return []
    many = getattr(ev, "evaluate_many", None)
    return many(designs) if many is not None else [ev.evaluate(d) for d in designs]


def _key(design: Mapping[str, Any], levers: list[Lever]) -> tuple:
    return tuple(repr(design[x.key]) for x in levers)
