"""Re-judge a finished calibration under a changed targets file, without redoing its screen.

    python scripts/rejudge_calibration.py results/calibration_retention results/calibration

A calibration screens every candidate world with a few replications, then confirms the
worlds its screen cannot rule out with more (``confirm_rule``), and only the confirmed
means decide acceptance. When a target's ``enforce`` changes afterwards, the screen's
statistics still hold (the runs are deterministic in world and seed), but the set of worlds
worth confirming changes: a world the old rule dropped on an enforced target that is now
only reported may have to be confirmed. This script

1. reads the earlier calibration's record (``<from>/candidates.csv``: every world's
   parameters, screen means, confirmed means; ``<from>/summary.json``: the screen's pooled
   standard errors),
2. applies the current ``conf/calibration/<name>.yaml`` (its targets and confirmation
   rule), with ``calibration.<key>=<value>`` overrides,
3. runs, with the project's own sweeps into ``<to>/runs``, the confirmation replications of
   every world the rule now wants confirmed and the record lacks,
4. writes ``<to>/`` (README, tables, figures, central world) and the accepted worlds into
   ``conf/world`` exactly as ``loyaltysim-calibrate`` does.

The design (which worlds were screened) is the earlier calibration's, refinement waves
included; the README it writes says so. Reproduce the earlier record itself with
``loyaltysim-calibrate calibration=<from>/<name>.yaml``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from loyaltysim.runs.io import config_dir
from loyaltysim.studies.calibration import accept, measures, report, sample, targets
from loyaltysim.studies.calibration import run as runner


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("source", type=Path, help="the earlier calibration's folder")
    p.add_argument("out", type=Path, help="the folder to write (its runs go in <out>/runs)")
    p.add_argument("--calibration", default="literature", help="targets file (name or path)")
    p.add_argument("overrides", nargs="*", help="calibration.<key>=<value>")
    p.add_argument("--no-run", action="store_true", help="measure finished runs only")
    args = p.parse_args(argv)

    cal = targets.load(args.calibration, args.overrides)
    cal = replace(cal, out=args.out)
    old = pd.read_csv(args.source / "candidates.csv", index_col="world")
    earlier = json.loads((args.source / "summary.json").read_text())
    se = earlier["pooled_se"]
    params = old[[q.key for q in cal.parameters]]
    stats_cols = [t.statistic for t in cal.targets]
    stats_cols += [measures.SE + s for s in stats_cols]
    screen = old[["status", *stats_cols]].copy()
    for t in cal.targets:  # the screen's means: a confirmed world's own columns are confirmed
        screen[t.statistic] = old["screen_" + t.statistic]
    screened = accept.table(cal, params, screen)
    want = accept.to_confirm(cal, screened, se=se)
    have = [w for w in want if bool(old.at[w, "confirmed"])]
    new = [w for w in want if w not in have]
    print(
        f"[rejudge] {len(old)} screened worlds; the rule confirms {len(want)}: {len(have)} "
        f"confirmed in {args.source}, {len(new)} to run",
        flush=True,
    )
    ccal = replace(cal, replications=cal.confirm_replications)
    step = runner.plan(ccal, new)
    seconds, made = 0.0, 0
    if new and not args.no_run:
        sample.write_worlds(params.loc[new], cal.out / "candidates" / "world", " (rejudged)")
        since = time.time()
        code, seconds = runner.sweep(ccal, step, [])
        made = runner.made_since(ccal, step, since)
        if code == 2:
            return 2
    start = time.perf_counter()
    sure_new = runner.measure_all(ccal, step, cal.out / "measures_confirmed.csv")
    measure_s = time.perf_counter() - start
    sure_old = old.loc[have, ["status", *stats_cols]]
    sure = pd.concat([sure_old, sure_new]) if len(new) else sure_old
    cands = accept.confirm(cal, params, screen, sure)
    cands["wave"] = old["wave"]
    arms = len(step.arms)
    per_confirmed = arms * max(cal.confirm_replications - cal.replications, 0)
    meta = {
        "runs": arms * cal.replications * len(old) + per_confirmed * len(want),
        "new_runs": made,
        "run_seconds": round(seconds, 1),
        "minutes": round(seconds / 60, 1),
        "seconds_per_new_run": round(seconds / made, 2) if made else None,
        "measure_seconds": round(measure_s, 1),
        "hydra_args": [],
        "confirmed": len(want),
        "arms": arms,
        "pooled_se": se,
        "rejudged_from": str(args.source),
        "rejudged_new_confirmations": len(new),
    }
    summary = report.write(cal, cands, meta)
    acc = cands[cands["accepted"]][[q.key for q in cal.parameters]]
    sample.write_worlds(acc, config_dir() / "world", f" (accepted by {cal.name})", prefix=cal.name)
    print(
        f"[rejudge] {summary['accepted']} of {summary['candidates']} worlds accepted; "
        f"central {summary['central']}; {made} runs in {seconds:.0f} s",
        flush=True,
    )
    return 0 if summary["accepted"] else 3


if __name__ == "__main__":
    raise SystemExit(main())
