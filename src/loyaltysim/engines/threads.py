"""How many threads the compiled loops may use (:mod:`~loyaltysim.engines.threaded`): read
from the environment without importing numba, so the command line can check it first."""

from __future__ import annotations

import os

from ..model.params import ConfigError

THREADS_ENV = "LOYALTYSIM_THREADS"


def threads() -> int:
    """Threads the compiled loops may use: ``LOYALTYSIM_THREADS`` (a whole number >= 1),
    else the cores available to this process."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        if hasattr(os, "sched_getaffinity"):
            return len(os.sched_getaffinity(0))
        return os.cpu_count() or 1
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{THREADS_ENV} (environment variable)", raw, "a whole number >= 1")
    return int(raw)
