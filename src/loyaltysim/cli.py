"""The ``loyaltysim`` command: a Hydra app around :func:`loyaltysim.api.run_one`.

    loyaltysim                                   # the default market, three years
    loyaltysim firm/programme=engagement customers.n=20000 seed=7
    loyaltysim debug=default                     # seconds
    loyaltysim --cfg job                         # show the composed config
"""

from __future__ import annotations

import logging
import sys

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from .io import config_dir
from .params import ConfigError


def _task(cfg: DictConfig) -> float:
    from .api import run_one

    # Mesa logs every step at INFO, which Hydra's logging set-up would print
    logging.getLogger("MESA").setLevel(logging.WARNING)

    out_dir = HydraConfig.get().runtime.output_dir
    try:
        result = run_one(cfg, out_dir)
    except ConfigError as err:
        print(f"loyaltysim: {err}", file=sys.stderr)
        sys.exit(2)
    if result.config.output.summary:
        table = result.summary.set_index("firm").T
        print(table.to_string(float_format=lambda v: f"{v:,.1f}"))
        print(f"\nrun folder: {out_dir}  ({result.manifest['wall_time_s']:.1f} s)")
    focal = result.summary.iloc[0]
    return float(focal["cumulative_profit_eur"])


def main() -> None:
    """Entry point of the console script and ``python -m loyaltysim``."""
    app = hydra.main(version_base="1.3", config_path=str(config_dir()), config_name="config")
    app(_task)()


if __name__ == "__main__":
    main()
