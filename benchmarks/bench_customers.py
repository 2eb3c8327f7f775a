"""Benchmark: customer-steps per second of the default market (and a busy one) with the
vectorised engine. The speed-up over the Mesa agents (engine=agents) on the same rules,
state and draws is measured by ``benchmarks/bench_agents.py``.

    python benchmarks/bench_customers.py                 # 100,000 customers (the target size)
    python benchmarks/bench_customers.py --customers 20000 --steps 10

Machines here are noisy: compare the ratio printed by one run, not absolute figures across
runs. Target (issue 2): >= 5 million customer-steps/s on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import time

# one core: the target is per core, and BLAS threads would blur the comparison
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from loyaltysim import Market, load_config  # noqa: E402

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--steps", type=int, default=26, help="model steps timed")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()

    out: dict[str, float | int] = {"customers": args.customers}
    for name, overrides in SCENARIOS.items():
        model, figures = time_model(args.customers, args.steps, overrides)
        out.update({f"{name}_{k}": v for k, v in figures.items()})
        if name == "default":
            out["people_in_pool"] = int(model.population.size)
            out["firms"] = len(model.firms)
        model.release()
    width = max(map(len, out))
    for k, v in out.items():
        print(f"{k:<{width}}  {v:,.3f}" if isinstance(v, float) else f"{k:<{width}}  {v:,}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
