"""Every experiment config composes (Hydra compose API) at both ends of every sweep factor,
every arm option composes, design draws are reproducible, and the results pipeline runs."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser

from loyaltysim import make_config
from loyaltysim.runs import designs
from loyaltysim.runs.io import config_dir
from loyaltysim.runs.sweep import count_jobs

CONF = config_dir()
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
ROOT = Path(__file__).resolve().parents[1]


def composed(overrides, hydra_config=False):
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF)):
        return compose("config", overrides=overrides, return_hydra_config=hydra_config)


def sweep_values(params) -> dict[str, list[str]]:
    parser = OverridesParser.create()
    out = {}
    for key, value in params.items():
        ov = parser.parse_override(f"{key}={value}")
        out[key] = list(ov.sweep_string_iterator()) if ov.is_sweep_override() else [str(value)]
    return out


def test_there_are_eight_experiments():
    assert len(EXPERIMENTS) == 8


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_experiment_composes_at_both_ends_of_every_factor(name):
    cfg = composed([f"experiment={name}"], hydra_config=True)
    params = dict(cfg.hydra.sweeper.params)
    assert "seed" in params, "each experiment replicates over seeds"
    assert count_jobs({k: str(v) for k, v in params.items()}) >= 20
    values = sweep_values(params)
    for pick in (0, -1):
        job = [f"{k}={v[pick]}" for k, v in values.items()]
        sim = make_config(composed([f"experiment={name}", *job]))
        assert sim.seed == int(values["seed"][pick])
    # the header comment names the claims it tests
    text = (CONF / "experiment" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_")
    assert "(S" in text or "Klemperer" in text


@pytest.mark.parametrize("group", ["arm/acquisition", "arm/referral"])
def test_every_arm_option_composes(group):
    for option in sorted(p.stem for p in (CONF / group).glob("*.yaml")):
        make_config(composed([f"+{group}={option}"]))


def test_design_draws_are_reproducible_and_in_range():
    a = [designs.uniform(d, "rebate_rate", 0.01, 0.12) for d in range(1, 50)]
    assert a == [designs.uniform(d, "rebate_rate", 0.01, 0.12) for d in range(1, 50)]
    assert all(0.01 <= x <= 0.12 for x in a) and len(set(a)) > 40
    assert designs.uniform(3, "breakage", 0, 1) != designs.uniform(3, "signup_prob", 0, 1)
    modes = {designs.choice(d, "mode", "rebate", "points") for d in range(1, 30)}
    assert modes == {"rebate", "points"}
    lottery = make_config(composed(["experiment=design_lottery", "design=0"]))
    assert lottery.firm.programme.start_week == lottery.market.horizon_weeks  # never runs
    drawn = make_config(composed(["experiment=design_lottery", "design=7"]))
    assert drawn.firm.programme.start_week == 0
    assert drawn.firm.programme.rebate_rate == designs.uniform(7, "rebate_rate", 0.01, 0.12)


def test_results_pipeline_runs_on_a_tiny_sweep(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "experiments" / "run_all.py"),
            "--quick",
            "--seeds",
            "2",
            "--only",
            "head_to_head",
            "--out",
            str(tmp_path / "res"),
            "--runs",
            str(tmp_path / "runs"),
            "--launcher",
            "basic",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[loyaltysim sweep] 6/6 runs finished" in proc.stdout  # progress as it runs
    out = tmp_path / "res"
    assert "**S2**" in (out / "README.md").read_text()
    assert list(json.loads((out / "claims.json").read_text())) == ["head_to_head"]
    for name in ("comparison.md", "comparison.csv", "timeseries.png", "differences.png"):
        assert (out / "head_to_head" / name).stat().st_size > 0


def _driver():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "experiments" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_driver_passes_launcher_options_only_to_their_launcher(tmp_path):
    run_all = _driver()

    def command(*argv):
        return run_all.sweep_command("poaching", tmp_path, run_all.parse_args(list(argv)))

    default = command()
    assert "experiment=poaching" in default and f"hydra.sweep.dir={tmp_path}" in default
    assert not any(a.startswith(("hydra/launcher", "hydra.launcher")) for a in default)
    basic = command("--launcher", "basic", "--set", "customers.n=500")
    assert "hydra/launcher=basic" in basic and "customers.n=500" in basic
    assert not any(a.startswith("hydra.launcher.n_jobs") for a in basic)
    assert "hydra.launcher.n_jobs=4" in command("--jobs", "4")
    assert "hydra.launcher.n_jobs=4" in command("--launcher", "joblib", "--jobs", "4")
    assert "seed=range(0,3)" in command("--seeds", "3")
    with pytest.raises(SystemExit):
        command("--launcher", "basic", "--jobs", "2")
