"""Sweep bookkeeping: run folder names, failure records, skip-on-rerun, progress.

- Each job of a multirun writes to ``<sweep dir>/<run id>``, where the run id is made from
  the job's overrides (``firm.programme=discount,seed=3``), so re-running a sweep into the
  same ``hydra.sweep.dir`` finds every finished run where it left it, whatever the order.
- A finished run holds ``done.json``; a re-run skips it and never overwrites it.
- A failed run holds ``error.json`` (error, traceback, overrides, config) and the sweep
  goes on; a re-run retries it.
- :class:`SweepProgress` (a Hydra callback) records the number of jobs at the start; each
  job then prints runs done, runs failed and an estimate of the time left.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import sys
import time
import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from .io import write_json

DONE, ERROR, SWEEP = "done.json", "error.json", "sweep.json"
_SAFE = re.compile(r"[^A-Za-z0-9=.,_+-]")


def _normalise(override: str) -> str:
    # Hydra may hand over `key=False` for a typed `key=false`: one spelling, one folder
    key, sep, value = override.partition("=")
    return f"{key}{sep}{value.lower()}" if value in ("True", "False") else override


def run_id(overrides: Iterable[str]) -> str:
    """A readable, filesystem-safe folder name for a job's overrides (order-independent)."""
    items = sorted(_normalise(str(o).lstrip("+~")) for o in overrides)
    if not items:
        return "default"
    name = _SAFE.sub("_", ",".join(items).replace("/", "."))
    if len(name) > 120:
        digest = hashlib.sha1(name.encode()).hexdigest()[:10]
        name = f"{name[:100]}..{digest}"
    return name


OmegaConf.register_new_resolver(
    "loyaltysim_run_id", lambda overrides: run_id(overrides or []), replace=True
)


def is_done(run_dir: Path) -> bool:
    return (Path(run_dir) / DONE).is_file()


def mark_done(run_dir: Path, overrides: Sequence[str], wall_s: float) -> None:
    error = Path(run_dir) / ERROR
    if error.exists():
        error.unlink()
    write_json(Path(run_dir) / DONE, {"overrides": list(overrides), "wall_time_s": wall_s})


def record_failure(run_dir: Path, err: BaseException, overrides: Sequence[str], cfg: Any) -> None:
    """Write ``error.json``: what failed, where, and with which config."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        config = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    except Exception:  # an unresolvable config is itself worth recording, as text
        config = str(cfg)
    write_json(
        run_dir / ERROR,
        {
            "error": type(err).__name__,
            "message": str(err),
            "traceback": "".join(traceback.format_exception(err)),
            "overrides": list(overrides),
            "config": config,
        },
    )


def count_jobs(params: dict[str, str]) -> int:
    """Number of jobs of a basic grid sweep over ``key -> value`` overrides."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    total = 1
    for key, value in params.items():
        override = parser.parse_override(f"{key}={value}")
        if override.is_sweep_override():
            total *= len(list(override.sweep_string_iterator()))
    return total


def sweep_status(sweep_dir: Path) -> tuple[int, int]:
    """(runs done, runs failed) in a sweep folder."""
    done = failed = 0
    for child in Path(sweep_dir).iterdir():
        if (child / DONE).is_file():
            done += 1
        elif (child / ERROR).is_file():
            failed += 1
    return done, failed


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def report_progress(sweep_dir: Path, stream=sys.stdout) -> str | None:
    """One progress line for the sweep in ``sweep_dir`` (None outside a tracked sweep)."""
    meta_path = Path(sweep_dir) / SWEEP
    if not meta_path.is_file():
        return None
    meta = json.loads(meta_path.read_text())
    done, failed = sweep_status(sweep_dir)
    total = max(meta["total"], done + failed)
    finished_now = done + failed - meta["done_at_start"] - meta["failed_at_start"]
    elapsed = time.time() - meta["started"]
    left = (total - done - failed) * elapsed / finished_now if finished_now > 0 else math.inf
    line = (
        f"[loyaltysim sweep] {done + failed}/{total} runs finished "
        f"({done} done, {failed} failed); ~{_duration(left)} left"
    )
    print(line, file=stream, flush=True)
    return line


class SweepProgress(Callback):
    """Hydra callback: records the sweep size at the start, reports at the end."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        params = {k: str(v) for k, v in (config.hydra.sweeper.get("params") or {}).items()}
        for item in config.hydra.overrides.task:
            key, _, value = str(item).partition("=")
            params[key] = value
        done, failed = sweep_status(sweep_dir)
        write_json(
            sweep_dir / SWEEP,
            {
                "total": count_jobs(params),
                "started": time.time(),
                "done_at_start": done,
                "failed_at_start": failed,
            },
        )
        if done:
            print(f"[loyaltysim sweep] {done} runs already finished in {sweep_dir}: skipped")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        done, failed = sweep_status(sweep_dir)
        print(f"[loyaltysim sweep] finished: {done} done, {failed} failed, in {sweep_dir}")
        if failed:
            print("[loyaltysim sweep] failed runs hold error.json; re-run the sweep to retry them")
        print(f"[loyaltysim sweep] collect with: loyaltysim-collect {sweep_dir}")
