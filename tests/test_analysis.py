"""The claim analyses (``loyaltysim.studies.analysis``), one test per experiment, each on a small
real sweep of that experiment (a tiny market, a short horizon, 2 seeds, the basic
launcher). Where the sweep is overridden (an end week, a start week, a reversed order of
levels), the test checks that the analysis reads the value the runs used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loyaltysim.runs.collect import Collected, collect
from loyaltysim.runs.io import config_dir
from loyaltysim.studies.analysis import EXPERIMENTS, AnalysisError, analyse, titles, write_readme
from loyaltysim.studies.analysis import withdrawal as withdrawal_module
from loyaltysim.studies.analysis.common import fmt_diff, levels

TINY = ["customers.n=200", "market.horizon_weeks=20", "seed=range(0,2)"]


def sweep(tmp: Path, name: str, *overrides: str) -> Path:
    """Run experiment ``name`` as a real Hydra sweep into ``tmp/name``; return the folder."""
    out = tmp / name
    cmd = [sys.executable, "-m", "loyaltysim", "-m", f"experiment={name}", *TINY, *overrides]
    cmd += [f"hydra.sweep.dir={out}", "hydra/launcher=basic"]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"}
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("analysis")


def run(tmp: Path, name: str, *overrides: str) -> tuple[Collected, Path, list[str]]:
    runs = sweep(tmp, name, *overrides)
    col = collect(runs)
    out = tmp / "results" / name
    return col, out, analyse(name, col, out, runs)


def paired(col: Collected, metric: str, arm: dict, base: dict, firm: str = "focal") -> dict:
    """Mean and CI of the per-seed difference arm - base, computed here from the summary."""
    s = col.summary[col.summary["firm"] == firm]

    def pick(where: dict) -> pd.Series:
        mask = np.ones(len(s), bool)
        for k, v in where.items():
            mask &= s[k].map(str).to_numpy() == str(v)
        return s[mask].set_index("seed")[metric]

    d = (pick(arm) - pick(base)).to_numpy(float)
    half = 12.706 * d.std(ddof=1) / np.sqrt(2)  # t(0.975, 1 df): two seeds
    return {"diff": d.mean(), "ci_low": d.mean() - half, "ci_high": d.mean() + half}


def check_comparison(folder: Path, baseline: str, n_arms: int) -> pd.DataFrame:
    """A comparison folder: files written, the baseline, one row per arm and metric, CIs
    bracketing the means."""
    for f in ("comparison.md", "comparison.csv", "payback.csv", "timeseries.png"):
        assert (folder / f).stat().st_size > 0, f
    md = (folder / "comparison.md").read_text()
    table = pd.read_csv(folder / "comparison.csv", keep_default_na=False, na_values=[""])
    # the baseline shown in words (its CSV label), not as override syntax
    label = table.loc[table["arm"].astype(str) == baseline, "label"].iloc[0]
    assert f"Baseline arm: **{label}**" in md and "=" not in label.replace(" = ", ""), label
    assert table["arm"].nunique() == n_arms
    assert len(table) == n_arms * table["metric"].nunique()
    ok = table.dropna(subset=["ci_low", "ci_high"])
    assert (ok["ci_low"] <= ok["mean"] + 1e-9).all() and (ok["mean"] <= ok["ci_high"] + 1e-9).all()
    assert table.loc[table["arm"].astype(str) == baseline, "diff"].isna().all()
    return table


def test_registry_lists_every_experiment_config_in_order():
    configs = sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))
    assert sorted(EXPERIMENTS) == configs
    assert [t.split(".")[0] for t in titles().values()] == [str(i) for i in range(1, 9)]


def test_head_to_head(tmp):
    col, out, lines = run(tmp, "head_to_head")
    assert len(lines) == 2 and "**S2**" in lines[0] and "**S3/S4**" in lines[1]
    check_comparison(out, "none", 3)
    d = paired(
        col, "cumulative_profit_eur", {"firm/programme": "discount"}, {"firm/programme": "none"}
    )
    assert f"cumulative profit {d['diff']:+,.0f} EUR" in lines[0]
    e = paired(
        col, "cumulative_profit_eur", {"firm/programme": "engagement"}, {"firm/programme": "none"}
    )
    assert f"cumulative profit {e['diff']:+,.0f} EUR" in lines[1]
    # the break-even margin, recomputed from the summary: the margin m at which the mean
    # paired profit gain, re-priced as profit + (m - 0.3) * price * units, is zero
    s = col.summary[col.summary["firm"] == "focal"]
    for line, arm in ((lines[0], "discount"), (lines[1], "engagement")):
        cur = s[s["firm/programme"] == arm].set_index("seed")
        base = s[s["firm/programme"] == "none"].set_index("seed")
        dp = (cur["cumulative_profit_eur"] - base["cumulative_profit_eur"]).mean()
        du = 5.0 * (cur["units"] - base["units"]).mean()
        m = 0.3 - dp / du
        # Fieller's interval is bounded where the slope's mean is told from zero
        b = 5.0 * (cur["units"] - base["units"]).to_numpy()
        t2 = stats.t.ppf(0.975, b.size - 1) ** 2 / b.size
        if b.mean() ** 2 > t2 * b.var(ddof=1):
            assert f"{100 * m:.0f}%" in line and "break-even" in line
        else:
            assert "break-even margin not determined" in line
    assert (out / "effect_by_margin.png").stat().st_size > 0
    assert len(pd.read_csv(out / "break_even_margin.csv")) == 2


def test_withdrawal_reads_the_end_week_from_the_sweep(tmp):
    col, out, lines = run(tmp, "withdrawal", "firm.programme.end_week=null,10")
    assert len(lines) == 2
    assert lines[0].startswith("- **S1**") and "discount programme withdrawn at week 10" in lines[0]
    assert "Contrast, engagement programme" in lines[1]
    # the profit verdict is stated with its margin: the runs' 30% and the break-even
    assert all("at a 30% gross margin; " in line and "break-even" in line for line in lines)
    for prog in ("discount", "engagement"):
        check_comparison(out / prog, "None", 2)
    rep = paired(
        col,
        "repeat_rate_pct",
        {"firm/programme": "discount", "firm.programme.end_week": 10},
        {"firm/programme": "discount", "firm.programme.end_week": None},
    )
    assert f"last 13 weeks {rep['diff']:+,.2f} pp" in lines[0]


def test_a_missing_factor_is_named(tmp):
    col = collect(tmp / "head_to_head") if (tmp / "head_to_head").is_dir() else None
    if col is None:
        col = collect(sweep(tmp, "head_to_head"))
    with pytest.raises(AnalysisError, match=r"firm\.programme\.end_week"):
        withdrawal_module.analyse(col, tmp / "nowhere", tmp / "head_to_head")
    with pytest.raises(AnalysisError, match="arm/referral"):
        EXPERIMENTS["referral_thanks"].analyse(col, tmp / "nowhere", tmp / "head_to_head")


def test_poaching_reads_start_week_and_depth_from_the_runs(tmp):
    col, out, lines = run(
        tmp, "poaching", "competitor.poaching.start_week=5", "competitor.poaching.depth=0.3"
    )
    (line,) = lines
    assert "**S6**" in line and "(target all; offer reach 0.2 a week, 30% off) from week 5." in line
    # programmes in the sweep's order, not alphabetical
    assert line.index("none: churn") < line.index("discount: churn") < line.index("engagement:")
    table = pd.read_csv(out / "defections.csv")
    assert len(table) == 9  # 3 programmes x 3 rates
    ok = table.dropna(subset=["ci_low", "ci_high"])
    assert ((ok.ci_low <= ok.passive_share_pct) & (ok.passive_share_pct <= ok.ci_high)).all()
    assert "after week 5" in (out / "defections.md").read_text()
    for prog in ("none", "discount", "engagement"):
        check_comparison(out / prog, "0.0", 3)
    c = paired(
        col,
        "churn_to_competitor_per_year_pct",
        {"firm/programme": "none", "competitor.poaching.rate": 0.2},
        {"firm/programme": "none", "competitor.poaching.rate": 0.0},
    )
    assert f"none: churn {c['diff']:+.2f} pp/year" in line
    # protection against poaching-induced churn, recomputed seed by seed from the summaries
    guard = pd.read_csv(out / "protection.csv").set_index("programme")
    s = col.summary[col.summary["firm"] == "focal"]
    churn = {
        (p, float(r)): s[
            (s["firm/programme"] == p) & (s["competitor.poaching.rate"] == r)
        ].set_index("seed")["churn_to_competitor_per_year_pct"]
        for p in ("none", "engagement")
        for r in (0.0, 0.2)
    }
    induced = {p: churn[p, 0.2] - churn[p, 0.0] for p in ("none", "engagement")}
    want = (induced["none"] - induced["engagement"]).mean()
    assert guard.loc["engagement", "protection_pp_yr"] == pytest.approx(want)
    assert guard.loc["none", "protection_pp_yr"] == pytest.approx(0.0)
    assert guard.loc["none", "induced_churn_pp_yr"] == pytest.approx(c["diff"])
    assert f"engagement {want:+.2f} pp/yr [" in line and "poaching/protection.md" in line


def test_acquisition_vs_retention_lower_dropout_b_is_the_baseline(tmp):
    # the levels listed high to low: the baseline is still the lower b
    col, out, lines = run(tmp, "acquisition_vs_retention", "customers.dropout_b=400,199")
    assert [line[:12] for line in lines] == ["- **S5** mov"] * 2 + ["- **+5 point"]
    assert "(split:" in lines[0] and "(retain_all:" in lines[1]
    assert "halving every customer's" in lines[2]
    check_comparison(out / "budget", "acquire_all", 3)
    for arm in ("acquire_all", "split", "retain_all"):
        check_comparison(out / f"retention_{arm}", "199", 2)
    p = paired(
        col,
        "cumulative_profit_eur",
        {"arm/acquisition": "split", "customers.dropout_b": 199},
        {"arm/acquisition": "acquire_all", "customers.dropout_b": 199},
    )
    assert f"cumulative profit {p['diff']:+,.0f} EUR" in lines[0]


def test_personalisation_no_contact_is_the_baseline(tmp):
    col, out, lines = run(
        tmp,
        "personalisation",
        "firm.programme.personalisation=0.2,1.0",
        "firm.programme.contacts_per_week=0.5,0.0,2.0",
    )
    s7, rate = lines
    assert "**S7**" in s7 and "**S7**" in rate
    table = pd.read_csv(out / "contact_effect.csv")
    assert list(table["personalisation"]) == [0.2, 0.2, 1.0, 1.0]
    assert list(table["contacts_per_week"]) == [0.5, 2.0, 0.5, 2.0]
    assert ((table.d_profit_lo <= table.d_profit) & (table.d_profit <= table.d_profit_hi)).all()
    d = {
        r: paired(
            col,
            "cumulative_profit_eur",
            {"firm.programme.personalisation": 1.0, "firm.programme.contacts_per_week": r},
            {"firm.programme.personalisation": 1.0, "firm.programme.contacts_per_week": 0.0},
        )["diff"]
        for r in (0.5, 2.0)
    }
    assert list(table["d_profit"].iloc[2:]) == pytest.approx([d[0.5], d[2.0]])
    # % of no contact's profit at the level, recomputed from the summary (S7 across worlds)
    s = col.summary[col.summary["firm"] == "focal"]
    none = s[(s["firm.programme.personalisation"].map(float) == 1.0)
             & (s["firm.programme.contacts_per_week"].map(float) == 0.0)]  # fmt: skip
    base = none["cumulative_profit_eur"].mean()
    assert list(table["pct_of_baseline"].iloc[2:]) == pytest.approx(
        [100 * d[0.5] / base, 100 * d[2.0] / base]
    )
    # each rate's break-even gross margin against no contact, stated in the S7 line
    assert table["break_even"].notna().all()  # (2 seeds: Fieller's CI may be unbounded, NaN)
    assert "break-even gross margin, contact every two weeks at personalisation 0.2:" in s7
    best = max(d, key=d.get)
    words = {0.5: "every two weeks", 2.0: "2 times a week"}[best]
    if d[best] <= 0:
        assert "1.0: none (no rate beats no contact)" in rate
    else:  # interior: between no contact and a higher rate, both earning less
        assert f"1.0: {words}" in rate
        assert (f"1.0: {words} (interior)" in rate) == (best == 0.5)
    # S7's timing claim as the across-worlds table reads it: the same as the line says
    (flag,) = pd.read_csv(out / "summary.csv").to_dict("records")
    assert bool(flag["value"]) == ("1.0: " in rate and "(interior)" in rate.split("1.0: ")[1])
    md = (out / "contact_effect.md").read_text()
    assert "every two weeks" in md and len(md.strip().splitlines()) == 4 + 4
    assert (out / "contact_effect.png").stat().st_size > 0


def test_best_rate_is_interior_only_between_rates_that_earn_less():
    from loyaltysim.studies.analysis.personalisation import best_rates

    table = pd.DataFrame(
        {
            "personalisation": [0.8] * 3 + [1.0] * 3 + [0.2] * 3,
            "contacts_per_week": [0.25, 1.0, 4.0] * 3,
            "d_profit": [5.0, 9.0, 2.0, 1.0, 3.0, 7.0, -5.0, -9.0, -1.0],
        }
    )
    assert best_rates(table) == [
        "0.2: none (no rate beats no contact)",
        "0.8: every week (interior)",
        "1.0: 4 times a week",
    ]
    low = table.assign(d_profit=[8.0, 1.0, -2.0] * 3)
    assert best_rates(low)[0] == "0.2: every four weeks (interior)"


def test_referral_thanks(tmp):
    col, out, lines = run(tmp, "referral_thanks")
    (line,) = lines
    assert "**S8**" in line and "the EUR 2 referral rebate" in line
    check_comparison(out, "nothing", 3)
    tr = paired(
        col, "cumulative_profit_eur", {"arm/referral": "thanks"}, {"arm/referral": "rebate"}
    )
    assert f"Thanks minus rebate: {tr['diff']:+,.0f} EUR" in line
    assert all(
        f"{arm} " in line.split("Recommendations per run:")[1]
        for arm in levels(col, "arm/referral")
    )


def test_design_lottery_baseline_is_the_design_that_never_starts(tmp):
    col, out, lines = run(tmp, "design_lottery", "design=range(0,4)")
    (line,) = lines
    assert "**S9**" in line and "of 3 random discount designs" in line
    assert "had not paid back at week 20" in line
    designs = pd.read_csv(out / "designs.csv", index_col="design")
    assert sorted(designs.index) == [1, 2, 3]
    ok = designs
    assert (
        (ok.profit_gain_ci_low <= ok.profit_gain_eur)
        & (ok.profit_gain_eur <= ok.profit_gain_ci_high)
    ).all()
    final = col.runs[(col.runs["firm"] == "focal") & (col.runs["week"] == 20)]
    profit = final.pivot_table(index="design", columns="seed", values="cumulative_profit")
    assert designs.loc[2, "profit_gain_eur"] == pytest.approx(
        (profit.loc[2] - profit.loc[0]).mean()
    )
    assert (out / "lottery.md").is_file() and (out / "lottery.png").stat().st_size > 0
    # S9's share, as the across-worlds table reads it: recomputed from the designs
    (s9,) = pd.read_csv(out / "summary.csv").to_dict("records")
    assert s9["pct"] == pytest.approx(100 * (designs["profit_gain_eur"] <= 0).mean())
    assert s9["pct_lo"] <= s9["pct"] <= s9["pct_hi"] and s9["designs"] == 3


def test_rival_rebates(tmp):
    col, out, lines = run(tmp, "rival_rebates")
    (line,) = lines
    assert "**Rebates and competition**" in line and "running a 5% rebate" in line
    neither = "competitor/programme=none · firm/programme=none"
    check_comparison(out / "focal", neither, 4)
    check_comparison(out / "rival", neither, 4)
    table = pd.read_csv(out / "prices_profits.csv")
    assert len(table) == 4
    md = (out / "prices_profits.md").read_text()
    assert "| none | none |" in md and "baseline |" in md
    base = table[(table.focal_programme == "none") & (table.rival_programme == "none")].iloc[0]
    both = table[
        (table.focal_programme == "discount") & (table.rival_programme == "discount")
    ].iloc[0]
    assert f"{both.industry_profit - base.industry_profit:+,.0f} EUR" in line


def test_readme_gathers_the_claims_in_registry_order(tmp_path):
    claims = {"rival_rebates": ["- b"], "head_to_head": ["- a"]}
    text = write_readme(tmp_path, claims, titles(), quick=True).read_text()
    assert text.index("## 1. No programme") < text.index("## 8. Rebates") and "Quick mode" in text
    assert "## 2." not in text


def test_fmt_diff_units_and_pairs():
    d = {"diff": -1234.4, "ci_low": -2000.0, "ci_high": -400.0, "p_value": 0.0123, "n_pairs": 5}
    assert fmt_diff(d, "EUR", 0) == "-1,234 EUR (95% CI -2,000 to -400; p = 0.012; 5 paired seeds)"
