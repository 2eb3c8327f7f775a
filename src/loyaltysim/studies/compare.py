"""Compare the arms of a sweep: means with 95% confidence intervals, paired differences
against a baseline arm, payback, as a Markdown table, a CSV and figures.

    loyaltysim-compare outputs/multirun/... --baseline none
    loyaltysim-compare SWEEP --by firm/programme --baseline none --firm focal
    loyaltysim-compare SWEEP --by firm.programme.end_week --where firm/programme=discount

Arms are the combinations of the sweep's factors (every override that varies, except the
seed), or of the keys given with ``--by``; they are shown in words ("discount programme",
"programme ends week 78"), and the printout and reports lead with one sentence per arm
against the baseline. Replications are the seeds. When another factor varies besides the
``--by`` keys, pick its value with ``--where KEY=VALUE`` (repeatable) or pool its runs with
``--pool``; otherwise the command refuses (exit status 2) rather than mix markets.
Differences against the baseline are paired by seed: the arms share random numbers, so the
paired difference is far tighter than the spread of either arm. The p-value is a two-sided
paired t-test (``scipy.stats.ttest_rel``), or Welch's t-test when the arms share fewer than
two seeds.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

from ..runs.collect import Collected, UsageError, collect  # noqa: E402
from . import formatting as fmt  # noqa: E402
from .comparison import (  # noqa: E402,F401  (re-exported: the public names of comparisons)
    METRICS,
    Comparison,
    compare,
    headline,
    label_arms,
    mean_ci,
    pairing_units,
    select,
)

FIGURE_METRICS = (
    "cumulative_profit_eur",
    "share_end_pct",
    "repeat_rate_pct",
    "churn_to_competitor_per_year_pct",
)
SERIES = {
    "cumulative_profit": ("Cumulative profit (kEUR)", 1e-3),
    "share": ("Purchase share (%)", 100.0),
    "repeat_rate": ("Repeat-purchase rate (%)", 100.0),
    "active_loyal": ("Active loyal customers", 1.0),
}


def _fmt(v: float, unit: str, signed: bool = False) -> str:
    return fmt.value(v, unit, signed)


def _with_ci(d: pd.Series, key: str, unit: str) -> str:
    """A relative difference with its CI ("+4.1% [+3.8%, +4.4%]"), or n/a."""
    if key not in d or not np.isfinite(d[key]):
        return "n/a"

    def show(v: float) -> str:
        return fmt.number(v, 1, True) + "%" if key == "pct_of_baseline" else _fmt(v, unit, True)

    return f"{show(d[key])} [{show(d[key + '_ci_low'])}, {show(d[key + '_ci_high'])}]"


def lead(
    collected: Collected, cmp: Comparison, arm_of: pd.Series
) -> tuple[list[str], pd.DataFrame]:
    """The one-sentence answer per arm against the baseline ("Discount programme vs no
    programme: profit +8.1% (95% CI ...), +€2,500 per 1,000 customers ...") and the
    headline numbers behind them (:func:`headline`). ``arm_of`` gives each row of
    ``collected.summary`` its arm; money per 1,000 customers divides by the baseline's
    market size."""
    summary = collected.summary
    if cmp.pooled:  # pair by seed and pooled values, as compare did
        summary = summary.assign(seed=pairing_units(summary, cmp.pooled))
        collected = Collected(collected.runs, summary, collected.failures, collected.factors)
    base = summary[(summary["firm"] == cmp.firm) & (arm_of == cmp.baseline)]
    customers = float(base["market_customers"].mean()) if "market_customers" in base else 0.0
    head = headline(collected, cmp, arm_of, customers)
    vs = cmp.label(cmp.baseline)
    sentences = [
        fmt.answer(r, f"{fmt.capitalised(cmp.label(r.arm))} vs {vs}") for _, r in head.iterrows()
    ]
    return sentences, head


def _scope(cmp: Comparison) -> str:
    """What the intervals cover, as one sentence."""
    return fmt.capitalised(fmt.scope(int(cmp.arms["n"].max()))) + "."


def to_markdown(
    cmp: Comparison, names: Mapping[str, str] | None = None, sentences: Sequence[str] = ()
) -> str:
    """The comparison as a Markdown report: the sentences first (as a list), then one
    table per metric, units in the headers, the baseline row in bold, money as €1,234,567,
    p-values as "< 0.001"."""
    base = cmp.label(cmp.baseline)
    lines = [f"- {s}" for s in sentences]
    if sentences:
        lines += ["", _scope(cmp), ""]
    lines += [
        f"Firm: **{fmt.firm_name(cmp.firm, names)}**. Baseline arm: **{base}**. Means over "
        "seeds with 95% confidence intervals (95% CI); differences are paired by seed "
        "(common random numbers), p from a two-sided paired t-test. Δ % is the difference "
        "as a percentage of the baseline's mean; per 1,000 customers divides money and "
        "customer counts by the market's size, so markets of any size compare.",
        "",
        cmp.pairing()[0].upper() + cmp.pairing()[1:] + ".",
        "",
    ]
    if cmp.pooled:
        lines += [f"Pooled on request (--pool): runs that differ in {', '.join(cmp.pooled)}.", ""]
    for metric, (label, unit, dunit) in METRICS.items():
        arms = cmp.arms[cmp.arms["metric"] == metric]
        diffs = cmp.differences[cmp.differences["metric"] == metric].set_index("arm")
        lines += [
            f"### {label} ({unit})",
            "",
            f"| arm | n | mean | 95% CI | Δ vs {base} ({dunit}) | 95% CI of Δ | Δ % of "
            "baseline [95% CI] | Δ per 1,000 customers [95% CI] | p |",
            "|---|---:|---:|---|---:|---|---|---|---:|",
        ]
        for _, r in arms.iterrows():
            ci = f"[{_fmt(r.ci_low, unit)}, {_fmt(r.ci_high, unit)}]"
            name = cmp.label(r.arm)
            if r.arm in diffs.index:
                d = diffs.loc[r.arm]
                delta = _fmt(d["diff"], dunit, signed=True)
                dci = f"[{_fmt(d['ci_low'], dunit, True)}, {_fmt(d['ci_high'], dunit, True)}]"
                p = fmt.p_value(d["p_value"])
                pct = _with_ci(d, "pct_of_baseline", "%")
                per = _with_ci(d, "per_1000", dunit)
            else:
                name, delta, dci, p, pct, per = f"**{name}**", "(baseline)", "", "", "", ""
            lines.append(
                f"| {name} | {r.n} | {_fmt(r['mean'], unit)} | {ci} | {delta} | {dci} | "
                f"{pct} | {per} | {p} |"
            )
        lines.append("")
    if not cmp.payback.empty:
        cols = [c for c in cmp.payback.columns if c != "arm"]
        lines += [
            "### Payback against the baseline",
            "",
            "Payback week: first week from which the mean cumulative-profit gain over the "
            "baseline stays at or above zero (n/a: not by the horizon). Paid-back shares: "
            "seeds whose gain is positive then.",
            "",
            "| arm | " + " | ".join(cols) + " |",
            "|---|" + "---:|" * len(cols),
        ]
        for _, r in cmp.payback.iterrows():
            vals = [("n/a" if not np.isfinite(r[c]) else f"{r[c]:.0f}") for c in cols]
            lines.append(f"| {cmp.label(r.arm)} | " + " | ".join(vals) + " |")
        lines.append("")
    return "\n".join(lines)


def figures(
    collected: Collected,
    cmp: Comparison,
    by: Sequence[str],
    out: Path,
    names: Mapping[str, str] | None = None,
    arm_of: pd.Series | None = None,
) -> list[Path]:
    """Time series with 95% CI bands per arm (the baseline in black), and bars of the
    differences from the baseline with 95% CI error bars. ``arm_of`` gives each row of
    ``collected.runs`` its arm (default: labelled by ``by``)."""
    runs = collected.runs[collected.runs["firm"] == cmp.firm].copy()
    runs["arm"] = label_arms(runs, by) if arm_of is None else arm_of.loc[runs.index]
    firm = fmt.firm_name(cmp.firm, names)
    arms = list(dict.fromkeys(cmp.arms["arm"]))
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    for ax, (col, (label, scale)) in zip(axes.ravel(), SERIES.items(), strict=True):
        for i, arm in enumerate(arms):
            wide = (
                runs[runs["arm"] == arm].pivot_table(index="week", columns="seed", values=col)
                * scale
            )
            if col in ("share", "repeat_rate"):
                wide = wide.rolling(4, min_periods=1).mean()
            n = wide.shape[1]
            mean = wide.mean(axis=1)
            half = (
                (stats.t.ppf(0.975, n - 1) * wide.std(axis=1, ddof=1) / np.sqrt(n))
                if n > 1
                else 0 * mean
            )
            base = arm == cmp.baseline
            colour = "black" if base else f"C{i}"
            name = cmp.label(arm) + (" (baseline)" if base else "")
            ax.plot(mean.index, mean, color=colour, lw=2.2 if base else 1.4, label=name)
            ax.fill_between(mean.index, mean - half, mean + half, color=colour, alpha=0.15)
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("week")
    axes[0, 0].legend(fontsize=8, title="shaded: 95% CI", title_fontsize=8)
    fig.suptitle(f"{firm[:1].upper() + firm[1:]}: mean over seeds, bands: 95% CI", fontsize=11)
    fig.tight_layout()
    ts = out / "timeseries.png"
    fig.savefig(ts, dpi=110)
    plt.close(fig)

    others = [a for a in arms if a != cmp.baseline]
    if not others:  # one arm: no differences to draw
        return [ts]
    fig, axes = plt.subplots(1, len(FIGURE_METRICS), figsize=(3.4 * len(FIGURE_METRICS), 3.8))
    for ax, metric in zip(axes, FIGURE_METRICS, strict=True):
        label, _, dunit = METRICS[metric]
        d = cmp.differences[cmp.differences["metric"] == metric].set_index("arm").reindex(others)
        err = np.vstack([d["diff"] - d["ci_low"], d["ci_high"] - d["diff"]])
        colours = [f"C{arms.index(a)}" for a in others]
        ax.bar(range(len(others)), d["diff"], yerr=np.nan_to_num(err), color=colours, capsize=4)
        ax.axhline(0, color="black", lw=0.8)
        ticks = [cmp.label(a) for a in others]
        ax.set_xticks(range(len(others)), ticks, rotation=30, ha="right", fontsize=8)
        ax.set_title(f"Δ {label}\n({dunit}, vs {cmp.label(cmp.baseline)})", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
        if dunit == "EUR":
            ax.yaxis.set_major_formatter(lambda v, _pos: fmt.money(v))
    axes[0].set_ylabel("difference; error bars: 95% CI", fontsize=8)
    fig.suptitle(f"{firm[:1].upper() + firm[1:]}: difference from the baseline", fontsize=10)
    fig.tight_layout()
    bars = out / "differences.png"
    fig.savefig(bars, dpi=110)
    plt.close(fig)
    return [ts, bars]


def write(
    collected: Collected,
    cmp: Comparison,
    by: Sequence[str],
    out: Path,
    names: Mapping[str, str] | None = None,
    arm_of: pd.Series | None = None,
    sentences: Sequence[str] = (),
) -> list[Path]:
    """Write comparison.md (led by ``sentences``), comparison.csv and payback.csv (``arm``:
    the raw arm, for machines; ``label``: the arm in words), break_even_margin.csv (each
    arm's break-even gross margin, where the comparison has them) and the figures."""
    out.mkdir(parents=True, exist_ok=True)
    md = out / "comparison.md"
    md.write_text(to_markdown(cmp, names, sentences) + "\n")
    table = cmp.arms.merge(
        cmp.differences, on=["arm", "metric"], how="left", suffixes=("", "_diff")
    )
    table.insert(1, "label", table["arm"].map(cmp.label))
    table.insert(3, "unit", table["metric"].map(lambda m: METRICS[m][1]))
    table.to_csv(out / "comparison.csv", index=False)
    payback = cmp.payback.copy()
    if len(payback):
        payback.insert(1, "label", payback["arm"].map(cmp.label))
    payback.to_csv(out / "payback.csv", index=False)
    written = [md, out / "comparison.csv", out / "payback.csv"]
    if cmp.margins:  # each arm's break-even gross margin against the baseline
        rows = [vars(m) for m in cmp.margins.values()]
        pd.DataFrame(rows).to_csv(out / "break_even_margin.csv", index=False)
        written.append(out / "break_even_margin.csv")
    pngs = figures(collected, cmp, by, out, names, arm_of)
    return [*written, *pngs]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Compare the arms of a loyaltysim sweep.")
    ap.add_argument("sweep_dir", type=Path)
    ap.add_argument(
        "--by", nargs="*", help="override keys that define the arms (default: all that vary)"
    )
    ap.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="compare only the runs with this override value (repeatable), "
        "e.g. --where firm/programme=discount",
    )
    ap.add_argument(
        "--pool",
        action="store_true",
        help="pool runs that differ in factors besides --by (refused without it)",
    )
    ap.add_argument("--baseline", help="the arm to difference against (default: the first)")
    ap.add_argument("--firm", default="focal")
    ap.add_argument("--payback-week", type=int, default=104)
    ap.add_argument("--out", type=Path, help="output folder (default: <sweep>/comparison)")
    args = ap.parse_args(argv)
    try:
        collected = select(collect(args.sweep_dir), args.where)
        by = args.by if args.by is not None else collected.factors
        cmp = compare(collected, by, args.baseline, args.firm, args.payback_week, args.pool)
    except UsageError as err:
        print(f"loyaltysim-compare: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    out = args.out or args.sweep_dir / "comparison"
    arm_of = label_arms(collected.summary, by)
    sentences, head = lead(collected, cmp, arm_of)
    paths = write(collected, cmp, by, out, sentences=sentences)
    from .report import write_html

    title = f"Comparison of {args.sweep_dir.name}"
    pngs = [p for p in paths if p.suffix == ".png"]
    notes = [_scope(cmp)] if sentences else []
    paths.append(
        write_html(out / "report.html", title, cmp, pngs, sentences, head, cmp.labels, notes=notes)
    )
    print(to_markdown(cmp, sentences=sentences))
    if len(collected.failures):
        print(
            f"note: {len(collected.failures)} failed or corrupt runs left out "
            "(collected/failures.csv)",
            file=sys.stderr,
        )
    print(cmp.pairing())
    print("written: " + ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
