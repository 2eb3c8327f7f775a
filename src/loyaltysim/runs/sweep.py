"""Sweep bookkeeping: run folder names, failure records, skip-on-rerun, progress.

- Each job of a multirun writes to ``<sweep dir>/<run id>``, where the run id is made from
  the job's overrides (``firm+programme=discount,seed=3``), so re-running a sweep into the
  same ``hydra.sweep.dir`` finds every finished run where it left it, whatever the order.
  Different override lists always give different run ids.
- A finished run holds ``done.json`` with its fingerprint and file checksums
  (:mod:`loyaltysim.runs.runrecord`); the sweeper (:mod:`loyaltysim.runs.sweeper`) skips it on a
  re-run only while config, code and files are unchanged.
- A failed run holds ``error.json`` (error, traceback, overrides, config) and the sweep
  goes on; a re-run retries it.
- :class:`SweepProgress` (a Hydra callback) prints progress after each job and, at the
  end, a summary; the sweep exits with status 1 when any of its runs failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
import traceback
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from ..model.params import ConfigError
from . import progress
from .io import folder_problem, write_json
from .runrecord import DONE, ERROR, SUPERSEDED, checksums

SWEEP = "sweep.json"
# characters an override may hold and still be spelt out unchanged in its folder name
_PLAIN = re.compile(r"[A-Za-z0-9=._/-]*")
_UNSAFE = re.compile(r"[^A-Za-z0-9=._+-]")


def _normalise(override: str) -> str:
    # Hydra may hand over `key=False` for a typed `key=false`: one spelling, one folder.
    # A leading `+` (add a key) gives the same config as setting it.
    key, sep, value = override.lstrip("+").partition("=")
    return f"{key}{sep}{value.lower()}" if value in ("True", "False") else f"{key}{sep}{value}"


def run_id(overrides: Iterable[str]) -> str:
    """A readable, filesystem-safe folder name for a job's overrides (order-independent).

    Injective: ``/`` (config groups) becomes ``+``, which no plainly spelt override holds;
    an override with any other character (quotes, commas, spaces, ``+``, ``~``) has it
    replaced by ``_`` and the name gets ``~`` and a hash of the exact override list, so
    ``a/b=1`` and ``a.b=1``, or ``x='a b'`` and ``x=a_b``, get different folders.
    """
    items = sorted(_normalise(str(o)) for o in overrides)
    if not items:
        return "default"
    digest = hashlib.sha1("\0".join(items).encode()).hexdigest()
    name = ",".join(_UNSAFE.sub("_", item.replace("/", "+")) for item in items)
    if not all(_PLAIN.fullmatch(item) for item in items):
        name = f"{name}~{digest[:8]}"
    if len(name) > 120:
        name = f"{name[:100]}..{digest[:10]}"
    return name


OmegaConf.register_new_resolver(
    "loyaltysim_run_id", lambda overrides: run_id(overrides or []), replace=True
)
# conf/hydra/launcher/ray.yaml is merged onto hydra-ray-launcher's schema of the same name
# on purpose (its settings, loyaltysim's launcher class): Hydra's deprecation note about
# such matching is noise. Set here, on import of the package, before Hydra composes (not
# in the plugin module: Hydra imports plugins inside warnings.catch_warnings).
warnings.filterwarnings(
    "ignore", message="\n'hydra/launcher/ray' is validated against ConfigStore schema"
)
# the default single-run folder ends in this: unique among runs started in the same second
OmegaConf.register_new_resolver(
    "loyaltysim_unique",
    lambda: f"pid{os.getpid()}",  # no two live processes share a pid
    replace=True,
)


def is_done(run_dir: Path) -> bool:
    return (Path(run_dir) / DONE).is_file()


def mark_done(
    run_dir: Path,
    overrides: Sequence[str],
    wall_s: float,
    fingerprint: dict[str, Any] | None = None,
    steps: int | None = None,
    firms: int | None = None,
) -> None:
    """Write ``done.json`` last: overrides, wall time, fingerprint, steps, firms and the
    size and SHA-256 of every file the run wrote (checked by a re-run and by collect)."""
    error = Path(run_dir) / ERROR
    if error.exists():
        error.unlink()
    write_json(
        Path(run_dir) / DONE,
        {
            "overrides": list(overrides),
            "wall_time_s": wall_s,
            "fingerprint": fingerprint,
            "steps": steps,
            "firms": firms,
            "files": checksums(Path(run_dir)),
        },
    )


def record_failure(
    run_dir: Path,
    err: BaseException | None,
    overrides: Sequence[str],
    cfg: Any,
    **extra: Any,
) -> None:
    """Write ``error.json``: what failed, where, and with which config.

    ``err`` may be None when the failure was seen from outside (a worker killed by a
    signal); ``extra`` then says what happened (``error``, ``message``, ``signal``).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        config = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    except Exception:  # an unresolvable config is itself worth recording, as text
        config = str(cfg)
    record = {
        "error": type(err).__name__ if err is not None else "Failed",
        "message": str(err) if err is not None else "",
        "traceback": "".join(traceback.format_exception(err)) if err is not None else "",
        "overrides": list(overrides),
        "config": config,
    }
    write_json(run_dir / ERROR, {**record, **extra})


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


def sweep_status(sweep_dir: Path, jobs: Sequence[str] | None = None) -> tuple[int, int]:
    """(runs done, runs failed) in a sweep folder, or among its runs named ``jobs``."""
    done = failed = 0
    children = (
        [Path(sweep_dir) / j for j in jobs] if jobs is not None else Path(sweep_dir).iterdir()
    )
    for child in children:
        if (child / DONE).is_file():
            done += 1
        elif (child / ERROR).is_file():
            failed += 1
    return done, failed


def report_progress(sweep_dir: Path, stream=None) -> str | None:
    """Progress of the sweep in ``sweep_dir`` (None outside a tracked sweep): on a terminal
    a tqdm bar redrawn in place on stderr; elsewhere one line on ``stream`` (stdout)."""
    meta_path = Path(sweep_dir) / SWEEP
    if not meta_path.is_file():
        return None
    meta = json.loads(meta_path.read_text())
    done, failed = sweep_status(sweep_dir, meta.get("jobs"))
    total = max(meta["total"], done + failed)
    skipped = meta["done_at_start"] + meta["failed_at_start"]
    elapsed = time.time() - meta["started"]
    text = progress.line(total, done, failed, skipped, elapsed, "loyaltysim sweep")
    if stream is None and sys.stderr.isatty():
        bar = progress.meter(total, done, failed, skipped, elapsed, "sweep")
        print("\r" + bar, end="", file=sys.stderr, flush=True)
        return text
    print(text, file=stream or sys.stdout, flush=True)
    return text


def is_sweep_folder(path: Path) -> bool:
    """Whether ``path`` is a sweep folder (it holds ``sweep.json`` or Hydra's
    ``multirun.yaml``) or the ``superseded/`` folder of one."""
    path = Path(path)

    def marked(folder: Path) -> bool:
        return (folder / SWEEP).is_file() or (folder / "multirun.yaml").is_file()

    return marked(path) or (path.name == SUPERSEDED and marked(path.parent))


def _refuse(err: ConfigError) -> None:
    # a callback's Exception would become a warning in Hydra's callback wrapper and the
    # run would go on: say it in one line and leave with SystemExit, which it lets through
    print(f"loyaltysim: {err}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def check_output_folder(key: str, path: Path, single_run: bool) -> None:
    """Refuse (exit status 2) an output folder that cannot be made; for a single run also
    a sweep folder, whose root holds its runs' folders and record, not a run's files."""
    problem = folder_problem(path)
    if problem is not None:
        _refuse(ConfigError(key, str(path), f"a folder that can be created ({problem})"))
    if single_run and is_sweep_folder(path):
        _refuse(
            ConfigError(
                key,
                str(path),
                "a folder that is not a sweep folder nor its superseded/ (a single run "
                "would write its files beside the sweep's runs)",
            )
        )


class SweepProgress(Callback):
    """Hydra callback: checks the output folder and records the sweep size at the start,
    reports at the end."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Before Hydra makes the run's folder: refuse one that cannot be a run folder."""
        check_output_folder("hydra.run.dir", Path(str(config.hydra.run.dir)), single_run=True)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir))
        check_output_folder("hydra.sweep.dir", sweep_dir, single_run=False)
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

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        """Summary of the sweep; exit status 1 when any of its runs failed."""
        sweep_dir = Path(str(config.hydra.sweep.dir))
        meta_path = sweep_dir / SWEEP
        jobs = json.loads(meta_path.read_text()).get("jobs") if meta_path.is_file() else None
        if jobs is None:  # another sweeper: judge by the run folders there
            jobs = [
                p.name for p in sweep_dir.iterdir() if (p / DONE).is_file() or (p / ERROR).is_file()
            ]
        done = [j for j in jobs if (sweep_dir / j / DONE).is_file()]
        failed = [j for j in jobs if j not in done]  # error.json, or never finished at all
        if sys.stderr.isatty():
            print(file=sys.stderr)  # end the progress bar's line
        print(
            f"[loyaltysim sweep] finished: {len(done)} done, {len(failed)} failed, in {sweep_dir}",
            flush=True,
        )
        if failed:
            more = f" and {len(failed) - 10} more" if len(failed) > 10 else ""
            print(
                f"[loyaltysim sweep] failed runs (see error.json in each): "
                f"{', '.join(failed[:10])}{more}; re-run the same sweep to retry them",
                file=sys.stderr,
                flush=True,
            )
        print(f"[loyaltysim sweep] collect with: loyaltysim-collect {sweep_dir}", flush=True)
        if failed:
            raise SystemExit(1)  # not Exception: Hydra's callback wrapper lets it through
