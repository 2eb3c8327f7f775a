"""Random programme designs inside Hydra configs, for design lotteries (S9).

An experiment sweeps ``design=range(1, N)`` and draws each lever from the design number,
so every design is reproducible and shared across seeds and machines::

    rebate_rate: ${loyaltysim_uniform:${design},rebate_rate,0.0,0.12}
    mode: ${loyaltysim_choice:${design},mode,rebate,points}
    start_week: ${loyaltysim_baseline:${design},156,0}   # design 0: never starts

Draws come from ``numpy.random.SeedSequence([design, crc32(name)])``: independent of the
run's seed (a design is the same in every replication) and of the order of the levers.
"""

from __future__ import annotations

import zlib

import numpy as np
from omegaconf import OmegaConf


def _rng(design: int, name: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(design), zlib.crc32(name.encode())]))


def uniform(design: int, name: str, lo: float, hi: float) -> float:
    """A lever drawn uniformly in [lo, hi] for design ``design`` (rounded to 4 decimals)."""
    return round(float(_rng(design, name).uniform(float(lo), float(hi))), 4)


def choice(design: int, name: str, *options: str):
    """One of ``options`` for design ``design``."""
    return options[int(_rng(design, name).integers(len(options)))]


def baseline(design: int, if_zero, otherwise):
    """``if_zero`` for design 0 (the baseline arm of a lottery), else ``otherwise``."""
    return if_zero if int(design) == 0 else otherwise


OmegaConf.register_new_resolver("loyaltysim_uniform", uniform, replace=True)
OmegaConf.register_new_resolver("loyaltysim_choice", choice, replace=True)
OmegaConf.register_new_resolver("loyaltysim_baseline", baseline, replace=True)
