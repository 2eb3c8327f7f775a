"""Run every experiment and regenerate the curated results under ``results/``.

    python experiments/run_all.py                    # all eight
    python experiments/run_all.py --only withdrawal  # one of them (README is refreshed too)
    python experiments/run_all.py --launcher basic   # any Hydra launcher (default: local)
    python experiments/run_all.py --jobs 4           # 4 jobs at a time (local or joblib only)
    python experiments/run_all.py --quick --out /tmp/res --runs /tmp/runs   # tiny smoke run
    python experiments/run_all.py --worlds none      # the default (central) world only
    python experiments/run_all.py --worlds <id> <id> # across these worlds only (not curated)

Each experiment is a Hydra sweep (``conf/experiment/<name>.yaml``) run into
``<runs>/<name>`` (finished runs are skipped on a re-run), then collected and analysed by
``loyaltysim.studies.analysis.<name>``, which writes ``<out>/<name>/`` (Markdown and CSV tables,
figures) and returns the claim sentences; ``<out>/README.md`` and ``<out>/claims.json``
gather them. Then (``--worlds``, by default every accepted world of conf/world except with
``--quick``) every experiment that has a claim (:data:`loyaltysim.studies.worlds.claims.CLAIMS`)
runs again in each world (``world=<id>``, runs and tables under ``<runs>/worlds/<id>``), and
``<out>/ensemble/claims.csv`` and ``claims.md`` and the README's first section, every claim's
verdict across the worlds before the central world's, are written
(:mod:`loyaltysim.studies.worlds.claims`). This file only drives: the analyses live in the
library.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
from pathlib import Path

from loyaltysim.runs.collect import collect
from loyaltysim.runs.progress import LINE, Progress
from loyaltysim.studies.analysis import EXPERIMENTS, analyse, titles, write_readme
from loyaltysim.studies.worlds import claims as across
from loyaltysim.studies.worlds.ensemble import accepted_worlds, world_values

ROOT = Path(__file__).resolve().parents[1]
QUICK = ["customers.n=300", "market.horizon_weeks=26"]
JOBLIB = ("local", "joblib")  # launchers that take hydra.launcher.n_jobs (conf/hydra/launcher)
# conf/config.yaml's `override hydra/launcher: local`: what a sweep uses when --launcher is not
# given (this driver then passes no launcher override; tests/test_docs.py checks the two agree)
DEFAULT_LAUNCHER = "local"
PROGRESS = "[loyaltysim sweep]"


def sweep_command(name: str, runs_dir: Path, args: argparse.Namespace) -> list[str]:
    """The Hydra multirun command of experiment ``name``, with launcher options only for
    the launcher in use (the config's default when ``--launcher`` is not given)."""
    cmd = [sys.executable, "-m", "loyaltysim", "-m", f"experiment={name}"]
    cmd += list(QUICK) if args.quick else []
    cmd += [f"seed=range(0,{args.seeds})"] if args.seeds else []
    cmd += list(args.set)
    cmd.append(f"hydra.sweep.dir={runs_dir}")
    if args.launcher:
        cmd.append(f"hydra/launcher={args.launcher}")
    if args.jobs is not None:
        cmd.append(f"hydra.launcher.n_jobs={args.jobs}")
    return cmd


def run_sweep(cmd: list[str], name: str) -> None:
    """Run a sweep with a progress bar (a tqdm bar on a terminal, its progress lines
    elsewhere: runs done, failed, skipped, time left); on failure, its last output."""
    tail: collections.deque[str] = collections.deque(maxlen=60)
    bar = Progress(0, name, tag="loyaltysim sweep")
    skipped = 0
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            tail.append(line)
            seen = LINE.search(line) if line.startswith(PROGRESS) else None
            if seen:
                skipped = int(seen["skipped"] or 0)
                bar.update(int(seen["done"]), int(seen["failed"]), skipped, int(seen["total"]))
            elif line.startswith(PROGRESS) and not bar.tty:
                print(line, end="", flush=True)
    bar.close()
    if proc.returncode:
        print("".join(tail), file=sys.stderr)
        raise SystemExit(f"experiment {name} failed (exit {proc.returncode}): {' '.join(cmd)}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--only",
        nargs="*",
        choices=list(EXPERIMENTS),
        metavar="NAME",
        help=f"run only these: {', '.join(EXPERIMENTS)}",
    )
    ap.add_argument("--quick", action="store_true", help="tiny markets, for smoke tests")
    ap.add_argument(
        "--seeds",
        type=int,
        metavar="N",
        help="seeds 0..N-1 in every experiment (default: each experiment's own count)",
    )
    ap.add_argument(
        "--world-seeds",
        type=int,
        metavar="N",
        help="seeds 0..N-1 in every experiment run in the other worlds (--worlds); default: "
        "as --seeds. Fewer seeds a world cost less and widen each world's CI over its seeds; "
        "the spread across worlds is what the across-worlds verdict reads",
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=ROOT / "results",
        metavar="DIR",
        help="where the tables, figures, README.md and claims.json go (default: results/)",
    )
    ap.add_argument(
        "--runs",
        type=Path,
        default=ROOT / "outputs" / "experiments",
        metavar="DIR",
        help="where the sweeps' run folders go, one per experiment (default: outputs/experiments/)",
    )
    ap.add_argument(
        "--launcher",
        metavar="NAME",
        help="Hydra launcher of every sweep (hydra/launcher=NAME): local, basic, joblib, or a "
        "plugin's, e.g. ray, submitit_slurm; default: "
        f"{DEFAULT_LAUNCHER} (the config's: each job in its own process, 2 at a time)",
    )
    ap.add_argument(
        "--jobs",
        type=int,
        metavar="N",
        help="jobs at a time (hydra.launcher.n_jobs), for the "
        f"{' and '.join(JOBLIB)} launchers only; default: the launcher's (local: 2)",
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="OVERRIDE",
        help="extra Hydra override for every sweep, repeatable (e.g. launcher options: "
        "--set hydra.launcher.timeout_min=60)",
    )
    ap.add_argument(
        "--worlds",
        nargs="+",
        metavar="ID",
        help="run the experiments with claims in these worlds too and write <out>/ensemble and "
        "the README's across-worlds section: all (every world in conf/world), none, or world "
        "ids; default: all, none with --quick",
    )
    args = ap.parse_args(argv)
    if args.worlds is None:
        args.worlds = ["none"] if args.quick else ["all"]
    if args.worlds == ["all"]:
        args.worlds = accepted_worlds()
    elif args.worlds == ["none"]:
        args.worlds = []
    unknown = sorted(set(args.worlds) - set(accepted_worlds()))
    if unknown:
        ap.error(f"--worlds {unknown[0]}: not a world of conf/world; allowed: all, none or ids")
    if args.jobs is not None and (args.launcher or DEFAULT_LAUNCHER) not in JOBLIB:
        ap.error(f"--jobs sets hydra.launcher.n_jobs, which the {args.launcher} launcher lacks")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    claims_path = args.out / "claims.json"
    claims = json.loads(claims_path.read_text()) if claims_path.is_file() else {}
    for name in args.only or list(EXPERIMENTS):
        print(f"== {name}", flush=True)
        runs_dir = args.runs / name
        run_sweep(sweep_command(name, runs_dir, args), name)
        claims[name] = analyse(name, collect(runs_dir), args.out / name, runs_dir)
        print("\n".join(claims[name]), flush=True)
        claims_path.write_text(json.dumps(claims, indent=2) + "\n")
    write_readme(args.out, claims, titles(), args.quick)
    if args.worlds:
        across_worlds(args)


def across_worlds(args: argparse.Namespace) -> None:
    """Every experiment with a claim, in every world of ``args.worlds``; then the ensemble
    tables and the README's section (the central run's effects as its detail)."""
    names = [n for n in (args.only or list(EXPERIMENTS)) if across.claims_of([n])]
    values = world_values(args.worlds) if len(args.worlds) > 1 else None
    central = _central()
    rows = []
    for i, world in enumerate(args.worlds, 1):
        base = args.runs / "worlds" / world
        for name in names:
            print(f"== {name} in world {i}/{len(args.worlds)} {world}", flush=True)
            seeds = args.world_seeds or args.seeds
            here = argparse.Namespace(
                **{**vars(args), "seeds": seeds, "set": [*args.set, f"world={world}"]}
            )
            run_sweep(sweep_command(name, base / name, here), name)
            analyse(name, collect(base / name), base / "results" / name, base / name)
        vals = values.loc[world].to_dict() if values is not None else {}
        rows.append(across.world_row(world, base / "results", vals, world == central))
    # a partial table never replaces the curated one: some worlds into results/ go to runs
    partial = set(args.worlds) != set(accepted_worlds())
    curated = args.out.resolve() == (ROOT / "results").resolve()
    dest = args.runs / "worlds" / "ensemble" if partial and curated else args.out / "ensemble"
    seeds = args.world_seeds or args.seeds
    table = across.write_ensemble(rows, dest, seeds)
    central = {
        **across.claim_effects(args.out),
        **across.claim_shares(args.out),
        **across.claim_flags(args.out),
    }
    section = across.readme_section(table, central, seeds)
    if not (partial and curated):
        across.insert_section(args.out / "README.md", section, table)
    print(f"== across {len(args.worlds)} worlds: {dest / 'claims.md'}\n{section}", flush=True)


def _central() -> str | None:
    """The calibration's central world (results/calibration/summary.json), if any."""
    try:
        return json.loads((ROOT / "results" / "calibration" / "summary.json").read_text())[
            "central"
        ]
    except (OSError, ValueError, KeyError):
        return None


if __name__ == "__main__":
    main()
