"""Benchmark anchor: a plain Mesa implementation of a simplified version of loyaltysim's
customer rules, one ``mesa.Agent`` per customer stepped with ``shuffle_do``, against the whole
default model (array engine) at 100,000 customers, measured in one run.

    .venv/bin/python benchmarks/bench_mesa_anchor.py     # the figures in the README
    .venv/bin/python benchmarks/bench_mesa_anchor.py --anchor-customers 20000   # a smaller anchor

The simplified rules, per customer and week: purchase occasions ``Poisson(rate)`` by
inverting the CDF at one uniform; if any, a multinomial-logit choice of firm from price
(relative to the mean price), engagement ``g = E / (1 + |E|)``, habit loyalty
``H_f / (sum H + k)`` and a persistent taste; a service failure or a small engagement gain;
the habit update ``H <- a H + 1[chosen]``; drop-out after the purchases; then engagement
decays. The full model does all of that and more (programmes, poaching, main firm and
status, referrals, acquisition, forgetting and every metric), so the ratio printed is a
conservative speed-up. Time is CPU time of this process (one core), median of ``--repeats``.
Target (issue): the whole default model at least 50x the anchor, both at 100,000 customers.

Both run the same number of customers unless ``--anchor-customers`` says otherwise: a Mesa
agent costs more per step in a larger model (at 100,000 agents the anchor ran about a
quarter slower per customer than at 20,000 on the development machine, likely as more of
its objects miss the CPU's caches), so a smaller anchor flatters Mesa.
"""

from __future__ import annotations

import math
import os
import statistics
import time

from _common import parser

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import mesa  # noqa: E402

from loyaltysim import Market, load_config  # noqa: E402

PRICES = (5.0, 5.0, 5.0)


class Customer(mesa.Agent):
    """One customer with the simplified rules (plain Python floats and lists)."""

    def __init__(self, model: AnchorMarket) -> None:
        super().__init__(model)
        r = self.random
        self.rate = r.gammavariate(2.0, 0.25)  # purchases per week
        self.beta = r.lognormvariate(math.log(0.8), 0.4)  # price sensitivity
        self.dropout = r.betavariate(1.0, 60.0)
        self.taste = [r.gauss(0.0, 0.75) for _ in PRICES]
        self.engagement = [0.0] * len(PRICES)
        self.habit = [0.0] * len(PRICES)
        self.habit[r.randrange(len(PRICES))] = 1.0
        self.active = True

    def step(self) -> None:
        if not self.active:
            return
        m: AnchorMarket = self.model
        u = self.random.random()
        p = math.exp(-self.rate)
        cdf, k = p, 0
        while u > cdf and p > 0:
            k += 1
            p *= self.rate / k
            cdf += p
        if k:
            held = sum(self.habit) + 1.0
            utils = []
            for f, price in enumerate(PRICES):
                e = self.engagement[f]
                g = e / (1.0 + abs(e))
                beta = self.beta * (1.0 - 0.5 * max(g, 0.0))
                utils.append(
                    1.5 * g
                    + 2.0 * self.habit[f] / held
                    + self.taste[f]
                    - beta * (price - m.mean_price)
                )
            top = max(utils)
            weights = [math.exp(x - top) for x in utils]
            target = self.random.random() * sum(weights)
            chosen, cum = len(weights) - 1, 0.0
            for f, w in enumerate(weights):
                cum += w
                if target <= cum:
                    chosen = f
                    break
            if self.random.random() < 0.02:
                self.engagement[chosen] -= 1.0
            else:
                self.engagement[chosen] += 0.08
            self.habit = [h * 0.8 for h in self.habit]
            self.habit[chosen] += 1.0
            m.purchases[chosen] += k
            if self.random.random() < 1.0 - (1.0 - self.dropout) ** k:
                self.active = False
        self.engagement = [e * m.decay for e in self.engagement]


class AnchorMarket(mesa.Model):
    def __init__(self, n: int, seed: int = 0) -> None:
        super().__init__(seed=seed)
        self.mean_price = sum(PRICES) / len(PRICES)
        self.decay = 0.5 ** (1 / 12)
        self.purchases = [0] * len(PRICES)
        for _ in range(n):
            Customer(self)

    def active(self) -> int:
        return sum(1 for a in self.agents if a.active)

    def step(self) -> None:
        self.agents.shuffle_do("step")


def anchor_rate(n: int, steps: int) -> float:
    """Customer-steps (active customers) per CPU second of the Mesa anchor."""
    model = AnchorMarket(n)
    model.step()  # warm-up
    customer_steps, cpu = 0, 0.0
    for _ in range(steps):
        customer_steps += model.active()
        t = time.process_time()
        model.step()
        cpu += time.process_time() - t
    return customer_steps / cpu


def model_rate(n: int, steps: int) -> tuple[float, str]:
    """Customer-steps per CPU second of the whole default model (array engine), and the
    engine that played the customers (the compiled kernel or the NumPy rules)."""
    cfg = load_config([f"customers.n={n}", "output.figure=false"], seed=0)
    model = Market(cfg)
    model.run(4)
    customer_steps, cpu = 0, 0.0
    for _ in range(steps):
        customer_steps += model.population.active_index().size
        t = time.process_time()
        model.step()
        cpu += time.process_time() - t
    model.release()
    engine = "compiled kernel (numba)" if model.engine.compiled else "NumPy rules"
    return customer_steps / cpu, engine


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--customers", type=int, default=100_000, help="whole model's customers")
    ap.add_argument("--steps", type=int, default=26, help="whole-model steps timed")
    ap.add_argument(
        "--anchor-customers",
        type=int,
        default=None,
        help="Mesa agents; if not given (%(default)s), as many as --customers",
    )
    ap.add_argument("--anchor-steps", type=int, default=5, help="anchor steps timed (slow)")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each (median)")
    args = ap.parse_args()
    if args.anchor_customers is None:
        args.anchor_customers = args.customers
    anchors, models = [], []
    for _ in range(args.repeats):  # interleaved: both see the same machine load
        anchors.append(anchor_rate(args.anchor_customers, args.anchor_steps))
        models.append(model_rate(args.customers, args.steps))
    anchor, model = statistics.median(anchors), statistics.median(r for r, _ in models)
    print(
        f"mesa_anchor_customer_steps_per_s   {anchor:,.0f}  ({args.anchor_customers:,} agents,"
        " simplified rules: see --help)"
    )
    print(f"model_customer_steps_per_s         {model:,.0f}  ({args.customers:,} customers)")
    print(f"model_over_anchor                  {model / anchor:,.1f}x")
    if args.anchor_customers != args.customers:
        print("note: the anchor and the model differ in size, so this is not the like-for-like")
        print("      ratio of the issue's target (both at 100,000 customers)")
    engine = os.environ.get("LOYALTYSIM_KERNEL", "auto")
    print(f"model_engine                       {models[0][1]} (LOYALTYSIM_KERNEL={engine})")


if __name__ == "__main__":
    main()
