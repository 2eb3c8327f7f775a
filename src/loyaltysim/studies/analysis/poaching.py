"""Experiment 3, ``poaching``: competitors' poaching intensity x the focal firm's
programme (S6).

Factors: ``firm/programme`` and ``competitor.poaching.rate`` (the share of targeted
customers who get an offer each week). The baseline rate is the lowest level (0: no
poaching), the treatment the highest. The week the offers start and their depth are read
from the runs' resolved configs (``competitor.poaching.start_week``, ``.depth``).

Outputs, for the focal firm after the start week:

- ``defections.{csv,md}``: per programme and rate, the mean per run of defections to
  competitors (customers), of loyal defectors who were passive or active loyal
  (customers), and the share of loyal defectors who were passive (%, mean over seeds
  with a 95% CI);
- ``protection.{csv,md}``: per programme, the poaching-induced churn to competitors (the
  highest rate minus none, pp per customer-year, paired by seed) and the protection it
  gives against it: no programme's induced churn minus its own (pp/yr, mean and 95% CI
  over seeds);
- per programme, a comparison of every rate against no poaching (``<programme>/``).

Rivals target only what they observe (``competitor.poaching.target``: everyone, the
deal-prone, or their own buyers; never the focal firm's contacts), so any protection
comes through the customers' own choices.

**S6** (passive loyal customers fall for competitors' offers): the highest rate vs none,
churn to competitors (pp per customer-year) and cumulative profit (EUR), the protection
each programme gives, and the passive share of loyal defectors at the highest rate.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...runs.collect import Collected
from ..compare import compare, mean_ci
from .common import (
    AnalysisError,
    common_config_value,
    diff,
    levels,
    require_factor,
    run_configs,
    save,
    subset,
)

NUMBER = 3
TITLE = "Poaching intensity x programme type (S6)"
PROGRAMME = "firm/programme"
RATE = "competitor.poaching.rate"


def defections(collected: Collected, start: int) -> pd.DataFrame:
    """One row per (programme, rate): mean defections per run after week ``start`` and the
    passive share of loyal defectors (%, mean and 95% CI over seeds)."""
    runs = collected.runs[(collected.runs["firm"] == "focal") & (collected.runs["week"] > start)]
    rows = []
    for (prog, rate), df in runs.groupby([PROGRAMME, RATE]):
        per_seed = df.groupby("seed")[
            ["defected_passive_loyal", "defected_active_loyal", "churn_to_competitor"]
        ].sum()
        loyal = per_seed["defected_passive_loyal"] + per_seed["defected_active_loyal"]
        share = (per_seed["defected_passive_loyal"] / loyal.where(loyal > 0)).to_numpy()
        m, lo, hi = mean_ci(100 * share)
        rows.append(
            {
                "programme": prog,
                "poaching_rate": rate,
                "defections": per_seed["churn_to_competitor"].mean(),
                "loyal_defections_passive": per_seed["defected_passive_loyal"].mean(),
                "loyal_defections_active": per_seed["defected_active_loyal"].mean(),
                "passive_share_pct": m,
                "ci_low": lo,
                "ci_high": hi,
            }
        )
    return pd.DataFrame(rows)


CHURN = "churn_to_competitor_per_year_pct"


def protection(collected: Collected, none: str, top: str) -> pd.DataFrame:
    """One row per programme: poaching-induced churn to competitors of the focal firm (rate
    ``top`` minus ``none``, pp/yr, per seed) and the protection against it relative to no
    programme (no programme's induced churn minus this one's), mean and 95% CI over seeds."""
    s = collected.summary[collected.summary["firm"] == "focal"]
    rate = s[RATE].astype(float)
    churn = lambda r: s[rate == float(r)].set_index([PROGRAMME, "seed"])[CHURN]  # noqa: E731
    induced = (churn(top) - churn(none)).dropna()
    rows = []
    for prog, x in induced.groupby(level=PROGRAMME):
        x = x.droplevel(PROGRAMME)
        base = induced.xs("none", level=PROGRAMME) if "none" in induced.index.levels[0] else x
        d = (base - x).dropna()
        m, lo, hi = mean_ci(x.to_numpy())
        pm, plo, phi = mean_ci(d.to_numpy())
        rows.append(
            {
                "programme": prog,
                "induced_churn_pp_yr": m,
                "induced_ci_low": lo,
                "induced_ci_high": hi,
                "protection_pp_yr": pm,
                "protection_ci_low": plo,
                "protection_ci_high": phi,
                "seeds": int(d.size),
            }
        )
    return pd.DataFrame(rows)


def _write_protection(table: pd.DataFrame, target: str, top: str, out: Path) -> None:
    table.to_csv(out / "protection.csv", index=False)
    md = [
        f"Poaching-induced churn to competitors of the focal firm (rate {top} minus none, "
        f"target {target}; pp per customer-year, paired by seed), and the protection each "
        "programme gives against it: no programme's induced churn minus its own.",
        "",
        "| programme | induced churn (pp/yr) [95% CI] | protection (pp/yr) [95% CI] | seeds |",
        "|---|---|---|---:|",
    ]
    for _, r in table.iterrows():
        md.append(
            f"| {r.programme} | {r.induced_churn_pp_yr:+.2f} [{r.induced_ci_low:+.2f}, "
            f"{r.induced_ci_high:+.2f}] | {r.protection_pp_yr:+.2f} [{r.protection_ci_low:+.2f}, "
            f"{r.protection_ci_high:+.2f}] | {r.seeds} |"
        )
    (out / "protection.md").write_text("\n".join(md) + "\n")


def _write_defections(table: pd.DataFrame, start: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "defections.csv", index=False)
    md = [
        f"Defections from the focal firm after week {start} (mean per run), and the share of "
        "loyal defectors who were passive rather than active loyal (S6).",
        "",
        "| programme | poaching rate | defections | of them passive loyal | active loyal | "
        "passive share of loyal defectors (%) [95% CI] |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for _, r in table.iterrows():
        md.append(
            f"| {r.programme} | {r.poaching_rate} | {r.defections:,.0f} | "
            f"{r.loyal_defections_passive:,.0f} | {r.loyal_defections_active:,.0f} | "
            f"{r.passive_share_pct:.1f} [{r.ci_low:.1f}, {r.ci_high:.1f}] |"
        )
    (out / "defections.md").write_text("\n".join(md) + "\n")


def analyse(collected: Collected, out_dir: Path, sweep_dir: Path) -> list[str]:
    for key in (PROGRAMME, RATE):
        require_factor(collected, key, "poaching")
    configs = run_configs(collected, sweep_dir)
    start_week = int(common_config_value(configs, "competitor.poaching.start_week"))
    depth = float(common_config_value(configs, "competitor.poaching.depth"))
    target = str(common_config_value(configs, "competitor.poaching.target"))
    # the analysis window starts at the offers' start, or a week before the end of a
    # run too short to reach it
    start = min(start_week, int(collected.runs["week"].max()) - 1)
    rates = levels(collected, RATE, sweep_dir)
    none, top = min(rates, key=float), max(rates, key=float)
    if float(none) != 0:
        raise AnalysisError(f"poaching: expected a level {RATE}=0 (no poaching), got {rates}")
    table = defections(collected, start)
    _write_defections(table, start, out_dir)
    order = [str(p) for p in levels(collected, PROGRAMME, sweep_dir)]
    guard = protection(collected, str(none), str(top))
    guard = guard.sort_values("programme", key=lambda p: p.astype(str).map(order.index))
    _write_protection(guard, target, str(top), out_dir)
    kept = "; ".join(
        f"{r.programme} {r.protection_pp_yr:+.2f} pp/yr "
        f"[{r.protection_ci_low:+.2f}, {r.protection_ci_high:+.2f}]"
        for _, r in guard.iterrows()
        if r.programme != "none"
    )
    effects = []
    for prog in levels(collected, PROGRAMME, sweep_dir):
        sub = subset(collected, **{PROGRAMME: prog})
        cmp = compare(sub, baseline=str(none))
        save(sub, cmp, out_dir / str(prog))
        c = diff(cmp, top, "churn_to_competitor_per_year_pct")
        p = diff(cmp, top, "cumulative_profit_eur")
        effects.append(
            f"{prog}: churn {c['diff']:+.2f} pp/year (p = {c['p_value']:.2g}), "
            f"profit {p['diff']:+,.0f} EUR"
        )
    hi = table[table["poaching_rate"].astype(str) == str(top)]
    passive = ", ".join(f"{r.programme} {r.passive_share_pct:.0f}%" for _, r in hi.iterrows())
    return [
        f"- **S6** (passive loyal customers fall for competitors' offers): rivals send offers "
        f"to the focal firm's customers they can observe (target {target}; offer reach {top} a "
        f"week, {100 * depth:.0f}% off) from week {start}. Effect on the focal firm, by its "
        f"programme: {'; '.join(effects)}. Protection against poaching-induced churn, no "
        f"programme's minus the programme's (95% CI): {kept or 'no programme to compare'} "
        f"(`poaching/protection.md`). Of the loyal customers who defect, this share was "
        f"passive: {passive} (`poaching/defections.md`).",
    ]
