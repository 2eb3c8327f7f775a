"""Sweeps on Ray (``hydra/launcher=ray``): hydra-ray-launcher's launcher, with loyaltysim's
per-job failure bookkeeping.

The jobs run as hydra-ray-launcher runs them (its ``ray.init`` and ``ray.remote`` settings,
its remote job body), on a local Ray instance that the launcher starts
(``hydra.launcher.ray.init.address=null``, the default) or on an existing cluster
(``hydra.launcher.ray.init.address=auto`` on a node of it, or ``ray://<head>:10001``).
What differs is how the results are gathered: hydra-ray-launcher waits on the jobs in
order and stops at the first that raises, so one killed job (the out-of-memory killer)
would leave the others unrecorded. Here each job is waited on by itself: a job whose Ray
worker died, or that Ray could not run, is recorded as that run's failure (``error.json``,
as the local launcher does) and the others go on. Jobs are not retried by Ray
(``max_retries: 0`` in ``conf/hydra/launcher/ray.yaml``): a re-run of the sweep retries
them, after the sweeper has moved the failed folder aside.

Skipping finished runs, fingerprints and locks are the sweeper's
(:mod:`loyaltysim.runs.sweeper`), so they work here as with any launcher. On a cluster, every
node needs loyaltysim installed (the same version) and the sweep folder on a shared file
system: each job writes its run folder where it runs. Ray's usage statistics are off
unless ``RAY_USAGE_STATS_ENABLED=1`` is set.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from omegaconf import DictConfig, open_dict

from .launcher import BoundLauncher

log = logging.getLogger(__name__)

INSTALL = "the Ray launcher needs the ray extra: pip install 'loyaltysim[ray]'"


class RayLauncher(BoundLauncher):
    """Runs each job as a Ray task (hydra-ray-launcher's), recording each failure itself.

    ``ray`` holds hydra-ray-launcher's settings: ``init`` (the arguments of ``ray.init``:
    ``address``, ``num_cpus``, ...) and ``remote`` (of ``ray.remote``: ``num_cpus``,
    ``memory``, ``max_retries``, ...). Ray is imported only when a sweep is launched.
    """

    def __init__(self, ray: DictConfig) -> None:
        self.ray_cfg = ray

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Run the jobs on Ray; a job that Ray could not finish is recorded as failed."""
        return launch(self, job_overrides, initial_job_idx)


def launch(launcher: Any, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> list:
    """Launch the jobs on Ray; one JobReturn per job, failed jobs recorded as failed."""
    try:
        import ray
        from hydra.core.singleton import Singleton
        from hydra.core.utils import configure_log, filter_overrides, setup_globals
        from hydra_plugins.hydra_ray_launcher._launcher_util import (
            launch_job_on_ray,
            start_ray,
        )
    except ImportError as err:
        raise ImportError(f"{INSTALL} ({err})") from err

    from .launcher import _record_death

    # Ray reports usage statistics to its makers unless told not to; a sweep does not
    # (set RAY_USAGE_STATS_ENABLED=1 to allow it)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    setup_globals()
    assert launcher.config is not None and launcher.hydra_context is not None
    configure_log(launcher.config.hydra.hydra_logging, launcher.config.hydra.verbose)
    sweep_dir = Path(str(launcher.config.hydra.sweep.dir))
    sweep_dir.mkdir(parents=True, exist_ok=True)
    with open_dict(launcher.ray_cfg):
        # hydra-ray-launcher's default: a small object store (jobs return a float)
        launcher.ray_cfg.init.setdefault("object_store_memory", 78643200)
    start_ray(launcher.ray_cfg.init)
    log.info(f"Ray launcher: {len(job_overrides)} jobs, sweep folder {sweep_dir}")

    jobs = []
    for i, overrides in enumerate(job_overrides):
        idx = initial_job_idx + i
        log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
        cfg = launcher.hydra_context.config_loader.load_sweep_config(
            launcher.config, list(overrides)
        )
        with open_dict(cfg):
            cfg.hydra.job.id = f"job_id_for_{idx}"
            cfg.hydra.job.num = idx
            ref = launch_job_on_ray(
                launcher.hydra_context,
                launcher.ray_cfg.remote,
                cfg,
                launcher.task_function,
                Singleton.get_state(),
            )
        jobs.append((list(overrides), cfg, ref))

    results = []
    for overrides, cfg, ref in jobs:
        try:
            results.append(ray.get(ref))
        except Exception as err:  # the job's worker died, or Ray could not run it
            results.append(_failed(overrides, cfg, err, _record_death))
    return results


def _failed(overrides: list[str], cfg: DictConfig, err: BaseException, record: Any) -> JobReturn:
    why = f"Ray could not finish this job: {type(err).__name__}: {_first_line(err)}"
    record(overrides, cfg, None, why, error="WorkerDied")
    ret = JobReturn(
        overrides=overrides,
        hydra_cfg=cfg,
        working_dir=str(Path(str(cfg.hydra.sweep.dir)) / str(cfg.hydra.sweep.subdir)),
        task_name=str(cfg.hydra.job.name),
    )
    ret.status = JobStatus.FAILED
    ret.return_value = RuntimeError(why)
    return ret


def _first_line(err: BaseException) -> str:
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    return lines[0] if lines else ""
