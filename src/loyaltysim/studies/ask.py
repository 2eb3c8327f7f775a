"""``loyaltysim-ask``: ask a scenario a question and get an answer a manager can read.

    loyaltysim-ask scenario=replace_rebate_with_thanks
    loyaltysim-ask scenario=withdraw_rebate seeds=4 customers.n=1000   # smaller, quicker
    loyaltysim-ask scenario=path/to/my_question.yaml out=outputs/my-question
    loyaltysim-ask scenario=replace_rebate_with_thanks world=my_fit/world/your_market.yaml

A scenario (``conf/scenario/<name>.yaml``) names arms, each a list of Hydra overrides of any
kind (a programme type with its own settings, prices, rivals), a baseline arm, the seeds
and optional firm display names. Each arm runs as its own sweep (the ``loyaltysim -m``
machinery: one folder per run, finished runs skipped on a re-run, failures recorded) into
one scenario folder; the arms are then compared with the baseline by name, paired by
seed, and the answer is printed and written as Markdown, CSV and a self-contained HTML
report (``<out>/answer/``). Other ``key=value`` arguments are overrides for every arm;
``world=`` (a name in conf/world or a file's path, such as ``loyaltysim-fit`` writes) is
the market asked about, and its values replace the scenario's shared ``overrides``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from ..runs.collect import Collected, UsageError, collect
from ..runs.io import config_dir, folder_problem
from ..runs.progress import Progress
from ..runs.sweep import SWEEP, sweep_status
from . import formatting as fmt
from .comparison import compare, headline
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

OPTIONS = ("scenario", "seeds", "out", "jobs")


def _jobs(text: str) -> int:
    """``jobs=N``: runs at a time, an integer >= 1."""
    if not text.isdigit() or int(text) < 1:
        raise UsageError(f"jobs = {text!r}; allowed: an integer >= 1 (runs at a time)")
    return int(text)


def check(scn: Scenario, extra: list[str]) -> int:
    """Compose every arm's config before anything runs; returns the market size."""
    from ..model.params import ConfigError
    from ..runs.runner import load_config

    size = 0
    for arm in scn.arms:
        try:
            cfg = load_config(arm_overrides(scn, arm, extra))
        except (ConfigError, TypeError, ValueError) as err:
            raise UsageError(f"arm {arm.name!r}: {str(err).splitlines()[0]}") from None
        if arm.name == scn.baseline:
            size = cfg.customers.n
    return size


def _meta(sweep_dir: Path, since: float) -> dict | None:
    try:
        meta = json.loads((sweep_dir / SWEEP).read_text())
    except (OSError, ValueError):
        return None
    return meta if meta.get("started", 0) >= since and "jobs" in meta else None


def run_arms(scn: Scenario, out: Path, extra: list[str], jobs: int | None) -> dict[str, list[str]]:
    """Run each arm as a sweep into ``out/runs``; returns each arm's run folders."""
    runs_dir, logs = out / "runs", out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    seeds = "seed=" + ",".join(str(s) for s in scn.seeds)
    bar = Progress(len(scn.arms) * len(scn.seeds), scn.name, tag="loyaltysim ask")
    totals = [0, 0, 0]  # done, failed, skipped in finished arms
    job_names: dict[str, list[str]] = {}
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    try:
        for arm in scn.arms:
            cmd = [sys.executable, "-m", "loyaltysim", "-m", *arm_overrides(scn, arm, extra)]
            cmd += [seeds, f"hydra.sweep.dir={runs_dir}"]
            cmd += [f"hydra.launcher.n_jobs={jobs}"] if jobs else []
            since = time.time()
            with open(logs / f"{arm.name}.log", "w") as log:
                proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
                while True:
                    finished = proc.poll() is not None
                    meta = _meta(runs_dir, since)
                    if meta is not None:
                        done, failed = sweep_status(runs_dir, meta["jobs"])
                        skipped = meta["done_at_start"]
                        bar.update(totals[0] + done, totals[1] + failed, totals[2] + skipped)
                    if finished:
                        break
                    time.sleep(0.3)
            if proc.returncode == 2 or meta is None:
                tail = (logs / f"{arm.name}.log").read_text().strip().splitlines()[-1:]
                raise UsageError(f"arm {arm.name!r} did not run: {' '.join(tail)}")
            job_names[arm.name] = list(meta["jobs"])
            totals = [totals[0] + done, totals[1] + failed, totals[2] + skipped]
    finally:
        bar.close()
    return job_names


def combine(collected: Collected, job_names: dict[str, list[str]]) -> Collected:
    """The collected runs with an ``arm`` column, one copy of a run per arm that ran it."""
    frames = {"runs": [], "summary": []}
    for arm, names in job_names.items():
        for key in frames:
            table = getattr(collected, key)
            sub = table[table["run_id"].isin(names)].copy() if len(table) else table
            sub.insert(2, "arm", arm)
            frames[key].append(sub)
    runs = pd.concat(frames["runs"], ignore_index=True)
    summary = pd.concat(frames["summary"], ignore_index=True)
    if summary.empty:
        raise UsageError("no run finished; see the logs and error.json in the run folders")
    return Collected(runs, summary, collected.failures, ["arm"])


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
    options, extra = {}, []
    for token in argv:
        if token in ("-h", "--help"):
            print(__doc__)
            raise SystemExit(0)
        key, sep, value = token.partition("=")
        if not sep or token.startswith("-"):
            raise UsageError(
                f"argument {token!r}; allowed: {'=..., '.join(OPTIONS)}=... or overrides"
            )
        (options.__setitem__(key, value) if key in OPTIONS else extra.append(token))
    if "scenario" not in options:
        known = sorted(p.stem for p in (config_dir() / "scenario").glob("*.yaml"))
        raise UsageError(
            f"scenario missing; allowed: scenario=NAME with NAME one of {', '.join(known)}"
        )
    return options, extra


def main(argv: list[str] | None = None) -> None:
    try:
        options, extra = parse(list(sys.argv[1:] if argv is None else argv))
        scn = load_scenario(options["scenario"])
        if "seeds" in options:
            scn.seeds = seed_list(yaml.safe_load(options["seeds"]))
        jobs = _jobs(options["jobs"]) if "jobs" in options else None
        out = Path(options.get("out") or f"outputs/scenarios/{scn.name}")
        customers = check(scn, extra)
        problem = folder_problem(out)  # before the first arm runs, not after
        if problem is not None:
            raise UsageError(
                f"out = {str(out)!r}; allowed: a folder that can be created ({problem})"
            )
        print(f"{scn.question}\n{len(scn.arms)} arms x {len(scn.seeds)} seeds into {out}")
        job_names = run_arms(scn, out, extra, jobs)
        sentences, head, dest = answer(scn, out, job_names, customers)
    except UsageError as err:
        print(f"loyaltysim-ask: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    against, scope = framing(scn, head, customers)
    print("\n" + "\n".join([against, *sentences, scope]) + "\n")
    print(table(head).to_string(index=False))
    print(f"\nanswer: {dest / 'answer.md'}, {dest / 'report.html'}, {dest / 'answer.csv'}")
    failures = collect(out / "runs", write=False).failures
    if len(failures):
        print(f"note: {len(failures)} runs failed; re-run to retry them", file=sys.stderr)
        raise SystemExit(1)


if __name__ == "__main__":
    main()
