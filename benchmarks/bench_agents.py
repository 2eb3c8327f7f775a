"""Benchmark anchor: the vectorised engine (``engine=arrays``) against the Mesa agents
(``engine=agents``, one :class:`loyaltysim.engines.agents.Customer` per person) on the full
default rules, in one run, at 10,000 and 100,000 customers.

    .venv/bin/python benchmarks/bench_agents.py                     # 10,000 and 100,000 customers
    .venv/bin/python benchmarks/bench_agents.py --customers 2000 --agent-steps 2

Each size builds the default market twice with the arrays engine (its 104-week warm-up
takes the agents minutes at 100,000 customers), hands the second copy to the agents
(:func:`loyaltysim.engines.crowd.take_over`: the same state, the same draws to come), and times
model steps of each, the engines alternating step by step (which goes first alternates too):
customer-steps per CPU second and per wall second (active customers x steps / seconds) and
the ratio arrays / agents, step by step (median [min-max] over the ``--agent-steps``). The
timed steps of both copies are checked to give the same metrics table. Then the arrays'
two rule sets, the NumPy rules (``LOYALTYSIM_KERNEL=numpy``) and the compiled loops
(``numba``, loaded untimed), play ``--steps`` more steps each from the same state, step by
step alternating (which goes first alternates too), checked to give the same metrics: CPU
and wall rates, median [min-max] over the steps, and the ratio compiled / NumPy. Compare the
ratios printed by one run (the load average before and after is printed with them);
absolute figures here are noisy.
"""

from __future__ import annotations

import json
import os
import statistics
import time

from _common import parser

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core for both engines
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd  # noqa: E402

from loyaltysim import Market, load_config  # noqa: E402
from loyaltysim.engines.crowd import take_over  # noqa: E402


def one_step(model: Market) -> tuple[int, float, float]:
    """(customers active at the step, CPU s, wall s) of one model step."""
    done = model.population.active_index().size
    cpu, wall = time.process_time(), time.perf_counter()
    model.step()
    return done, time.process_time() - cpu, time.perf_counter() - wall


def spread(xs: list[float]) -> dict[str, float]:
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs)}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def market(cfg, kernel: str) -> Market:
    """A market of ``cfg``, warmed up, on the arrays' ``kernel`` rules (numpy or numba)."""
    before = os.environ.get("LOYALTYSIM_KERNEL")
    os.environ["LOYALTYSIM_KERNEL"] = kernel
    try:
        return Market(cfg)
    finally:
        os.environ.pop("LOYALTYSIM_KERNEL")
        if before is not None:
            os.environ["LOYALTYSIM_KERNEL"] = before


def rules(cfg, steps: int) -> dict:
    """NumPy rules against the compiled loops, ``steps`` steps each, alternating."""
    market(load_config(["customers.n=500"], seed=0), "numba").release()  # loops loaded
    models = {"numpy": market(cfg, "numpy"), "compiled": market(cfg, "numba")}
    assert not models["numpy"].kernel and models["compiled"].kernel
    timed: dict[str, list[tuple[int, float, float]]] = {name: [] for name in models}
    for r in range(steps):
        pair = list(models.items())
        for name, model in pair if r % 2 == 0 else pair[::-1]:
            timed[name].append(one_step(model))
    pd.testing.assert_frame_equal(
        models["numpy"].metrics(), models["compiled"].metrics(), check_exact=True
    )
    out = {}
    for name, rows in timed.items():
        out[f"{name}_customer_steps_per_cpu_s"] = spread([d / c for d, c, _ in rows])
        out[f"{name}_customer_steps_per_s"] = spread([d / w for d, _, w in rows])
    out["compiled_over_numpy_cpu"] = spread(
        [a[1] / b[1] for a, b in zip(timed["numpy"], timed["compiled"], strict=True)]
    )
    out["compiled_over_numpy_wall"] = spread(
        [a[2] / b[2] for a, b in zip(timed["numpy"], timed["compiled"], strict=True)]
    )
    for model in models.values():
        model.release()
    return out


def compare(n: int, steps: int, agent_steps: int) -> dict:
    cfg = load_config([f"customers.n={n}", "output.figure=false"], seed=0)
    load_before = load()
    arrays, agents = Market(cfg), Market(cfg)  # two identical markets, warmed up
    t = time.perf_counter()
    take_over(agents)
    build_s = time.perf_counter() - t
    # the same steps from the same state, the engines alternating which goes first
    timed: dict[str, list[tuple[int, float, float]]] = {"arrays": [], "agents": []}
    for r in range(agent_steps):
        pair = [("arrays", arrays), ("agents", agents)]
        for name, model in pair if r % 2 == 0 else pair[::-1]:
            timed[name].append(one_step(model))
    pd.testing.assert_frame_equal(arrays.metrics(), agents.metrics(), check_exact=True)
    # customer-steps per CPU second (clock 1) and per wall second (clock 2), step by step
    rate = {
        (name, clock): [row[0] / row[clock] for row in rows]
        for name, rows in timed.items()
        for clock in (1, 2)
    }
    ratio_cpu = [a / b for a, b in zip(rate["arrays", 1], rate["agents", 1], strict=True)]
    ratio_wall = [a / b for a, b in zip(rate["arrays", 2], rate["agents", 2], strict=True)]
    out = {
        "customers": n,
        "people_in_pool": int(arrays.population.size),
        "load_average_before": load_before,
        "arrays_kernel": "compiled" if arrays.kernel else "NumPy",
        "arrays_customer_steps_per_cpu_s": spread(rate["arrays", 1]),
        "arrays_customer_steps_per_s": spread(rate["arrays", 2]),
        "agents_customer_steps_per_cpu_s": statistics.median(rate["agents", 1]),
        "agents_customer_steps_per_s": statistics.median(rate["agents", 2]),
        "agents_s_per_step": statistics.median(t for _, _, t in timed["agents"]),
        "agents_setup_s": build_s,
        "arrays_over_agents_cpu": spread(ratio_cpu),
        "arrays_over_agents_wall": spread(ratio_wall),
        "identical_metrics": "yes",
    }
    arrays.release()
    agents.release()
    out.update(rules(cfg, steps))
    out["load_average_after"] = load()
    return out


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument(
        "--customers", type=int, nargs="+", default=[10_000, 100_000], help="market sizes"
    )
    ap.add_argument("--steps", type=int, default=26, help="NumPy vs compiled steps timed")
    ap.add_argument(
        "--agent-steps", type=int, default=4, help="steps timed of both engines (agents: slow)"
    )
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    results = []
    for n in args.customers:
        results.append(res := compare(n, args.steps, args.agent_steps))
        width = max(map(len, res))
        for k, v in res.items():
            if isinstance(v, dict):
                v = f"{v['median']:,.3f} [{v['min']:,.3f}-{v['max']:,.3f}]"
            shown = f"{v:,.3f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else v
            print(f"{k:<{width}}  {shown}", flush=True)
        print(flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
