"""Stationarity of the no-programme market: with nothing changing, the weekly repeat rate,
the number of customers and the shares should have no trend, so that any difference
between arms measures a programme, not a start-up transient. Compared are the first and
last 52 weeks of the run (after ``market.warmup_weeks`` where the model has one), and the
slope of the weekly repeat rate (ordinary least squares, scipy.stats.linregress)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from . import check
from .common import Context, Measured, mean_ci, verdict

TOL = {"repeat_change_pp": 2.0, "customers_change_pct": 5.0, "focal_share_change_pp": 2.0}


def stationarity_values(runs) -> tuple[dict[str, list[float]], list]:
    """Per seed: changes from the first to the last 52 weeks (repeat rate, customers, focal
    share) and the repeat rate's trend; and each seed's weekly repeat rate (for the figure)."""
    values: dict[str, list[float]] = {}
    series = []
    for r in runs:
        m = r.metrics
        w = m.assign(rp=m["repeat_rate"].fillna(0) * m["purchases"])
        weekly = w.groupby("week")[
            ["rp", "purchases", "customers", "acquired", "referred", "churn_out"]
        ].sum()
        repeat = 100 * weekly["rp"] / weekly["purchases"].clip(lower=1)
        focal = m[m["firm"] == m["firm"].iloc[0]].set_index("week")["share"] * 100
        first, last = weekly.index <= weekly.index[0] + 51, weekly.index > weekly.index[-1] - 52
        fit = stats.linregress(weekly.index.to_numpy(float), repeat.to_numpy())
        series.append(repeat)
        row = {
            "repeat_change_pp": repeat[last].mean() - repeat[first].mean(),
            "customers_change_pct": 100
            * (weekly["customers"][last].mean() / weekly["customers"][first].mean() - 1),
            "focal_share_change_pp": focal[last].mean() - focal[first].mean(),
            "repeat_slope_pp_per_year": 52 * fit.slope,
            "repeat_slope_p": fit.pvalue,
            "repeat_first_weeks_pct": repeat.iloc[:4].mean(),
            # where the customer base is heading: arrivals against departures, last 52 weeks
            "arrivals_per_week": (weekly["acquired"] + weekly["referred"])[last].mean(),
            "departures_per_week": weekly["churn_out"][last].mean(),
        }
        for k, v in row.items():
            values.setdefault(k, []).append(float(v))
    return values, series


@check(
    "stationarity",
    "stationarity",
    "analytic: a market with constant settings should be stationary after warm-up",
    "first vs last 52 weeks: repeat rate within 2 pp, customers within 5%, focal share 2 pp",
)
def _stationarity(ctx: Context) -> Measured:
    n = ctx.pick(3000, 10000)
    weeks = ctx.pick(104, 156)
    runs = ctx.runs([f"customers.n={n}", f"market.horizon_weeks={weeks}", "firm/programme=none"])
    values, series = stationarity_values(runs)
    ci = {k: mean_ci(v)["mean"] for k, v in values.items()}
    ok = all(abs(ci[k]) <= t for k, t in TOL.items())
    evidence = (
        f"No programmes, {weeks} weeks: the weekly repeat rate moves {ci['repeat_change_pp']:+.2f} "
        f"pp from the first to the last 52 weeks (slope {ci['repeat_slope_pp_per_year']:+.2f} pp a "
        f"year; {ci['repeat_first_weeks_pct']:.1f}% in the first 4 weeks), customers "
        f"{ci['customers_change_pct']:+.1f}%, the focal share "
        f"{ci['focal_share_change_pp']:+.2f} pp. In the last 52 weeks "
        f"{ci['arrivals_per_week']:.1f} customers a week arrive (acquired or referred) and "
        f"{ci['departures_per_week']:.1f} leave the category: the base moves towards the size "
        "at which they balance, which the acquisition budget (per 1,000 customers at week 0) "
        "sets in proportion to customers.n. A trend is evidence of a start-up transient "
        "that cumulative comparisons mix with the effect of a programme."
    )

    def figure(fig):
        ax = fig.subplots()
        table = np.vstack([s.to_numpy() for s in series])
        x = series[0].index.to_numpy()
        lo, hi = np.percentile(table, [2.5, 97.5], axis=0)
        ax.fill_between(x, lo, hi, alpha=0.3, label="2.5-97.5% of seeds")
        ax.plot(x, table.mean(axis=0), label="mean over seeds")
        ax.legend()
        ax.set(xlabel="week", ylabel="repeat rate (%)", title="Weekly repeat rate, no programmes")

    return Measured(values, "repeat_change_pp", verdict(ok), evidence, figure)
