"""Firms as Mesa agents: price, costs, service, acquisition and pricing policy (S5, S12)."""

from __future__ import annotations

import mesa
import numpy as np

from .config import FirmParams
from .programmes import Programme


class Firm(mesa.Agent):
    """A firm in the market. Index 0 is the focal firm; the others are competitors.

    Attributes:
        price: current list price, EUR per unit (changes under adaptive pricing, S12).
        programme: its loyalty programme (``none``, ``discount``, ``engagement``, ...).
        cumulative_profit: EUR since week 0.
    """

    def __init__(self, model: mesa.Model, index: int, params: FirmParams, programme: Programme):
        super().__init__(model)
        self.index = index
        self.params = params
        self.name = params.name
        self.price = params.price
        self.programme = programme
        self.cumulative_profit = 0.0
        self._window_profit = 0.0
        self._previous_window: float | None = None
        self._direction = 1.0

    @property
    def role(self) -> str:
        return "focal" if self.index == 0 else "competitor"

    @property
    def failure_rate(self) -> float:
        return 1.0 - self.params.service_quality

    def book_profit(self, profit: float) -> None:
        self.cumulative_profit += profit
        self._window_profit += profit

    def review_price(self, week: int) -> None:
        """Adaptive pricing (S12): every ``interval_weeks`` keep moving the price in the
        direction that raised profit over the last window, else turn back; stay in bounds."""
        p = self.params.pricing
        if p.policy != "adaptive" or week == 0 or week % p.interval_weeks:
            return
        if self._previous_window is not None and self._window_profit < self._previous_window:
            self._direction = -self._direction
        self._previous_window = self._window_profit
        self._window_profit = 0.0
        self.price = float(
            np.clip(self.price + self._direction * p.step_eur, p.min_price, p.max_price)
        )

    def poaching_active(self, week: int) -> bool:
        po = self.params.poaching
        return po.rate > 0 and week >= po.start_week

    def acquisition_cost(self, n_poachers: int, crowding: float) -> float:
        """EUR per acquired customer; rises with every firm making poaching offers (S5)."""
        return self.params.acquisition.cost_per_customer * (1.0 + crowding * n_poachers)
