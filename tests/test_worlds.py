"""Decisions across plausible worlds (loyaltysim.studies.worlds): the across-worlds summary
and its sentence, Sobol indices on the emulator, PRIM's reversal box and the figure."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyaltysim.studies.worlds import (
    claims_markdown,
    emulated_points,
    fit_emulator,
    long_effects,
    prim_box,
    reversal_box,
    sentence,
    sobol_indices,
    summarise,
    worlds_figure,
)

ROOT = Path(__file__).resolve().parents[1]
# the sensitivity extra: SALib for Sobol, ema_workbench for PRIM
needs_salib = pytest.mark.skipif(
    importlib.util.find_spec("SALib") is None, reason="the sensitivity extra (SALib)"
)
needs_prim = pytest.mark.skipif(
    importlib.util.find_spec("ema_workbench") is None, reason="the sensitivity extra (PRIM)"
)


def planted(n: int = 16, seed: int = 1) -> pd.DataFrame:
    """Effects of two arms in ``n`` worlds: every world better for "thanks", by CI too."""
    rng = np.random.default_rng(seed)
    pct = rng.uniform(0.5, 6.0, n)
    rows = [
        {
            "world": f"w{i:02d}",
            "arm": "thanks",
            "pct": p,
            "pct_lo": p - 0.3,
            "pct_hi": p + 0.3,
            "per_1000": 1000 * p,
        }
        for i, p in enumerate(pct)
    ]
    rows += [{**r, "arm": "rebate", "pct": -r["pct"], "pct_lo": -r["pct_hi"],
              "pct_hi": -r["pct_lo"], "per_1000": -r["per_1000"]} for r in rows]  # fmt: skip
    return pd.DataFrame(rows)


def test_a_planted_losing_world_lowers_better_in_k_of_n_by_exactly_one():
    table = planted()
    before = summarise(table)["thanks"]
    assert (before.n, before.better, before.better_ci, before.worse_ci) == (16, 16, 16, 0)
    lose = (table["arm"] == "thanks") & (table["world"] == "w03")
    table.loc[lose, ["pct", "pct_lo", "pct_hi"]] = [-1.0, -1.4, -0.6]
    after = summarise(table)["thanks"]
    assert after.better == before.better - 1
    assert after.better_ci == before.better_ci - 1 and after.worse_ci == 1
    assert summarise(table)["rebate"] == summarise(planted())["rebate"]  # the other arm


def test_zero_is_not_better_and_an_unresolved_world_counts_by_point_only():
    table = planted()
    w = (table["arm"] == "thanks") & (table["world"] == "w00")
    table.loc[w, ["pct", "pct_lo", "pct_hi"]] = [0.0, -0.5, 0.5]
    s = summarise(table)["thanks"]
    assert s.better == 15 and s.better_ci == 15 and s.not_resolved == 1
    w2 = (table["arm"] == "thanks") & (table["world"] == "w01")
    table.loc[w2, ["pct", "pct_lo", "pct_hi"]] = [0.4, -0.1, 0.9]
    s = summarise(table)["thanks"]
    assert s.better == 15 and s.better_ci == 14 and s.not_resolved == 2


def test_the_sentence_holds_the_percentiles_computed_independently():
    table = planted()
    pct = table.loc[table["arm"] == "thanks", "pct"].to_numpy()
    p10, med, p90 = np.percentile(pct, [10, 50, 90])
    s = summarise(table)["thanks"]
    text = sentence(s, change="Replacing the rebate with thanks")
    assert text.startswith("Replacing the rebate with thanks: profit over 3 years ")
    assert f"{med:+.1f}% in the median plausible world" in text
    assert f"(middle 80% of worlds {p10:+.1f} to {p90:+.1f}%" in text
    assert f"all 16 worlds {pct.min():+.1f} to {pct.max():+.1f}%" in text
    assert "better in 16 of 16 worlds by the point estimate" in text
    assert "CI over seeds within the world" in text
    assert f"{np.median(1000 * pct):+,.0f} EUR per 1,000 customers" in text


def test_the_ensemble_table_reads_long_and_its_markdown_keeps_the_scripts_table():
    wide = pd.read_csv(ROOT / "results" / "ensemble" / "claims.csv")
    claims = [c[: -len(" pct")] for c in wide.columns if c.endswith(" pct")]
    long = long_effects(wide)
    assert len(long) == len(wide) * len(claims)
    params = ["engagement weight", "churn relief", "purchase rate"]
    text = claims_markdown(wide, claims, params)
    curated = (ROOT / "results" / "ensemble" / "claims.md").read_text()
    # the tables of the curated file, row for row (its introduction says who wrote it)
    rows = [line for line in curated.splitlines() if line.startswith("| ")]
    assert rows and [line for line in text.splitlines() if line.startswith("| ")] == rows
    for claim, s in summarise(long).items():
        holds = int((wide[f"{claim} verdict"] == "holds").sum())
        assert s.better_ci == holds and f"- {claim}: " in text


def design(n: int = 64, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    w = pd.DataFrame(rng.uniform(size=(n, 3)), columns=["x1", "x2", "x3"])
    return w.assign(y=5 * w.x1 + 0.3 * w.x2 + rng.normal(0, 0.05, n))


@needs_salib
def test_sobol_ranks_a_planted_dominant_uncertainty_first():
    emu = fit_emulator(design(), ["x1", "x2", "x3"], "y")
    assert emu.rmse < 0.1
    table = sobol_indices(emu, n=512)
    assert list(table.index) == ["x1", "x2", "x3"] and list(table["rank"]) == [1, 2, 3]
    assert table.at["x1", "ST"] > 0.9 and table.at["x1", "S1"] > 0.9
    assert table.at["x1", "ST_low"] > table.at["x2", "ST_high"]  # apart by their CIs
    assert (table["ST_conf"] > 0).all() and (table["S1_conf"] > 0).all()


@needs_salib
def test_sobol_is_over_the_box_given():
    emu = fit_emulator(design(), ["x1", "x2", "x3"], "y")
    narrow = {"x1": (0.5, 0.51), "x2": (0.0, 1.0), "x3": (0.0, 1.0)}
    assert sobol_indices(emu, bounds=narrow, n=256).index[0] == "x2"


@needs_prim
def test_prim_recovers_a_planted_box():
    rng = np.random.default_rng(2)
    x = pd.DataFrame(rng.uniform(size=(2000, 3)), columns=["x1", "x2", "x3"])
    inside = (x.x1 < 0.3) & (x.x2 > 0.6)
    box = prim_box(x, inside.to_numpy(), threshold=0.8)
    assert set(box.limits) == {"x1", "x2"}
    lo1, hi1 = box.limits["x1"]
    lo2, hi2 = box.limits["x2"]
    assert lo1 is None and abs(hi1 - 0.3) < 0.05
    assert hi2 is None and abs(lo2 - 0.6) < 0.05
    assert box.density >= 0.8 and box.coverage > 0.9
    assert box.of_interest == int(inside.sum()) and box.total == 2000
    text = box.describe("engagement loses money")
    assert re.search(r"engagement loses money when x1 < 0\.3\d* and x2 > 0\.[56]\d*", text)
    assert "coverage" in text and "density" in text
    assert box.contains(x).sum() == box.n


@needs_prim
def test_reversal_box_is_where_the_effect_is_below_zero():
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.uniform(size=(1000, 2)), columns=["a", "b"])
    x["effect"] = x.a - 0.4  # reverses for a < 0.4
    box = reversal_box(x, ["a", "b"], "effect")
    assert list(box.limits) == ["a"] and abs(box.limits["a"][1] - 0.4) < 0.05
    with pytest.raises(ValueError, match="never reverses"):
        reversal_box(x.assign(effect=1.0), ["a", "b"], "effect")


@needs_prim
def test_the_figure_is_saved(tmp_path):
    w = design(24)
    w["y"] = w["y"] - 2.0
    emu = fit_emulator(w, ["x1", "x2", "x3"], "y")
    box = reversal_box(w, ["x1", "x2", "x3"], "y", threshold=0.6)
    path = worlds_figure(w, "y", ("x1", "x2"), tmp_path / "f" / "worlds.png", box, emu)
    assert path.is_file() and path.read_bytes()[:4] == b"\x89PNG"


@needs_prim
def test_the_reversal_box_of_an_emulator_is_found_on_its_dense_sample():
    w = design(40)
    w["y"] = w["y"] - 2.5  # 5 x1 - 2.5: reverses for x1 < 0.5 (x2 adds up to 0.3)
    emu = fit_emulator(w, ["x1", "x2", "x3"], "y")
    pts = emulated_points(emu, "y", n=3000)
    assert len(pts) == 3000 and pts["x1"].between(*emu.bounds[0]).all()
    box = reversal_box(pts, ["x1", "x2", "x3"], "y")
    assert "x1" in box.limits and box.limits["x1"][0] is None
    assert 0.4 < box.limits["x1"][1] < 0.55
