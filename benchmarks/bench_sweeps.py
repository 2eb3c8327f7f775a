"""Speed of sweeps: a large sweep, a re-run that skips every finished run, and the cost of
composing the jobs' configs.

    .venv/bin/python benchmarks/bench_sweeps.py                 # 200 runs of 10,000 x 156
    .venv/bin/python benchmarks/bench_sweeps.py --runs 20 --skip-main   # a quick look

Steps (each a real ``loyaltysim -m`` in a subprocess, timed from outside: wall seconds and
the CPU seconds of the process and its children):

1. ``sweep``: ``--runs`` seeds of the default market at ``--customers`` (three years,
   156 weeks; per-run figures off, as in every sweep; customer tables written), ``--jobs``
   at a time with the default launcher;
2. ``rerun``: the same command again: every run is finished, so nothing is launched;
3. ``main`` and ``main rerun``: the main job's 60-run sweep (experiment=head_to_head),
   then its re-run (``--skip-main`` leaves these out);
4. ``compose``: Hydra's own composition of 200 job configs against loyaltysim's cache
   (:mod:`loyaltysim.runs.sweepconfig`), in this process;
5. ``import`` and ``tiny run``: ``import loyaltysim.cli`` and a whole ``debug=default`` run.

Compare figures from one run of the script: these machines are shared and noisy.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import parser

ROOT = Path(__file__).resolve().parents[1]
LOYALTYSIM = [sys.executable, "-m", "loyaltysim"]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall s, CPU s of the command and its children, stdout) of a finished command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout


def compose_cost(jobs: int) -> dict[str, float]:
    """Seconds per job config: Hydra's load_sweep_config against the cached one."""
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.types import RunMode

    import loyaltysim  # noqa: F401  (resolvers, schema)
    from loyaltysim.runs.io import config_dir
    from loyaltysim.runs.sweepconfig import CachingConfigLoader

    arms = ("none", "discount", "engagement")
    overrides = [
        [f"firm/programme={arms[i % 3]}", f"seed={i}", "customers.n=10000"] for i in range(jobs)
    ]
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration(
            "config", ["hydra.sweep.dir=/tmp/unused"], run_mode=RunMode.MULTIRUN
        )
        start = time.perf_counter()
        for job in overrides:
            loader.load_sweep_config(master, job)
        hydra_s = time.perf_counter() - start
        cached = CachingConfigLoader(loader)
        start = time.perf_counter()
        for job in overrides:
            cached.load_sweep_config(master, job)
        cached_s = time.perf_counter() - start
    GlobalHydra.instance().clear()
    return {
        "jobs": jobs,
        "hydra_s": hydra_s,
        "cached_s": cached_s,
        "compositions": cached.composed,
        "ratio": hydra_s / cached_s,
    }


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--runs", type=int, default=200, help="runs of the big sweep")
    ap.add_argument("--customers", type=int, default=10_000, help="customers per run")
    ap.add_argument("--jobs", type=int, default=2, help="jobs at a time (hydra.launcher.n_jobs)")
    ap.add_argument("--skip-main", action="store_true", help="leave out the 60-run main job")
    ap.add_argument("--keep", type=Path, default=None, help="sweep folders here, kept")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args()

    env = {**os.environ, "MPLBACKEND": "Agg"}
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench_sweeps_"))
    out: dict[str, object] = {"cores": os.cpu_count(), "runs": args.runs}
    try:
        big = [
            *LOYALTYSIM,
            "-m",
            f"customers.n={args.customers}",
            f"seed=range(0,{args.runs})",
            f"hydra.launcher.n_jobs={args.jobs}",
            f"hydra.sweep.dir={base / 'big'}",
        ]
        rows = []
        wall, cpu, _ = timed(big, env)
        rows.append((f"sweep: {args.runs} runs x {args.customers:,} x 156 weeks", wall, cpu))
        wall, cpu, text = timed(big, env)
        assert f"{args.runs} runs already finished" in text, text
        rows.append((f"rerun of it (all {args.runs} skipped)", wall, cpu))
        if not args.skip_main:
            main_job = [
                *LOYALTYSIM,
                "-m",
                "experiment=head_to_head",
                f"hydra.sweep.dir={base / 'main'}",
            ]
            wall, cpu, _ = timed(main_job, env)
            rows.append(("main job: 60 runs (experiment=head_to_head)", wall, cpu))
            wall, cpu, text = timed(main_job, env)
            assert "60 runs already finished" in text, text
            rows.append(("rerun of the main job (all 60 skipped)", wall, cpu))
        wall, cpu, _ = timed([sys.executable, "-c", "import loyaltysim.cli"], env)
        rows.append(("import loyaltysim.cli", wall, cpu))
        tiny = [*LOYALTYSIM, "debug=default", f"hydra.run.dir={base / 'tiny'}"]
        wall, cpu, _ = timed(tiny, env)
        rows.append(("tiny run (debug=default, one process)", wall, cpu))
        out["steps"] = [{"step": s, "wall_s": w, "cpu_s": c} for s, w, c in rows]
        out["compose"] = compose_cost(200)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)

    print(f"{'step':<52} {'wall s':>8} {'CPU s':>8}")
    for step in out["steps"]:
        print(f"{step['step']:<52} {step['wall_s']:>8.1f} {step['cpu_s']:>8.1f}")
    c = out["compose"]
    print(
        f"composing {c['jobs']} job configs: Hydra {c['hydra_s']:.1f} s, cached "
        f"{c['cached_s']:.1f} s ({c['compositions']} compositions), {c['ratio']:.1f}x"
    )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
