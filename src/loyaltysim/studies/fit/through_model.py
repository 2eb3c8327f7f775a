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
# customers the model plays at most: a larger cohort is played as a sample of this size,
# each entry week's count scaled down (rounded half to even) and the result scaled back
# up, so a million-customer log costs the model run of 100,000 (the weekly totals then
# carry the sampling noise of 100,000 customers, about 0.3% of a week's total)
MODEL_CUSTOMERS = 100_000


def sample_counts(first_week_counts: np.ndarray, cap: int = MODEL_CUSTOMERS):
    """(counts played, factor to scale the result by): the counts themselves and 1 when
    they total at most ``cap``; else each scaled by cap/total and rounded."""
    counts = np.asarray(first_week_counts, np.int64)
    total = int(counts.sum())
    if total <= cap:
        return counts, 1.0
    played = np.rint(counts * (cap / total)).astype(np.int64)
    return played, total / int(played.sum())


def weekly_repeats(
    customers: dict, first_week_counts: np.ndarray, weeks: int, seed: int
) -> np.ndarray:
    """Repeat purchase occasions a week (weeks 1..``weeks``) of the model's cohort, its
    customers entering in the weeks of ``first_week_counts`` (index 0 = week 1); beyond
    MODEL_CUSTOMERS customers, a sample of that size scaled up (:func:`sample_counts`)."""
    total = np.zeros(weeks)
    over = [f"customers.{k}={hydra_value(customers[k])}" for k in KEYS]
    played, scale = sample_counts(first_week_counts)
    for w, n in enumerate(played):
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
    return total * scale
