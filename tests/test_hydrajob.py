"""runs/hydrajob.py: YAML on libyaml's emitter gives OmegaConf's bytes; the lean run_job
writes the same run folder (``.hydra/`` included) as Hydra's own."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from loyaltysim.runs import hydrajob
from loyaltysim.runs.io import config_dir
from loyaltysim.runs.sweep import DONE
from test_sweep import sweep

EXPERIMENTS = sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))
AWKWARD = ["1e3", "10", "0.5", "true", "no", "null", "~", "-", "#c", "a: b", "'q'", '"d"',
           "{a}", "[b]", "word " * 30, "x" * 200, "é ü ñ 😀", "a\tb", "l1\nl2", " lead",
           "trail ", "https://x.org/a b?c=d", "", "2026-01-05", "0x1F", "+1", ".inf"]  # fmt: skip


@pytest.mark.parametrize("experiment", [None, *EXPERIMENTS])
def test_to_yaml_gives_omegaconfs_bytes(experiment):
    overrides = [] if experiment is None else [f"experiment={experiment}"]
    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        try:
            cfg = compose("config", overrides=overrides, return_hydra_config=True)
        except Exception as err:  # noqa: BLE001 - an experiment that needs more to compose
            pytest.skip(f"{experiment} does not compose alone: {err}")
    assert hydrajob.to_yaml(cfg) == OmegaConf.to_yaml(cfg)
    assert hydrajob.to_yaml(cfg.hydra.overrides.task) == OmegaConf.to_yaml(cfg.hydra.overrides.task)


def test_to_yaml_of_awkward_values(tmp_path):
    data = {"strings": AWKWARD, "nested": {s: [s, {"k": s}] for s in AWKWARD if s},
            "numbers": [0, -1, 1.5, 1e300, float("inf"), None, True]}  # fmt: skip
    cfg = OmegaConf.create(data)
    assert hydrajob.to_yaml(cfg) == OmegaConf.to_yaml(cfg)
    assert hydrajob.to_yaml(data) == OmegaConf.to_yaml(data)
    hydrajob.save(cfg, tmp_path / "a.yaml")
    OmegaConf.save(cfg, tmp_path / "b.yaml")
    assert (tmp_path / "a.yaml").read_bytes() == (tmp_path / "b.yaml").read_bytes()


def _files(run: Path) -> dict[str, bytes]:
    skip = {DONE, "cli.log", "manifest.json", "hydra.yaml"}  # times, pids, the launcher
    return {p.relative_to(run).as_posix(): p.read_bytes()
            for p in sorted(run.rglob("*")) if p.is_file() and p.name not in skip}  # fmt: skip


def test_lean_run_job_writes_what_hydras_writes(tmp_path):
    """The local launcher's children (lean run_job) and Hydra's basic launcher (Hydra's
    run_job, the run's config.yaml by OmegaConf): the same files, .hydra/ included."""
    ours, theirs = tmp_path / "local", tmp_path / "basic"
    sweep(ours, "seed=0,1", "firm/programme=none,engagement", launcher="local")
    sweep(theirs, "seed=0,1", "firm/programme=none,engagement", launcher="basic")
    runs = sorted(p.name for p in ours.iterdir() if (p / DONE).is_file())
    assert len(runs) == 4
    for run in runs:
        a, b = _files(ours / run), _files(theirs / run)
        assert ".hydra/config.yaml" in a and ".hydra/overrides.yaml" in a
        assert a == b, f"{run}: {[k for k in a if a[k] != b.get(k)]}"
        mine, hydras = (yaml.safe_load((f / run / ".hydra" / "hydra.yaml").read_text())["hydra"]
                        for f in (ours, theirs))  # fmt: skip
        assert mine["overrides"]["task"] == hydras["overrides"]["task"]
        assert any(o.startswith("seed=") for o in mine["overrides"]["task"])
        assert mine["runtime"]["output_dir"] == str(ours / run)
        assert mine["job"]["override_dirname"] == hydras["job"]["override_dirname"]


@pytest.mark.parametrize("experiment", [None, *EXPERIMENTS])
def test_save_plain_gives_omegaconfs_file(experiment, tmp_path):
    """A run's config.yaml, written straight from ``asdict`` of its config: the bytes
    OmegaConf writes for the same data, for every experiment and awkward strings."""
    from dataclasses import asdict

    from loyaltysim import load_config

    overrides = [] if experiment is None else [f"experiment={experiment}"]
    try:
        data = asdict(load_config(overrides))
    except Exception as err:  # noqa: BLE001 - an experiment that needs more to compose
        pytest.skip(f"{experiment} does not compose alone: {err}")
    ascii_only = [s for s in AWKWARD if s.isascii()]
    plain = {**data, "awkward": {"strings": ascii_only, "tuple": (1, "2", (3.5, None)),
                                 "nums": [1e300, -0.0, float("inf")]}}  # fmt: skip
    for name, d in {"plain": plain, "config": data, "unicode": {**data, "s": AWKWARD}}.items():
        hydrajob.save_plain(d, tmp_path / f"{name}_a.yaml")
        OmegaConf.save(OmegaConf.create(d), tmp_path / f"{name}_b.yaml")
        assert (tmp_path / f"{name}_a.yaml").read_bytes() == (
            tmp_path / f"{name}_b.yaml"
        ).read_bytes(), name
