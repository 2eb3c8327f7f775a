"""The acquisition budget that keeps a market at its size: paid arrivals replace the customers
who leave the category, net of those referred in.

    python scripts/steady_budget.py                       # the default world at 10,000
    python scripts/steady_budget.py world=<id> customers.n=3000 --seeds 10

Plays ``--seeds`` markets without programmes for 156 weeks and, over the last 52, measures a
week's departures, referrals and EUR per acquired customer. The budget per 1,000 customers a
firm (``firm.acquisition.weekly_budget_per_1000``) at which the base neither grows nor
shrinks is ``1000 x (departure rate - referral rate) x EUR per acquired customer / firms``.
The default (EUR 17) is this figure for the central world, measured at the budget the
calibration ran with (EUR 30: 17.2), rounded; the rates are measured at the size the market
reaches, so rerunning with the budget printed moves it a little (17 gives 16.0). The
stationarity check of ``loyaltysim-validate`` is the test: at 17 the default market's
customers change -0.0% from its first to its third year (16: -0.4%, 18: +0.4%).
"""

from __future__ import annotations

import argparse

import numpy as np

from loyaltysim import Market, load_config


def steady_budget(overrides: list[str], seeds: int, weeks: int = 156) -> dict[str, float]:
    """Means over seeds of the last 52 weeks' flows (customers a week) and the budget per
    1,000 customers a firm that balances them (EUR a week)."""
    rows = []
    for seed in range(seeds):
        cfg = load_config(
            ["firm/programme=none", "competitor/programme=none", f"market.horizon_weeks={weeks}",
             "output.figure=false", *overrides],
            seed=seed,
        )  # fmt: skip
        df = Market(cfg).run().metrics()
        last = df[df["week"] > df["week"].max() - 52]
        flows = last.groupby("week")[["acquired", "acquisition_cost", "referred", "churn_out",
                                      "customers"]].sum().mean()  # fmt: skip
        step = cfg.market.step_weeks
        rows.append({
            "acquired": flows["acquired"] / step,
            "eur_per_acquired": flows["acquisition_cost"] / max(flows["acquired"], 1e-12),
            "referred": flows["referred"] / step,
            "departures": flows["churn_out"] / step,
            "customers": flows["customers"],
            "firms": len(cfg.firm_params()),
        })  # fmt: skip
    mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    net = (mean["departures"] - mean["referred"]) / mean["customers"]
    mean["budget_per_1000"] = 1000 * net * mean["eur_per_acquired"] / mean["firms"]
    return mean


def main() -> None:
    ap = argparse.ArgumentParser(
        description="The acquisition budget per 1,000 customers at which paid arrivals replace "
        "the customers who leave the category, net of referrals."
    )
    ap.add_argument("overrides", nargs="*", help="config overrides (key=value)")
    ap.add_argument("--seeds", type=int, default=6, help="markets to average (default 6)")
    args = ap.parse_args()
    m = steady_budget(args.overrides, args.seeds)
    cfg = load_config(args.overrides)
    ran = ", ".join(
        f"{f.name} EUR {f.acquisition.weekly_budget_per_1000:g}" for f in cfg.firm_params()
    )
    print(
        f"{args.seeds} markets of {cfg.customers.n:,} customers at week 0, no programmes, 156 "
        f"weeks; budgets per 1,000 customers a week: {ran}\n"
        f"whole market, mean week of the last 52: {m['departures']:.2f} customers leave the "
        f"category, {m['referred']:.2f} are referred in, {m['acquired']:.2f} are acquired at EUR "
        f"{m['eur_per_acquired']:.1f} each; {m['customers']:,.0f} customers\n"
        f"budget at which paid arrivals replace the departures net of referrals: EUR "
        f"{m['budget_per_1000']:.1f} a week per 1,000 customers, for each of the "
        f"{m['firms']:.0f} firms (firm.acquisition.weekly_budget_per_1000); small markets and "
        "few seeds make it noisy"
    )


if __name__ == "__main__":
    main()
