"""Figures of a run: shares, profit, loyalty and churn over time, per firm."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def run_figure(metrics: pd.DataFrame, path: Path | None = None, title: str = "") -> plt.Figure:
    """Four panels per firm: purchase share (%), cumulative profit (kEUR), repeat rate (%)
    and loyal customers (active solid, passive dashed; S6). Saved as PNG if ``path`` given."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    for i, (name, df) in enumerate(metrics.groupby("firm", sort=False)):
        colour = f"C{i}"
        week = df["week"]
        smooth = df[["share", "repeat_rate"]].rolling(4, min_periods=1).mean()
        axes[0, 0].plot(week, 100 * smooth["share"], color=colour, label=name)
        axes[0, 1].plot(week, df["cumulative_profit"] / 1e3, color=colour, label=name)
        axes[1, 0].plot(week, 100 * smooth["repeat_rate"], color=colour, label=name)
        axes[1, 1].plot(week, df["active_loyal"], color=colour, label=f"{name} active")
        axes[1, 1].plot(week, df["passive_loyal"], color=colour, ls="--", label=f"{name} passive")
    labels = [
        ("Purchase share (%, 4-week mean)", axes[0, 0]),
        ("Cumulative profit (kEUR)", axes[0, 1]),
        ("Repeat-purchase rate (%, 4-week mean)", axes[1, 0]),
        ("Loyal customers: active vs passive (S6)", axes[1, 1]),
    ]
    for text, ax in labels:
        ax.set_title(text, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("week")
    axes[0, 0].legend(fontsize=8)
    axes[1, 1].legend(fontsize=7, ncol=2)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return fig
