"""Claim analyses of the experiments, one module per experiment.

A module ``loyaltysim.studies.analysis.<name>`` analyses the sweep of
``conf/experiment/<name>.yaml``.
It defines ``NUMBER`` (its place in ``results/README.md``), ``TITLE`` and

    analyse(collected, out_dir, sweep_dir) -> list[str]

which writes the experiment's tables and figures to ``out_dir`` and returns the claim
sentences (Markdown bullets, each naming the claim id it tests). ``collected`` is
:func:`loyaltysim.runs.collect.collect` of ``sweep_dir``. Modules are discovered: adding an
experiment's analysis is adding its module, nothing else.

    from loyaltysim.studies.analysis import EXPERIMENTS, analyse
    sentences = analyse("withdrawal", collect(sweep_dir), Path("results/withdrawal"), sweep_dir)
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import ModuleType

from ...runs.collect import Collected
from .common import AnalysisError, write_readme

__all__ = ["EXPERIMENTS", "AnalysisError", "analyse", "titles", "write_readme"]


def _discover() -> dict[str, ModuleType]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name == "common" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(module, "analyse", None)):
            found.append(module)
    found.sort(key=lambda m: (m.NUMBER, m.__name__))
    return {m.__name__.rsplit(".", 1)[1]: m for m in found}


EXPERIMENTS: dict[str, ModuleType] = _discover()


def titles() -> dict[str, str]:
    """Experiment name -> section title of the results README ("1. ..."), in order."""
    return {name: f"{m.NUMBER}. {m.TITLE}" for name, m in EXPERIMENTS.items()}


def analyse(name: str, collected: Collected, out_dir: Path, sweep_dir: Path) -> list[str]:
    """Run the analysis of experiment ``name``; returns its claim sentences."""
    if name not in EXPERIMENTS:
        raise AnalysisError(f"no analysis for experiment {name!r}; known: {list(EXPERIMENTS)}")
    return EXPERIMENTS[name].analyse(collected, Path(out_dir), Path(sweep_dir))
