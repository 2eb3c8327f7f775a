"""Configs compose, their YAML defaults match the parameter objects, bad values are rejected."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from loyaltysim import ConfigError, SimConfig, compose, describe, load_config, make_config
from loyaltysim.model.programmes import REGISTRY
from loyaltysim.runs.io import config_dir

CONF = config_dir()


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def test_default_yaml_equals_dataclass_defaults():
    # The YAML files document every default; they must not drift from the code.
    assert asdict(load_config()) == asdict(SimConfig())


def test_one_config_file_per_registered_programme():
    assert set(options("programme")) == set(REGISTRY), "conf/programme/<key>.yaml per type"
    assert not (CONF / "firm" / "programme").exists(), "no per-side copies of programme files"


@pytest.mark.parametrize("group", ["firm/programme", "competitor/programme"])
def test_every_programme_option_composes_and_is_registered(group):
    for opt in sorted(REGISTRY):
        cfg = load_config([f"{group}={opt}"])
        side = cfg.firm if group.startswith("firm") else cfg.competitor
        assert side.programme.type == opt
        assert type(side.programme) is REGISTRY[opt].Params
        # defaults come from the code: the option equals the dataclass defaults
        assert side.programme == REGISTRY[opt].Params()


def test_competitor_programme_defaults_match_firm_programme_defaults():
    for opt in sorted(REGISTRY):
        cfg = load_config([f"firm/programme={opt}", f"competitor/programme={opt}"])
        assert asdict(cfg.firm.programme) == asdict(cfg.competitor.programme)


def test_yaml_files_repeat_no_default(tmp_path):
    """Defaults live once, in the dataclasses: group files hold no value the schema has."""
    import yaml

    for group in ("market", "customers", "firm", "competitor"):
        path = CONF / group / "default.yaml"
        data = yaml.safe_load(path.read_text()) or {}
        assert set(data) <= {"defaults"}, f"{path} repeats defaults: {sorted(data)}"
    for path in (CONF / "programme").glob("*.yaml"):
        assert not yaml.safe_load(path.read_text()), f"{path} repeats defaults"


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
        ("firm.prise=3", "firm.prise"),
        ("firm.price=abc", "firm.price"),
        ("output.figure=maybe", "output.figure"),
        ("firm/programme=magic", "firm/programme"),
        (
            "firm.acquisition.weekly_budget_per_1000=1e300",
            "firm.acquisition.weekly_budget_per_1000",
        ),
        ("firm/programme=tiered,firm.programme.window_weeks=50", "firm.programme.window_weeks"),
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


def test_describe_lists_every_parameter_with_its_true_default():
    rows = describe()
    by_key = {(r["key"], r["when"]): r for r in rows}
    cfg = SimConfig()
    assert by_key[("firm.price", "")]["kind"] == "lever"
    assert by_key[("firm.price", "")]["allowed"].startswith("a number > 0")
    # true defaults at their position, not the class defaults of a nested type
    assert by_key[("customers.segments.digital.share", "")]["default"] == 0.35
    assert by_key[("customers.segments.hybrid.channels", "")]["default"] == ["digital", "phone"]
    assert by_key[("firm.programme.type", "")]["default"] == cfg.firm.programme.type
    assert by_key[("firm.programme.rebate_rate", "")]["default"] == 0.05
    # every programme type's levers are listed, with the option that selects them
    for key in REGISTRY:
        assert any(
            r["when"] == f"firm/programme={key}"
            or (r["key"] == "firm.programme.type" and r["default"] == key)
            for r in rows
        ), key
    assert ("firm.programme.contacts_per_week", "firm/programme=engagement") in by_key
    assert ("firm.programme.top_tier_spend_eur", "firm/programme=tiered") in by_key


def test_every_uncertainty_has_a_plausible_range_with_a_source():
    for row in describe():
        if row["kind"] != "uncertainty":
            continue
        lo, hi = row["plausible_lo"], row["plausible_hi"]
        assert lo is not None and hi is not None and lo < hi, row["key"]
        assert lo <= row["default"] <= hi, f"{row['key']}: default outside its plausible range"
        assert len(row["source"]) > 15, f"{row['key']}: plausible range needs a source or reason"


def test_every_parameter_has_a_kind_and_a_meaning():
    for row in describe():
        assert row["kind"] in ("lever", "uncertainty", "constant"), row["key"]
        if row["key"].split(".")[-1] not in ("type",):
            assert row["doc"], f"{row['key']} has no description"


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
