"""Benchmark anchor: the vectorised engine (``engine=arrays``) against the Mesa agents
(``engine=agents``, one :class:`loyaltysim.engines.agents.Customer` per person) on the full
default rules, in one run, at 10,000 and 100,000 customers.

    .venv/bin/python benchmarks/bench_agents.py                     # 10,000 and 100,000 customers
    .venv/bin/python benchmarks/bench_agents.py --customers 2000 --agent-steps 2

Each size builds the default market twice with the arrays engine (its 104-week warm-up
takes the agents minutes at 100,000 customers), hands the second copy to the agents
(:func:`loyaltysim.engines.crowd.take_over`: the same state, the same draws to come), and times
model steps of each: customer-steps per second (active customers x steps / seconds) and
the ratio. The timed steps of both copies are checked to give the same metrics table.
Compare the ratio printed by one run; absolute figures on these machines are noisy.
"""

from __future__ import annotations

import json
import os
import time

from _common import parser

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core for both engines
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pandas as pd  # noqa: E402

from loyaltysim import Market, load_config  # noqa: E402
from loyaltysim.engines.crowd import take_over  # noqa: E402


def customer_steps_per_s(model: Market, steps: int) -> tuple[float, float]:
    """(customer-steps per second, seconds per step) over ``steps`` model steps."""
    done, t = 0, time.perf_counter()
    for _ in range(steps):
        done += model.population.active_index().size
        model.step()
    seconds = time.perf_counter() - t
    return done / seconds, seconds / steps


def compare(n: int, steps: int, agent_steps: int) -> dict:
    cfg = load_config([f"customers.n={n}", "output.figure=false"], seed=0)
    arrays, agents = Market(cfg), Market(cfg)  # two identical markets, warmed up
    t = time.perf_counter()
    take_over(agents)
    build_s = time.perf_counter() - t
    agent_rate, agent_step_s = customer_steps_per_s(agents, agent_steps)
    arrays_same = customer_steps_per_s(arrays, agent_steps)[0]  # the same steps, same state
    pd.testing.assert_frame_equal(arrays.metrics(), agents.metrics(), check_exact=True)
    arrays_rate, arrays_step_s = customer_steps_per_s(arrays, steps)
    out = {
        "customers": n,
        "people_in_pool": int(arrays.population.size),
        "arrays_customer_steps_per_s": arrays_rate,
        "arrays_ms_per_step": 1e3 * arrays_step_s,
        "agents_customer_steps_per_s": agent_rate,
        "agents_s_per_step": agent_step_s,
        "agents_setup_s": build_s,
        "arrays_over_agents": arrays_rate / agent_rate,
        "arrays_over_agents_same_steps": arrays_same / agent_rate,
        "identical_metrics": "yes",
    }
    arrays.release()
    agents.release()
    return out


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument(
        "--customers", type=int, nargs="+", default=[10_000, 100_000], help="market sizes"
    )
    ap.add_argument("--steps", type=int, default=26, help="arrays steps timed")
    ap.add_argument("--agent-steps", type=int, default=3, help="agent steps timed (slow)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args()
    results = []
    for n in args.customers:
        results.append(res := compare(n, args.steps, args.agent_steps))
        width = max(map(len, res))
        for k, v in res.items():
            shown = f"{v:,.3f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else v
            print(f"{k:<{width}}  {shown}", flush=True)
        print(flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
