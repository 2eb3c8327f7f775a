"""``loyaltysim-ask``: ask a scenario a question and get an answer a manager can read.

    loyaltysim-ask scenario=replace_rebate_with_thanks
    loyaltysim-ask scenario=withdraw_rebate quick=true customers.n=1000   # 4 worlds, 3 seeds
    loyaltysim-ask scenario=path/to/my_question.yaml out=outputs/my-question
    loyaltysim-ask scenario=replace_rebate_with_thanks world=my_fit/world/your_market.yaml
    loyaltysim-ask scenario=withdraw_rebate worlds=central      # the default world alone

By default every arm runs in every accepted world of conf/world (``worlds=all``; worlds the
outer level, seeds paired within a world) and the answer leads with one sentence per arm
across them (:mod:`.ask_worlds`): better in k of n worlds, the median world, the middle 80%
and the range, and where the answer flips. ``worlds=central`` (the default config) or
``world=`` answers in one world; ``worlds=<id>,<id>`` in chosen worlds.

A scenario (``conf/scenario/<name>.yaml``) names arms, each a list of Hydra overrides of any
kind (a programme type with its own settings, prices, rivals), a baseline arm, the seeds
and optional firm display names. The arms run as one sweep (the ``loyaltysim -m``
machinery: one folder per run, finished runs skipped on a re-run, failures recorded, each
world and seed's warm-up played once for every arm) into one scenario folder; the arms
are then compared with the baseline by name, paired by seed, and the answer is printed
and written as Markdown, CSV and a self-contained HTML report (``<out>/answer/``). Other
``key=value`` arguments are overrides for every arm; ``world=`` (a name in conf/world or a
file's path, such as ``loyaltysim-fit`` writes) is the market asked about, and its values
replace the scenario's shared ``overrides``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import yaml

from ..runs.collect import UsageError, collect
from ..runs.io import config_dir, folder_problem
from ..runs.progress import Progress
from ..runs.sweep import SWEEP, sweep_status
from . import formatting as fmt
from .ask_worlds import answer_worlds, combine
from .comparison import compare, headline
from .options import jobs_command
from .scenario import (  # noqa: F401  (the scenario's names, as ask has always offered them)
    ARM_KEYS,
    ARM_NAME,
    TOP_KEYS,
    Arm,
    Scenario,
    arm_overrides,
    load_scenario,
    merged,
    scenario_path,
    seed_list,
    world_keys,
)

OPTIONS = ("scenario", "seeds", "out", "jobs", "worlds", "quick")
QUICK = (4, 3)  # a quick answer: at most this many worlds and seeds


def _jobs(text: str) -> int:
    """``jobs=N``: runs at a time, an integer >= 1."""
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"jobs = {text!r}; allowed: an integer >= 1 (runs at a time)")
    return int(text)


def check(scn: Scenario, extra: list[str]) -> int:
    """Compose every arm's config before anything runs; returns the market size."""
    return check_config(scn, extra).customers.n


def check_config(scn: Scenario, extra: list[str], worlds: Sequence[str] = ()):
    """Compose every arm's config (in every one of ``worlds``) before anything runs; returns
    the baseline's config (its market size, horizon and margin are the answer's frame)."""
    from ..model.params import ConfigError
    from ..runs.runner import load_config

    base = None
    for i, world in enumerate(worlds or [None]):
        more = [] if world is None else [f"world={world}"]
        # worlds set the same keys to other values: every arm composed in the first world,
        # the baseline in each (its file read and checked) keeps the check to seconds
        for arm in scn.arms if i == 0 else [a for a in scn.arms if a.name == scn.baseline]:
            try:
                cfg = load_config(arm_overrides(scn, arm, [*extra, *more]))
            except (ConfigError, TypeError, ValueError) as err:
                where = f" (in world {world})" if world else ""
                raise UsageError(f"arm {arm.name!r}: {str(err).splitlines()[0]}{where}") from None
            if arm.name == scn.baseline and base is None:
                base = cfg
    return base


def _meta(sweep_dir: Path, since: float) -> dict | None:
    try:
        meta = json.loads((sweep_dir / SWEEP).read_text())
    except (OSError, ValueError):
        return None
    return meta if meta.get("started", 0) >= since and "jobs" in meta else None


def run_arms(
    scn: Scenario, out: Path, extra: list[str], jobs: int | None, worlds: Sequence[str] = ()
) -> dict[str, list[str]]:
    """Run every arm into ``out/runs`` as one sweep (with ``worlds``: over every world, the
    outer level, and within it every seed); returns each arm's run folders.

    One sweep, not one per arm, so that the launcher plays each world and seed's warm-up
    once for all the arms that share it (``hydra.sweeper.jobs``: each arm's command line
    expanded as its own ``-m`` would be, so the run folders are those of a sweep per arm)."""
    runs_dir, logs = out / "runs", out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    seeds = "seed=" + ",".join(str(s) for s in scn.seeds)
    extra = [*extra, *([f"world={','.join(worlds)}"] if worlds else [])]
    total = len(scn.arms) * len(scn.seeds) * max(1, len(worlds))
    lines = [[*arm_overrides(scn, arm, extra), seeds] for arm in scn.arms]
    cmd = jobs_command(lines, logs / "arms.yaml", runs_dir, jobs=jobs)
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    bar = Progress(total, scn.name, tag="loyaltysim ask")
    since, meta = time.time(), None
    try:
        with open(logs / "sweep.log", "w") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
            while True:
                finished = proc.poll() is not None
                meta = _meta(runs_dir, since)
                if meta is not None:
                    done, failed = sweep_status(runs_dir, meta["jobs"])
                    bar.update(done, failed, meta["done_at_start"])
                if finished:
                    break
                time.sleep(0.3)
    finally:
        bar.close()
    if proc.returncode == 2 or meta is None or len(meta.get("groups", [])) != len(scn.arms):
        tail = (logs / "sweep.log").read_text().strip().splitlines()[-1:]
        raise UsageError(f"the arms did not run: {' '.join(tail)}")
    return {arm.name: list(names) for arm, names in zip(scn.arms, meta["groups"], strict=True)}


def answer(scn: Scenario, out: Path, job_names: dict[str, list[str]], customers: int):
    """Compare the arms with the baseline; write ``out/answer``; return the sentences."""
    from .compare import to_markdown, write
    from .report import write_html

    col = combine(collect(out / "runs"), job_names)
    cmp = compare(col, ["arm"], scn.baseline, scn.firm, 104)
    cmp.labels = {}  # scenario arms go by their own names, not "arm=..."
    head = headline(col, cmp, col.summary["arm"], customers)
    titles = {a.name: a.title for a in scn.arms}
    against, scope = framing(scn, head, customers)
    sentences = [fmt.answer(r, titles[r.arm]) for _, r in head.iterrows()]
    dest = out / "answer"
    paths = write(col, cmp, ["arm"], dest, names=scn.firm_names)
    head.to_csv(dest / "answer.csv", index=False)
    firm = fmt.firm_name(scn.firm, scn.firm_names)
    md = [f"# {scn.question}", "", f"Firm: **{firm}**; {customers:,} customers.", ""]
    md += [against, ""] + [f"- {s}" for s in sentences] + ["", scope]
    md += ["", to_markdown(cmp, scn.firm_names)]
    (dest / "answer.md").write_text("\n".join(md) + "\n")
    pngs = [p for p in paths if p.suffix == ".png"]
    note = f"Profit per 1,000 customers: the change divided by the market size ({customers:,})."
    write_html(
        dest / "report.html",
        scn.question,
        cmp,
        pngs,
        sentences,
        head,
        titles,
        scn.firm_names,
        [against, note, scope],
    )
    return sentences, head, dest


def framing(scn: Scenario, head: pd.DataFrame, customers: int) -> tuple[str, str]:
    """What every sentence of an answer is measured against (the baseline, the market) and
    what its intervals cover (the seeds of one world)."""
    base = next(a.title for a in scn.arms if a.name == scn.baseline)
    seeds = int(head["seeds"].max()) if len(head) else 0
    against = f"Each arm against the baseline, {fmt.lowered(base)}, in a market of "
    return f"{against}{customers:,} customers:", fmt.scope(seeds) + "."


def table(head: pd.DataFrame) -> pd.DataFrame:
    """The headline numbers as printed: money as €1,234, changes signed."""
    return pd.DataFrame(
        {
            "arm": head["arm"],
            "profit vs baseline": [f"{fmt.number(v, 1, True)}%" for v in head["profit_pct"]],
            "profit change": [fmt.money(v, True) for v in head["profit_diff_eur"]],
            "per 1,000 customers": [fmt.money(v, True) for v in head["profit_per_1000_eur"]],
            "share (pp)": [fmt.number(v, 1, True) for v in head["share_pp"]],
            "payback week": [fmt.number(v) for v in head["payback_week"]],
            "seeds better": [
                f"{b} of {n}" for b, n in zip(head["better_seeds"], head["seeds"], strict=True)
            ],
        }
    )


def parse(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """The ask's own options and the overrides for every arm (the parser
    ``loyaltysim-optimise`` shares: :func:`.options.parse_options`)."""
    from .options import parse_options

    options, extra = parse_options(argv, OPTIONS, __doc__)
    if "scenario" not in options:
        known = sorted(p.stem for p in (config_dir() / "scenario").glob("*.yaml"))
        raise UsageError(
            f"scenario missing; allowed: scenario=NAME with NAME one of {', '.join(known)}"
        )
    return options, extra


def choose_worlds(options: dict[str, str], extra: list[str]) -> tuple[list[str], int, bool]:
    """The worlds to answer in (empty: one world, the default config or the ``world=``
    given), how many the full ensemble has, and whether the answer is quick."""
    from .worlds.ensemble import spread, world_list

    quick_text = options.get("quick", "false").lower()
    if quick_text not in ("true", "false", "1", "0", "yes", "no"):
        raise UsageError(f"quick = {options['quick']!r}; allowed: true or false")
    quick = quick_text in ("true", "1", "yes")
    given = [o for o in extra if o.partition("=")[0] == "world"]
    spec = options.get("worlds")
    if given and spec is not None:
        raise UsageError(
            f"worlds = {spec!r} with {given[-1]}; allowed: one of them (world= asks one "
            "world, worlds= several)"
        )
    if given or spec in ("central", "default"):
        return [], 1, quick
    worlds = world_list(spec or "all", paths=False)
    if "default" in worlds:
        raise UsageError(
            f"worlds = {spec!r}; allowed: central alone, or worlds of conf/world (all, or "
            "names separated by ,)"
        )
    return (spread(worlds, QUICK[0]) if quick else worlds), len(worlds), quick


def main(argv: list[str] | None = None) -> None:
    try:
        options, extra = parse(list(sys.argv[1:] if argv is None else argv))
        scn = load_scenario(options["scenario"])
        if "seeds" in options:
            scn.seeds = seed_list(yaml.safe_load(options["seeds"]))
        worlds, total, quick = choose_worlds(options, extra)
        if quick:
            scn.seeds = scn.seeds[: QUICK[1]]
        jobs = _jobs(options["jobs"]) if "jobs" in options else None
        out = Path(options.get("out") or f"outputs/scenarios/{scn.name}")
        cfg = check_config(scn, extra, worlds)  # a refused config leaves no folder
        problem = folder_problem(out)  # before the first arm runs, not after
        if problem is not None:
            raise UsageError(
                f"out = {str(out)!r}; allowed: a folder that can be created ({problem})"
            )
        where = f" x {len(worlds)} worlds" if worlds else " in one world"
        print(f"{scn.question}\n{len(scn.arms)} arms x {len(scn.seeds)} seeds{where} into {out}")
        if quick:
            print(f"quick answer: {max(1, len(worlds))} of {total} worlds, {len(scn.seeds)} seeds")
        job_names = run_arms(scn, out, extra, jobs, worlds)
        if worlds:
            sentences, notes, head, dest = answer_worlds(
                scn, out, job_names, cfg, worlds, quick, total
            )
        else:
            sentences, head, dest = answer(scn, out, job_names, cfg.customers.n)
            against, scope = framing(scn, head, cfg.customers.n)
            notes = [against, scope]
    except UsageError as err:
        print(f"loyaltysim-ask: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    if worlds:
        print("\n" + "\n".join([notes[0], *sentences, *notes[1:]]) + "\n")
    else:
        print("\n" + "\n".join([notes[0], *sentences, notes[1]]) + "\n")
        print(table(head).to_string(index=False))
    print(f"\nanswer: {dest / 'answer.md'}, {dest / 'report.html'}, {dest / 'answer.csv'}")
    # the answer's collect wrote them: no second pass over every run
    failures = pd.read_csv(out / "runs" / "collected" / "failures.csv")
    if len(failures):
        print(f"note: {len(failures)} runs failed; re-run to retry them", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
