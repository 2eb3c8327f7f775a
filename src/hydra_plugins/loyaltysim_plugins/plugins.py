"""The sweeper and launcher that ``conf/config.yaml`` selects by default, and the Ray
launcher (``hydra/launcher=ray``, with the ``ray`` extra installed)."""

from loyaltysim.runs.launcher import LocalLauncher as _LocalLauncher
from loyaltysim.runs.raylauncher import RayLauncher as _RayLauncher
from loyaltysim.runs.sweeper import SafeSweeper as _SafeSweeper


class SafeSweeper(_SafeSweeper):
    """Grid sweeper: skips finished runs, reruns stale or broken ones, locks jobs."""


class LocalLauncher(_LocalLauncher):
    """A process per job, ``n_jobs`` at a time; a killed job is recorded, the rest go on."""


class RayLauncher(_RayLauncher):
    """hydra-ray-launcher's jobs on a local Ray instance or a cluster; a job that Ray could
    not finish is recorded as failed, the rest go on."""
