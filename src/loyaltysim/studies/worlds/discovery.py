"""Scenario discovery: the box of the uncertainties where a verdict reverses, by PRIM
(Friedman & Fisher 1999) as ``ema_workbench`` implements it.

PRIM peels, step by step, 5% of the points from one face of a box, the face whose removal
most raises the share of points of interest (here: worlds where the effect is below zero)
left inside. Of the boxes on that peeling trajectory whose density (the share of its points
that are of interest) reaches ``threshold``, the one kept has the largest product of density
and coverage (the share of all the points of interest that it holds): a box as pure and as
complete as the points allow, not the loosest box that just reaches the threshold.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Box:
    """A PRIM box: ``limits`` maps each restricted uncertainty to its (low, high) in the
    box (``None`` for a side that is not restricted); ``coverage`` and ``density`` as in
    PRIM; ``n`` points inside the box; ``of_interest`` of the ``total`` points."""

    limits: dict[str, tuple[float | None, float | None]]
    coverage: float
    density: float
    n: int
    of_interest: int
    total: int

    def contains(self, x: pd.DataFrame) -> np.ndarray:
        inside = np.ones(len(x), bool)
        for k, (lo, hi) in self.limits.items():
            if lo is not None:
                inside &= x[k].to_numpy(float) >= lo
            if hi is not None:
                inside &= x[k].to_numpy(float) <= hi
        return inside

    def bounds_text(self, digits: int = 3) -> str:
        """The restrictions in words: "a < 0.3 and b > 0.6"."""
        parts = []
        for k, (lo, hi) in self.limits.items():
            if lo is not None and hi is not None:
                parts.append(f"{lo:.{digits}g} < {k} < {hi:.{digits}g}")
            elif lo is not None:
                parts.append(f"{k} > {lo:.{digits}g}")
            elif hi is not None:
                parts.append(f"{k} < {hi:.{digits}g}")
        return " and ".join(parts) or "anywhere"

    def describe(self, what: str = "the verdict reverses", unit: str = "worlds") -> str:
        """In words, e.g. "engagement loses money when x < 0.1 and y < 0.3 (coverage ...)";
        ``unit`` names the points (``"emulated worlds"`` for :func:`.emulated_points`)."""
        where = f"when {self.bounds_text()}" if self.limits else "with no box narrower than all"
        return (
            f"{what} {where} (coverage {self.coverage:.0%}: the box holds "
            f"{round(self.coverage * self.of_interest)} of the {self.of_interest} such {unit}; "
            f"density {self.density:.0%} of its {self.n} {unit})"
        )


def prim_box(
    x: pd.DataFrame,
    y: np.ndarray,
    threshold: float = 0.8,
    mass_min: float = 0.05,
    peel_alpha: float = 0.05,
) -> Box:
    """The PRIM box of the points ``x`` (one column per uncertainty) where ``y`` (boolean)
    holds: of the boxes on the peeling trajectory whose density reaches ``threshold``, the
    one with the largest coverage x density (the densest box if none reaches it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

    y = np.asarray(y, bool)
    x = x.reset_index(drop=True).astype(float)
    if y.sum() == 0:
        raise ValueError("no points of interest: the verdict never reverses")
    logging.getLogger("EMA").setLevel(logging.WARNING)
    with warnings.catch_warnings():  # ema_workbench 2.5 uses pandas' deprecated inplace
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        finder = prim.Prim(x, y, threshold=threshold, mass_min=mass_min, peel_alpha=peel_alpha)
        box = finder.find_box()
    traj = box.peeling_trajectory
    good = traj[traj["density"] >= threshold]
    score = good["coverage"] * good["density"]
    i = int(score.idxmax() if len(good) else traj["density"].idxmax())
    lims, init = box.box_lims[i], finder.box_init
    limits: dict[str, tuple[float | None, float | None]] = {}
    for k in x.columns:
        lo, hi = float(lims.at[0, k]), float(lims.at[1, k])
        lo0, hi0 = float(init.at[0, k]), float(init.at[1, k])
        if lo > lo0 or hi < hi0:
            limits[k] = (lo if lo > lo0 else None, hi if hi < hi0 else None)
    return Box(
        limits=limits,
        coverage=float(traj.at[i, "coverage"]),
        density=float(traj.at[i, "density"]),
        n=int(traj.at[i, "n"]),
        of_interest=int(y.sum()),
        total=len(y),
    )


def reversal_box(
    points: pd.DataFrame, names: list[str], effect: str, threshold: float = 0.8, **kw: float
) -> Box:
    """The PRIM box where ``effect`` (a column of ``points``: measured worlds, or emulator
    samples over the not-ruled-out box) is below zero, over the uncertainties ``names``."""
    return prim_box(points[names], points[effect].to_numpy(float) < 0, threshold, **kw)
