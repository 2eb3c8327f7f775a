"""Configs compose, their YAML defaults match the parameter objects, bad values are rejected."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from loyaltysim import ConfigError, SimConfig, compose, describe, load_config, make_config
from loyaltysim.io import config_dir
from loyaltysim.programmes import REGISTRY

CONF = config_dir()


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def test_default_yaml_equals_dataclass_defaults():
    # The YAML files document every default; they must not drift from the code.
    assert asdict(load_config()) == asdict(SimConfig())


@pytest.mark.parametrize("group", ["firm/programme", "competitor/programme"])
def test_every_programme_option_composes_and_is_registered(group):
    opts = options(group)
    assert set(opts) == set(REGISTRY), "one config file per registered programme type"
    for opt in opts:
        cfg = load_config([f"{group}={opt}"])
        side = cfg.firm if group.startswith("firm") else cfg.competitor
        assert side.programme.type == opt
        assert type(side.programme) is REGISTRY[opt].Params


def test_competitor_programme_defaults_match_firm_programme_defaults():
    for opt in options("firm/programme"):
        cfg = load_config([f"firm/programme={opt}", f"competitor/programme={opt}"])
        assert asdict(cfg.firm.programme) == asdict(cfg.competitor.programme)


@pytest.mark.parametrize(
    "group", ["market", "customers", "firm", "competitor", "debug", "experiment", "hydra/launcher"]
)
def test_every_group_option_composes(group):
    assert options(group), f"conf/{group} has no options"
    for opt in options(group):
        make_config(compose([f"{group}={opt}"]))


def test_overrides_reach_the_parameter_objects():
    cfg = load_config(["firm/programme=engagement", "customers.n=20000"], seed=7)
    assert (cfg.seed, cfg.customers.n, cfg.firm.programme.type) == (7, 20000, "engagement")
    cfg = load_config(customers__referral__rate=0.05)
    assert cfg.customers.referral.rate == 0.05


@pytest.mark.parametrize(
    "override, key",
    [
        ("firm.price=-1", "firm.price"),
        ("competitor.unit_cost=-0.5", "competitor.unit_cost"),
        ("customers.referral.conversion=1.5", "customers.referral.conversion"),
        ("firm.service_quality=2", "firm.service_quality"),
        ("firm.programme.rebate_rate=1.0", "firm.programme.rebate_rate"),
        ("firm.programme.type=loyalty_magic", "firm.programme.type"),
        ("firm.programme.end_week=0", "firm.programme.end_week"),
        ("customers.n=0", "customers.n"),
        ("customers.n=2.5", "customers.n"),
        ("market.step_weeks=4,market.horizon_weeks=10", "market.horizon_weeks"),
        ("market.step_weeks=5", "market.horizon_weeks"),
        ("firm.poaching.target=everyone", "firm.poaching.target"),
        ("customers.segments.quiet.share=0.5", "customers.segments.*.share"),
        ("market.start_date=yesterday", "market.start_date"),
        ("competitor.count=1,competitor.name=focal", "competitor.name"),
        ("+firm.prise=3", "firm.prise"),
    ],
)
def test_invalid_values_are_rejected_with_key_value_and_range(override, key):
    overrides = override.split(",")
    with pytest.raises(ConfigError) as err:
        load_config(overrides)
    assert err.value.key == key
    message = str(err.value)
    assert key in message and "allowed" in message


def test_programme_start_after_end_is_rejected():
    with pytest.raises(ConfigError, match="end_week"):
        load_config(["firm.programme.start_week=50", "firm.programme.end_week=20"])


def test_describe_lists_levers_and_uncertainties_with_ranges():
    rows = {r["key"]: r for r in describe(SimConfig)}
    assert rows["firm.price"]["kind"] == "lever" and rows["firm.price"]["lo"] == 0
    assert rows["customers.purchase_rate_mean"]["kind"] == "uncertainty"


def test_cli_rejects_bad_value_without_traceback(tmp_path: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "loyaltysim", "firm.price=-3", f"hydra.run.dir={tmp_path}/r"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "firm.price = -3" in proc.stderr and "allowed: a number > 0" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "r" / "metrics.csv").exists(), "nothing may run on a bad config"
