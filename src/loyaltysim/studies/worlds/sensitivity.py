"""Global sensitivity of an effect to the uncertainties: Sobol indices (SALib) computed on
an emulator fitted to the measured worlds.

The worlds that were run are few (tens), too few for Sobol's estimator directly; as the
calibration does for its statistics (:func:`loyaltysim.studies.calibration.sample.features`),
a quadratic response surface (ridge least squares) is fitted to the effect in each measured
world, and Sobol's indices are estimated on that surface over a box of the not-ruled-out
space: by default the range of the measured (accepted) worlds in each uncertainty.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from loyaltysim.studies.calibration.sample import features


@dataclass(frozen=True)
class Emulator:
    """A quadratic response surface of an effect over the unit cube of ``bounds``."""

    names: tuple[str, ...]
    bounds: np.ndarray  # (d, 2): each uncertainty's low and high
    coef: np.ndarray
    rmse: float  # the residual spread over the measured worlds

    def unit(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self.bounds[:, 0], self.bounds[:, 1]
        return (np.asarray(x, float) - lo) / np.where(hi > lo, hi - lo, 1.0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The emulated effect at points ``x`` (rows; columns in the order of ``names``)."""
        return features(self.unit(np.atleast_2d(x))) @ self.coef


def box_of(worlds: pd.DataFrame, names: list[str]) -> dict[str, tuple[float, float]]:
    """The box spanned by the measured worlds: each uncertainty's min and max."""
    return {n: (float(worlds[n].min()), float(worlds[n].max())) for n in names}


def fit_emulator(
    worlds: pd.DataFrame,
    names: list[str],
    effect: str,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    ridge: float = 1e-3,
) -> Emulator:
    """Fit ``effect`` (a column of ``worlds``, one row per measured world) as a quadratic in
    the uncertainties ``names``, on the unit cube of ``bounds`` (default :func:`box_of`)."""
    bounds = dict(bounds or box_of(worlds, names))
    b = np.array([bounds[n] for n in names], float)
    ok = worlds[[*names, effect]].notna().all(axis=1)
    x, y = worlds.loc[ok, names].to_numpy(float), worlds.loc[ok, effect].to_numpy(float)
    emu = Emulator(tuple(names), b, np.zeros(0), 0.0)
    f = features(emu.unit(x))
    if len(f) < 2:
        raise ValueError("an emulator needs at least two measured worlds")
    penalty = ridge * len(f) * np.eye(f.shape[1])
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    coef = np.linalg.solve(f.T @ f + penalty, f.T @ y)
    rmse = float(np.sqrt(np.mean((y - f @ coef) ** 2)))
    return Emulator(tuple(names), b, coef, rmse)


def sobol_indices(
    model: Emulator | Callable[[np.ndarray], np.ndarray],
    bounds: Mapping[str, tuple[float, float]] | None = None,
    n: int = 1024,
    seed: int = 0,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """First-order (``S1``) and total (``ST``) Sobol indices of ``model`` over the box
    ``bounds`` (default: the emulator's own), with their bootstrap confidence half-widths
    (``S1_conf``, ``ST_conf``, at ``conf_level``), ranked by total index, most influential
    first. ``n`` is SALib's base sample (a power of two); the model is evaluated
    ``n * (d + 2)`` times, which costs nothing on an emulator."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    if bounds is None:
        if not isinstance(model, Emulator):
            raise ValueError("bounds are needed for a model that is not an Emulator")
        bounds = dict(zip(model.names, map(tuple, model.bounds), strict=True))
    names = list(bounds)
    problem = {"num_vars": len(names), "names": names, "bounds": [list(bounds[k]) for k in names]}
    x = sample.sample(problem, n, calc_second_order=False, seed=seed)
    y = np.asarray(model(x), float).ravel()
    res = analyze.analyze(
        problem,
        y,
        calc_second_order=False,
        conf_level=conf_level,
        seed=seed,
        print_to_console=False,
    )
    table = pd.DataFrame(
        {k: np.asarray(res[k], float) for k in ("S1", "S1_conf", "ST", "ST_conf")},
        index=pd.Index(names, name="uncertainty"),
    )
    for k in ("S1", "ST"):
        table[f"{k}_low"] = table[k] - table[f"{k}_conf"]
        table[f"{k}_high"] = table[k] + table[f"{k}_conf"]
    table = table.sort_values("ST", ascending=False)
    table["rank"] = np.arange(1, len(table) + 1)
    return table


def emulated_points(emulator: Emulator, effect: str, n: int = 4000, seed: int = 0) -> pd.DataFrame:
    """``n`` uniform points over the emulator's box with the emulated ``effect``: the dense
    sample on which :func:`.reversal_box` can peel where the measured worlds are too few."""
    rng = np.random.default_rng(seed)
    lo, hi = emulator.bounds[:, 0], emulator.bounds[:, 1]
    x = lo + rng.uniform(size=(n, len(lo))) * (hi - lo)
    return pd.DataFrame(x, columns=list(emulator.names)).assign(**{effect: emulator(x)})
