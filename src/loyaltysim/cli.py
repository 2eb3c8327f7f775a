"""The ``loyaltysim`` command: a Hydra app around :func:`loyaltysim.api.run_one`.

    loyaltysim                                   # the default market, three years
    loyaltysim firm/programme=engagement customers.n=20000 seed=7
    loyaltysim debug=default                     # seconds
    loyaltysim --cfg job                         # show the composed config
    loyaltysim -m firm/programme=none,discount seed='range(0,20)'   # sweep (joblib, 2 jobs)
    loyaltysim -m experiment=withdrawal          # an experiment with its own sweep

In a sweep (``-m``) a failed run is recorded in its folder (``error.json``) and the sweep
goes on; finished runs (``done.json``) are skipped when the sweep is run again into the
same ``hydra.sweep.dir``.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from . import sweep
from .io import config_dir
from .params import ConfigError


def _task(cfg: DictConfig) -> float | None:
    from .api import run_one

    # Mesa logs every step at INFO, which Hydra's logging set-up would print
    logging.getLogger("MESA").setLevel(logging.WARNING)
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    overrides = list(hc.overrides.task)
    multirun = hc.mode == RunMode.MULTIRUN
    if multirun and sweep.is_done(out_dir):
        return None  # finished earlier: never redo or overwrite it
    start = time.perf_counter()
    try:
        result = run_one(cfg, out_dir)
    except ConfigError as err:
        if not multirun:
            print(f"loyaltysim: {err}", file=sys.stderr)
            sys.exit(2)
        sweep.record_failure(out_dir, err, overrides, cfg)
        print(f"loyaltysim: run {out_dir.name} failed: {err}", file=sys.stderr)
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
    sweep.mark_done(out_dir, overrides, time.perf_counter() - start)
    if multirun:
        sweep.report_progress(out_dir.parent)
    elif result.config.output.print_summary:
        table = result.summary.set_index("firm").T
        print(table.to_string(float_format=lambda v: f"{v:,.1f}"))
        print(f"\nrun folder: {out_dir}  ({result.manifest['wall_time_s']:.1f} s)")
    return float(result.summary.iloc[0]["cumulative_profit_eur"])


def main() -> None:
    """Entry point of the console script and ``python -m loyaltysim``."""
    app = hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
    app(_task)()


if __name__ == "__main__":
    main()
