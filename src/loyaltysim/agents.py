"""Mesa agent views of customers, made on demand from the population arrays.

The customers themselves are rows of NumPy arrays (:mod:`~loyaltysim.population`), so a
million-customer market needs no million Python objects; :meth:`Market.customer` gives a
:class:`CustomerAgent` for inspecting one of them.
"""

from __future__ import annotations

import mesa
import numpy as np

from .customers import SEGMENTS


class CustomerAgent(mesa.Agent):
    """A read-only Mesa view of one customer, made on demand from the population arrays."""

    def __init__(self, model: mesa.Model, row: int) -> None:
        super().__init__(model)
        self.row = row

    def _firm_dict(self, array: np.ndarray) -> dict[str, float]:
        return {f.name: array[self.row, f.index].item() for f in self.model.firms}

    @property
    def status(self) -> str:
        return ("prospect", "active", "gone")[int(self.model.population.status[self.row])]

    @property
    def segment(self) -> str:
        return SEGMENTS[int(self.model.population.segment[self.row])]

    @property
    def price_sensitivity(self) -> float:
        return float(self.model.population.price_sensitivity[self.row])

    @property
    def engagement(self) -> dict[str, float]:
        return self._firm_dict(self.model.population.engagement)

    @property
    def loyalty(self) -> dict[str, float]:
        return self._firm_dict(self.model.population.habit)

    @property
    def member(self) -> dict[str, bool]:
        return self._firm_dict(self.model.population.member)

    @property
    def main_firm(self) -> str | None:
        f = int(self.model.population.home[self.row])
        return self.model.firms[f].name if f >= 0 else None

    def __repr__(self) -> str:
        return f"CustomerAgent(id={self.row}, {self.status}, {self.segment}, main={self.main_firm})"
