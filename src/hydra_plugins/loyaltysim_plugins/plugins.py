"""The sweeper and launcher that ``conf/config.yaml`` selects by default."""

from loyaltysim.launcher import LocalLauncher as _LocalLauncher
from loyaltysim.sweeper import SafeSweeper as _SafeSweeper


class SafeSweeper(_SafeSweeper):
    """Grid sweeper: skips finished runs, reruns stale or broken ones, locks jobs."""


class LocalLauncher(_LocalLauncher):
    """A process per job, ``n_jobs`` at a time; a killed job is recorded, the rest go on."""
