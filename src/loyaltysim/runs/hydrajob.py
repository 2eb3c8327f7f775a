"""Hydra's ``run_job`` and OmegaConf's YAML files, at a job's cost, with the same results.

Of a small sweep job's fixed cost, Hydra's ``run_job`` (``hydra.core.utils``, 1.3) took a
good part: two deep copies of the composed config and three YAML files in ``.hydra/``,
each written by PyYAML's pure-Python emitter (about 20 ms for a whole config on a loaded
machine); the run's own ``config.yaml`` is a fourth. Here:

- :func:`to_yaml` is ``OmegaConf.to_yaml`` with libyaml's C emitter (``yaml.CDumper``)
  and OmegaConf's own string representer (OmegaConf's emitter where a string is not
  ASCII: libyaml escapes some such characters): the same bytes (``tests/test_hydrajob.py``
  compares them for every experiment's config and awkward strings), in about half the
  time. Without libyaml it is OmegaConf's.
- :func:`run_job` is Hydra's ``run_job`` step by step (output folder, logging, the three
  ``.hydra/`` files, env_set, callbacks, the job's return), except that the task's copy of
  the config is made by pickling (a third of a deep copy's time) and Hydra's own node is
  not copied a second time: nothing in a job writes to it (Hydra makes it read-only).

The launcher's children and the command line's single runs use :func:`run_job`
(:func:`install` puts it in place of Hydra's for ``Hydra.run``).
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

_DUMPER: Any = None


def _dumper() -> Any:
    """OmegaConf's YAML dumper on libyaml's emitter (or OmegaConf's own without libyaml)."""
    global _DUMPER
    if _DUMPER is None:
        from omegaconf._utils import OmegaConfDumper, get_omega_conf_dumper

        if not getattr(yaml, "__with_libyaml__", False):
            _DUMPER = get_omega_conf_dumper()
        else:

            class Dumper(yaml.CDumper):  # type: ignore[misc,name-defined]
                """libyaml's emitter, OmegaConf's quoting of strings that read as numbers."""

            Dumper.add_representer(str, OmegaConfDumper.str_representer)
            _DUMPER = Dumper
    return _DUMPER


def _ascii(data: Any) -> bool:
    """True if every string in ``data`` (keys included) is ASCII."""
    if isinstance(data, str):
        return data.isascii()
    if isinstance(data, dict):
        return all(_ascii(k) and _ascii(v) for k, v in data.items())
    if isinstance(data, list):
        return all(_ascii(v) for v in data)
    return True


def to_yaml(cfg: Any, resolve: bool = False) -> str:
    """``OmegaConf.to_yaml(cfg, resolve=resolve)``, the same text, faster."""
    from omegaconf._utils import _ensure_container, get_omega_conf_dumper

    container = OmegaConf.to_container(_ensure_container(cfg), resolve=resolve, enum_to_str=True)
    # libyaml writes some characters beyond ASCII otherwise (an emoji as "\U0001F600"):
    # such a config goes through OmegaConf's own emitter
    dumper = _dumper() if _ascii(container) else get_omega_conf_dumper()
    return yaml.dump(
        container, default_flow_style=False, allow_unicode=True, sort_keys=False, Dumper=dumper
    )


def save(cfg: Any, path: str | Path) -> None:
    """``OmegaConf.save(cfg, path)``, the same file, faster."""
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(to_yaml(cfg))


class _NotPlain(Exception):
    pass


def _lists(data: Any) -> Any:
    """``data`` with its tuples as lists, as OmegaConf makes them; :class:`_NotPlain` where
    it holds a key that is no string or a value that is no number, string, bool or None."""
    if isinstance(data, dict):
        if not all(isinstance(k, str) for k in data):
            raise _NotPlain
        return {k: _lists(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_lists(v) for v in data]
    if data is None or type(data) in (str, int, float, bool):
        return data
    raise _NotPlain


def save_plain(data: dict[str, Any], path: str | Path) -> None:
    """``OmegaConf.save(OmegaConf.create(data), path)`` for plain data (``dataclasses.asdict``
    of a run's config: numbers, strings, None, lists, tuples, dicts), the same file without
    building OmegaConf's nodes first (they cost a small run's job more than the writing)."""
    try:
        plain = _lists(data)
    except _NotPlain:
        plain = None
    if plain is None or not _ascii(plain):
        save(OmegaConf.create(data), path)
        return
    text = yaml.dump(
        plain, default_flow_style=False, allow_unicode=True, sort_keys=False, Dumper=_dumper()
    )
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _copy(config: DictConfig) -> DictConfig:
    """A deep copy of a composed config by pickling, its resolver cache (``${now:}``) kept."""
    out = pickle.loads(pickle.dumps(config))
    OmegaConf.copy_cache(from_config=config, to_config=out)
    return out


def run_job(
    task_function: Any,
    config: DictConfig,
    job_dir_key: str,
    job_subdir_key: str | None,
    hydra_context: Any,
    configure_logging: bool = True,
) -> Any:
    """Hydra 1.3's ``hydra.core.utils.run_job``, with one cheaper copy of the config and no
    second one (see the module docstring); the same files, callbacks and return value."""
    from hydra import version
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import (
        JobReturn,
        JobRuntime,
        JobStatus,
        _check_hydra_context,
        _flush_loggers,
        configure_log,
        env_override,
    )

    _check_hydra_context(hydra_context)
    callbacks = hydra_context.callbacks
    old_cwd = os.getcwd()
    orig_hydra_cfg = HydraConfig.instance().cfg
    HydraConfig.instance().set_config(config)
    output_dir = str(OmegaConf.select(config, job_dir_key))
    if job_subdir_key is not None:
        output_dir = os.path.join(output_dir, str(OmegaConf.select(config, job_subdir_key)))
    # Hydra sets the config a second time to show the output folder in HydraConfig's copy
    # (a deep copy of the whole hydra node); the folder is set in both instead
    for node in (config.hydra.runtime, HydraConfig.instance().cfg.hydra.runtime):
        with read_write(node):
            with open_dict(node):
                node.output_dir = os.path.abspath(output_dir)
    _chdir = None
    try:
        ret = JobReturn()
        task_cfg = _copy(config)
        with read_write(task_cfg):
            with open_dict(task_cfg):
                del task_cfg["hydra"]
        ret.cfg = task_cfg
        # read-only (set_config) and set afresh by every job: shared, not copied
        hydra_cfg = HydraConfig.instance().cfg
        ret.hydra_cfg = hydra_cfg
        ret.overrides = OmegaConf.to_container(config.hydra.overrides.task)
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        _chdir = hydra_cfg.hydra.job.chdir
        if _chdir is None and version.base_at_least("1.2"):
            _chdir = False
        if _chdir is None:  # an app of version_base < 1.2: Hydra's own run_job warns
            _chdir = True
        if _chdir:
            os.chdir(output_dir)
            ret.working_dir = output_dir
        else:
            ret.working_dir = os.getcwd()
        if configure_logging:
            configure_log(config.hydra.job_logging, config.hydra.verbose)
        if config.hydra.output_subdir is not None:
            hydra_output = Path(config.hydra.runtime.output_dir) / str(config.hydra.output_subdir)
            hydra_output.mkdir(parents=True, exist_ok=True)
            save(task_cfg, hydra_output / "config.yaml")
            save(hydra_cfg, hydra_output / "hydra.yaml")
            save(config.hydra.overrides.task, hydra_output / "overrides.yaml")
        with env_override(hydra_cfg.hydra.job.env_set):
            callbacks.on_job_start(config=config, task_function=task_function)
            try:
                ret.return_value = task_function(task_cfg)
                ret.status = JobStatus.COMPLETED
            except Exception as e:  # noqa: BLE001 - as Hydra: the job's failure, returned
                ret.return_value = e
                ret.status = JobStatus.FAILED
        ret.task_name = JobRuntime.instance().get("name")
        _flush_loggers()
        callbacks.on_job_end(config=config, job_return=ret)
        return ret
    finally:
        HydraConfig.instance().cfg = orig_hydra_cfg
        if _chdir:
            os.chdir(old_cwd)


def install() -> None:
    """Use :func:`run_job` for Hydra's single runs (``Hydra.run``) in this process."""
    import hydra._internal.hydra as internal

    internal.run_job = run_job  # type: ignore[assignment]
