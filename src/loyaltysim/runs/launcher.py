"""The default sweep launcher (``hydra/launcher=local``): each job in its own process, at
most ``n_jobs`` at a time.

Why not a worker pool (joblib/loky, ``concurrent.futures``): when one pool worker dies, as
under the out-of-memory killer, the whole pool is torn down and no one can tell which job
killed it. A process per job has its own exit status, so the parent records a job killed
by a signal as that run's failure (``error.json`` with the signal) and goes on with the
others; and each run's memory goes back to the system when it ends. The children are
forked from the sweep process, which has already imported everything, so starting one
costs milliseconds.

No child outlives its sweep: on Linux each child asks the kernel to kill it when the
sweep process dies (``PR_SET_PDEATHSIG``, which also covers ``kill -9`` of the sweep), and
a sweep stopped by SIGTERM, SIGHUP or Ctrl-C kills its children before it exits.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus, configure_log, setup_globals
from hydra.plugins.launcher import Launcher
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, open_dict

from . import runrecord, sweep, warmpool
from .hydrajob import run_job  # Hydra's, without its two deep copies

log = logging.getLogger(__name__)
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _child(conn: Any, parent: int, launcher: LocalLauncher, cfg: DictConfig) -> None:
    """Body of a job's process: run the job, send back its return value, exit."""
    _die_with_parent(parent)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    # jobs run side by side, one a core: the compiled loops on one thread (unless set)
    os.environ.setdefault("LOYALTYSIM_THREADS", "1")
    status, value = "failed", None
    try:
        warmpool.enter_job(cfg)  # the sweep made its config: the job need not again
        ret = run_job(
            hydra_context=launcher.hydra_context,
            config=cfg,
            task_function=launcher.task_function,
            job_dir_key="hydra.sweep.dir",
            job_subdir_key="hydra.sweep.subdir",
        )
        if ret.status == JobStatus.COMPLETED:
            status, value = "completed", ret.return_value
        else:
            value = f"{type(ret._return_value).__name__}: {ret._return_value}"
    except BaseException as err:  # noqa: BLE001 - reported to the parent, which records it
        value = f"{type(err).__name__}: {err}"
    finally:
        try:
            conn.send((status, value))
            conn.close()
        except Exception:
            pass
        sys.stdout.flush()
        sys.stderr.flush()
        # skip the atexit handlers inherited from the sweep process
        os._exit(0 if status == "completed" else 1)


class BoundLauncher(Launcher):
    """A launcher that keeps what Hydra's ``setup`` hands it (ours: local and Ray)."""

    config: DictConfig | None = None
    hydra_context: HydraContext | None = None
    task_function: TaskFunction | None = None

    def setup(
        self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig
    ) -> None:
        self.config = config
        self.hydra_context = hydra_context
        self.task_function = task_function


class LocalLauncher(BoundLauncher):
    """Runs each job in its own forked process, ``n_jobs`` at a time.

    With ``share_warmups`` (default) jobs whose warm-ups are identical (same
    :func:`~loyaltysim.engines.warmstart.warmup_key`) run one after another, forked from this
    process after it played that warm-up once (:mod:`~loyaltysim.runs.warmpool`); the
    compiled loops are loaded here once, before the first fork. Same results either way."""

    def __init__(self, n_jobs: int = 2, share_warmups: bool = True) -> None:
        self.n_jobs = int(n_jobs) if int(n_jobs) > 0 else (os.cpu_count() or 1)
        self.share_warmups = bool(share_warmups)

    def _job_config(self, overrides: Sequence[str], idx: int) -> DictConfig:
        assert self.hydra_context is not None and self.config is not None
        cfg = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
        with open_dict(cfg):
            cfg.hydra.job.id = f"{cfg.hydra.job.name}_{idx}"
            cfg.hydra.job.num = idx
        return cfg

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        """Run the jobs; a job whose process died is recorded as failed, the rest go on."""
        assert self.config is not None
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        ctx = multiprocessing.get_context("fork")
        cfgs = [self._job_config(ov, initial_job_idx + i) for i, ov in enumerate(job_overrides)]
        sims = [warmpool.job_config(c) for c in cfgs]
        order = warmpool.groups(sims) if self.share_warmups else [[i] for i in range(len(cfgs))]
        first = {g[0]: g for g in order if len(g) > 1}  # job -> its group, at the group's first
        last = {g[-1] for g in order if len(g) > 1}
        pending = [(i, job_overrides[i]) for g in order for i in g]
        warmpool.preload(sims)
        warmpool.prime()
        results: list[JobReturn | None] = [None] * len(pending)
        running: dict[Any, tuple[Any, Any, int, DictConfig]] = {}  # sentinel -> job
        parent = os.getpid()

        def stop(signum: int, _frame: Any) -> None:
            raise SystemExit(128 + signum)

        old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
        # what this process holds now is out of the collector's reach while the jobs run:
        # a child's collections then do not write to (and so copy) the pages it inherited
        gc.freeze()
        try:
            while pending or running:
                while pending and len(running) < self.n_jobs:
                    i, overrides = pending.pop(0)
                    cfg = cfgs[i]
                    if i in first:  # played once here, inherited by the group's children
                        warmpool.play(sims[i], sims)
                    recv, send = ctx.Pipe(duplex=False)
                    proc = ctx.Process(target=_child, args=(send, parent, self, cfg), daemon=True)
                    proc.start()
                    send.close()
                    running[proc.sentinel] = (proc, recv, i, cfg)
                    if i in last:
                        warmpool.release(sims[i])
                for sentinel in wait(list(running)):
                    proc, recv, i, cfg = running.pop(sentinel)
                    try:
                        message = recv.recv() if recv.poll() else None
                    except (EOFError, OSError):  # died before it could report
                        message = None
                    recv.close()
                    proc.join()
                    results[i] = self._result(job_overrides[i], cfg, proc.exitcode, message)
        finally:
            for proc, _recv, i, cfg in running.values():  # stopped early: no orphans
                proc.kill()
                proc.join()
                _record_death(job_overrides[i], cfg, None, "the sweep was stopped")
            for s, handler in old.items():
                signal.signal(s, handler)
            warmpool.forget()
            gc.unfreeze()
        return [r for r in results if r is not None]

    def _result(
        self, overrides: Sequence[str], cfg: DictConfig, exitcode: int | None, message: Any
    ) -> JobReturn:
        ret = JobReturn(
            overrides=list(overrides),
            hydra_cfg=cfg,
            working_dir=str(_run_dir(cfg)),
            task_name=str(cfg.hydra.job.name),
        )
        if message is not None and message[0] == "completed":
            ret.status, ret.return_value = JobStatus.COMPLETED, message[1]
            return ret
        why = message[1] if message is not None else None
        _record_death(overrides, cfg, exitcode, why)
        ret.status = JobStatus.FAILED
        ret.return_value = RuntimeError(why or f"worker exited with status {exitcode}")
        return ret


def _run_dir(cfg: DictConfig) -> Path:
    return Path(str(cfg.hydra.sweep.dir)) / str(cfg.hydra.sweep.subdir)


def _record_death(
    overrides: Sequence[str],
    cfg: DictConfig,
    exitcode: int | None,
    why: str | None,
    error: str | None = None,
) -> None:
    """Record a job that ended without finishing, unless the job recorded it itself."""
    run_dir = _run_dir(cfg)
    if (run_dir / sweep.DONE).exists() or (run_dir / sweep.ERROR).exists():
        return
    task_cfg = runrecord.task_config(cfg)
    extra: dict[str, Any] = {"exit_code": exitcode}
    if exitcode is not None and exitcode < 0:
        sig = signal.Signals(-exitcode).name
        extra.update(
            error="WorkerKilled",
            signal=sig,
            message=f"the process running this job was killed by {sig}"
            + (" (as the out-of-memory killer does)" if sig == "SIGKILL" else ""),
        )
    else:
        extra.update(
            error=error or ("WorkerDied" if why is None or exitcode is not None else "Interrupted"),
            message=why or f"the process running this job exited with status {exitcode}",
        )
    sweep.record_failure(run_dir, None, overrides, task_cfg, **extra)
    print(f"loyaltysim: run {run_dir.name} failed: {extra['message']}", file=sys.stderr, flush=True)
    sweep.report_progress(run_dir.parent)
