"""What a finished run records about itself, and how a later sweep or collect checks it.

A finished run's ``done.json`` holds a fingerprint of what produced it (a hash of the
resolved config, a hash of the package's source files, the package version and git
commit), the number of steps and firms, and the size and SHA-256 of every file it wrote.
From that record a run folder is one of:

- ``done``: finished, same config and code, every file as written;
- ``stale``: finished, but the config or the code has changed since;
- ``corrupt``: ``done.json`` unreadable, a file missing, changed or truncated;
- ``failed``: ``error.json`` and no ``done.json``;
- ``incomplete``: files but no marker (a run killed mid-way);
- ``new``: nothing there.

Anything but ``done`` is rerun; the old folder is first moved aside, whole, into
``<sweep dir>/superseded/`` (nothing is deleted or rewritten in place).
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

DONE, ERROR = "done.json", "error.json"
SUPERSEDED = "superseded"
LOCKS = ".locks"
# Hydra's own bookkeeping in a job folder: written by Hydra, not by the run, so not checked
_NOT_CHECKED_DIRS = {".hydra"}
_NOT_CHECKED_SUFFIXES = (".log", ".tmp")
# packages a run never imports: editing them leaves finished runs current
# the code that plays a run and writes its files: the rules, the engines, the run machinery
# and the ways in that compose a run's config. The studies, the app and the catalogue read
# runs or show them: editing them must not make every finished run stale.
RUN_CODE = ("model", "engines", "runs", "__init__.py", "__main__.py", "cli.py")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def task_config(cfg: DictConfig | dict[str, Any]) -> dict[str, Any]:
    """A job's resolved config as plain data, without Hydra's own ``hydra`` node (which
    cannot be resolved outside a running job)."""
    if not isinstance(cfg, DictConfig):
        return {k: v for k, v in dict(cfg).items() if k != "hydra"}
    out = {}
    for key in cfg:
        if key == "hydra":
            continue
        value = cfg[key]
        out[key] = (
            OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
        )
    return out


def config_hash(cfg: DictConfig | dict[str, Any]) -> str:
    """Hash of a job's resolved config (Hydra's own ``hydra`` node left out)."""
    data = task_config(cfg)
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def code_hash() -> str:
    """Hash of the Python sources that play a run (:data:`RUN_CODE` of this package). conf/
    is not hashed: every conf value that reaches a run is in its resolved config, so an
    edit to an unrelated experiment file does not make every run stale."""
    return tree_hash(Path(__file__).resolve().parents[1])


def tree_hash(root: Path) -> str:
    """:func:`code_hash` of the package whose folder is ``root``."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] not in RUN_CODE:
            continue
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


# the default run folder name of a sweep's job (conf/config.yaml): a function of the job's
# overrides alone, so a re-run can find a job's folder without composing its config
SUBDIR = "${loyaltysim_run_id:${hydra.overrides.task}}"
# hydra settings that cannot reach a job's config: where the sweep goes, how it launches,
# which file listed its jobs
_NOT_RECIPE = ("hydra.sweep.dir=", "hydra.launcher.", "hydra/launcher=", "hydra.sweeper.jobs=")


@functools.lru_cache(maxsize=8)
def _sources_hash(sources: tuple[str, ...]) -> str | None:
    """Hash of every file under the config search path's folders (``file://`` sources;
    the others, Hydra's packages and the ConfigStore, are named only: code), or None
    where a file reads the environment (``${oc.``) or Hydra's node (``${hydra:``), which
    would make the same files give another config."""
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.encode() + b"\0")
        if not source.startswith("file://"):
            continue
        root = Path(source[len("file://") :])
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if b"${oc." in data or b"${hydra:" in data:
                return None
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def recipe(task: list[str], hydra: list[str], config_name: str, sources: list[str]) -> str | None:
    """Hash of everything a job's config is composed from: the config files (of the search
    path ``sources``), the config name, the job's overrides and the sweep's ``hydra``
    overrides, in order (the schema is code: :func:`code_hash`). The same recipe and code
    compose the same config, so a re-run that finds a finished run of this recipe need not
    compose it (:func:`quick_state`). None where composition could depend on anything else
    (an interpolation in an override, a config file reading the environment)."""
    if any("${" in line for line in [*task, *hydra]):
        return None
    files = _sources_hash(tuple(sources))
    if files is None:
        return None
    kept = [h for h in hydra if not h.lstrip("+~").startswith(_NOT_RECIPE)]
    text = json.dumps([files, config_name, list(task), kept], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sources_of(hydra_cfg: Any) -> list[str]:
    """The search path of a composed config's ``hydra`` node, as ``schema://path``."""
    return [f"{s.schema}://{s.path}" for s in hydra_cfg.runtime.config_sources]


def job_recipe(hydra_cfg: Any) -> str | None:
    """:func:`recipe` of the running job whose ``hydra`` node is ``hydra_cfg``."""
    return recipe(
        list(hydra_cfg.overrides.task),
        list(hydra_cfg.overrides.hydra),
        str(hydra_cfg.job.config_name),
        sources_of(hydra_cfg),
    )


def quick_state(run_dir: Path, fp_recipe: str | None) -> RunState | None:
    """``done`` if ``run_dir`` holds a finished run of this recipe with this code, intact
    (each file's size and modification time as recorded, else its SHA-256), else None:
    the caller composes the job's config and asks :func:`classify`."""
    if fp_recipe is None:
        return None
    try:
        done = read_done(run_dir)
    except ValueError:
        return None
    recorded = done.get("fingerprint") or {}
    if recorded.get("recipe") != fp_recipe or recorded.get("code") != code_hash():
        return None
    if verify(run_dir, deep="mtime") is not None:
        return None
    return RunState("done")


def fingerprint(cfg: DictConfig | dict[str, Any]) -> dict[str, Any]:
    """What produced a run: config hash, code hash, package version and git commit."""
    from importlib import metadata

    try:
        version = metadata.version("loyaltysim")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return {
        "config": config_hash(cfg),
        "code": code_hash(),
        "version": version,
        "git_commit": _git_commit(),
    }


@functools.lru_cache(maxsize=1)
def _git_commit() -> str | None:
    """The checkout's commit, asked of git once per process (two subprocesses a call)."""
    from .io import git_commit

    return git_commit()


@functools.lru_cache(maxsize=1)
def provenance() -> tuple[dict[str, str], str | None]:
    """Package versions and git commit, looked up once a process: a sweep's jobs, forked
    from the sweep process, find them there (as its fingerprints do)."""
    from .io import package_versions

    return package_versions(), _git_commit()


def checksums(run_dir: Path) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of every file a run wrote (relative path -> record)."""
    run_dir = Path(run_dir)
    out = {}
    for path in sorted(run_dir.rglob("*")):
        rel = path.relative_to(run_dir)
        if not path.is_file() or rel.parts[0] in _NOT_CHECKED_DIRS or rel.name in (DONE, ERROR):
            continue
        if rel.name.endswith(_NOT_CHECKED_SUFFIXES):
            continue
        stat = path.stat()
        # the modification time lets a re-run trust an unchanged file without hashing it
        out[rel.as_posix()] = {
            "bytes": stat.st_size,
            "sha256": _sha256(path),
            "mtime_ns": stat.st_mtime_ns,
        }
    return out


def read_done(run_dir: Path) -> dict[str, Any]:
    """``done.json`` as a dict; raises ValueError naming the run when it is unreadable."""
    path = Path(run_dir) / DONE
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{DONE} unreadable ({type(err).__name__}: {err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{DONE} holds {type(data).__name__}, not a record")
    return data


def verify(run_dir: Path, deep: bool | str = True) -> str | None:
    """None if a finished run is intact, else what is wrong (one line).

    Checks every recorded file's size (and SHA-256 when ``deep``; with ``deep="mtime"``
    only of a file whose modification time is not the one recorded) and the number of
    rows of ``metrics.csv`` against the recorded steps x firms.
    """
    run_dir = Path(run_dir)
    try:
        done = read_done(run_dir)
    except ValueError as err:
        return str(err)
    files = done.get("files")
    if not isinstance(files, dict) or "metrics.csv" not in files:
        return f"{DONE} records no file checksums (written by an older version)"
    for rel, rec in files.items():
        path = run_dir / rel
        if not path.is_file():
            return f"{rel} is missing"
        stat = path.stat()
        if stat.st_size != rec.get("bytes"):
            return f"{rel} has {stat.st_size} bytes, {rec.get('bytes')} were written"
        hashed = deep is True or (deep == "mtime" and stat.st_mtime_ns != rec.get("mtime_ns"))
        if hashed and _sha256(path) != rec.get("sha256"):
            return f"{rel} changed since it was written (checksum differs)"
    steps, firms = done.get("steps"), done.get("firms")
    if isinstance(steps, int) and isinstance(firms, int):
        with open(run_dir / "metrics.csv", "rb") as fh:
            rows = sum(1 for _ in fh) - 1
        if rows != steps * firms:
            return f"metrics.csv has {rows} rows, {steps} steps x {firms} firms were run"
    return None


@dataclass(frozen=True)
class RunState:
    """A run folder's state (see the module docstring) and why."""

    status: str  # new, done, stale, corrupt, failed, incomplete
    reason: str = ""


def classify(run_dir: Path, fp: dict[str, Any] | None = None) -> RunState:
    """State of ``run_dir`` for a job with fingerprint ``fp`` (None: do not check staleness)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir() or not any(run_dir.iterdir()):
        return RunState("new")
    if (run_dir / DONE).exists():
        problem = verify(run_dir)
        if problem:
            return RunState("corrupt", problem)
        if fp is not None:
            recorded = read_done(run_dir).get("fingerprint") or {}
            if recorded.get("config") != fp["config"]:
                return RunState("stale", "config changed")
            if recorded.get("code") != fp["code"]:
                return RunState("stale", "code changed")
        return RunState("done")
    if (run_dir / ERROR).exists():
        return RunState("failed")
    return RunState("incomplete", "files but no done.json or error.json")


def set_aside(run_dir: Path, status: str) -> Path:
    """Move a run folder, whole, to ``<sweep>/superseded/<name>.<status>-<time>``."""
    run_dir = Path(run_dir)
    stamp = _dt.datetime.now().strftime("%Y%m%dT%H%M%S.%f")
    target = run_dir.parent / SUPERSEDED / f"{run_dir.name}.{status}-{stamp}"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(run_dir), str(target))
    return target


def job_lock(run_dir: Path):
    """An inter-process lock for one run (``filelock``): two sweeps into one folder run
    each job once. Held by the sweep that runs the job until the job has finished."""
    from filelock import FileLock

    run_dir = Path(run_dir)
    locks = run_dir.parent / LOCKS
    locks.mkdir(parents=True, exist_ok=True)
    return FileLock(str(locks / f"{run_dir.name}.lock"))
