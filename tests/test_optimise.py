"""loyaltysim-optimise: the search finds the grid's best design and beats the shipped one,
its objective is the paired mean over every seed (checked against run_arms), a rerun adds
only the missing trials, and bad input is refused in one line (exit status 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("optuna")

from loyaltysim import load_config, run_arms  # noqa: E402
from loyaltysim.runs.collect import UsageError  # noqa: E402
from loyaltysim.studies.optimise import Evaluator, main, optimise  # noqa: E402
from loyaltysim.studies.optimise_report import pareto_front  # noqa: E402

SMALL = dict(customers=300, weeks=26, seeds=2)
SIZE = ["customers.n=300", "market.horizon_weeks=26"]
GRID = {"contacts_per_week": [0.0, 0.25, 1.0]}  # 0.25: the shipped design


def test_the_search_finds_the_grids_best_and_beats_the_shipped_design(tmp_path):
    found = optimise("engagement", GRID, trials=3, out=tmp_path, report=False, **SMALL)
    assert found.new_trials == 3 and len(found.trials) == 3
    # the test's own exhaustive loop over the same grid, through the same evaluation
    ev = Evaluator("engagement", ["default"], [0, 1], SIZE)
    by_point = {v: ev.evaluate({"contacts_per_week": v}).profit for v in GRID["contacts_per_week"]}
    assert all(p.shape == (1, 2) for p in by_point.values())
    means = {v: float(p.mean()) for v, p in by_point.items()}
    best = max(means, key=means.get)
    assert found.best["contacts_per_week"] == best
    assert found.best["expected_eur"] == pytest.approx(means[best], abs=1e-6)
    assert found.best["expected_eur"] >= means[0.25]  # the shipped engagement design
    # the objective is the paired mean over both seeds, as run_arms plays them
    base = load_config([*SIZE, "firm/programme=none"])
    arm = load_config(
        [*SIZE, "firm/programme=engagement", f"firm.programme.contacts_per_week={best}"]
    )
    diffs = []
    for seed in (0, 1):
        a, b = (
            r.summary.set_index("firm").loc["focal", "cumulative_profit_eur"]
            for r in run_arms([arm, base], seed=seed)
        )
        diffs.append(a - b)
    assert found.best["expected_eur"] == pytest.approx(np.mean(diffs), rel=1e-9, abs=1e-6)


def test_a_rerun_plays_only_the_new_trials(tmp_path):
    lever = {"contacts_per_week": (0.0, 1.0)}
    first = optimise("engagement", lever, trials=3, out=tmp_path, report=False, **SMALL)
    again = optimise("engagement", lever, trials=5, out=tmp_path, report=False, **SMALL)
    assert (first.new_trials, again.new_trials, len(again.trials)) == (3, 2, 5)
    assert again.trials["number"].tolist()[:3] == first.trials["number"].tolist()
    assert again.runs == 2 + 2 * 2  # the baseline's two seeds, then two designs x two seeds
    assert again.trials["contacts_per_week"].nunique() == 5
    done = optimise("engagement", lever, trials=5, out=tmp_path, report=False, **SMALL)
    assert (done.new_trials, done.runs) == (0, 0)


@pytest.mark.parametrize(
    "args, says",
    [
        (["lever.nonsense=0:1"], "'nonsense' is not a lever of programme engagement"),
        (["lever.contacts_per_week=0:9"], "allowed: a number >= 0 and <= 7"),
        (["lever.contacts_per_week=1:0"], "LO < HI"),
        (["lever.contacts_per_week=a:b"], "allowed: LO:HI"),
        (["trials=0"], "trials = '0'"),
        (["worlds=nowhere"], "worlds = 'nowhere'; allowed: default (or central), all, a world"),
        (["risk=median"], "risk = 'median'"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, args, says):
    with pytest.raises(SystemExit) as exc:
        main(["programme=engagement", f"out={tmp_path}", *args])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and says in err and err.count("\n") == 1, err


def test_a_folder_with_another_search_is_refused(tmp_path, capsys):
    optimise(
        "engagement",
        {"contacts_per_week": [0.25]},
        trials=1,
        out=tmp_path,
        report=False,
        customers=300,
        weeks=26,
        seeds=1,
    )
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "programme=engagement",
                "lever.personalisation=0.5,0.8",
                f"out={tmp_path}",
                "customers=300",
                "weeks=26",
                "seeds=1",
            ]
        )
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "holds a search with other levers" in err


def test_the_cli_writes_the_report(tmp_path, capsys):
    main(
        [
            "programme=discount",
            "lever.rebate_rate=0.02,0.05",
            "customers=300",
            "weeks=26",
            "seeds=1",
            "trials=2",
            f"out={tmp_path}",
        ]
    )
    assert "Best discount design" in capsys.readouterr().out
    for name in ("trials.csv", "designs.csv", "pareto.csv", "pareto.png", "summary.md"):
        assert (tmp_path / name).is_file(), name
    designs = pd.read_csv(tmp_path / "designs.csv")
    assert designs["design"].tolist() == [
        "best discount",
        "shipped discount",
        "shipped engagement",
        "shipped tiered",
    ]
    best, shipped = designs.set_index("design").loc[
        ["best discount", "shipped discount"], "expected_eur"
    ]
    assert best >= shipped  # the shipped rebate (0.05) is in the grid


def test_the_pareto_front_is_the_non_dominated_set():
    table = pd.DataFrame(
        {"expected_eur": [1.0, 2.0, 0.0, 2.0, 3.0, 1.0], "loyal_pp": [5.0, 4.0, 6.0, 1.0, 0.0, 5.0]}
    )
    front = pareto_front(table)
    assert front[["expected_eur", "loyal_pp"]].values.tolist() == [
        [0.0, 6.0],
        [1.0, 5.0],
        [2.0, 4.0],
        [3.0, 0.0],
    ]


def test_a_trial_a_killed_search_left_running_is_failed_and_played_again(tmp_path):
    from loyaltysim.studies.optimise_search import _spec, make_levers
    from loyaltysim.studies.optimise_study import open_study

    levers = {"contacts_per_week": [0.25]}
    lv = make_levers("engagement", levers)
    size = ["customers.n=300", "market.horizon_weeks=26"]
    spec = _spec("engagement", lv, ["default"], [0], size, "worst_decile")
    study = open_study(tmp_path, spec, 0)
    study.ask({x.key: x.distribution() for x in lv})  # the search is killed in this trial
    done = optimise(
        "engagement",
        levers,
        trials=1,
        out=tmp_path,
        report=False,
        customers=300,
        weeks=26,
        seeds=1,
    )
    states = [t.state.name for t in open_study(tmp_path, spec, 0).trials]
    assert states == ["FAIL", "COMPLETE"] and done.new_trials == 1 and done.runs == 2


def test_the_risk_is_the_worst_decile_of_worlds():
    from loyaltysim.studies.optimise import Evaluation

    profit = np.arange(20.0).reshape(20, 1) * np.ones((1, 3))  # world w: effect w in each seed
    e = Evaluation(profit, np.zeros_like(profit))
    assert e.expected() == pytest.approx(9.5)
    assert e.risk("worst_decile") == pytest.approx(0.5)  # the worst 2 of 20 worlds
    assert e.risk("worst") == 0.0
    assert Evaluation(profit[:3], profit[:3]).risk() == 0.0  # at least one world


def test_world_columns_name_the_world_file_and_counts_read_in_words():
    from loyaltysim.studies.optimise_report import _n, world_label

    assert world_label("/tmp/fit/world/your_market__r1d9cb_00996.yaml") == (
        "your_market__r1d9cb_00996"
    )
    assert world_label("literature_a4fd38_00022") == "literature_a4fd38_00022"
    assert (_n(1, "world"), _n(2, "seed")) == ("1 world", "2 seeds")


def test_on_a_hydra_launcher_the_search_plays_the_same_markets_as_in_process(tmp_path):
    """launcher=basic: every design and the baseline run as sweeps into <out>/runs, batch
    designs a sweep; the same grid gives the same trial values, bit for bit, as playing the
    markets in process, and a rerun with more trials reuses every finished run."""
    inproc = optimise("engagement", GRID, trials=3, out=tmp_path / "a", report=False, **SMALL)
    swept = optimise(
        "engagement", GRID, trials=3, out=tmp_path / "b", report=True,
        launcher="basic", batch=2, **SMALL,
    )  # fmt: skip
    key = ["contacts_per_week", "expected_eur", "risk_eur", "loyal_pp"]
    a = inproc.trials[key].sort_values("contacts_per_week").reset_index(drop=True)
    b = swept.trials[key].sort_values("contacts_per_week").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    runs = [p for p in (tmp_path / "b" / "runs").iterdir() if (p / "done.json").is_file()]
    # the baseline and 3 designs x 2 seeds, and the report's shipped designs, as run folders
    assert len(runs) == swept.runs >= 4 * 2
    assert len(list((tmp_path / "b" / "sweeps").glob("*.yaml"))) >= 2  # 3 designs, batch 2
    again = optimise(
        "engagement", GRID, trials=3, out=tmp_path / "b", report=True,
        launcher="basic", **SMALL,
    )  # fmt: skip
    assert again.new_trials == 0 and again.runs == 0  # designs.csv replays from the runs
    assert (tmp_path / "b" / "designs.csv").is_file()


def test_a_launcher_name_and_batch_are_checked(tmp_path):
    with pytest.raises(UsageError, match="launcher"):
        optimise("engagement", GRID, trials=1, out=tmp_path, launcher="no such/one", **SMALL)
    with pytest.raises(UsageError, match="batch"):
        optimise("engagement", GRID, trials=1, out=tmp_path, launcher="basic", batch=0, **SMALL)
