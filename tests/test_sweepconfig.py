"""The sweep's config cache (loyaltysim.runs.sweepconfig) gives, job by job, the config that
Hydra's own load_sweep_config composes, while composing once per set of group choices."""

from __future__ import annotations

import pickle

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.types import RunMode
from omegaconf import OmegaConf

from loyaltysim.runs.io import config_dir
from loyaltysim.runs.sweepconfig import CachingConfigLoader

MASTER = ["hydra.sweep.dir=/tmp/unused", "experiment=head_to_head", "customers.n=300"]
JOBS = [
    [*MASTER[1:], f"firm/programme={p}", f"seed={s}"]
    for p in ("none", "discount", "engagement")
    for s in range(3)
] + [
    ["+firm.extra_key=1"],
    ["firm.name=bar", "market.horizon_weeks=8", "output.figure=false"],
    ["competitor/programme=tiered", "competitor.count=2", "seed=4"],
    ["firms=ladder", "seed=2"],
    ["firm.name='a,b'", "customers.referral.network_degree=4"],
    ["~firm.name"],  # an error in both
    ["firm.prise=3"],  # a misspelt key: an error in both
]


@pytest.fixture(scope="module")
def hydra_loader():
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("config", MASTER, run_mode=RunMode.MULTIRUN)
        yield loader, master
    GlobalHydra.instance().clear()


def _load(loader, master, job):
    try:
        return OmegaConf.to_yaml(loader.load_sweep_config(master, job))
    except Exception as err:
        return f"{type(err).__name__}"


def test_cached_configs_equal_hydras(hydra_loader):
    loader, master = hydra_loader
    fast = CachingConfigLoader(loader)
    for job in JOBS:
        assert _load(fast, master, job) == _load(loader, master, job), job
    # 3 arms share one composition each; the other jobs compose their own
    assert fast.composed < len(JOBS) - 6
    assert fast.reused >= 9


def test_cached_config_is_a_copy(hydra_loader):
    loader, master = hydra_loader
    fast = CachingConfigLoader(loader)
    a = fast.load_sweep_config(master, ["seed=1"])
    a.seed = 99
    b = fast.load_sweep_config(master, ["seed=2"])
    assert b.seed == 2 and OmegaConf.is_struct(b)
    assert list(b.hydra.overrides.task) == ["seed=2"]


def test_pickles_as_the_plain_loader(hydra_loader):
    loader, _ = hydra_loader
    back = pickle.loads(pickle.dumps(CachingConfigLoader(loader)))
    assert type(back) is type(loader)


def test_groups_from_an_extra_search_path(tmp_path):
    # a config group only on hydra.searchpath (as the calibration's candidate worlds)
    (tmp_path / "extra_world").mkdir()
    for name, n in (("a", 123), ("b", 456)):
        (tmp_path / "extra_world" / f"{name}.yaml").write_text(
            f"# @package _global_\ncustomers:\n  n: {n}\n"
        )
    master_overrides = ["hydra.sweep.dir=/tmp/unused", f"hydra.searchpath=[file://{tmp_path}]"]
    jobs = [[f"+extra_world={w}", f"seed={s}"] for w in ("a", "b") for s in range(3)]
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration("config", master_overrides, RunMode.MULTIRUN)
        fast = CachingConfigLoader(loader)
        for job in jobs:
            assert _load(fast, master, job) == _load(loader, master, job), job
        assert fast.composed == 2 and fast.reused == 6
        assert fast.load_sweep_config(master, jobs[-1]).customers.n == 456
    GlobalHydra.instance().clear()
