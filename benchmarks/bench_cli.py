"""The command line's fixed costs (issue 21), this checkout against a baseline commit.

Sections, each timed in alternating rounds (baseline, this tree; reversed on odd rounds),
CPU as user + sys of the command and its children (``resource.getrusage``):

1. ``cli``: one ``python -m loyaltysim customers.n=10000 market.horizon_weeks=52`` (the
   default run: figure and customer table), and the same with ``output.figure=false``;
2. ``rerun``: ``python -m loyaltysim -m`` into a folder where every run is finished
   (``--runs`` runs of 300 customers x 8 weeks, made once per tree before timing);
3. ``job``: a sweep of ``--jobs`` runs (3 arms x seeds, 3,000 customers x 156 + 104 weeks,
   2 at a time) minus the re-run of it, per job, against the same markets simulated in one
   process (``run_arms``, this tree).

    .venv/bin/python benchmarks/bench_cli.py --baseline 08669f7 --rounds 3

The baseline is the commit's ``src/`` and ``conf/`` (``git archive``), run with
``PYTHONPATH`` set to it. Absolute figures on a shared machine are noisy: compare the
ratios of one run, with the load printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import parser
from bench_ensemble import _load, alternate, show, stats, timed, timed_child

ROOT = Path(__file__).resolve().parents[1]


def trees(baseline: str) -> dict[str, Path]:
    """{"baseline": its src/, "this": this checkout's src/}."""
    out = Path(tempfile.mkdtemp(prefix="bench_cli_base_"))
    archive = subprocess.run(["git", "archive", baseline, "src", "conf"], cwd=ROOT,
                             capture_output=True, check=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return {"baseline": out / "src", "this": ROOT / "src"}


def env_for(src: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src), "MPLBACKEND": "Agg"}


def ratios(got: dict[str, list], label: str) -> dict:
    cpu = {k: [r[0] for r in v] for k, v in got.items()}
    for name, xs in cpu.items():
        show(f"{label} {name} CPU", xs, "s")
    over = [t / b for t, b in zip(cpu["this"], cpu["baseline"], strict=True)]
    show(f"{label} this / baseline (CPU)", over, "x")
    return {**{f"{k}_cpu_s": stats(v) for k, v in cpu.items()}, "ratio": stats(over)}


def cli(args, src: dict[str, Path]) -> dict:
    res = {}
    for label, extra in (("default", []), ("no figure", ["output.figure=false"])):
        tmp = Path(tempfile.mkdtemp(prefix="bench_cli_run_"))
        cases = {
            name: (lambda name=name, extra=extra, tmp=tmp: timed_child(
                [sys.executable, "-m", "loyaltysim", "customers.n=10000",
                 "market.horizon_weeks=52", *extra, f"hydra.run.dir={tmp / name}",
                 "output.overwrite=true"], env_for(src[name])))
            for name in src
        }  # fmt: skip
        res[label] = ratios(alternate(args.rounds, cases), f"cli {label}:")
    return res


def _sweep(src: Path, folder: Path, grid: list[str]) -> tuple[float, float]:
    cmd = [sys.executable, "-m", "loyaltysim", "-m", *grid, f"hydra.sweep.dir={folder}"]
    return timed_child(cmd, env_for(src))


def rerun(args, src: dict[str, Path]) -> dict:
    seeds = max(1, args.runs // 3)
    grid = ["firm/programme=none,discount,engagement", f"seed=range(0,{seeds})",
            "customers.n=300", "market.horizon_weeks=8", "output.figure=false"]  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="bench_cli_rerun_"))
    for name in src:  # each tree's own finished runs (fingerprints hold its code)
        _sweep(src[name], tmp / name, grid)
    cases = {name: (lambda name=name: _sweep(src[name], tmp / name, grid)) for name in src}
    print(f"rerun: {3 * seeds} finished runs")
    return {"runs": 3 * seeds, **ratios(alternate(args.rounds, cases), "rerun:")}


def job(args, src: dict[str, Path]) -> dict:
    seeds = max(1, args.jobs // 3)
    grid = ["firm/programme=none,discount,engagement", f"seed=range(1,{seeds + 1})",
            "customers.n=3000", "market.horizon_weeks=156", "market.warmup_weeks=104",
            "hydra.launcher.n_jobs=2"]  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="bench_cli_job_"))
    n = 3 * seeds
    per: dict[str, list[float]] = {name: [] for name in src}
    for r in range(args.rounds):
        for name in list(src) if r % 2 == 0 else list(src)[::-1]:
            folder = tmp / f"{name}_{r}"
            full = _sweep(src[name], folder, grid)[0]
            again = _sweep(src[name], folder, grid)[0]
            per[name].append((full - again) / n)
    sys.path.insert(0, str(src["this"]))
    from bench_ensemble import config

    from loyaltysim import run_arms

    cfgs = [config(3000, 156, 104, f"firm/programme={arm}", seed=s)
            for s in range(1, seeds + 1) for arm in ("none", "discount", "engagement")]  # fmt: skip
    sim = [timed(lambda: run_arms(cfgs))[0] / n for _ in range(args.rounds)]
    print(f"job: {n} jobs of 3,000 x 156 weeks (+104 warm-up), 2 at a time")
    res = {"jobs": n, "simulation_cpu_s": stats(sim)}
    show("job: its simulation in one process (run_arms), CPU", sim, "s")
    for name, xs in per.items():
        show(f"job: beyond the sweep's fixed cost, {name}, CPU", xs, "s")
        over = [x / s for x, s in zip(xs, sim, strict=True)]
        show(f"job: {name} job / simulation", over, "x")
        res[name] = {"cpu_s": stats(xs), "over_simulation": stats(over)}
    return res


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--baseline", default="08669f7", help="commit to compare against")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--runs", type=int, default=48, help="finished runs the re-run finds")
    ap.add_argument("--jobs", type=int, default=12, help="jobs of the job section's sweep")
    ap.add_argument("--sections", nargs="+", default=["cli", "rerun", "job"],
                    choices=["cli", "rerun", "job"])  # fmt: skip
    args = ap.parse_args()
    src = trees(args.baseline)
    print(_load())
    for name in args.sections:
        {"cli": cli, "rerun": rerun, "job": job}[name](args, src)
        print(_load())


if __name__ == "__main__":
    main()
