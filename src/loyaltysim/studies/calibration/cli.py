"""``loyaltysim-calibrate``: calibrate the uncertainties to a targets file, keep the
ensemble of worlds that meet every target, and write ``results/calibration/``.

    loyaltysim-calibrate calibration=literature                       # run, or resume
    loyaltysim-calibrate calibration=literature calibration.candidates=128   # add candidates
    loyaltysim-calibrate calibration=my_market.yaml                   # your own targets
    loyaltysim-calibrate calibration=literature hydra/launcher=joblib hydra.launcher.n_jobs=8
    loyaltysim-calibrate calibration=literature --plan                # what it would run
    loyaltysim-calibrate calibration=literature --central             # central world (YAML)
    loyaltysim-calibrate --statistics                                 # what targets can name

Arguments: ``calibration=<name or path>``; ``calibration.<key>=<value>`` changes the file's
settings; ``hydra...`` goes to every sweep (launcher, its options); any other
``key=value`` is a model override for every run (your market's fixed settings).

Exit status: 0 with a non-empty ensemble; 3 when no world meets every target (the report
is written and names the binding target); 1 when some runs failed (the rest is used); 2
for a mistake in the command or the targets file (one line on stderr, nothing run).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace

import pandas as pd

EMPTY = 3


def parse(argv: list[str] | None) -> argparse.Namespace:
    first = " ".join(__doc__.split("\n\n")[0].split())
    p = argparse.ArgumentParser(prog="loyaltysim-calibrate", description=first)
    p.add_argument("args", nargs="*", help="calibration=<name>, calibration.<key>=..., hydra...")
    p.add_argument("--plan", action="store_true", help="say what would run, run nothing")
    p.add_argument("--central", action="store_true", help="print the central world's YAML")
    p.add_argument("--no-run", action="store_true", help="measure and report finished runs only")
    p.add_argument("--statistics", action="store_true", help="list the statistics and exit")
    return p.parse_args(argv)


def fail(msg: str, code: int = 2) -> int:
    print(f"loyaltysim-calibrate: {msg}", file=sys.stderr)
    return code


def split(args: list[str]) -> tuple[str, list[str], list[str], list[str]]:
    name, own, hydra_args, model = "literature", [], [], []
    for a in args:
        key = a.partition("=")[0]
        if "=" not in a:
            raise ValueError(f"arguments must be key=value, got {a!r}")
        if key == "calibration":
            name = a.partition("=")[2]
        elif key.startswith("calibration."):
            own.append(a)
        elif key.lstrip("+~").startswith("hydra"):
            hydra_args.append(a)
        else:
            model.append(a)
    return name, own, hydra_args, model


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from . import measures

    if args.statistics:
        print(measures.listing())
        return 0
    from ...model.params import ConfigError
    from . import targets

    try:
        name, own, hydra_args, model = split(args.args)
        cal = targets.load(name, own)
        if model:
            cal = _with_overrides(cal, model)
    except (ConfigError, ValueError) as err:
        return fail(str(err).splitlines()[0])
    if args.central:
        path = cal.out / "central.yaml"
        if not path.is_file():
            return fail(f"no central world in {cal.out}: run the calibration first", EMPTY)
        print(path.read_text(), end="")
        return 0
    return calibrate(cal, hydra_args, plan_only=args.plan, run=not args.no_run)


def _with_overrides(cal, model: list[str]):
    from ...runs.runner import load_config

    overrides = (*cal.overrides, *model)
    load_config(list(overrides))  # a bad key or value fails here, before any run
    return replace(cal, overrides=overrides)


REFUSED = "the sweep refused the command (see above); nothing was calibrated"


@dataclass
class Tally:
    """What the sweeps of one call cost: worst exit status, seconds, runs made."""

    code: int = 0
    seconds: float = 0.0
    made: int = 0
    measure_s: float = 0.0


def _sweep_and_measure(cal, step, measured, cache: str, hydra_args, run: bool, tally: Tally):
    """Sweep the runs of ``step`` (the sweeper decides: new, stale and failed ones), then
    measure every world of ``measured`` (cached in ``<out>/<cache>``); None when the sweep
    refused the command (exit status 2)."""
    from . import run as runner

    since = time.time()
    if run and step.worlds:
        code, seconds = runner.sweep(cal, step, hydra_args)
        tally.code, tally.seconds = tally.code or code, tally.seconds + seconds
        tally.made += runner.made_since(cal, step, since)
        if code == 2:
            return None
    start = time.perf_counter()
    stats = runner.measure_all(cal, measured, cal.out / cache)
    tally.measure_s += time.perf_counter() - start
    return stats


def calibrate(cal, hydra_args: list[str], plan_only: bool = False, run: bool = True) -> int:
    """Sample, run, measure, accept, report; the exit status (see the module docstring)."""
    from ...model.params import ConfigError
    from ...runs.io import config_dir
    from ...runs.runner import load_config
    from . import accept, readme, report, sample
    from . import run as runner
    from .readme import near_text

    try:
        load_config(list(cal.overrides))
    except (ConfigError, TypeError, ValueError) as err:
        return fail(f"invalid override: {str(err).splitlines()[0]}")
    params = sample.design(cal)
    plan = runner.plan(cal, list(params.index))
    todo = runner.pending(cal, plan)
    arms, per = len(plan.arms), len(plan.arms) * cal.replications
    # runs a confirmed world adds: its screening seeds are reused
    per_confirmed = arms * max(cal.confirm_replications - cal.replications, 0)
    most = len(plan.worlds) + cal.waves * cal.wave_candidates
    lines = [
        f"{cal.name}: first design {len(plan.worlds)} candidate worlds x {cal.replications} "
        f"replications x {arms} arms ({', '.join(plan.arms)}) = {plan.runs} runs of "
        f"{cal.customers} customers x {cal.weeks} weeks, {todo} not finished yet (the sweep "
        f"also reruns stale ones), into {cal.out}/runs",
    ]
    if cal.waves:
        lines.append(
            f"then up to {cal.waves} refinement waves of {cal.wave_candidates} worlds "
            + (
                f"(each picked by the emulator from {cal.wave_pool} x as many points) "
                if cal.wave_pool > 1
                else ""
            )
            + f"= at most {most} worlds, {most * per} screening runs"
        )
    if cal.confirms:
        lines.append(
            f"then the worlds within {near_text(cal)} of every enforced "
            f"target are confirmed with {cal.confirm_replications} replications, which alone "
            f"decide acceptance: {per_confirmed} more runs a confirmed world (how many worlds "
            "is known only after the screen)"
        )
    else:
        lines.append("no confirmation stage: the screen's replications decide acceptance")
    print("[loyaltysim calibrate] " + ";\n  ".join(lines), flush=True)
    if plan_only:
        return 0
    tally = Tally()
    cands, stats = pd.DataFrame(), pd.DataFrame()
    new = list(params.index)  # the worlds this wave adds: earlier waves are swept already
    wave_of = dict.fromkeys(new, 0)
    for wave in range(cal.waves + 1):
        if wave:  # history matching: the next design lies where no target rules worlds out
            more = sample.refine(cal, cands, wave, stats)
            if more is None:
                print(f"[loyaltysim calibrate] wave {wave}: every world is ruled out", flush=True)
                break
            params = pd.concat([params, more])
            wave_of.update(dict.fromkeys(more.index, wave))
            plan = runner.plan(cal, list(params.index))
            new = list(more.index)
            print(
                f"[loyaltysim calibrate] wave {wave}: {len(more)} worlds in the box of the "
                f"{int((cands['implausibility'] <= cal.cutoff).sum())} not ruled out",
                flush=True,
            )
        sample.write_worlds(params, cal.out / "candidates" / "world", f" (candidate of {cal.name})")
        step = runner.plan(cal, new)
        stats = _sweep_and_measure(cal, step, plan, "measures.csv", hydra_args, run, tally)
        if stats is None:
            return fail(REFUSED)
        cands = accept.table(cal, params, stats)
    confirmed: list[str] = []
    se = accept.pooled_se(cal, cands)  # the screen's noise, before confirmed means replace it
    if cal.confirms:
        confirmed = accept.to_confirm(cal, cands, se=se)
        ccal = replace(cal, replications=cal.confirm_replications)
        step = runner.plan(ccal, confirmed)
        print(
            f"[loyaltysim calibrate] confirmation: {len(confirmed)} worlds within "
            f"{near_text(cal)} of every enforced target x "
            f"{cal.confirm_replications} replications ({runner.pending(ccal, step)} runs not "
            f"finished yet; the screen's {cal.replications} are reused)",
            flush=True,
        )
        sure = _sweep_and_measure(
            ccal, step, step, "measures_confirmed.csv", hydra_args, run, tally
        )
        if sure is None:
            return fail(REFUSED)
        cands = accept.confirm(cal, params, stats, sure)
    code, seconds, made = tally.code, tally.seconds, tally.made
    meta = {
        "runs": plan.runs + per_confirmed * len(confirmed),
        "new_runs": made,
        "run_seconds": round(seconds, 1),
        "minutes": round(seconds / 60, 1),
        "seconds_per_new_run": round(seconds / made, 2) if made else None,
        "measure_seconds": round(tally.measure_s, 1),
        "hydra_args": hydra_args,
        "confirmed": len(confirmed),
        "arms": arms,
        "pooled_se": se,
    }
    cands["wave"] = pd.Series(wave_of)
    summary = report.write(cal, cands, meta)
    world_dir = cal.world_dir or config_dir() / "world"
    acc = cands[cands["accepted"]][[p.key for p in cal.parameters]]
    sample.write_worlds(acc, world_dir, f" (accepted by {cal.name})", prefix=cal.name)
    failed = summary["failed"]
    how = readme.run_hint(cal)
    where = f"worlds in {world_dir} ({how})" if summary["accepted"] else "no world to run"
    print(
        f"[loyaltysim calibrate] {summary['accepted']} of {summary['candidates']} worlds "
        f"accepted ({100 * summary['acceptance_rate']:.1f}%), {failed} not measured; "
        f"central world: {summary['central'] or 'none'}; report: {cal.out}/README.md; {where}",
        flush=True,
    )
    if not summary["accepted"]:
        bind = accept.binding(cal, cands)
        bind = bind[[t.enforce for t in cal.targets]].sort_values("met")
        worst = bind.iloc[0]
        return fail(
            f"empty ensemble: no candidate world meets every target; fewest meet "
            f"{worst['target']} ({worst['statistic']} {worst['target_value']}: "
            f"{worst['met']} of {worst['measured']} measured worlds); see {cal.out}/targets.csv",
            EMPTY,
        )
    if code or failed:
        print(
            f"loyaltysim-calibrate: {failed} candidate worlds have failed or missing runs "
            "(not accepted); rerun to retry them",
            file=sys.stderr,
        )
        return 1
    return 0


def cli() -> None:
    sys.exit(main())


if __name__ == "__main__":
    cli()
