"""``loyaltysim-ask`` across the plausible worlds (issue 23): every arm in every world, one
sentence per arm (better in k of n worlds, the median world, the middle 80%, the range),
what the intervals cover, and where the answer flips; plus the pieces ask shares with
``loyaltysim-optimise`` (one ``key=value`` parser, the world list) and optimise's max
regret. The ensemble run is tiny (300 customers, 60 weeks, 2 worlds, 2 seeds)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from loyaltysim.runs.collect import Collected, UsageError
from loyaltysim.studies.ask import QUICK, choose_worlds
from loyaltysim.studies.options import parse_options
from loyaltysim.studies.worlds.answer import arm_sentence, extras, scope_words, world_effects
from loyaltysim.studies.worlds.ensemble import accepted_worlds, spread, world_values
from loyaltysim.studies.worlds.summary import summarise

WORLDS = accepted_worlds()[:2]
TINY = ["customers.n=300", "market.horizon_weeks=60", "market.warmup_weeks=10", "seeds=2"]
ENV = {**os.environ, "MPLBACKEND": "Agg"}


def ask(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "loyaltysim.studies.ask", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=ENV)


@pytest.fixture(scope="module")
def ensemble(tmp_path_factory):
    out = tmp_path_factory.mktemp("ens")
    proc = ask("scenario=withdraw_rebate", *TINY, f"worlds={','.join(WORLDS)}", f"out={out}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out, proc


def test_the_ensemble_answer_leads_with_k_of_n_worlds_and_says_what_it_covers(ensemble):
    out, proc = ensemble
    # "never" differs from the baseline at 60 weeks; "withdraw" (week 78) cannot
    assert "Withdrawing the rebate at week 78: no difference from the baseline in any of the 2" in (
        proc.stdout
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("Never having had a rebate:"))
    assert "in the median plausible world" in line and re.search(r"better in \d of 2 worlds", line)
    assert "over the 2 plausible worlds" in proc.stdout and "over its 2 seeds" in proc.stdout
    assert "Horizon 60 weeks, a market of 300 customers, a 30% gross margin." in proc.stdout
    md = (out / "answer" / "answer.md").read_text()
    assert "## Where the answer flips" in md and "(flip_never.png)" in md
    assert (out / "answer" / "flip_never.png").is_file()
    html = (out / "answer" / "report.html").read_text()
    assert "Where the answer flips" in html and html.count("data:image/png;base64,") >= 1
    assert "over its 2 seeds" in html and "plausible worlds" in html


def test_the_sentence_is_recomputed_from_the_runs_themselves(ensemble):
    """Each world's effect, recomputed from the collected runs by their overrides (not the
    ask's arm bookkeeping), and the count and median the sentence states."""
    out, proc = ensemble
    s = pd.read_csv(out / "runs" / "collected" / "summary.csv")
    s = s[s["firm"] == "focal"]
    pct = {}
    for world in WORLDS:
        w = s[s["world"] == world]
        keep = w[(w["firm/programme"] == "discount") & w["firm.programme.end_week"].isna()]
        never = w[w["firm/programme"] == "none"]
        base = keep.set_index("seed")["cumulative_profit_eur"]
        gain = never.set_index("seed")["cumulative_profit_eur"] - base
        pct[world] = 100 * gain.mean() / base.mean()
    table = pd.read_csv(out / "answer" / "worlds.csv")
    got = table[table["arm"] == "never"].set_index("world")["pct"]
    assert got.to_dict() == pytest.approx(pct, rel=1e-9)
    k = sum(v > 0 for v in pct.values())
    line = next(x for x in proc.stdout.splitlines() if x.startswith("Never having had a rebate:"))
    assert f"better in {k} of 2 worlds" in line
    assert f"{np.median(list(pct.values())):+.1f}% in the median plausible world" in line


def test_a_re_ask_reuses_every_finished_run(ensemble):
    out, _ = ensemble
    again = ask("scenario=withdraw_rebate", *TINY, f"worlds={','.join(WORLDS)}", f"out={out}")
    assert again.returncode == 0, again.stderr
    assert "12 skipped" in again.stdout  # 3 arms x 2 worlds x 2 seeds, none played again


def test_the_arms_run_as_one_sweep_sharing_each_world_and_seeds_warm_up(ensemble):
    out, _ = ensemble
    meta = json.loads((out / "runs" / "sweep.json").read_text())
    assert [len(g) for g in meta["groups"]] == [4, 4, 4]  # 3 arms x (2 worlds x 2 seeds)
    assert sorted(sum(meta["groups"], [])) == sorted(meta["jobs"])
    for name in meta["jobs"]:
        manifest = json.loads((out / "runs" / name / "manifest.json").read_text())
        assert manifest["shared_warmup"] is True, name


def head(pcts: dict[str, float]):
    """A fake one-world answer: the arm's effect in that world is ``pcts[world]``."""

    def one(c: Collected) -> pd.DataFrame:
        world = str(c.summary["world"].iloc[0])
        p = pcts[world]
        return pd.DataFrame(
            [
                {
                    "arm": "thanks",
                    "seeds": 5,
                    "profit_pct": p,
                    "profit_pct_ci_low": p - 1,
                    "profit_pct_ci_high": p + 1,
                    "profit_per_1000_eur": 10 * p,
                    "profit_per_1000_ci_low": 10 * p - 5,
                    "profit_per_1000_ci_high": 10 * p + 5,
                    # ahead from the first week (week 1 of the runs): nothing paid up front
                    "payback_week": 1.0 if p > 0 else np.nan,
                    "better_seeds": 5 if p > 0 else 0,
                    "margin_pct": 30.0,
                    "break_even_margin_pct": np.nan,
                }
            ]
        )

    return one


def collected(worlds: list[str]) -> Collected:
    summary = pd.DataFrame({"world": worlds, "arm": "thanks", "seed": 0})
    runs = pd.DataFrame({"world": worlds, "week": 1})
    return Collected(runs, summary, pd.DataFrame(), ["arm"])


def test_a_planted_world_where_the_arm_loses_is_counted_in_k_of_n():
    worlds = [f"w{i}" for i in range(5)]
    pcts = {w: 2.0 + i for i, w in enumerate(worlds)}
    effects, _ = world_effects(collected(worlds), worlds, head(pcts))
    s = summarise(effects)["thanks"]
    assert (s.better, s.n) == (5, 5)
    pcts["w3"] = -4.0  # one world where it loses, by its CI too
    effects, _ = world_effects(collected(worlds), worlds, head(pcts))
    s = summarise(effects)["thanks"]
    assert (s.better, s.better_ci, s.worse_ci) == (4, 4, 1)
    text = arm_sentence(s, "Thanks", extras(effects, "thanks", 156), 156)
    assert text.startswith("Thanks: profit over 3 years ")
    assert "better in 4 of 5 worlds" in text and "(worse in 1," in text
    assert f"{np.median(list(pcts.values())):+.1f}% in the median plausible world" in text
    assert "pay back" not in text and "up front" not in text  # nothing was paid up front


def test_payback_is_said_only_for_an_arm_that_costs_money_up_front():
    rows = pd.DataFrame(
        {"arm": "a", "world": ["x", "y", "z"], "payback_week": [30.0, 50.0, np.nan],
         "up_front": [True, True, False], "margin_pct": 30.0}
    )  # fmt: skip
    assert "pays back in week 50 in the median world" in extras(rows, "a", 156).payback
    rows["up_front"] = [False, True, False]
    assert extras(rows, "a", 156).payback == ""


def test_quick_mode_and_the_choice_of_worlds():
    everything, total, quick = choose_worlds({}, [])
    assert everything == accepted_worlds() and total == len(everything) and not quick
    few, total, quick = choose_worlds({"quick": "true"}, [])
    assert quick and len(few) == min(QUICK[0], total) and few == spread(everything, QUICK[0])
    assert few[0] == everything[0] and few[-1] == everything[-1]  # spread over the list
    assert choose_worlds({"worlds": "central"}, [])[0] == []
    assert choose_worlds({}, ["world=my.yaml"])[0] == []
    notes = scope_words(4, 3, 1000, 156, 30.0, True, 16)
    assert "Quick answer: 4 of 16 worlds and 3 seeds each" in notes[-1]
    for bad, says in (
        ({"worlds": "nowhere"}, "worlds = 'nowhere'; allowed"),
        ({"worlds": "central," + WORLDS[0]}, "allowed: central alone"),
        ({"quick": "maybe"}, "quick = 'maybe'; allowed: true or false"),
    ):
        with pytest.raises(UsageError, match=re.escape(says)):
            choose_worlds(bad, [])
    with pytest.raises(UsageError, match="allowed: one of them"):
        choose_worlds({"worlds": "all"}, [f"world={WORLDS[0]}"])


def test_world_values_are_the_settings_that_differ_between_world_files():
    values = world_values(WORLDS)
    assert list(values.index) == WORLDS
    assert "customers.choice.engagement_weight" in values.columns
    assert (values.nunique() == 2).all()  # only the uncertainties the worlds span


def test_ask_and_optimise_share_one_parser():
    own, extra = parse_options(["a=1", "lever.x=0:1", "firm.price=5"], ["a"], "", ("lever.",))
    assert own == {"a": "1", "lever.x": "0:1"} and extra == ["firm.price=5"]
    for bad in ("oops", "--flag=1", "=3"):
        with pytest.raises(UsageError, match=r"allowed: a=\.\.\., lever\.KEY=\.\.\. or overrides"):
            parse_options([bad], ["a"], "", ("lever.",))


def test_an_uncertainty_is_refused_as_a_lever_with_the_reason():
    from loyaltysim.studies.optimise_search import make_levers

    with pytest.raises(UsageError, match="property of the world") as err:
        make_levers("engagement", {"response_prob": (0.1, 0.2)})
    assert "'response_prob' is not a lever of programme engagement" in str(err.value)
    assert "\n" not in str(err.value)


def test_max_regret_is_the_most_given_up_in_any_world_against_the_best_known():
    from loyaltysim.studies.optimise_report import add_max_regret, rounded

    worlds = ["w1", "w2", "w3"]
    trials = pd.DataFrame(
        {"number": [0, 1], "w1_eur": [10.0, 4.0], "w2_eur": [0.0, 6.0], "w3_eur": [5.0, 5.0]}
    )
    designs = pd.DataFrame({"design": ["shipped"], "w1_eur": [7.0], "w2_eur": [3.0],
                            "w3_eur": [20.0]})  # fmt: skip
    add_max_regret(trials, designs, worlds)
    best = {"w1": 10.0, "w2": 6.0, "w3": 20.0}  # by hand: the best of the three in each world
    for t in (trials, designs):
        want = [max(best[w] - r[f"{w}_eur"] for w in worlds) for _, r in t.iterrows()]
        assert t["max_regret_eur"].tolist() == want
    assert trials["max_regret_eur"].tolist() == [15.0, 15.0]  # the shipped design's w3 counts
    assert designs["max_regret_eur"][0] == 3.0
    r = rounded(pd.DataFrame({"x_eur": [1.23456], "y_pp": [0.123456789], "rate": [0.1234567891]}))
    assert r.iloc[0].tolist() == [1.23, 0.1235, 0.123457]


def test_the_flip_analysis_spans_the_not_ruled_out_space_not_only_the_accepted_worlds():
    from loyaltysim.runs.io import config_dir
    from loyaltysim.studies.worlds.ensemble import not_ruled_out_box

    values = world_values(accepted_worlds())
    box, words = not_ruled_out_box(values)
    cands = pd.read_csv(config_dir().parent / "results" / "calibration" / "candidates.csv")
    kept = cands[cands["implausibility"] <= 1.0]  # conf/calibration/literature.yaml's cutoff
    assert f"the {len(kept)} candidate worlds" in words
    for name, (lo, hi) in box.items():
        assert lo == min(kept[name].min(), values[name].min())
        assert hi == max(kept[name].max(), values[name].max())
    wider = [n for n in box if box[n][1] - box[n][0] > np.ptp(values[n]) + 1e-12]
    assert wider  # the not-ruled-out box is wider than the accepted worlds' in some direction


def test_a_list_of_every_world_longer_than_a_file_name_is_read_as_names():
    """``world=<12 names>`` is over 255 characters: ``Path.is_file`` raises on it (the
    default ask of every world once failed so); it is a list of worlds, not a path."""
    from loyaltysim.studies.scenario import world_keys

    names = accepted_worlds()
    listed = "world=" + ",".join(names * (1 + 300 // len(",".join(names))))
    assert len(listed) > 300
    keys = world_keys([listed])
    assert "customers.choice.loyalty_weight" in keys and "customers.contact.response_prob" in keys


def test_a_failed_run_is_noted_and_exits_1_with_the_answer_written(ensemble, tmp_path):
    import shutil

    src, _ = ensemble
    out = tmp_path / "ens"
    shutil.copytree(src, out)
    meta = json.loads((out / "runs" / "sweep.json").read_text())
    victim = meta["groups"][2][0]  # a run of the third arm ("never")
    shutil.rmtree(out / "runs" / victim)
    env = {**ENV, "LOYALTYSIM_TEST_HOOK": f"fail:{victim}", "PYTEST_CURRENT_TEST": "x"}
    cmd = [sys.executable, "-m", "loyaltysim.studies.ask", "scenario=withdraw_rebate", *TINY]
    cmd += [f"worlds={','.join(WORLDS)}", f"out={out}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "note: 1 runs failed; re-run to retry them" in proc.stderr
    assert (out / "answer" / "answer.md").is_file()
    failed = pd.read_csv(out / "runs" / "collected" / "failures.csv")
    assert failed["run_id"].tolist() == [victim]


def test_sweep_lines_move_a_world_files_folder_to_the_commands_search_path(tmp_path):
    from loyaltysim.studies.options import sweep_lines

    (tmp_path / "world").mkdir()
    (tmp_path / "world" / "mine.yaml").write_text("# @package _global_\ncustomers:\n  n: 5\n")
    lines, search = sweep_lines(
        [[f"world={tmp_path}/world/mine.yaml", "seed=0,1"], ["world=a,b", "seed=0"]]
    )
    assert lines == [["world=mine", "seed=0,1"], ["world=a,b", "seed=0"]]
    assert search == [f"hydra.searchpath=[file://{tmp_path.resolve()}]"]
    assert sweep_lines([["seed=0"]]) == ([["seed=0"]], [])


def test_every_arm_is_read_over_the_box_given_even_after_one_flips(tmp_path):
    """Two arms: the first flips (PRIM finds a box), the second is still read over the
    bounds given (the first's reversal box once took the bounds' name, and the second arm
    failed to unpack it)."""
    from loyaltysim.studies.worlds.answer import flips

    rng = np.random.default_rng(0)
    values = pd.DataFrame(
        {"a": rng.uniform(0, 1, 12), "b": rng.uniform(0, 1, 12)},
        index=pd.Index([f"w{i}" for i in range(12)], name="world"),
    )
    effects = pd.concat(
        [
            pd.DataFrame({"world": values.index, "arm": "one", "pct": 4 * values["a"] - 2}),
            pd.DataFrame({"world": values.index, "arm": "two", "pct": 1 + values["b"]}),
        ],
        ignore_index=True,
    )
    given = ({"a": (0.0, 1.0), "b": (0.0, 1.0)}, "the not-ruled-out box (given)")
    lines, figures = flips(effects, values, {"one": "One", "two": "Two"}, tmp_path, box=given)
    text = "\n".join(lines)
    assert text.count("over the not-ruled-out box (given)") == 2  # both arms, not only the first
    assert "Where it flips: nowhere in the box; better in every emulated world." in text
    assert "a <" in text.split("### Two")[0]  # the first arm flips where a is low
    assert len(figures) == 2 and all(f.stat().st_size > 0 for f in figures)
