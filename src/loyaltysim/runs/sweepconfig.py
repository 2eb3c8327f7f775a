"""Composing the configs of a sweep's jobs once per shape, not once per job.

Hydra composes every job's config from scratch (defaults list, YAML files, schema merge):
about 0.2 s a job on an idle development machine, several times that on a loaded one,
and the sweeper and the launcher each do it, so a 200-job sweep spent minutes composing
before its first job ran, and a re-run that skips every job spent them all the same.

Most jobs of a sweep differ only in plain values (``seed=3``, ``customers.n=5000``); only
config group choices (``firm/programme=engagement``, ``experiment=...``) change what is
composed. :class:`CachingConfigLoader` wraps Hydra's config loader: ``load_sweep_config``
composes once per distinct set of *structural* overrides (group choices, ``hydra.*``
settings, dict values) and then applies the job's plain value overrides to a copy, with
Hydra's own override code, in the order Hydra applies them (after composition). The result
is the config Hydra would have composed (``tests/test_sweep.py`` checks it, key by key).
Config groups are looked up in the same search path as Hydra's (``hydra.searchpath``
included, as the calibration's candidate worlds use). Anything it does not handle the same
way (a parse error, an override that fails) goes to Hydra's own ``load_sweep_config``,
which also reports errors as before.

The wrapper pickles as the plain loader (its cache stays behind), so launchers that ship
the Hydra context to other processes or machines (Ray, submitit, joblib) work unchanged.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict


def _same(loader: Any) -> Any:
    return loader


class CachingConfigLoader:
    """A Hydra ``ConfigLoader`` whose ``load_sweep_config`` reuses compositions.

    Every other attribute is the wrapped loader's.
    """

    def __init__(self, loader: Any) -> None:
        self._loader = loader
        self._bases: dict[tuple[str, ...], DictConfig] = {}
        self._repos: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()
        # configs the sweeper composed, handed to the launcher's request for the same job
        self._handed: dict[tuple[str, ...], DictConfig] = {}
        self._parsed: dict[str, Any] = {}  # override line -> Hydra's parsed Override
        self.composed = 0  # full compositions made (for tests and benchmarks)
        self.reused = 0  # configs made from a cached composition

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not set yet (unpickling): no recursion through _loader
            raise AttributeError(name)
        return getattr(self._loader, name)

    def __reduce__(self) -> Any:
        return (_same, (self._loader,))

    def load_sweep_config(
        self, master_config: DictConfig, sweep_overrides: Sequence[str]
    ) -> DictConfig:
        """The job's config, as Hydra's ``load_sweep_config`` composes it."""
        with self._lock:
            handed = self._handed.pop(tuple(sweep_overrides), None)
        if handed is not None:
            return handed
        try:
            plan = self._plan(master_config, list(sweep_overrides))
        except Exception:  # anything unusual: Hydra's own way (and its error messages)
            plan = None
        if plan is None:
            return self._loader.load_sweep_config(master_config, list(sweep_overrides))
        structural, values, parsed = plan
        with self._lock:
            base = self._bases.get(structural)
        if base is None:
            base = self._loader.load_sweep_config(master_config, list(structural))
            with self._lock:
                self._bases[structural] = base
                self.composed += 1
        cfg = pickle.loads(pickle.dumps(base))  # a deep copy, in a third of the time
        try:
            self._finish(cfg, values, parsed)
        except Exception:
            return self._loader.load_sweep_config(master_config, list(sweep_overrides))
        OmegaConf.copy_cache(from_config=master_config, to_config=cfg)
        with self._lock:
            self.reused += 1
        return cfg

    def hand_over(self, sweep_overrides: Sequence[str], cfg: DictConfig) -> None:
        """Keep ``cfg`` (composed for these overrides) for the next request of them: the
        launcher asks for each job's config after the sweeper composed it (once, not twice)."""
        with self._lock:
            self._handed[tuple(sweep_overrides)] = cfg

    def _plan(self, master_config: DictConfig, sweep_overrides: list[str]) -> Any:
        """(structural overrides as the cache key, value overrides, all parsed) or None."""
        from hydra.core.override_parser.overrides_parser import OverridesParser

        hydra_overrides = list(OmegaConf.to_container(master_config.hydra.overrides.hydra))
        lines = [*hydra_overrides, *sweep_overrides]
        # a line parses the same in any job (Hydra parses each on its own): parsed once a
        # sweep, not once a job (Hydra's parser is a third of a job's share of this)
        with self._lock:
            new = [line for line in dict.fromkeys(lines) if line not in self._parsed]
        if new:
            fresh = OverridesParser.create().parse_overrides(overrides=new)
            with self._lock:
                self._parsed.update(zip(new, fresh, strict=True))
        with self._lock:
            parsed = [self._parsed[line] for line in lines]
        repo = self._repository(master_config, lines, parsed)
        structural, values = [], []
        for line, override in zip(lines, parsed, strict=True):
            key = override.key_or_group
            if override.is_sweep_override():
                return None
            if (
                override.is_hydra_override()
                or isinstance(override.value(), dict)
                or repo.group_exists(key)
            ):
                structural.append(line)
            else:
                values.append(override)
        # the structural ones go through Hydra with the master's hydra overrides removed
        # (load_sweep_config adds them back itself)
        n = len(hydra_overrides)
        if structural[:n] != hydra_overrides:
            return None
        return tuple(structural[n:]), values, parsed

    def _repository(self, master_config: DictConfig, lines: list[str], parsed: list[Any]) -> Any:
        """The config repository Hydra composes this job from: the loader's, extended by
        any ``hydra.searchpath`` override (made once per distinct search path)."""
        searchpath = tuple(
            line
            for line, o in zip(lines, parsed, strict=True)
            if o.key_or_group.startswith("hydra.searchpath")
        )
        with self._lock:
            repo = self._repos.get(searchpath)
        if repo is None:
            name = master_config.hydra.job.config_name
            _, repo = self._loader._parse_overrides_and_create_caching_repo(name, list(searchpath))
            with self._lock:
                self._repos[searchpath] = repo
        return repo

    @staticmethod
    def _finish(cfg: DictConfig, values: list[Any], parsed: list[Any]) -> None:
        """Apply the value overrides and record the job's overrides, as Hydra does."""
        from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname

        ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
        app = [o for o in parsed if not o.is_hydra_override()]
        with open_dict(cfg.hydra):
            cfg.hydra.overrides.hydra = [o.input_line for o in parsed if o.is_hydra_override()]
            cfg.hydra.overrides.task = [o.input_line for o in app]
            dirname = cfg.hydra.job.config.override_dirname
            cfg.hydra.job.override_dirname = get_overrides_dirname(
                overrides=app,
                kv_sep=dirname.kv_sep,
                item_sep=dirname.item_sep,
                exclude_keys=dirname.exclude_keys,
            )


def wrap(hydra_context: Any) -> Any:
    """The Hydra context with its config loader wrapped (once) in a CachingConfigLoader."""
    from hydra.types import HydraContext

    loader = hydra_context.config_loader
    if isinstance(loader, CachingConfigLoader):
        return hydra_context
    return HydraContext(
        config_loader=CachingConfigLoader(loader), callbacks=hydra_context.callbacks
    )
