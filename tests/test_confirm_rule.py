"""The confirmation rule (issue 22 item 6): a screened world is confirmed unless the
screen's own noise cannot explain its miss. The standard errors are recomputed here from
planted replications, not read from the code under test."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltysim.model.params import ConfigError
from loyaltysim.studies.calibration import accept, measures, sample, targets
from loyaltysim.studies.validation.common import RunData
from test_calibration import EASY, calibrate, write_spec

SHARE = "metrics.plain.share"  # EASY's second target: 0.33 +- 0.5, i.e. -0.17 to 0.83
# two screen replications per world: a meets the target, b misses it by 0.12 (0.24
# half-widths, outside the fixed 0.1) and c by 0.67 (1.34 half-widths)
REPS = {"a": (0.45, 0.55), "b": (0.85, 1.05), "c": (1.45, 1.55)}


def planted(tmp_path, **extra):
    spec = write_spec(
        tmp_path / "t.yaml",
        tmp_path / "out",
        candidates=3,
        replications=2,
        confirm_replications=4,
        confirm_rule="noise",
        confirm_z=2,
        **extra,
    )
    cal = targets.load(str(spec))
    params = sample.design(cal, 3)
    names = dict(zip("abc", params.index, strict=True))
    # what a two-seed screen measures: the mean and sd/sqrt(2) = |x1 - x2| / 2
    screen = pd.DataFrame(
        {
            "status": "measured",
            "polygamy.sole_over_90_pct": 50.0,
            "se.polygamy.sole_over_90_pct": 1.0,
            SHARE: [np.mean(REPS[k]) for k in "abc"],
            "se." + SHARE: [abs(REPS[k][0] - REPS[k][1]) / 2 for k in "abc"],
        },
        index=params.index,
    )
    return cal, params, screen, names


def test_measure_gives_the_standard_error_of_the_mean_over_replications():
    runs = {
        "plain": [
            RunData(
                pd.DataFrame({"firm": ["f0"] * 60, "week": range(1, 61), "share": x}), None, None
            )
            for x in (0.2, 0.5)
        ]
    }
    out = measures.measure([SHARE], runs, 300, 60)
    assert out[SHARE] == pytest.approx(0.35)
    # sd with one degree of freedom over sqrt(2): half the gap between the two seeds
    assert out["se." + SHARE] == pytest.approx(0.15)
    one = measures.measure([SHARE], {"plain": runs["plain"][:1]}, 300, 60)
    assert math.isnan(one["se." + SHARE])


def test_a_near_miss_within_the_screens_noise_is_confirmed_a_far_one_is_not(tmp_path):
    cal, params, screen, w = planted(tmp_path)
    cands = accept.table(cal, params, screen)
    # pooled over the three worlds: sqrt(mean of (0.05, 0.1, 0.05)^2)
    pooled = math.sqrt((0.05**2 + 0.1**2 + 0.05**2) / 3)
    assert accept.pooled_se(cal, cands)[SHARE] == pytest.approx(pooled)
    hw = 0.5
    bound_b = max(0.95 - 0.83 - 2 * pooled, 0) / hw
    bound_c = (1.5 - 0.83 - 2 * pooled) / hw
    assert bound_b <= 0.1 < cands.at[w["b"], "implausibility"]  # the planted near miss
    bound = accept.screen_bound(cal, cands, 2)
    assert bound[w["b"]] == pytest.approx(bound_b)
    assert bound[w["c"]] == pytest.approx(bound_c)
    assert accept.to_confirm(cal, cands) == [w["a"], w["b"]]
    assert accept.to_confirm(cal, cands, "fixed") == [w["a"]]  # the old rule drops b
    # z = 0 is the fixed rule; a z wide enough takes even c
    assert accept.to_confirm(replace(cal, confirm_z=0), cands) == [w["a"]]
    assert len(accept.to_confirm(replace(cal, confirm_z=20), cands)) == 3


def test_rules_table_says_what_each_rule_confirms_costs_and_accepts(tmp_path):
    cal, params, screen, w = planted(tmp_path)
    cands = accept.table(cal, params, screen)
    se = accept.pooled_se(cal, cands)
    picked = accept.to_confirm(cal, cands, se=se)
    sure = screen.loc[picked].assign(**{SHARE: [0.5, 0.8]})  # b meets it on more seeds
    out = accept.confirm(cal, params, screen, sure)
    assert list(out["accepted"]) == [True, True, False]
    assert out.at[w["b"], "screen_" + SHARE] == pytest.approx(0.95)  # the screen's mean kept
    table = accept.rules(cal, out, 1, se).set_index("rule")
    assert table.at["fixed", "confirms"] == 1 and table.at["fixed", "accepted"] == 1
    assert table.at["noise, z = 2", "confirms"] == 2 and table.at["noise, z = 2", "accepted"] == 2
    assert table.at["noise, z = 2", "used"] and not table.at["fixed", "used"]
    # confirmation runs: worlds x arms x the seeds a confirmation adds (4 - 2)
    assert table.at["noise, z = 2", "confirmation runs"] == 2 * 1 * 2
    z3 = table.loc["noise, z = 3"]  # (1.5 - 0.83 - 3 x 0.0707) / 0.5 = 0.92: c still out
    assert z3["confirms"] == 2
    assert table["engagement loses money in"].isna().all()  # no engagement target here


def test_rules_name_worlds_they_would_confirm_without_runs_as_unknown(tmp_path):
    cal, params, screen, w = planted(tmp_path, confirm_cutoff=0.0)
    se = {SHARE: 0.4, "polygamy.sole_over_90_pct": 0.0}  # so noisy that z = 3 takes c
    out = accept.confirm(cal, params, screen, screen.loc[[w["a"]]])
    row = accept.rules(cal, out, 1, se).set_index("rule").loc["noise, z = 3"]
    assert row["confirms"] == 3 and pd.isna(row["accepted"])


@settings(max_examples=60, deadline=None)
@given(
    x=st.lists(st.floats(-3, 4), min_size=1, max_size=6),
    se=st.floats(0, 2),
    z=st.floats(0, 4),
)
def test_the_screen_bound_is_the_implausibility_less_z_errors(tmp_path_factory, x, se, z):
    cal, *_ = planted(tmp_path_factory.mktemp("h"))
    cands = pd.DataFrame(
        {SHARE: x, "polygamy.sole_over_90_pct": 50.0, "se." + SHARE: se},
        index=[f"w{i}" for i in range(len(x))],
    )
    imp = accept.implausibility(cal, cands)
    bound = accept.screen_bound(cal, cands, z)
    assert (bound <= imp + 1e-12).all()
    assert np.allclose(accept.screen_bound(cal, cands, 0), imp)
    # each world's miss beyond the share's bounds, less z errors, in half-widths
    gap = np.maximum(np.maximum(-0.17 - np.array(x), np.array(x) - 0.83) - z * se, 0) / 0.5
    assert np.allclose(bound, gap)


@pytest.mark.parametrize(
    "change, key",
    [
        ({"confirm_rule": "loose"}, "calibration.confirm_rule"),
        ({"confirm_z": -1}, "calibration.confirm_z"),
        ({"confirm_rule": "noise", "confirm_replications": 3}, "calibration.replications"),
    ],
)
def test_bad_rule_settings_name_key_value_and_allowed(tmp_path, change, key):
    spec = write_spec(tmp_path / "t.yaml", tmp_path / "out", **change)
    with pytest.raises(ConfigError) as err:
        targets.load(str(spec))
    assert err.value.key == key and "allowed" in str(err.value)


def test_a_tiny_calibration_confirms_by_noise_and_reports_the_rules(tmp_path):
    spec = write_spec(
        tmp_path / "t.yaml",
        tmp_path / "out",
        candidates=2,
        replications=2,
        confirm_replications=3,
        confirm_rule="noise",
        tgts=EASY,
    )
    done = calibrate(spec)
    assert done.returncode == 0, done.stderr
    assert "standard errors of the screen" in done.stdout
    out = tmp_path / "out"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["confirm_rule"] == "noise" and summary["confirm_z"] == 2
    assert set(summary["pooled_se"]) == {t["statistic"] for t in EASY}
    assert [r["rule"] for r in summary["rules"]][:2] == ["fixed", "noise, z = 1"]
    assert all(isinstance(r["confirms"], int) for r in summary["rules"])  # JSON numbers
    cands = pd.read_csv(out / "candidates.csv", index_col=0)
    assert ("se." + SHARE) in cands and cands["confirmed"].all()
    readme = (out / "README.md").read_text()
    assert "How the ensemble depends on the confirmation rule" in readme
    assert "| accepted | used |" in readme  # no engagement target: no column for it
