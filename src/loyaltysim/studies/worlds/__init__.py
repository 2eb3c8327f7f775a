"""Decisions across plausible worlds: what a verdict is worth when the world is uncertain.

The calibration (:mod:`loyaltysim.studies.calibration`) leaves an ensemble of accepted
worlds; an experiment run in each of them gives one effect per world and arm (with a CI
over the seeds within that world). :mod:`.summary` says, per arm, in how many worlds it is
better, the median world's effect, the middle 80% and the range of worlds, in one sentence;
:mod:`.sensitivity` ranks the uncertainties by Sobol indices of the effect, computed on a
quadratic emulator fitted to the measured worlds; :mod:`.discovery` finds, by PRIM
(``ema_workbench``), the box of the uncertainties where the verdict reverses; and
:mod:`.figure` draws the effect in each world against the two most influential
uncertainties with that box.
"""

from __future__ import annotations

from .discovery import Box, prim_box, reversal_box
from .figure import worlds_figure
from .sensitivity import Emulator, box_of, emulated_points, fit_emulator, sobol_indices
from .summary import ArmSummary, claims_markdown, long_effects, sentence, summarise, verdict

__all__ = [
    "ArmSummary",
    "Box",
    "Emulator",
    "box_of",
    "claims_markdown",
    "emulated_points",
    "fit_emulator",
    "long_effects",
    "prim_box",
    "reversal_box",
    "sentence",
    "sobol_indices",
    "summarise",
    "verdict",
    "worlds_figure",
]
