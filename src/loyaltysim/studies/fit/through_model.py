"""The fitted world played by the model itself: does the world file reproduce the log?

The market's BG/NBD cohort option (``validation=bgnbd``: a trial purchase in week 0, then
the model's purchase process and drop-out, no rivals, no programme) with the world's
purchase and drop-out parameters is played once per week in which the log's cohort made
first purchases, with that week's number of customers, shifted to that week, so that the
simulated cohort enters as the real one did. The repeat purchase occasions of each week
are counted from each step's outcome (every occasion after the trial purchase).
"""

from __future__ import annotations

import numpy as np

from ...engines.market import Market
from ...runs.runner import hydra_value, load_config

KEYS = ("purchase_rate_shape", "purchase_rate_mean", "dropout_a", "dropout_b")


def weekly_repeats(
    customers: dict, first_week_counts: np.ndarray, weeks: int, seed: int
) -> np.ndarray:
    """Repeat purchase occasions a week (weeks 1..``weeks``) of the model's cohort, its
    customers entering in the weeks of ``first_week_counts`` (index 0 = week 1)."""
    total = np.zeros(weeks)
    over = [f"customers.{k}={hydra_value(customers[k])}" for k in KEYS]
    for w, n in enumerate(first_week_counts):
        if n == 0 or w >= weeks:
            continue
        cfg = load_config(
            ["validation=bgnbd", f"customers.n={int(n)}", f"market.horizon_weeks={weeks - w}",
             *over, "output.transactions=false"],
            seed=seed + w,
        )  # fmt: skip
        counts = np.zeros(weeks - w)

        def sink(week: int, out, counts=counts) -> None:
            counts[week] += out.trips.sum() - (out.buyers.size if week == 0 else 0)

        # in week 0 every cohort member makes its trial purchase: one occasion each is not
        # a repeat (out.trips counts the trial with the repeats)
        Market(cfg, transaction_sink=sink).run()
        total[w:] += counts
    return total
