"""Benchmark: customer-steps per second of the default market, and the speed-up of the
vectorised customer rules over the per-customer reference on the same state and draws.

    python benchmarks/bench_customers.py                 # 100,000 customers (the target size)
    python benchmarks/bench_customers.py --customers 20000 --steps 10

Machines here are noisy: compare the ratio printed by one run, not absolute figures across
runs. Targets (issue 2): >= 5 million customer-steps/s on one core, >= 50x the reference.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time

# one core: the target is per core, and BLAS threads would blur the comparison
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from loyaltysim import Market, load_config, reference  # noqa: E402
from loyaltysim.firms import offer_terms  # noqa: E402
from loyaltysim.purchases import purchase_step  # noqa: E402


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


SCENARIOS = {
    "default": (),
    "busy": (
        "competitor/programme=engagement",
        "competitor.poaching.rate=0.05",
        "firm/programme=engagement",
    ),
}


def time_model(n: int, steps: int, overrides: tuple[str, ...]) -> tuple[Market, dict]:
    cfg = load_config([f"customers.n={n}", "output.figure=false", *overrides], seed=0)
    t = time.perf_counter()
    model = Market(cfg)
    build_s = time.perf_counter() - t
    model.run(4)  # warm-up: memberships and engagement build up
    customer_steps = 0
    t = time.perf_counter()
    for _ in range(steps):
        customer_steps += model.population.active_index().size
        model.step()
    model_s = time.perf_counter() - t
    return model, {
        "build_s": build_s,
        "customer_steps_per_s": customer_steps / model_s,
        "ms_per_step": 1e3 * model_s / steps,
    }


def time_rules(model: Market, reference_rows: int, repeats: int = 5) -> dict:
    """The customer rules alone, vectorised vs per-customer, on the same state and draws."""
    pop = model.population
    rows = pop.active_index()
    sub = rows[:reference_rows]
    terms = model_terms(model)
    draws = model.draws()
    c = model.config.customers
    args = (terms, draws, model.week, 1.0, c.choice, c.memory)

    def timed(fn, rows_, n):
        copies = [copy.deepcopy(pop) for _ in range(n)]  # state copies made outside the clock
        best = np.inf
        for p in copies:
            t = time.perf_counter()
            fn(p, rows_, *args)
            best = min(best, time.perf_counter() - t)
        return best

    vec_s = timed(purchase_step, rows, repeats)
    ref_s = timed(reference.purchase_step, sub, 1)
    vec_rate, ref_rate = rows.size / vec_s, sub.size / ref_s
    return {
        "rules_customer_steps_per_s": vec_rate,
        "reference_customer_steps_per_s": ref_rate,
        "speedup_vs_reference": vec_rate / ref_rate,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=26, help="model steps timed")
    ap.add_argument(
        "--reference-rows",
        type=int,
        default=5_000,
        help="customers timed in the per-customer reference (it is slow)",
    )
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()

    out: dict[str, float | int] = {"customers": args.customers}
    for name, overrides in SCENARIOS.items():
        model, figures = time_model(args.customers, args.steps, overrides)
        out.update({f"{name}_{k}": v for k, v in figures.items()})
        if name == "default":
            out["people_in_pool"] = int(model.population.size)
            out["firms"] = len(model.firms)
            out.update(time_rules(model, args.reference_rows))
        model.release()
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
