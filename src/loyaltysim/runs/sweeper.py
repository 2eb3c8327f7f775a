"""The sweeper behind ``loyaltysim -m``: Hydra's basic grid sweeper, plus a decision, made
before anything is launched, about which runs need running.

For each job it composes the job's config (as every Hydra launcher does, but once per
distinct set of config group choices: :mod:`loyaltysim.runs.sweepconfig`, which the launcher
then shares), then looks at the job's folder (:func:`loyaltysim.runs.runrecord.classify`):

- a finished run with the same config and code and intact files is skipped, and not
  launched at all, so Hydra does not rewrite its ``.hydra/`` either;
- a stale run (config or code changed) is rerun after its folder is moved, whole, into
  ``<sweep dir>/superseded/``; with ``hydra.sweeper.on_stale=refuse`` the sweep instead
  stops before launching anything, listing the stale runs (exit status 2);
- a failed, corrupt or incomplete run is moved aside the same way and rerun.

Each job to run is locked (:func:`loyaltysim.runs.runrecord.job_lock`) until it has finished,
so two sweeps into one folder run each job once: a job locked by the other sweep is left
to it, then checked again once that sweep lets go of it.

``hydra.sweeper.jobs=FILE`` sweeps several grids as one: FILE is a YAML list of command
lines (each a list of overrides, sweeps allowed), each expanded as ``-m`` would expand it
after the command's own overrides, and the jobs of all of them launched together, so the
launcher shares a warm-up across them (``loyaltysim-ask`` puts every arm of a scenario in
one sweep this way). ``sweep.json`` then lists each command line's jobs (``groups``).

Works with any launcher; with a launcher that fails as a whole (joblib after a worker died),
the runs of the batch that did not finish are recorded as failed and the sweep goes on.
"""

from __future__ import annotations

import json
import logging
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf

from ..model.params import ConfigError
from . import runrecord, sweep, sweepconfig, warmpool
from .io import folder_problem

log = logging.getLogger(__name__)
ON_STALE = ("rerun", "refuse")


class StaleRunsError(Exception):
    """Finished runs whose config or code changed, with ``on_stale=refuse``."""


@dataclass
class Job:
    overrides: list[str]
    run_dir: Path
    fingerprint: dict[str, Any]
    config: DictConfig | None  # None: found finished from its recipe, never composed
    state: runrecord.RunState


def _say(message: str) -> None:
    print(f"[loyaltysim sweep] {message}", flush=True)


class SafeSweeper(BasicSweeper):
    """Grid sweeper that skips finished runs, reruns stale or broken ones, and locks jobs."""

    def __init__(
        self,
        max_batch_size: int | None = None,
        params: dict[str, str] | None = None,
        on_stale: str = "rerun",
        jobs: str | None = None,
    ) -> None:
        # not super().__init__: Hydra's plugin scan may load basic_sweeper a second time, and
        # BasicSweeper.__init__'s super(BasicSweeper, self) then fails; these are its fields
        self.overrides = None
        self.batch_index = 0
        self.max_batch_size = max_batch_size
        self.params = dict(params or {})
        self.hydra_context = None
        self.config = None
        self.launcher = None
        if on_stale not in ON_STALE:
            raise ConfigError("hydra.sweeper.on_stale", on_stale, "rerun or refuse")
        self.on_stale = on_stale
        self.jobs_file = jobs
        self.groups: list[list[str]] | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        """As Hydra's, with the config loader wrapped so that the sweeper and the launcher
        compose each distinct set of group choices once (:mod:`loyaltysim.runs.sweepconfig`)."""
        super().setup(
            hydra_context=sweepconfig.wrap(hydra_context),
            task_function=task_function,
            config=config,
        )

    def _job(self, overrides: list[str]) -> Job:
        assert self.hydra_context is not None and self.config is not None
        loader = self.hydra_context.config_loader
        cfg = loader.load_sweep_config(self.config, list(overrides))
        if isinstance(loader, sweepconfig.CachingConfigLoader):
            loader.hand_over(overrides, cfg)  # the launcher's request for it: not composed again
        run_dir = Path(str(cfg.hydra.sweep.dir)) / str(cfg.hydra.sweep.subdir)
        fp = runrecord.fingerprint(cfg)
        return Job(list(overrides), run_dir, fp, cfg, runrecord.classify(run_dir, fp))

    def _finished(self, overrides: list[str]) -> Job | None:
        """The job, if its folder holds a finished run of the same recipe and code
        (:func:`loyaltysim.runs.runrecord.quick_state`), judged without composing its
        config: a re-run of a finished sweep costs milliseconds a job. Else None."""
        assert self.config is not None
        hc = self.config.hydra
        if hc.sweep._get_node("subdir")._value() != runrecord.SUBDIR:
            return None  # a folder name of the user's: only the composed config knows it
        if any(o.lstrip("+~").startswith(("hydra.", "hydra/")) for o in overrides):
            return None  # the job changes Hydra's settings: composed as usual
        fp = runrecord.recipe(
            list(overrides),
            list(hc.overrides.hydra),
            str(hc.job.config_name),
            runrecord.sources_of(hc),
        )
        run_dir = Path(str(hc.sweep.dir)) / sweep.run_id(list(overrides))
        state = runrecord.quick_state(run_dir, fp)
        if state is None:
            return None
        return Job(list(overrides), run_dir, {"recipe": fp}, None, state)

    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None and self.launcher is not None
        assert self.hydra_context is not None
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        try:
            parsed, grids = self._grids(parser, arguments)
            jobs = [self._finished(ov) or self._job(ov) for grid in grids for ov in grid]
            if self.jobs_file is not None:
                names = iter(j.run_dir.name for j in jobs)
                self.groups = [[next(names) for _ in grid] for grid in grids]
            if not jobs:
                raise _empty_sweep(parsed)
            # every job's values checked before any is launched: one bad value refuses the
            # sweep (exit status 2), as a misspelt key or an unknown group option does; a
            # run found finished from its recipe was checked when it ran, with this code
            for job in jobs:
                if job.config is not None:
                    _validate(job)
        except Exception:
            _forget_refused(sweep_dir)
            raise
        problem = folder_problem(sweep_dir)  # checked by SweepProgress too, if configured
        if problem is not None:
            allowed = f"a folder that can be created ({problem})"
            raise ConfigError("hydra.sweep.dir", str(sweep_dir), allowed)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")

        stale = [j for j in jobs if j.state.status == "stale"]
        if stale and self.on_stale == "refuse":
            names = ", ".join(f"{j.run_dir.name} ({j.state.reason})" for j in stale)
            raise StaleRunsError(
                f"{len(stale)} finished run(s) in {sweep_dir} are stale: {names}; nothing was "
                "run. Re-run with hydra.sweeper.on_stale=rerun to rerun them (the old folders "
                f"are kept in {runrecord.SUPERSEDED}/), or choose another hydra.sweep.dir"
            )
        fresh = sum(j.state.status == "done" for j in jobs)
        if fresh:
            _say(f"{fresh} runs already finished in {sweep_dir}: skipped")
        self._write_meta(sweep_dir, jobs)

        returns = []
        todo, deferred = [], []
        # this sweep's own locks go once its runs are launched, before it waits on another
        # sweep's: two sweeps that each wait holding their own would deadlock
        with ExitStack() as own:
            for job in jobs:
                if job.state.status == "done":
                    continue
                lock = runrecord.job_lock(job.run_dir)
                if _try(lock):
                    own.callback(lock.release)
                    if self._prepare(job):
                        todo.append(job)
                else:
                    deferred.append((job, lock))
            if deferred:
                _say(f"{len(deferred)} runs are being run by another sweep: left to it")
            returns += self._launch(todo, 0)
        # wait for the other sweep, then run whatever it did not finish; the locks are
        # taken in job order, the same in every sweep of these jobs, so waits cannot cycle
        with ExitStack() as held:
            late = []
            for job, lock in deferred:
                lock.acquire()
                if self._prepare(job):
                    held.callback(lock.release)
                    late.append(job)
                else:  # the other sweep finished it
                    lock.release()
            returns += self._launch(late, len(todo))
        return returns

    def _grids(self, parser: Any, arguments: list[str]) -> tuple[list[Any], list[list[list[str]]]]:
        """The parsed command line and the job lists: one grid, or one per command line of
        ``hydra.sweeper.jobs``, each after the command's own overrides."""
        base = [*self._parse_config(), *arguments]
        if self.jobs_file is None:
            parsed = parser.parse_overrides(base)
            batches = self.split_arguments(parsed, None)
            return parsed, [batches[0]] if batches else []
        lines = _command_lines(self.jobs_file)
        parsed, grids = [], []
        for line in lines:
            parsed = parser.parse_overrides([*base, *line])
            batches = self.split_arguments(parsed, None)
            grids.append(batches[0] if batches else [])
        return parsed, [g for g in grids if g]

    def _prepare(self, job: Job) -> bool:
        """Under the job's lock: True if it must run (its old folder moved aside first)."""
        state = runrecord.classify(job.run_dir, job.fingerprint)
        job.state = state
        if state.status == "done":
            return False
        if state.status != "new":
            moved = runrecord.set_aside(job.run_dir, state.status)
            why = f" ({state.reason})" if state.reason else ""
            _say(f"{job.run_dir.name}: {state.status}{why}; rerun, old folder in {moved}")
        return True

    def _launch(self, jobs: list[Job], first_idx: int) -> list[Any]:
        assert self.launcher is not None
        if not jobs:
            return []
        size = self.max_batch_size if self.max_batch_size and self.max_batch_size > 0 else len(jobs)
        returns = []
        for start in range(0, len(jobs), size):
            batch = jobs[start : start + size]
            try:
                returns.append(
                    self.launcher.launch([j.overrides for j in batch], first_idx + start)
                )
            except Exception as err:  # the launcher failed as a whole: record, go on
                for job in batch:
                    if (
                        not (job.run_dir / runrecord.DONE).exists()
                        and not (job.run_dir / runrecord.ERROR).exists()
                    ):
                        sweep.record_failure(
                            job.run_dir,
                            None,
                            job.overrides,
                            runrecord.task_config(job.config),
                            error="LauncherFailed",
                            message=f"the launcher failed before this run finished: "
                            f"{type(err).__name__}: {err}",
                        )
                _say(f"launcher failed ({type(err).__name__}); unfinished runs recorded as failed")
        return returns

    def _write_meta(self, sweep_dir: Path, jobs: list[Job]) -> None:
        sweep.write_json(
            sweep_dir / sweep.SWEEP,
            {
                "total": len(jobs),
                "started": time.time(),
                "done_at_start": sum(j.state.status == "done" for j in jobs),
                "failed_at_start": 0,
                "jobs": [j.run_dir.name for j in jobs],
                **({"groups": self.groups} if self.groups is not None else {}),
            },
        )


def _validate(job: Job) -> None:
    """Raise :class:`ConfigError` if the job's config is invalid or its run impossible
    (figures that could overflow, a market that does not fit in memory)."""
    from ..model.config import config_error_from, make_config
    from .limits import check

    try:
        cfg = make_config(runrecord.task_config(job.config))
        check(cfg)
        warmpool.remember(job.config, cfg)  # for the launcher's warm-up groups: made once
    except ConfigError as err:
        raise _in_job(err, job) from None
    except Exception as err:  # an interpolation that does not resolve names its key
        converted = config_error_from(err)
        if isinstance(converted, ConfigError):
            raise _in_job(converted, job) from None
        raise


def _in_job(err: ConfigError, job: Job) -> ConfigError:
    where = f"; in run {job.run_dir.name} of the sweep: nothing was run"
    return ConfigError(err.key, err.value, err.allowed + where)


def _command_lines(path: str) -> list[list[str]]:
    """``hydra.sweeper.jobs``: a YAML list of lists of override strings, at least one."""
    import yaml

    allowed = "a YAML file holding a list of command lines, each a list of overrides"
    try:
        lines = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ConfigError("hydra.sweeper.jobs", path, f"{allowed} ({err})") from None
    ok = (
        isinstance(lines, list)
        and lines
        and all(isinstance(line, list) and all(isinstance(o, str) for o in line) for line in lines)
    )
    if not ok:
        raise ConfigError("hydra.sweeper.jobs", path, allowed)
    return lines


def _empty_sweep(parsed: list[Any]) -> ConfigError:
    """The error for a sweep with no job: names the override whose sweep is empty."""
    for override in parsed:
        if override.is_sweep_override() and not list(override.sweep_string_iterator()):
            value = override.input_line.partition("=")[2] if override.input_line else "?"
            return ConfigError(override.get_key_element(), value, "a sweep of at least one value")
    return ConfigError("-m", "", "a sweep of at least one job")


def _try(lock: Any) -> bool:
    from filelock import Timeout

    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    return True


def _forget_refused(sweep_dir: Path) -> None:
    """A sweep refused before launching anything leaves nothing behind: the ``sweep.json``
    its start wrote. A folder holding runs is left as it is; an empty folder is left too (it
    may have been the user's)."""
    meta = sweep_dir / sweep.SWEEP
    try:
        started = json.loads(meta.read_text())
    except (OSError, ValueError):
        return
    if started.get("done_at_start") or started.get("failed_at_start") or "jobs" in started:
        return
    meta.unlink(missing_ok=True)
