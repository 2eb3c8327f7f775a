"""loyaltysim-calibrate: targets files, the Sobol design, a tiny calibration end to end
(real sampler, real sweeps), an impossible target, resumability, and world=<id>."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf

from loyaltysim.model.params import ConfigError
from loyaltysim.runs.runrecord import DONE
from loyaltysim.studies.calibration import accept, cli, sample, targets
from loyaltysim.studies.calibration import run as runner

PARAMS = [
    {"key": "customers.choice.loyalty_weight", "range": [0.5, 3.0]},
    {"key": "customers.choice.taste_sigma"},  # its plausible range
]
EASY = [
    {
        "name": "sole_buyers",
        "statistic": "polygamy.sole_over_90_pct",
        "range": [0, 100],
        "tolerance": 0,
        "weight": 1,
        "source": "test: any share",
    },
    {
        "name": "focal_share",
        "statistic": "metrics.plain.share",
        "value": 0.33,
        "tolerance": 0.5,
        "weight": 2,
        "source": "test: a share is in [0, 1]",
    },
]
IMPOSSIBLE = {
    "name": "planted",
    "statistic": "polygamy.sole_over_90_pct",
    "value": -50,
    "tolerance": 1,
    "weight": 1,
    "source": "test: a share below zero, which no world can give",
}


def write_spec(path: Path, out: Path, candidates: int = 3, tgts=None, **extra) -> Path:
    spec = {
        "name": "tiny",
        "seed": 1,
        "candidates": candidates,
        "replications": 1,
        "customers": 300,
        "weeks": 78,
        "out": str(out),
        "world_dir": str(out / "world_group" / "world"),
        "parameters": PARAMS,
        "targets": tgts if tgts is not None else EASY,
        **extra,
    }
    path.write_text(OmegaConf.to_yaml(OmegaConf.create(spec)))
    return path


def calibrate(spec: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-m", "loyaltysim.studies.calibration.cli", f"calibration={spec}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny calibration run once: 3 candidate worlds, 1 replication, 300 customers."""
    root = tmp_path_factory.mktemp("calib")
    spec = write_spec(root / "tiny.yaml", root / "out")
    proc = calibrate(spec)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root, spec, proc


def test_tiny_calibration_end_to_end(tiny):
    root, spec, proc = tiny
    out = root / "out"
    cands = pd.read_csv(out / "candidates.csv", index_col="world")
    acc = pd.read_csv(out / "accepted.csv", index_col="world")
    assert len(cands) == 3 and cands["accepted"].all()
    assert list(acc.index) == list(acc.sort_values("distance").index)
    assert acc["central"].sum() == 1
    for col in ("customers.choice.loyalty_weight", "customers.choice.taste_sigma", "distance"):
        assert col in acc.columns
    assert cands["customers.choice.loyalty_weight"].between(0.5, 3.0).all()
    for name in ("README.md", "targets.png", "pairs.png", "central.yaml", "summary.json"):
        assert (out / name).is_file(), name
    readme = (out / "README.md").read_text()
    assert "accepted (100.0%)" in readme and "Pinned" in readme
    central = (out / "central.yaml").read_text()
    assert central.startswith("# @package _global_") and "loyalty_weight" in central
    worlds = sorted((out / "world_group" / "world").glob("tiny_*.yaml"))
    assert [w.stem for w in worlds] == sorted(acc.index)
    # runs went through the sweep machinery: one folder per world x seed, with done.json
    runs = [p for p in (out / "runs").iterdir() if (p / DONE).is_file()]
    assert len(runs) == 3
    printed = cli.main([f"calibration={spec}", "--central"])
    assert printed == 0
    # the worlds are outside the package: the last line says how Hydra finds them
    hint = f"loyaltysim hydra.searchpath=[file://{(out / 'world_group').resolve()}] world=<id>"
    assert hint in proc.stdout


def test_world_id_composes_and_runs_one_and_many(tiny, tmp_path):
    root, _, _ = tiny
    acc = pd.read_csv(root / "out" / "accepted.csv", index_col="world")
    ids = list(acc.index[:2])
    search = f"hydra.searchpath=[file://{root / 'out' / 'world_group'}]"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    base = [
        sys.executable,
        "-m",
        "loyaltysim",
        "customers.n=200",
        "market.horizon_weeks=6",
        "output.figure=false",
        search,
    ]
    one = subprocess.run(
        [*base, f"world={ids[0]}", f"hydra.run.dir={tmp_path / 'one'}"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert one.returncode == 0, one.stderr
    cfg = OmegaConf.load(tmp_path / "one" / "config.yaml")
    want = acc.at[ids[0], "customers.choice.loyalty_weight"]
    assert cfg.customers.choice.loyalty_weight == pytest.approx(want)
    many = subprocess.run(
        [*base[:3], "-m", *base[3:], f"world={','.join(ids)}", f"hydra.sweep.dir={tmp_path}/m"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert many.returncode == 0, many.stdout + many.stderr
    assert len([p for p in (tmp_path / "m").iterdir() if (p / DONE).is_file()]) == 2


def test_rerun_with_more_candidates_reuses_finished_runs(tiny):
    root, spec, _ = tiny
    out = root / "out"
    cal = targets.load(str(spec))
    before = {
        p.name: (p / DONE).stat().st_mtime_ns
        for p in (out / "runs").iterdir()
        if (p / DONE).is_file()
    }
    bigger = targets.load(str(spec), ["calibration.candidates=4"])
    assert list(sample.design(bigger).index[:3]) == list(sample.design(cal).index)
    assert runner.pending(bigger, runner.plan(bigger, list(sample.design(bigger).index))) == 1
    proc = calibrate(spec, "calibration.candidates=4")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 runs already finished" in proc.stdout
    after = {
        p.name: (p / DONE).stat().st_mtime_ns
        for p in (out / "runs").iterdir()
        if (p / DONE).is_file()
    }
    assert len(after) == 4
    assert all(after[k] == v for k, v in before.items())  # finished runs not redone
    assert len(pd.read_csv(out / "candidates.csv")) == 4


def test_impossible_target_gives_an_empty_ensemble_and_a_clear_message(tiny, tmp_path):
    root, _, _ = tiny
    # same worlds and runs (same out folder), one more target that no world can meet
    spec = write_spec(tmp_path / "planted.yaml", root / "out", tgts=[*EASY, IMPOSSIBLE])
    proc = calibrate(spec)
    assert proc.returncode == cli.EMPTY, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "empty ensemble" in proc.stderr and "planted" in proc.stderr
    assert len(pd.read_csv(root / "out" / "accepted.csv")) == 0
    assert "No world met every target" in (root / "out" / "README.md").read_text()
    assert not (root / "out" / "central.yaml").exists()
    # what the empty ensemble came nearest to: the least implausible world, and what it misses
    summary = json.loads((root / "out" / "summary.json").read_text())
    assert summary["closest_misses"] == ["planted"] and summary["closest_implausibility"] > 1
    closest = (root / "out" / "closest.yaml").read_text()
    assert f"world {summary['closest']}" in closest
    # the command in its header names where the candidate worlds are (a config group there)
    search = (root / "out" / "candidates").resolve()
    assert f"hydra.searchpath=[file://{search}] world={summary['closest']}" in closest
    assert (search / "world" / f"{summary['closest']}.yaml").is_file()
    assert "no world to run" in proc.stdout and "central world: none" in proc.stdout
    readme = (root / "out" / "README.md").read_text()
    assert (
        "no `central.yaml`" in readme and "Of the enforced targets, fewest meet: planted" in readme
    )
    # no new runs: the statistics came from the finished runs
    assert " 0 not finished yet" in proc.stdout


def test_the_default_config_has_an_empty_world_group():
    from loyaltysim.runs.io import config_dir

    text = (config_dir() / "config.yaml").read_text()
    assert "- world: null" in text
    assert (config_dir() / "calibration" / "literature.yaml").is_file()


def test_literature_targets_load_and_name_the_regularities():
    cal = targets.load("literature")
    stats = {t.statistic.split(".")[0] for t in cal.targets}
    assert {
        "purchase_process",
        "polygamy",
        "double_jeopardy",
        "main_firm_switching",
        "programme_effect_discount",
        "heavy_light_buyers",
        "stationarity",
    } <= stats
    assert any(t.statistic.endswith("gain_retention_existing_pct") for t in cal.targets)
    assert all(t.source for t in cal.targets)


def test_design_is_deterministic_within_ranges_and_a_prefix(tmp_path):
    spec = write_spec(tmp_path / "d.yaml", tmp_path / "out", candidates=16)
    cal = targets.load(str(spec))
    a, b = sample.design(cal, 8), sample.design(cal, 16)
    pd.testing.assert_frame_equal(a, b.iloc[:8])
    pd.testing.assert_frame_equal(b, sample.design(targets.load(str(spec)), 16))
    lo, hi = (
        targets.uncertainties()["customers.choice.taste_sigma"]["plausible_lo"],
        targets.uncertainties()["customers.choice.taste_sigma"]["plausible_hi"],
    )
    assert b["customers.choice.taste_sigma"].between(lo, hi).all()
    other = targets.load(str(spec), ["calibration.seed=2"])
    assert not sample.design(other, 8).to_numpy().tolist() == a.to_numpy().tolist()


BAD = [
    ({"targets": [{**EASY[0], "statistic": "polygamy.nope"}]}, "statistic"),
    ({"targets": [{**EASY[0], "statistic": "metrics.plain.nope"}]}, "statistic"),
    ({"targets": [{**EASY[0], "range": [5, 1]}]}, "range"),
    ({"targets": [{**EASY[0], "source": ""}]}, "source"),
    ({"targets": [{**EASY[1], "tolerance": 0}]}, "tolerance"),
    ({"targets": [{**EASY[0], "weight": -1}]}, "weight"),
    ({"targets": [{**EASY[0], "colour": "red"}]}, "colour"),
    ({"targets": [EASY[0], EASY[0]]}, "targets"),
    ({"parameters": [{"key": "firm.price"}]}, "parameters.0.key"),
    ({"parameters": [{"key": "customers.choice.nope"}]}, "parameters.0.key"),
    ({"parameters": [{"key": "customers.choice.taste_sigma", "range": [-1, 1]}]}, "range"),
    ({"parameters": [{"key": "customers.choice.taste_sigma", "scale": "cubic"}]}, "scale"),
    ({"parameters": []}, "parameters"),
    ({"candidates": 0}, "candidates"),
    ({"weeks": 10}, "weeks"),
    ({"colour": "red"}, "colour"),
    ({"replications": 3, "confirm_replications": 2}, "confirm_replications"),  # adds no seed
    ({"confirm_cutoff": -0.5}, "confirm_cutoff"),
    ({"wave_pool": 0}, "wave_pool"),
    (  # the stationarity measure compares the first and last 52 weeks
        {"targets": [{**EASY[0], "statistic": "stationarity.repeat_change_pp"}]},
        "weeks",
    ),
    ({"targets": [{**EASY[0], "wieght": 1}]}, "targets.sole_buyers.wieght"),  # by its name
]


@pytest.mark.parametrize("change, key", BAD, ids=[k for _, k in BAD])
def test_bad_targets_files_name_key_value_and_allowed(tmp_path, change, key):
    spec = write_spec(tmp_path / "bad.yaml", tmp_path / "out", **{})
    data = OmegaConf.to_container(OmegaConf.load(spec))
    data.update(change)
    spec.write_text(OmegaConf.to_yaml(OmegaConf.create(data)))
    with pytest.raises(ConfigError) as err:
        targets.load(str(spec))
    assert key in err.value.key and "allowed" in str(err.value)


def test_cli_mistakes_exit_2_with_one_line(tmp_path, capsys):
    spec = write_spec(tmp_path / "s.yaml", tmp_path / "out")
    assert cli.main([f"calibration={spec}", "calibration.candidates=-3"]) == 2
    assert cli.main(["calibration=no_such_calibration"]) == 2
    assert cli.main([f"calibration={spec}", "customers.nope=1"]) == 2
    assert cli.main([f"calibration={spec}", "notkeyvalue"]) == 2
    err = capsys.readouterr().err
    assert err.count("loyaltysim-calibrate:") == 4 and "Traceback" not in err
    bad = tmp_path / "broken.yaml"
    bad.write_text("targets: [unclosed\n")
    proc = calibrate(bad)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("loyaltysim-calibrate: invalid config: calibration")


def test_plan_and_statistics_run_nothing(tmp_path, capsys):
    spec = write_spec(tmp_path / "s.yaml", tmp_path / "out")
    assert cli.main([f"calibration={spec}", "--plan"]) == 0
    out = capsys.readouterr().out
    assert "first design 3 candidate worlds x 1 replications x 1 arms (plain)" in out
    assert "300 customers x 78 weeks" in out and "no confirmation stage" in out
    waves = write_spec(
        tmp_path / "w.yaml",
        tmp_path / "out",
        waves=2,
        wave_candidates=4,
        wave_pool=8,
        confirm_replications=3,
    )
    assert cli.main([f"calibration={waves}", "--plan"]) == 0
    out = capsys.readouterr().out
    assert "up to 2 refinement waves of 4 worlds (each picked by the emulator" in out
    assert "at most 11 worlds, 11 screening runs" in out
    assert "confirmed with 3 replications" in out and "2 more runs a confirmed world" in out
    assert not (tmp_path / "out" / "runs").exists()
    assert cli.main(["--statistics"]) == 0
    assert "heavy_light_buyers" in capsys.readouterr().out


def test_refinement_draws_inside_the_box_of_worlds_not_ruled_out(tmp_path):
    """History matching: the next wave lies in the (padded) box of the worlds whose
    implausibility is within the cutoff; ruled-out worlds do not widen it; same results,
    same wave (ids reused); nothing left, no wave."""
    spec = write_spec(tmp_path / "t.yaml", tmp_path / "out", wave_candidates=16, cutoff=1.0)
    cal = targets.load(str(spec))
    first = sample.design(cal, 8)
    cands = first.copy()
    cands["implausibility"] = [0.0, 0.5, 3.0, 9.0, 0.9, 5.0, 2.0, 7.0]
    wave = sample.refine(cal, cands, 1)
    kept = cands[cands["implausibility"] <= 1.0]
    assert len(wave) == 16 and all(i.startswith("tiny_") and "_r1" in i for i in wave.index)
    for p in cal.parameters:
        lo, hi = kept[p.key].min(), kept[p.key].max()
        pad = max(0.1 * (hi - lo), 0.02 * (p.hi - p.lo))
        assert wave[p.key].min() >= max(lo - pad, p.lo) - 1e-9
        assert wave[p.key].max() <= min(hi + pad, p.hi) + 1e-9
    pd.testing.assert_frame_equal(sample.refine(cal, cands, 1), wave)
    moved = cands.assign(implausibility=[0.0, 9, 9, 9, 9, 9, 0.3, 9])
    assert not set(sample.refine(cal, moved, 1).index) & set(wave.index)
    assert sample.refine(cal, cands.assign(implausibility=9.0), 1) is None


def test_a_refinement_wave_runs_and_is_reported(tmp_path):
    spec = write_spec(
        tmp_path / "t.yaml", tmp_path / "out", candidates=2, waves=1, wave_candidates=2
    )
    done = calibrate(spec)
    assert done.returncode == 0, done.stderr
    assert "wave 1: 2 worlds in the box of the 2 not ruled out" in done.stdout
    table = pd.read_csv(tmp_path / "out" / "candidates.csv", index_col=0)
    assert len(table) == 4 and table["accepted"].all()
    assert table["implausibility"].eq(0).all()


def test_cost_counts_only_calls_with_the_current_run_code(tmp_path):
    """Runs of other code are stale (the sweeps redo them): their cost stays in cost.csv as
    history but is not part of the total the README reports."""
    from loyaltysim.runs.runrecord import code_hash
    from loyaltysim.studies.calibration.report import COST, _cost

    old = {k: 0 for k in COST} | {"new_runs": 100, "run_seconds": 600.0, "code": "0" * 16}
    pd.DataFrame([old]).to_csv(tmp_path / "cost.csv", index=False)
    call = {"new_runs": 10, "run_seconds": 30.0, "candidates": 2, "runs": 10}
    total = _cost(tmp_path, call)
    assert total["total_runs_made"] == 10 and total["total_run_minutes"] == 0.5
    rows = pd.read_csv(tmp_path / "cost.csv", dtype={"code": str})
    assert len(rows) == 2 and rows["code"].iloc[-1] == code_hash()
    assert _cost(tmp_path, {"new_runs": 0})["total_runs_made"] == 10  # a call that ran nothing


def test_confirmation_decides_acceptance_with_the_confirmed_means(tmp_path):
    """A world the screen let in by chance fails on its confirmed means; a near miss that
    the confirmed means put within the target is accepted; a world too far to confirm is
    never accepted, whatever its screen said."""
    spec = write_spec(tmp_path / "t.yaml", tmp_path / "out", candidates=3)
    cal = targets.load(str(spec), ["calibration.confirm_replications=4"])
    params = sample.design(cal, 3)
    a, b, c = params.index
    screen = pd.DataFrame(
        {
            "status": "measured",
            "polygamy.sole_over_90_pct": [50.0, 50.0, 50.0],
            "metrics.plain.share": [0.8, 0.84, 2.0],  # bounds -0.17 to 0.83 (0.33 +- 0.5)
        },
        index=params.index,
    )
    sure = screen.loc[[a, b]].assign(**{"metrics.plain.share": [0.9, 0.5]})
    implausible = accept.table(cal, params, screen)["implausibility"]
    strict = targets.load(str(spec), ["calibration.confirm_cutoff=0"])
    assert accept.to_confirm(strict, pd.DataFrame({"implausibility": implausible})) == [a]
    assert cal.confirm_cutoff == 0.1  # the default: b misses by 0.02 half-widths
    assert accept.to_confirm(cal, pd.DataFrame({"implausibility": implausible})) == [a, b]
    out = accept.confirm(cal, params, screen, sure)
    assert list(out["screen_accepted"]) == [True, False, False]
    assert list(out["accepted"]) == [False, True, False]
    assert list(out["confirmed"]) == [True, True, False]
    assert list(out["replications"]) == [4, 4, 1]
    assert out.at[b, "metrics.plain.share"] == 0.5  # the confirmed mean, not the screen's
    assert out.at[c, "screen_implausibility"] > 1


def test_confirmation_reuses_the_screens_runs_and_is_reported(tmp_path):
    spec = write_spec(
        tmp_path / "t.yaml",
        tmp_path / "out",
        candidates=2,
        confirm_replications=2,
        confirm_cutoff=1e9,
    )
    first = calibrate(spec, "calibration.confirm_replications=0")
    assert first.returncode == 0, first.stderr
    screened = finished(tmp_path / "out" / "runs")
    assert len(screened) == 2
    done = calibrate(spec)
    assert done.returncode == 0, done.stderr
    assert "confirmation: 2 worlds within 1e+09 half-widths" in done.stdout
    assert "(2 runs not finished yet; the screen's 1 are reused)" in done.stdout
    runs = finished(tmp_path / "out" / "runs")
    assert len(runs) == 4 and all(runs[k] == v for k, v in screened.items())
    table = pd.read_csv(tmp_path / "out" / "candidates.csv", index_col=0)
    assert table["confirmed"].all() and table["replications"].eq(2).all()
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["confirm_replications"] == 2 and summary["confirmed"] == 2
    assert summary["runs"] == 4
    readme = (tmp_path / "out" / "README.md").read_text()
    assert "Confirmation: the screen accepted 2 worlds" in readme
    assert "## How the candidates came about" in readme
    assert table["wave"].eq(0).all()


def finished(runs: Path) -> dict[str, int]:
    """Each finished run's folder and the time of its done.json."""
    return {p.name: (p / DONE).stat().st_mtime_ns for p in runs.iterdir() if (p / DONE).is_file()}


def test_an_emulated_wave_goes_where_worlds_meet_the_targets(tmp_path):
    """History matching with an emulator: with a statistic that rises with the loyalty
    weight and a target that wants it low, the wave's worlds lie at low weights (the plain
    design of the same box spreads over it); the same results give the same wave."""
    share = {**EASY[1], "value": 0.1, "tolerance": 0.05}  # met for weights near 0.5-0.75
    spec = write_spec(tmp_path / "t.yaml", tmp_path / "out", tgts=[share], wave_candidates=8)
    cal = targets.load(str(spec), ["calibration.wave_pool=16"])
    first = sample.design(cal, 32)
    key = "customers.choice.loyalty_weight"
    u = (first[key] - 0.5) / 2.5
    stats = pd.DataFrame(
        {"status": "measured", "metrics.plain.share": 0.05 + 0.5 * u}, index=first.index
    )
    cands = accept.table(cal, first, stats).assign(implausibility=0.0)  # the whole box
    wave = sample.refine(cal, cands, 1, stats)
    plain = sample.refine(targets.load(str(spec)), cands, 1, stats)
    assert len(wave) == len(plain) == 8
    assert wave[key].max() < 1.2 < plain[key].max()
    pd.testing.assert_frame_equal(sample.refine(cal, cands, 1, stats), wave)
    moved = sample.refine(cal, cands, 1, stats.assign(**{"metrics.plain.share": 0.5}))
    assert not set(moved.index) & set(wave.index)  # new results, a new wave
