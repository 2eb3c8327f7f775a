"""A run's headline outcomes per firm, from its metrics table (the run's ``summary``)."""

from __future__ import annotations

import pandas as pd


def summarise(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per firm: the headline outcomes of a run, in EUR and percent.

    Final-period figures average the last 13 weeks, so one noisy week does not decide them.
    Churn rates are events per 100 customer-years of the firm's own customer base.
    """
    last = metrics["week"] > metrics["week"].max() - 13
    rows = []
    for firm, df in metrics.groupby("firm", sort=False):
        tail = df[last.loc[df.index]]
        # rates per customer-year: exits over the firm's average customer base, so a firm
        # that keeps more customers is not charged with more churn for it
        base = max(df["customers"].mean(), 1.0)
        years = df["week"].iloc[-1] / 52.0
        rows.append(
            {
                "firm": firm,
                "customers_end": int(df["customers"].iloc[-1]),
                "share_end_pct": 100 * tail["share"].mean(),
                "cumulative_profit_eur": df["cumulative_profit"].iloc[-1],
                "programme_cost_eur": df["programme_cost"].sum(),
                # the parts of profit, so that a study can re-price the same runs at
                # another unit cost (the break-even margin, studies/margin.py)
                "revenue_eur": df["revenue"].sum(),
                "units": df["units"].sum(),
                "cogs_eur": df["cogs"].sum(),
                "acquisition_cost_eur": df["acquisition_cost"].sum(),
                "price_start_eur": float(df["price"].iloc[0]),
                "price_fixed": bool(df["price"].nunique() == 1),
                "repeat_rate_pct": 100 * tail["repeat_rate"].mean(),
                "churn_to_competitor_per_year_pct": 100
                * df["churn_to_competitor"].sum()
                / base
                / years,
                "churn_out_per_year_pct": 100 * df["churn_out"].sum() / base / years,
                "members_end": int(df["members"].iloc[-1]),
                "active_loyal_end": int(df["active_loyal"].iloc[-1]),
                "passive_loyal_end": int(df["passive_loyal"].iloc[-1]),
            }
        )
    return pd.DataFrame(rows)
