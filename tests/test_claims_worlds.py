"""Results across worlds (issue 23 item 3): ``experiments/run_all.py --worlds`` runs the
experiments with claims in each world and writes ``ensemble/claims.csv``, ``claims.md`` and
the README's first section (every claim's verdict across the worlds, then the default run's);
tested on a tiny ensemble (2 worlds, 2 seeds, 300 customers, 26 weeks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyaltysim.studies.worlds import claims as across
from loyaltysim.studies.worlds.ensemble import accepted_worlds

ROOT = Path(__file__).resolve().parents[1]
CLAIM = "S3/S4 engagement vs none"


def table(pcts: list[float]) -> pd.DataFrame:
    rows = []
    for i, p in enumerate(pcts):
        row = {"world": f"w_x_{i}", "central": i == 0}
        row |= {
            f"{CLAIM} {k}": v
            for k, v in zip(across.FIELDS, [p, p - 1, p + 1, 9, 8, 10], strict=True)
        }
        rows.append(row)
    return pd.DataFrame(rows)


def test_the_readme_section_counts_a_planted_losing_world_and_states_the_default():
    pcts = [2.0, 3.0, 4.0, -5.0, 0.5]  # w3 loses by its CI; w4's CI straddles zero
    central = {CLAIM: {"pct": 1.25, "pct_lo": 0.5, "pct_hi": 2.0}}
    text = across.readme_section(table(pcts), central)
    row = next(x for x in text.splitlines() if x.startswith(f"| {CLAIM} |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:4] == ["3 of 5", "1 of 5", "1"]  # up, down, not resolved
    assert cells[4] == f"{np.median(pcts):+.1f}%" and cells[5] == "-5.0 to +4.0%"
    assert cells[6] == "n/a"  # no break-even margins in the table
    assert cells[7] == "+1.2% [+0.5, +2.0]"


def test_a_claims_direction_decides_holds_and_the_margin_is_summarised_across_worlds():
    t = table([2.0, 3.0, -4.0, -5.0, -0.5])  # two up, three down (by their CIs), one straddles
    t = t.rename(columns=lambda c: c.replace(CLAIM, "S3 discount vs none"))
    t["S3 discount vs none be"] = [0.30, 0.40, 0.50, 0.60, np.nan]
    s = across.summarise(across.long_effects(t, ["S3 discount vs none"]))["S3 discount vs none"]
    text = across.lead("S3 discount vs none", s, t)
    # S2 says the discount lowers profit: it holds where profit falls, not where it rises
    assert text.startswith("S2 (the discount lowers profit) holds in 2 of 5 plausible worlds.")
    assert "up in 2, down in 2, not resolved in 1" in text
    assert "break-even gross margin 45% (30 to 60%)" in text
    row = across.readme_section(t).split("| S3 discount vs none |")[1]
    assert "| 45% (30 to 60%) |" in row


def test_each_claims_bullet_leads_with_its_verdict_across_worlds_once(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Results\n\n## 1. Head to head\n\n- **S3/S4** (engagement pays): central text.\n"
        "- **S2** (discounts eat profit): other text.\n"
    )
    for pcts in ([2.0, 3.0], [-2.0, -3.0]):
        t = table(pcts)
        across.insert_section(readme, across.readme_section(t), t)
    text = readme.read_text()
    line = next(x for x in text.splitlines() if x.startswith("- **S3/S4**"))
    assert line.count(across.LEAD) == 1  # the second call replaced the first's lead
    assert "S3/S4 (engagement raises profit) holds in 0 of 2 plausible worlds" in line
    assert line.endswith("In the default world: " + across.LEAD_END + " central text.")
    assert "- **S2** (discounts eat profit): other text." in text  # no S2 claim in the table


def test_every_claim_has_a_bullet_and_break_even_margins_are_read(tmp_path):
    assert set(across.BULLETS) == set(across.CLAIMS) | set(across.SHARES) | set(across.FLAGS)
    (tmp_path / "head_to_head").mkdir()
    pd.DataFrame(
        {"arm": ["engagement"], "metric": ["cumulative_profit_eur"],
         **{v: [1.5] for v in across.FIELDS.values()}}
    ).to_csv(tmp_path / "head_to_head" / "comparison.csv", index=False)  # fmt: skip
    pd.DataFrame(
        {"arm": ["discount", "engagement"], "break_even": [0.5, 0.25], "ci_low": [0.4, 0.2],
         "ci_high": [0.6, 0.3]}
    ).to_csv(tmp_path / "head_to_head" / "break_even_margin.csv", index=False)  # fmt: skip
    got = across.claim_effects(tmp_path)[CLAIM]
    assert (got["be"], got["be_lo"], got["be_hi"]) == (0.25, 0.2, 0.3)


def test_the_section_is_placed_after_the_title_and_replaced_on_a_rerun(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Results\n\n## 1. First claim\n\ntext\n")
    for pcts in ([2.0, 3.0], [-2.0, -3.0]):
        across.insert_section(readme, across.readme_section(table(pcts)))
    text = readme.read_text()
    assert text.count(across.BEGIN) == 1 and text.count(across.END) == 1
    assert text.index(across.BEGIN) < text.index("## 1. First claim")
    assert "| 0 of 2 | 2 of 2 |" in text  # the second call's verdicts, not the first's


def test_claim_effects_read_the_arm_of_each_experiments_file(tmp_path):
    (tmp_path / "head_to_head").mkdir()
    pd.DataFrame(
        {
            "arm": ["none", "engagement", "engagement"],
            "metric": ["cumulative_profit_eur", "share_end_pct", "cumulative_profit_eur"],
            **{v: [np.nan, 99.0, 1.5] for v in across.FIELDS.values()},
        }
    ).to_csv(tmp_path / "head_to_head" / "comparison.csv", index=False)
    got = across.claim_effects(tmp_path)
    assert list(got) == [CLAIM] and got[CLAIM]["pct"] == 1.5  # discount: no row, left out


def test_s7_claims_pick_a_level_and_rate_of_the_contact_table(tmp_path):
    """personalisation's table has no arm column: a claim picks its row by level and rate,
    and S7 holds where badly personalised contact lowers profit."""
    from loyaltysim.studies.analysis.personalisation import PROFIT_SCALED

    assert set(PROFIT_SCALED) == set(across.FIELDS.values())  # the analysis writes them all
    (tmp_path / "personalisation").mkdir()
    levels, rates = [0.2, 0.2, 1.0, 1.0], [0.25, 0.5, 0.25, 0.5]
    pct = [-3.0, -4.0, 2.0, 1.0]
    pd.DataFrame(
        {"personalisation": levels, "contacts_per_week": rates,
         **{v: [p + (0.5 if v.endswith("high") else -0.5 if v.endswith("low") else 0)
                for p in pct] for v in across.FIELDS.values()}}
    ).to_csv(tmp_path / "personalisation" / "contact_effect.csv", index=False)  # fmt: skip
    got = across.claim_effects(tmp_path)
    bad = "badly personalised contact (0.2, every four weeks) vs none"
    good = "well personalised contact (1.0, every four weeks) vs none"
    assert got[bad]["pct"] == -3.0 and got[good]["pct"] == 2.0
    assert "be" not in got[bad]  # no break-even columns in this table: none read
    table = pd.read_csv(tmp_path / "personalisation" / "contact_effect.csv")
    table["break_even"], table["break_even_ci_low"], table["break_even_ci_high"] = 0.3, 0.2, 0.4
    table.to_csv(tmp_path / "personalisation" / "contact_effect.csv", index=False)
    got = across.claim_effects(tmp_path)
    assert (got[good]["be"], got[good]["be_lo"], got[good]["be_hi"]) == (0.3, 0.2, 0.4)
    t = pd.DataFrame(
        [{"world": "w", "central": True, **{f"{c} {k}": v for c in (bad, good)
          for k, v in got[c].items()}}]
    )  # fmt: skip
    s = across.summarise(across.long_effects(t, [bad]))[bad]
    assert across.lead(bad, s, t).startswith(
        "S7 (badly personalised contact lowers profit) holds in 1 of 1 plausible worlds."
    )


def test_s9_is_a_share_that_holds_where_its_ci_lies_above_half(tmp_path):
    """S9 is a share of designs, not an effect: a world holds it where the 95% CI of the
    share not paid back lies above 50%; planted: one holds, one fails, one unresolved."""
    claim = "S9 random discount designs not paid back at week 104"
    rows = []
    for i, (pct, lo, hi) in enumerate([(80, 70, 90), (30, 20, 40), (55, 45, 65)]):
        folder = tmp_path / f"w{i}"
        (folder / "design_lottery").mkdir(parents=True)
        pd.DataFrame(
            [{"statistic": "not_paid_back", "pct": pct, "pct_lo": lo, "pct_hi": hi}]
        ).to_csv(folder / "design_lottery" / "summary.csv", index=False)
        rows.append(across.world_row(f"w_x_{i}", folder, {}, i == 0))
    t = pd.DataFrame(rows)
    assert list(t[f"{claim} verdict"]) == ["holds", "fails", "not resolved"]
    assert "design_lottery" in {across.SHARES[c][0] for c in across.claims_of(["design_lottery"])}
    central = {claim: {"pct": 87.0, "pct_lo": 75.0, "pct_hi": 94.0}}
    section = across.readme_section(t, central)
    row = next(x for x in section.splitlines() if x.startswith(f"| {claim} |"))
    assert [c.strip() for c in row.strip("|").split("|")][1:] == [
        "1 of 3", "1 of 3", "1", "55%", "30 to 80%", "87% [75, 94]"
    ]  # fmt: skip
    readme = tmp_path / "README.md"
    readme.write_text("# Results\n\n- **S9** (most programmes fail): 87% of designs.\n")
    across.insert_section(readme, section, t)
    s9 = next(x for x in readme.read_text().splitlines() if x.startswith("- **S9**"))
    assert "holds in 1 of 3 plausible worlds (each world's 95% CI above 50%)" in s9
    assert s9.endswith("In the default world: " + across.LEAD_END + " 87% of designs.")


def test_s7s_interior_optimum_is_counted_in_the_worlds_where_it_is_found(tmp_path):
    """S7's timing claim per world, from personalisation's contact table: the best rate at
    the top personalisation beats no contact and lies below the highest rate tested."""
    from loyaltysim.studies.analysis.personalisation import interior_at_best_level

    claim = "S7 an interior optimum contact rate at the best personalisation"

    def contact(effects):  # fmt: skip
        return pd.DataFrame({"personalisation": 1.0, "contacts_per_week": [0.25, 1.0, 2.0],
                             "d_profit": effects})  # fmt: skip

    assert interior_at_best_level(contact([5.0, 9.0, 1.0])) == (True, 1.0)
    assert interior_at_best_level(contact([1.0, 2.0, 3.0]))[0] is False  # the top rate is best
    assert interior_at_best_level(contact([-1.0, -2.0, -3.0]))[0] is False  # none pays
    rows = []
    for i, value in enumerate([True, True, False]):
        folder = tmp_path / f"w{i}"
        (folder / "personalisation").mkdir(parents=True)
        pd.DataFrame([{"statistic": "interior_optimum", "value": value}]).to_csv(
            folder / "personalisation" / "summary.csv", index=False
        )
        rows.append(across.world_row(f"w_x_{i}", folder, {}, i == 0))
    t = pd.DataFrame(rows)
    assert across.flag_lead(claim, t).startswith(
        "S7 (more contact is not always better) holds in 2 of 3 plausible worlds"
    )
    row = next(x for x in across.readme_section(t, {claim: False}).splitlines()
               if x.startswith(f"| {claim} |"))  # fmt: skip
    assert "| 2 of 3 | 1 of 3 | 0 | n/a | n/a | fails |" in row


def test_run_all_writes_the_table_and_the_readme_across_a_tiny_ensemble(tmp_path):
    worlds = accepted_worlds()[:2]
    cmd = [sys.executable, str(ROOT / "experiments" / "run_all.py"), "--quick", "--seeds", "3"]
    cmd += ["--world-seeds", "2"]  # the other worlds play fewer seeds than the central run
    cmd += ["--only", "head_to_head", "--worlds", *worlds, "--launcher", "basic"]
    cmd += ["--out", str(tmp_path / "res"), "--runs", str(tmp_path / "runs")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wide = pd.read_csv(tmp_path / "res" / "ensemble" / "claims.csv")
    assert sorted(wide["world"]) == sorted(worlds)
    for w in worlds:  # 3 arms x the 2 world seeds, not the central run's 3
        ran = (tmp_path / "runs" / "worlds" / w / "head_to_head").glob("*/metrics.csv")
        assert len(list(ran)) == 6
    assert len(list((tmp_path / "runs" / "head_to_head").glob("*/metrics.csv"))) == 9
    # each world's effect is the one its own results folder holds
    for w in worlds:
        own = pd.read_csv(tmp_path / "runs" / "worlds" / w / "results" / "head_to_head" /
                          "comparison.csv")  # fmt: skip
        r = own[(own["arm"] == "engagement") & (own["metric"] == "cumulative_profit_eur")]
        got = wide.set_index("world").at[w, f"{CLAIM} pct"]
        assert got == pytest.approx(float(r["pct_of_baseline"].iloc[0]), rel=1e-12)
    readme = (tmp_path / "res" / "README.md").read_text()
    assert readme.index("## Across the plausible worlds") < readme.index("**S2**")
    holds = int((wide[f"{CLAIM} verdict"] == "holds").sum())
    assert f"| {CLAIM} | {holds} of 2 |" in readme
    s3 = next(x for x in readme.splitlines() if x.startswith("- **S3/S4**"))
    assert across.LEAD in s3 and f"holds in {holds} of 2 plausible worlds" in s3
    claims_md = (tmp_path / "res/ensemble/claims.md").read_text()
    assert "# Claims across the accepted worlds" in claims_md
    assert "seeds 0-1 in every experiment" in claims_md and "(seeds 0-1" in readme
