"""Warm-ups a sweep plays once for many jobs, held in the sweep process for the jobs it
forks (:class:`~loyaltysim.runs.launcher.LocalLauncher`).

Jobs of a sweep (arms of a comparison, worlds that differ only from week 0) often play the
same warm-up: same :func:`~loyaltysim.engines.warmstart.warmup_key`. The launcher groups its
jobs by that key, plays each shared warm-up once in the sweep process (:func:`play`) and
forks the group's jobs from it: each child finds the state here (:func:`inherited`, which
:func:`~loyaltysim.runs.runner.run_one` asks), copy-on-write, and starts from a copy of it
with the same results as playing its own (``tests/test_launcher_warm.py``). Each job still
has its own process, so a killed job is still recorded as that run's failure.

The sweep process also loads the compiled loops once before forking (:func:`preload`): a
forked child then finds them loaded, so ``auto`` uses them at any size (the NumPy rules and
the compiled loops give the same results bit for bit) and no child pays their load.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence
from typing import Any

from ..engines.warmstart import WarmStart, warmup_key
from ..model.config import SimConfig, make_config

_HELD: dict[str, WarmStart] = {}  # key -> warm state, for the children forked while held
_MADE: dict[int, tuple[Any, SimConfig]] = {}  # id of a job's Hydra config -> (it, its config)
_JOB: list[SimConfig] = []  # in a forked job's process: its config, made by the sweep
# a warm state stays in the sweep process while its jobs run: above this many people a
# shared warm-up is not held (each job plays its own), so memory stays that of the jobs
MAX_HELD_PEOPLE = 2_000_000
MAX_PRELOADS = 8  # tiny markets played to load the loops: one per shape of firms, at most


def inherited(config: SimConfig) -> WarmStart | None:
    """The warm state this process holds for ``config``'s warm-up (a forked job's, played by
    its sweep), or None."""
    if not _HELD or config.engine != "arrays":
        return None
    return _HELD.get(warmup_key(config))


def remember(job_cfg: Any, config: SimConfig) -> None:
    """Keep the :class:`SimConfig` the sweeper made of a job's Hydra config (checking it),
    so that :func:`job_config` need not make it again (the sweeper holds ``job_cfg``)."""
    _MADE[id(job_cfg)] = (job_cfg, config)


def job_config(job_cfg: Any) -> SimConfig | None:
    """A job's :class:`SimConfig` from its Hydra config, or None where it is no market run
    (another app's sweep) or does not make one (the job itself reports why)."""
    from .runrecord import task_config

    made = _MADE.get(id(job_cfg))
    if made is not None and made[0] is job_cfg:
        return made[1]
    try:
        return make_config(task_config(job_cfg))
    except Exception:  # noqa: BLE001 - the job reports its own error when it runs
        return None


def enter_job(job_cfg: Any) -> None:
    """In a job's own process (forked by the launcher): the :class:`SimConfig` the sweeper
    made of this job's config becomes the one :func:`this_job` gives its run."""
    made = _MADE.get(id(job_cfg))
    _JOB[:] = [made[1]] if made is not None and made[0] is job_cfg else []


def this_job() -> SimConfig | None:
    """This process's job's :class:`SimConfig`, made and checked by its sweep (the same as
    making it again from the job's config), or None outside such a job."""
    return _JOB[0] if _JOB else None


def groups(configs: Sequence[SimConfig | None]) -> list[list[int]]:
    """Job indices grouped by warm-up, groups in order of their first job: jobs of a group of
    two or more share a warm-up; the others are groups of one."""
    out: dict[str, list[int]] = {}
    for i, cfg in enumerate(configs):
        shared = cfg is not None and cfg.engine == "arrays"
        shared = shared and cfg.customers.n <= MAX_HELD_PEOPLE
        out.setdefault(warmup_key(cfg) if shared else f"own {i}", []).append(i)
    return list(out.values())


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    # the sweep process plays beside its jobs: one core, as each of them
    before = os.environ.get("LOYALTYSIM_THREADS")
    os.environ["LOYALTYSIM_THREADS"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("LOYALTYSIM_THREADS", None)
        else:
            os.environ["LOYALTYSIM_THREADS"] = before


def _prefer(configs: Sequence[SimConfig | None]) -> Any:
    from ..engines import engine

    total = sum(c.customers.n for c in configs if c is not None and c.engine == "arrays")
    return engine.preferring_kernel() if total >= engine.AUTO_MIN_POOL else contextlib.nullcontext()


def play(config: SimConfig, configs: Sequence[SimConfig | None]) -> bool:
    """Play ``config``'s warm-up and hold it for the jobs forked next; False (nothing held)
    where it fails: the jobs then play their own and report the error themselves."""
    from ..engines.market import Market

    try:
        with _one_thread(), _prefer(configs):
            _HELD[warmup_key(config)] = WarmStart.of(Market(config), copy_state=False)
    except Exception:  # noqa: BLE001 - each job plays it again and records what failed
        return False
    return True


def release(config: SimConfig) -> None:
    """Stop holding ``config``'s warm-up (its jobs are forked: they hold their own copy)."""
    _HELD.pop(warmup_key(config), None)


def preload(configs: Sequence[SimConfig | None]) -> None:
    """Load the compiled loops in this process for the firm counts and programmes of
    ``configs`` (a tiny market of each), where the jobs together are large enough that
    ``auto`` would pay for them (``AUTO_MIN_POOL`` people); forked children inherit them."""
    from ..engines import engine
    from ..engines.market import Market

    if isinstance(_prefer(configs), contextlib.nullcontext) or engine.selected() == "numpy":
        return
    seen = set()
    for cfg in configs:
        if cfg is None or cfg.engine != "arrays":
            continue
        firms = cfg.firm_params()
        shape = tuple((f.programme.type, repr(f.poaching)) for f in firms)
        if shape in seen or len(seen) >= MAX_PRELOADS:
            continue
        seen.add(shape)
        # a tiny market of the same firms, built inside the try: replacing a field
        # re-validates the config, and a failed preload must never fail the sweep. The
        # job's horizon is kept (a programme or offer may start late: start_week <= it).
        try:
            market = dataclasses.replace(cfg.market, warmup_weeks=cfg.market.step_weeks)
            tiny = dataclasses.replace(
                cfg, market=market, customers=dataclasses.replace(cfg.customers, n=200)
            )
            with _one_thread(), engine.preferring_kernel():
                model = Market(tiny)
                model.run()
                model.metrics()
                model.release()
        except Exception:  # noqa: BLE001 - a job that fails reports it itself
            continue


def forget() -> None:
    """Hold no warm-up any longer (the sweep's launch is over)."""
    _HELD.clear()
    _MADE.clear()


def prime() -> None:
    """Look up, once in this process, what every job's manifest records of its provenance
    (package versions, git commit: two git commands), so forked jobs do not each."""
    from .runrecord import provenance

    provenance()
