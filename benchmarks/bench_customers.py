"""Benchmark: customer-steps per second of the whole model (default and busy market) with
each engine, the compiled kernel (numba) and the NumPy rules, and the customer rules alone
(purchase_step) with each on the same state and draws. The Mesa agents (engine=agents) on
the same rules: benchmarks/bench_agents.py.

    .venv/bin/python benchmarks/bench_customers.py     # 100,000 customers (the target size)
    .venv/bin/python benchmarks/bench_customers.py --customers 20000 --steps 10

Time is CPU time of this process (one core). The whole-model figures are the median of
``--repeats`` runs, the engines interleaved so that both see the same machine load; the rules
alone are timed once, on the first run's market, as the fastest of five copies of its state.
Machines here are noisy: compare the ratios printed by one run, not absolute figures across
runs. Targets (issue): the whole
default model at >= 10 million customer-steps/s on one core, the busy market >= 6 M/s; >= 50x
the Mesa anchor of simplified rules (benchmarks/bench_mesa_anchor.py).
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import time

from _common import parser

# one core: the target is per core, and BLAS threads would blur the comparison
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from loyaltysim import Market, load_config  # noqa: E402
from loyaltysim.engines import engine  # noqa: E402
from loyaltysim.model.firms import offer_terms  # noqa: E402
from loyaltysim.model.purchases import purchase_step  # noqa: E402

SCENARIOS = {
    "default": (),
    "busy": (
        "competitor/programme=engagement",
        "competitor.poaching.rate=0.05",
        "firm/programme=engagement",
    ),
}


ENGINES = ("numba", "numpy")


def time_model(n: int, steps: int, overrides: tuple[str, ...], kernel: str) -> tuple[Market, dict]:
    os.environ[engine.KERNEL_ENV] = kernel
    cfg = load_config([f"customers.n={n}", "output.figure=false", *overrides], seed=0)
    t = time.process_time()
    model = Market(cfg)
    build_s = time.process_time() - t
    assert model.kernel == (kernel == "numba"), "numba missing?"
    model.run(4)  # warm-up: memberships and engagement build up
    customer_steps, cpu = 0, 0.0
    for _ in range(steps):
        customer_steps += model.population.active_index().size
        t = time.process_time()
        model.step()
        cpu += time.process_time() - t
    return model, {
        "build_s": build_s,
        "customer_steps_per_s": customer_steps / cpu,
        "ms_per_step": 1e3 * cpu / steps,
    }


def time_rules(model: Market, repeats: int = 5) -> dict:
    """The customer rules alone (purchase_step), NumPy and kernel, on the same state and
    draws."""
    pop = model.population
    rows = pop.active_index()
    terms = model_terms(model)
    draws = model.draws()
    c = model.config.customers
    args = (terms, draws, model.week, 1.0, c.choice, c.memory, model.status_rules)
    unit_cost = np.array([f.params.unit_cost for f in model.firms])

    def timed(fn, rows_, n):
        copies = [copy.deepcopy(pop) for _ in range(n)]  # state copies made outside the clock
        best = np.inf
        for p in copies:
            t = time.process_time()
            fn(p, rows_, *args)
            best = min(best, time.process_time() - t)
        return best

    vec_s = timed(purchase_step, rows, repeats)
    kernel_s = timed(lambda p, r, *a: engine.trade(p, r, *a, unit_cost), rows, repeats)
    vec_rate, kernel_rate = rows.size / vec_s, rows.size / kernel_s
    return {
        "rules_numpy_customer_steps_per_s": vec_rate,
        "rules_kernel_customer_steps_per_s": kernel_rate,
        "rules_kernel_over_numpy": kernel_rate / vec_rate,
    }


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--customers", type=int, default=100_000, help="customers in the market")
    ap.add_argument("--steps", type=int, default=26, help="model steps timed")
    ap.add_argument("--repeats", type=int, default=3, help="runs per engine (median)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()

    out: dict[str, float | int] = {"customers": args.customers}
    for name, overrides in SCENARIOS.items():
        runs: dict[str, list[dict]] = {k: [] for k in ENGINES}
        for _ in range(args.repeats):
            for kernel in ENGINES:  # interleaved: both engines see the same machine load
                model, figures = time_model(args.customers, args.steps, overrides, kernel)
                runs[kernel].append(figures)
                if name == "default" and kernel == "numba" and "firms" not in out:
                    out["people_in_pool"] = int(model.population.size)
                    out["firms"] = len(model.firms)
                    out.update(time_rules(model))
                model.release()
        for kernel, figs in runs.items():
            for key in figs[0]:
                out[f"{name}_{kernel}_{key}"] = statistics.median(f[key] for f in figs)
        rates = {k: out[f"{name}_{k}_customer_steps_per_s"] for k in ENGINES}
        out[f"{name}_kernel_over_numpy"] = rates["numba"] / rates["numpy"]
    width = max(map(len, out))
    for k, v in out.items():
        print(f"{k:<{width}}  {v:,.3f}" if isinstance(v, float) else f"{k:<{width}}  {v:,}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)


def model_terms(model: Market):
    """The terms the market offers in its current week (as in Market.step)."""
    return offer_terms(model.firms, model.week)


if __name__ == "__main__":
    main()
