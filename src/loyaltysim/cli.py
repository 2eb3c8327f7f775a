"""The ``loyaltysim`` command: a Hydra app around :func:`loyaltysim.runs.runner.run_one`.

    loyaltysim                                   # the default market, three years
    loyaltysim firm/programme=engagement customers.n=20000 seed=7
    loyaltysim debug=default                     # seconds
    loyaltysim --cfg job                         # show the composed config
    loyaltysim -m firm/programme=none,discount seed='range(0,20)'   # sweep, 2 jobs at a time
    loyaltysim -m experiment=withdrawal          # an experiment with its own sweep

In a sweep (``-m``) runs draw no figure unless ``output.figure=true``; a failed run is
recorded in its folder (``error.json``) and the sweep goes on; finished runs (``done.json``)
are skipped when the sweep is run again into the same ``hydra.sweep.dir``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, open_dict

from .model.config import config_error_from, renamed_message
from .model.params import ConfigError, ConfigWarning
from .runs import hydrajob, runrecord, sweep, warmpool
from .runs.io import config_dir, world_by_path
from .runs.limits import NonFiniteMetrics


def _test_hook(run_name: str) -> None:
    """Test-only fault injection, inert outside pytest: with ``LOYALTYSIM_TEST_HOOK`` set to
    ``kill:<run id>`` while pytest runs (``PYTEST_CURRENT_TEST``), that run's process kills
    itself with SIGKILL, as the out-of-memory killer would; ``hang:`` sleeps for a minute;
    ``fail:`` raises RuntimeError. Several run ids are separated by ``;`` (which no run id
    holds)."""
    hook = os.environ.get("LOYALTYSIM_TEST_HOOK", "")
    if not hook or "PYTEST_CURRENT_TEST" not in os.environ:
        return
    action, _, targets = hook.partition(":")
    if run_name not in targets.split(";"):
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "hang":
        time.sleep(60)
    elif action == "fail":
        raise RuntimeError("test hook: this run fails")


def _discard_refused(out_dir: Path) -> None:
    """Remove the folder Hydra made under ``outputs/`` for a single run refused before it
    started, when it holds only Hydra's own bookkeeping (``.hydra/``, ``cli.log``), and its
    parents left empty: a refused config is no run and leaves nothing behind. A folder
    given with ``hydra.run.dir`` elsewhere is the user's and stays."""
    root, out_dir = (Path.cwd() / "outputs").resolve(), out_dir.resolve()
    if root not in out_dir.parents:
        return
    files = [p for p in out_dir.rglob("*") if p.is_file()]
    if any(p.relative_to(out_dir).parts[0] not in (".hydra", "cli.log") for p in files):
        return
    shutil.rmtree(out_dir, ignore_errors=True)
    for parent in out_dir.parents:
        if parent != root and root not in parent.parents:
            break
        try:
            parent.rmdir()  # only if empty
        except OSError:
            break


def _task(cfg: DictConfig) -> float | None:
    from .runs.runner import run_one

    # Mesa logs every step at INFO, which Hydra's logging set-up would print
    logging.getLogger("MESA").setLevel(logging.WARNING)
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    overrides = list(hc.overrides.task)
    multirun = hc.mode == RunMode.MULTIRUN
    fingerprint = runrecord.fingerprint(cfg)
    if multirun:  # lets a re-run judge this run finished without composing its config
        fingerprint["recipe"] = runrecord.job_recipe(hc)
    if multirun and runrecord.classify(out_dir, fingerprint).status == "done":
        return None  # finished earlier with this config and code: never redo or overwrite it
    config: Any = cfg
    if multirun and cfg.output.get("figure") is None:
        # per-run figures are off in sweeps unless asked for (output.figure=true)
        with open_dict(cfg):
            cfg.output.figure = False
    made = warmpool.this_job() if multirun else None
    if made is not None:  # made and checked by the sweep from this same config
        figure = cfg.output.figure
        output = dataclasses.replace(made.output, figure=figure)
        config = made if made.output.figure == figure else dataclasses.replace(made, output=output)
    start = time.perf_counter()
    try:
        _test_hook(out_dir.name)
        # in a sweep the folder is this job's own: the sweeper has moved any older one aside
        # the customer table goes to its file in chunks, never whole in memory
        result = run_one(
            config, out_dir, overwrite=True if multirun else None, keep_customers=False
        )
    except ConfigError as err:
        if not multirun:
            print(f"loyaltysim: {renamed_message(str(err)) or err}", file=sys.stderr)
            _discard_refused(out_dir)
            sys.exit(2)
        sweep.record_failure(out_dir, err, overrides, cfg)
        print(f"loyaltysim: run {out_dir.name} failed: {err}", file=sys.stderr)
        sweep.report_progress(out_dir.parent)
        return None
    except NonFiniteMetrics as err:
        # the run is recorded as failed, never as done, in a single run as in a sweep
        sweep.record_failure(out_dir, err, overrides, cfg)
        print(f"loyaltysim: run {out_dir.name} failed: {err}", file=sys.stderr)
        if not multirun:
            sys.exit(1)
        sweep.report_progress(out_dir.parent)
        return None
    except Exception as err:
        if not multirun:
            raise
        sweep.record_failure(out_dir, err, overrides, cfg)
        print(
            f"loyaltysim: run {out_dir.name} failed: {type(err).__name__}: {err}", file=sys.stderr
        )
        sweep.report_progress(out_dir.parent)
        return None
    sweep.mark_done(
        out_dir,
        overrides,
        time.perf_counter() - start,
        fingerprint=fingerprint,
        steps=int(result.manifest["steps"]),
        firms=int(result.summary.shape[0]),
    )
    if multirun:
        sweep.report_progress(out_dir.parent)
    elif result.config.output.print_summary:
        table = result.summary.set_index("firm").T
        print(table.to_string(float_format=lambda v: f"{v:,.1f}"))
        print(f"\nrun folder: {out_dir}  ({result.manifest['wall_time_s']:.1f} s)")
    return float(result.summary.iloc[0]["cumulative_profit_eur"])


def _one_line(err: BaseException) -> str:
    """Hydra's multi-line messages (and their cause) as one line."""
    parts = [str(err)]
    if err.__cause__ is not None and str(err.__cause__) not in parts[0]:
        parts.append(str(err.__cause__))
    lines = [ln.strip() for part in parts for ln in part.splitlines() if ln.strip()]
    text = " ".join(ln if ln.endswith((".", ":", ";")) else ln + ";" for ln in lines).rstrip(";")
    return text


def _one_line_warnings() -> None:
    """Show a :class:`ConfigWarning` as one line on stderr, like the errors; other
    warnings as Python shows them."""
    import warnings

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ANN001
        if issubclass(category, ConfigWarning):
            print(f"loyaltysim: warning: {message}", file=sys.stderr, flush=True)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def _shown_config_error(argv: list[str]) -> ConfigError | None:
    """For ``--cfg``/``-c`` of a single run (which Hydra prints without running the task):
    the config's error, if it is invalid, so that an invalid config is never shown as if
    it were one; else None. A sweep's jobs are checked by the sweeper instead."""
    from hydra._internal.utils import get_args_parser

    try:
        args, _ = get_args_parser().parse_known_args(argv)
    except SystemExit:  # Hydra will say what is wrong with the arguments
        return None
    if not args.cfg or args.multirun:
        return None
    from .runs.runner import load_config

    try:
        load_config([o for o in args.overrides if not o.lstrip("+~").startswith("hydra")])
    except ConfigError as err:
        return err
    except Exception:  # a composition error: Hydra reports it in its own run below
        return None
    return None


def _skip_mode_probe() -> None:
    """Spare Hydra's first composition of the config, made only to read ``hydra.mode``.

    Hydra's ``_run_hydra`` composes the whole config once (``Hydra.get_mode``) before the
    run or sweep composes it again: a third of a small run's set-up. No config of this
    project sets ``hydra.mode``, so the probe finds None unless an override names it; then
    Hydra's own probe runs. With ``-m`` the mode is MULTIRUN whatever the probe finds.
    Idempotent (``main`` may run several times in one process, as in tests)."""
    from hydra._internal.hydra import Hydra

    probe = Hydra.get_mode
    if getattr(probe, "_loyaltysim", False):
        return

    def get_mode(self: Hydra, config_name: str | None, overrides: list[str]) -> object:
        if any(o.lstrip("+~").startswith("hydra.mode") for o in overrides):
            return probe(self, config_name=config_name, overrides=overrides)
        return None

    get_mode._loyaltysim = True  # type: ignore[attr-defined]
    Hydra.get_mode = get_mode  # type: ignore[method-assign]


def main() -> None:
    """Entry point of the console script and ``python -m loyaltysim``.

    User mistakes (an invalid value, a misspelt key, an unknown config group, stale runs
    refused) exit with status 2 and one line on stderr; failed runs of a sweep with 1.
    """
    from hydra.errors import CompactHydraException

    from .engines.engine import selected, threads
    from .runs.sweeper import StaleRunsError

    _one_line_warnings()
    try:
        selected()  # the environment's engine choice, checked before anything is composed
        threads()
    except ConfigError as err:
        print(f"loyaltysim: {err}", file=sys.stderr)
        sys.exit(2)
    try:
        # a world file given by its path (loyaltysim-fit's DIR/world/NAME.yaml): Hydra
        # composes groups by name only, so the path becomes a search path and a name
        sys.argv[1:] = world_by_path(sys.argv[1:])
    except ConfigError as err:
        print(f"loyaltysim: {err}", file=sys.stderr)
        sys.exit(2)
    shown = _shown_config_error(sys.argv[1:])
    if shown is not None:
        print(f"loyaltysim: {shown}", file=sys.stderr)
        sys.exit(2)
    _skip_mode_probe()
    hydrajob.install()  # a single run's run_job without Hydra's two deep copies
    app = hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
    # Hydra prints its own errors over several lines and exits 1; with HYDRA_FULL_ERROR it
    # raises them instead, so they can be told apart from failures and reported in one line
    user_asked = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        app(_task)()
    except (CompactHydraException, ConfigError, StaleRunsError) as err:
        if user_asked:
            raise
        # a misspelt or renamed key, a bad value: the config's own one-line error
        converted = config_error_from(err, sys.argv[1:])
        text = str(converted) if isinstance(converted, ConfigError) else _one_line(err)
        print(f"loyaltysim: {text}", file=sys.stderr)
        sys.exit(2)
    finally:
        if not user_asked:
            os.environ.pop("HYDRA_FULL_ERROR", None)


if __name__ == "__main__":
    main()
