"""Loyalty programme types, selected by registry key (``firm/programme=<key>``).

Every module of this package is imported on first use, and so is every module named by a
``loyaltysim.programmes`` entry point of an installed distribution; each registers its
programme with ``@register("key")``. Adding a programme type therefore takes one module
here (or in a plugin package) plus one ``conf/programme/<key>.yaml``: no list to edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib import metadata

from .base import (
    REGISTRY,
    Programme,
    ProgrammeParams,
    StepContext,
    make_programme,
    params_class,
    register,
)

ENTRY_POINT_GROUP = "loyaltysim.programmes"


def discover() -> dict[str, type[Programme]]:
    """Import every programme module of this package and of installed plugins."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_") and info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        entry.load()
    return REGISTRY


discover()

__all__ = [
    "ENTRY_POINT_GROUP",
    "REGISTRY",
    "Programme",
    "ProgrammeParams",
    "StepContext",
    "discover",
    "make_programme",
    "params_class",
    "register",
]
