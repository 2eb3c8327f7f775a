"""The effect in each world against the two most influential uncertainties, coloured by its
sign, with the PRIM box where the verdict reverses (or the emulator's zero contour)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .discovery import Box
from .sensitivity import Emulator


def worlds_figure(
    worlds: pd.DataFrame,
    effect: str,
    axes: tuple[str, str],
    path: str | Path,
    box: Box | None = None,
    emulator: Emulator | None = None,
    title: str | None = None,
) -> Path:
    """Save to ``path`` a scatter of the worlds over the uncertainties ``axes`` (the two
    most influential: the first two rows of :func:`.sobol_indices`), each labelled with its
    effect and coloured by sign (green better, red worse); ``box`` is drawn as a dashed
    rectangle and, with an ``emulator``, its zero contour (the flip boundary) over the
    plane, the other uncertainties at their midpoints."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax_x, ax_y = axes
    x, y = worlds[ax_x].to_numpy(float), worlds[ax_y].to_numpy(float)
    e = worlds[effect].to_numpy(float)
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    colours = np.where(e > 0, "tab:green", "tab:red")
    ax.scatter(x, y, c=colours, s=40 + 8 * np.abs(e) / max(np.abs(e).max(), 1e-12) * 10)
    ax.margins(0.08)
    (lx, hx), (ly, hy) = ax.get_xlim(), ax.get_ylim()  # the worlds' extent, kept below
    for xi, yi, ei in zip(x, y, e, strict=True):
        ax.annotate(f"{ei:+.1f}", (xi, yi), textcoords="offset points", xytext=(5, 4), fontsize=7)
    if emulator is not None:
        names = list(emulator.names)
        gx = np.linspace(*emulator.bounds[names.index(ax_x)], 60)
        gy = np.linspace(*emulator.bounds[names.index(ax_y)], 60)
        mx, my = np.meshgrid(gx, gy)
        pts = np.tile(emulator.bounds.mean(axis=1), (mx.size, 1))
        pts[:, names.index(ax_x)], pts[:, names.index(ax_y)] = mx.ravel(), my.ravel()
        z = emulator(pts).reshape(mx.shape)
        if z.min() < 0 < z.max():
            ax.contour(mx, my, z, levels=[0.0], colors="k", linewidths=1)
    if box is not None:
        x0, x1 = box.limits.get(ax_x, (None, None))
        y0, y1 = box.limits.get(ax_y, (None, None))
        x0, x1 = lx if x0 is None else x0, hx if x1 is None else x1
        y0, y1 = ly if y0 is None else y0, hy if y1 is None else y1
        ax.add_patch(
            plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ls="--", ec="tab:red", lw=1.5)
        )
    ax.set_xlim(lx, hx)
    ax.set_ylim(ly, hy)
    ax.set_xlabel(ax_x)
    ax.set_ylabel(ax_y)
    ax.set_title(title or f"{effect} in each world (green: better, red: worse)", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
