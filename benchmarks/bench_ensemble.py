"""Speed of ensembles: what a small market costs beyond its simulation, and an ensemble of
worlds x arms x seeds played naively against :func:`loyaltysim.run_arms`.

    .venv/bin/python benchmarks/bench_ensemble.py                  # the full sizes below
    .venv/bin/python benchmarks/bench_ensemble.py --scale 0.1      # a tenth of the ensemble

Sections (``--rounds`` rounds each, the things compared alternating in order round by round;
CPU seconds of this process, or of a child and its children, and wall seconds; median and
spread [min-max]; the load average before and after):

1. ``per_customer``: build and run a market (``--warmup`` + ``--weeks`` weeks) of
   ``--small`` customers with the NumPy rules (what ``auto`` picks below its threshold in a
   fresh process) and with the compiled loops (loaded once, untimed), and of ``--large``
   customers compiled, in this process: microseconds per customer, and small / large;
2. ``job``: one ``python -m loyaltysim`` run of ``--small`` x ``--weeks`` (no figure, as in
   a sweep; customer table written) against the same simulation in this process, both on
   the engine ``auto`` picks in a fresh process: the ratio job / simulation (imports,
   composing, writing);
3. ``ensemble``: ``--worlds`` worlds (acquisition costs 40, 50, ... EUR) x 3 arms (programme
   none, discount, engagement) x ``--seeds`` seeds of ``--customers`` x ``--weeks`` weeks
   (after the ``--warmup``): ``naive`` (``run_one`` each: its own warm-up, the NumPy rules as
   ``auto`` picks them below its threshold in a fresh process), ``run_arms_numpy`` (one
   warm-up per world and seed, NumPy) and ``run_arms`` (one warm-up per world and seed, the
   compiled loops for all where the ensemble pays for them: ``auto``); all three are checked
   to give identical metrics. ``--scale`` multiplies the seeds and worlds (at least one
   each);
4. ``sweep``: the same ensemble as one Hydra multirun (``python -m loyaltysim -m``, the
   project's launcher, ``--jobs`` at a time), as ``loyaltysim-ask`` and the calibration
   launch runs: warm-ups shared by the launcher (default) and each job's own
   (``hydra.launcher.share_warmups=false``), identical tables checked; then the shared
   sweep again into its folder, every run finished; CPU of the sweep and its children;
5. ``threads``: a market of ``--thread-customers`` x ``--thread-weeks`` (built and warmed up
   untimed) played by the compiled loops on 1 thread and on ``--threads`` (default: the
   cores available); identical metrics checked; the wall speed-up.

Absolute figures on a shared machine are noisy: compare the ratios of one run.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import parser

ROOT = Path(__file__).resolve().parents[1]


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(fn) -> tuple[float, float, object]:
    """(CPU s, wall s, result) of ``fn()`` in this process."""
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    return time.process_time() - c, time.perf_counter() - w, out


def timed_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU s of the command and its children, wall s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    w = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    w = time.perf_counter() - w
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), w


def stats(xs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def show(name: str, xs: list[float], unit: str, fmt: str = ",.2f") -> None:
    s = stats(xs)
    print(f"  {name:<44} {s['median']:{fmt}} {unit} [{s['min']:{fmt}}-{s['max']:{fmt}}]")


def alternate(rounds: int, cases: dict) -> dict[str, list[tuple[float, float, object]]]:
    """Each case timed once a round, in the given order on even rounds, reversed on odd."""
    names = list(cases)
    out: dict[str, list] = {n: [] for n in names}
    for r in range(rounds):
        for n in names if r % 2 == 0 else names[::-1]:
            out[n].append(cases[n]())
    return out


def config(n: int, weeks: int, warmup: int, *overrides: str, seed: int = 1):
    from loyaltysim import load_config

    return load_config(
        ["output.figure=false", f"market.horizon_weeks={weeks}", f"market.warmup_weeks={warmup}",
         *overrides],
        customers__n=n, seed=seed,
    )  # fmt: skip


class kernel:
    """``LOYALTYSIM_KERNEL`` set to ``choice`` inside."""

    def __init__(self, choice: str) -> None:
        self.choice = choice

    def __enter__(self):
        self.before = os.environ.get("LOYALTYSIM_KERNEL")
        os.environ["LOYALTYSIM_KERNEL"] = self.choice
        return self

    def __exit__(self, *exc):
        if self.before is None:
            os.environ.pop("LOYALTYSIM_KERNEL")
        else:
            os.environ["LOYALTYSIM_KERNEL"] = self.before
        return False


def per_customer(args) -> dict:
    from loyaltysim import Market

    def market(n: int, choice: str):
        def go():
            cfg = config(n, args.weeks, args.warmup)
            with kernel(choice):
                cpu, wall, m = timed(lambda: Market(cfg).run())
            m.release()
            return cpu / n * 1e6, wall / n * 1e6, m.kernel

        return go

    with kernel("numba"):  # load the loops once (numba's cache), untimed
        Market(config(500, 2, 1)).run()
    got = alternate(args.rounds, {
        "small_numpy": market(args.small, "numpy"),
        "small_compiled": market(args.small, "numba"),
        "large_compiled": market(args.large, "numba"),
    })  # fmt: skip
    weeks = args.warmup + args.weeks
    print(f"per_customer ({weeks} weeks: warm-up {args.warmup} + {args.weeks}), us CPU")
    res = {}
    for name, rows in got.items():
        n = args.small if name.startswith("small") else args.large
        engine_used = "compiled" if rows[0][2] else "NumPy"
        show(f"{name} ({n:,} customers, {engine_used})", [r[0] for r in rows], "us/customer")
        show(f"{name} wall", [r[1] for r in rows], "us/customer")
        res[name] = stats([r[0] for r in rows])
    for small in ("small_numpy", "small_compiled"):
        ratio = [a[0] / b[0] for a, b in zip(got[small], got["large_compiled"], strict=True)]
        show(f"{small} / large_compiled (CPU)", ratio, "x")
        res[f"{small}_over_large"] = stats(ratio)
    return res


def job(args) -> dict:
    from loyaltysim import run_one
    from loyaltysim.engines.engine import AUTO_MIN_POOL

    # both on the engine auto picks in a fresh process (this one holds the compiled loops)
    choice = "numpy" if args.small < AUTO_MIN_POOL else "numba"
    env = {**os.environ, "MPLBACKEND": "Agg", "LOYALTYSIM_KERNEL": choice}
    tmp = Path(tempfile.mkdtemp(prefix="bench_ensemble_"))
    over = ["output.figure=false", "output.overwrite=true", "seed=1",
            f"market.horizon_weeks={args.weeks}", f"market.warmup_weeks={args.warmup}",
            f"customers.n={args.small}"]  # fmt: skip
    cmd = [sys.executable, "-m", "loyaltysim", *over]

    def child():
        return timed_child([*cmd, f"hydra.run.dir={tmp / 'job'}"], env)

    def inproc():
        cfg = config(args.small, args.weeks, args.warmup)
        with kernel(choice):
            cpu, wall, _ = timed(lambda: run_one(cfg, keep_customers=False))
        return cpu, wall

    got = alternate(args.rounds, {"job": child, "simulation": inproc})
    print(f"job: python -m loyaltysim, {args.small:,} x {args.weeks} weeks, vs the simulation")
    for name, rows in got.items():
        show(f"{name} CPU", [r[0] for r in rows], "s")
        show(f"{name} wall", [r[1] for r in rows], "s")
    ratio = [a[0] / b[0] for a, b in zip(got["job"], got["simulation"], strict=True)]
    show("job / simulation (CPU)", ratio, "x")
    return {"job_cpu_s": stats([r[0] for r in got["job"]]), "job_over_simulation": stats(ratio)}


def ensemble(args) -> dict:
    from loyaltysim import run_arms, run_one

    worlds = max(1, round(args.worlds * args.scale))
    seeds = max(1, round(args.seeds * args.scale))
    arms = ("none", "discount", "engagement")
    cfgs = [
        config(args.customers, args.weeks, args.warmup, f"firm/programme={arm}",
               f"firm.acquisition.cost_per_customer={40 + 10 * w}", seed=s)
        for w in range(worlds) for s in range(1, seeds + 1) for arm in arms
    ]  # fmt: skip
    results = {}

    def case(name: str, choice: str | None, fn):
        def go():
            with kernel(choice or os.environ.get("LOYALTYSIM_KERNEL", "auto")):
                cpu, wall, out = timed(fn)
            results[name] = out
            return cpu, wall

        return go

    got = alternate(args.rounds, {
        "naive": case("naive", "numpy", lambda: [run_one(c, keep_customers=False) for c in cfgs]),
        "run_arms_numpy": case("run_arms_numpy", "numpy", lambda: run_arms(cfgs)),
        "run_arms": case("run_arms", None, lambda: run_arms(cfgs)),
    })  # fmt: skip
    for name in ("run_arms_numpy", "run_arms"):
        for a, b in zip(results["naive"], results[name], strict=True):
            assert a.metrics.equals(b.metrics), f"{name} changed a result"
    print(
        f"ensemble: {worlds} worlds x {len(arms)} arms x {seeds} seeds = {len(cfgs)} runs of "
        f"{args.customers:,} customers x {args.weeks} weeks (+{args.warmup} warm-up); "
        "identical metrics"
    )
    for name, rows in got.items():
        show(f"{name} CPU", [r[0] for r in rows], "s")
        show(f"{name} wall", [r[1] for r in rows], "s")
    res = {"runs": len(cfgs)}
    for name in got:
        res[f"{name}_cpu_s"] = stats([r[0] for r in got[name]])
        res[f"{name}_wall_s"] = stats([r[1] for r in got[name]])
    for name in ("run_arms_numpy", "run_arms"):
        ratio = [a[0] / b[0] for a, b in zip(got["naive"], got[name], strict=True)]
        show(f"naive / {name} (CPU)", ratio, "x")
        res[f"naive_over_{name}"] = stats(ratio)
    return res


def sweep(args) -> dict:
    """The ensemble as the command-line tools play it: one Hydra multirun (``python -m
    loyaltysim -m``, the project's launcher, ``--jobs`` at a time) of worlds x arms x seeds,
    each job's warm-up shared with its world and seed's other arms (default) or its own
    (``hydra.launcher.share_warmups=false``), then the shared sweep again into its folder,
    every run finished (skipped)."""
    worlds = max(1, round(args.worlds * args.scale))
    seeds = max(1, round(args.seeds * args.scale))
    costs = ",".join(str(40 + 10 * w) for w in range(worlds))
    grid = ["firm/programme=none,discount,engagement", f"seed=range(1,{seeds + 1})",
            f"firm.acquisition.cost_per_customer={costs}", f"customers.n={args.customers}",
            f"market.horizon_weeks={args.weeks}", f"market.warmup_weeks={args.warmup}",
            f"hydra.launcher.n_jobs={args.jobs}"]  # fmt: skip
    env = {**os.environ, "MPLBACKEND": "Agg"}
    tmp = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    got = {"shared": [], "own": [], "rerun": []}
    for r in range(args.rounds):
        folders = (tmp / f"shared_{r}", tmp / f"own_{r}")
        order = [("shared", True, folders[0]), ("own", False, folders[1])]
        for name, share, folder in order if r % 2 == 0 else order[::-1]:
            cmd = [sys.executable, "-m", "loyaltysim", "-m", *grid,
                   f"hydra.launcher.share_warmups={str(share).lower()}",
                   f"hydra.sweep.dir={folder}"]  # fmt: skip
            got[name].append(timed_child(cmd, env))
        cmd = [sys.executable, "-m", "loyaltysim", "-m", *grid, f"hydra.sweep.dir={folders[0]}"]
        got["rerun"].append(timed_child(cmd, env))
        runs = sorted(p.name for p in folders[0].iterdir() if (p / "done.json").is_file())
        for run in runs:  # shared and own warm-ups: the same tables
            for table in ("metrics.csv", "summary.csv"):
                a, b = (f / run / table for f in folders)
                assert a.read_bytes() == b.read_bytes(), f"shared warm-up changed {run}/{table}"
    n = 3 * worlds * seeds
    assert len(runs) == n, f"{len(runs)} of {n} runs finished"
    print(f"sweep: python -m loyaltysim -m, {worlds} worlds x 3 arms x {seeds} seeds = {n} runs "
          f"of {args.customers:,} x {args.weeks} weeks (+{args.warmup} warm-up), "
          f"{args.jobs} jobs at a time; identical tables")  # fmt: skip
    res = {"runs": n}
    for name, rows in got.items():
        show(f"{name} CPU", [r[0] for r in rows], "s")
        show(f"{name} wall", [r[1] for r in rows], "s")
        res[f"{name}_cpu_s"] = stats([r[0] for r in rows])
        res[f"{name}_wall_s"] = stats([r[1] for r in rows])
    ratio = [a[1] / b[1] for a, b in zip(got["own"], got["shared"], strict=True)]
    show("own / shared warm-ups (wall)", ratio, "x")
    res["own_over_shared_wall"] = stats(ratio)
    # a job's cost beyond the sweep's fixed cost (the re-run's: imports, composing, checks)
    # against the same markets simulated in this process by run_arms (compiled, shared)
    from loyaltysim import run_arms

    cfgs = [config(args.customers, args.weeks, args.warmup, f"firm/programme={arm}",
                   f"firm.acquisition.cost_per_customer={40 + 10 * w}", seed=s)
            for w in range(worlds) for s in range(1, seeds + 1)
            for arm in ("none", "discount", "engagement")]  # fmt: skip
    sim = [timed(lambda: run_arms(cfgs))[0] for _ in range(args.rounds)]
    job = [(a[0] - b[0]) for a, b in zip(got["shared"], got["rerun"], strict=True)]
    show("a job beyond the sweep's fixed cost, CPU", [j / n for j in job], "s")
    show("its simulation in one process (run_arms), CPU", [x / n for x in sim], "s")
    over = [j / x for j, x in zip(job, sim, strict=True)]
    show("job / simulation (CPU)", over, "x")
    res["job_over_simulation"] = stats(over)
    return res


def threads(args) -> dict:
    from loyaltysim import Market
    from loyaltysim.engines import engine

    many = args.threads or engine.threads()
    n, weeks = args.thread_customers, args.thread_weeks

    def play(count: int):
        def go():
            cfg = config(n, weeks, args.thread_warmup)
            with kernel("numba"):
                model = Market(cfg)  # built and warmed up untimed
                before = os.environ.get(engine.THREADS_ENV)
                os.environ[engine.THREADS_ENV] = str(count)
                try:
                    cpu, wall, _ = timed(model.run)
                finally:
                    os.environ.pop(engine.THREADS_ENV)
                    if before is not None:
                        os.environ[engine.THREADS_ENV] = before
            metrics = model.metrics()
            model.release()
            return cpu, wall, metrics

        return go

    got = alternate(args.rounds, {"one": play(1), "many": play(many)})
    assert all(a[2].equals(b[2]) for a in got["one"] for b in got["many"]), "threads differ"
    print(f"threads: {n:,} customers x {weeks} weeks, compiled, 1 vs {many} threads; identical")
    for name, rows in got.items():
        show(f"{name} thread(s) CPU", [r[0] for r in rows], "s")
        show(f"{name} thread(s) wall", [r[1] for r in rows], "s")
    speedup = [a[1] / b[1] for a, b in zip(got["one"], got["many"], strict=True)]
    show(f"wall speed-up, {many} threads", speedup, "x")
    return {"threads": many, "wall_speedup": stats(speedup)}


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of each comparison")
    ap.add_argument("--small", type=int, default=10_000, help="small market's customers")
    ap.add_argument("--large", type=int, default=100_000, help="large market's customers")
    ap.add_argument("--warmup", type=int, default=104, help="warm-up weeks")
    ap.add_argument("--weeks", type=int, default=156, help="weeks after the warm-up")
    ap.add_argument("--customers", type=int, default=3_000, help="ensemble market's customers")
    ap.add_argument("--worlds", type=int, default=16, help="ensemble worlds")
    ap.add_argument("--seeds", type=int, default=10, help="ensemble seeds")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies worlds and seeds")
    ap.add_argument("--jobs", type=int, default=2, help="sweep section's jobs at a time")
    ap.add_argument("--thread-customers", type=int, default=1_000_000, help="threads' market")
    ap.add_argument("--thread-weeks", type=int, default=4, help="threads' weeks timed")
    ap.add_argument("--thread-warmup", type=int, default=2, help="threads' warm-up (untimed)")
    ap.add_argument("--threads", type=int, default=0, help="threads compared with 1 (0: cores)")
    ap.add_argument("--sections", nargs="+", default=["per_customer", "job", "ensemble", "threads"],
                    choices=["per_customer", "job", "ensemble", "sweep", "threads"])  # fmt: skip
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    print(_load(), f"({os.cpu_count()} CPUs)", flush=True)
    res = {}
    for name in args.sections:
        res[name] = globals()[name](args)
        print(_load(), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
