"""Competitors: ``count`` rival firms that share one set of settings (S6, S12).

Each rival is a :class:`~loyaltysim.model.firms.Firm` with its own price, programme
(``competitor/programme=<key>``) and poaching offers (:mod:`~loyaltysim.model.poaching`). Rivals
are named ``rival1``, ``rival2``, ... (``rival`` when there is one).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from .firms import FirmParams
from .params import CONSTANT, UNCERTAINTY, param


@dataclass(frozen=True)
class CompetitorParams(FirmParams):
    """Rival firms: ``count`` identical rivals, each with its own price, programme and offers."""

    name: str = param("rival", kind=CONSTANT, doc="name stem of the rivals")
    count: int = param(
        2,
        lo=0,
        hi=50,
        kind=UNCERTAINTY,
        unit="firms",
        doc="number of rival firms",
        plausible=(1.0, 4.0),
        source="reason: most categories have a handful of main stores or brands",
    )

    def rivals(self) -> list[FirmParams]:
        """One :class:`FirmParams` per rival, named ``rival1``, ``rival2``, ..."""
        values = {f.name: getattr(self, f.name) for f in fields(FirmParams)}
        names = (
            [self.name] if self.count == 1 else [f"{self.name}{i + 1}" for i in range(self.count)]
        )
        return [FirmParams(**{**values, "name": name}) for name in names]
