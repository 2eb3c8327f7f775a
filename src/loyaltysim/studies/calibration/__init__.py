"""Calibration to an ensemble of plausible worlds (``loyaltysim-calibrate``).

A calibration file (``conf/calibration/<name>.yaml``, :mod:`.targets`) names the
uncertainties to sample and the targets to meet. :mod:`.sample` draws candidate worlds
(scrambled Sobol, scipy.stats.qmc; deterministic given the file's seed, a longer run keeps
the first candidates); :mod:`.run` runs each world's arms with replications through the
sweep machinery (any Hydra launcher, finished runs skipped) and measures the targets'
statistics with the validation suite's functions (:mod:`.measures`); :mod:`.accept` keeps
the worlds whose every statistic is within tolerance (rejection, as in history matching
and ABC) and picks the most central one; :mod:`.report` writes the tables, plots and
README; the accepted worlds become the config group ``world`` (``loyaltysim world=<id>``).
"""

from __future__ import annotations

from .targets import Calibration, Parameter, Target, load

__all__ = ["Calibration", "Parameter", "Target", "load"]
