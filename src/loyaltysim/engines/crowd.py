"""The agent engine (``engine=agents``): the market's customer phases played by Mesa agents.

:class:`Crowd` makes one :class:`~loyaltysim.engines.agents.Customer` per person in the pool and
activates them through Mesa's ``AgentSet`` in a fixed order (by customer id) at the three
moments of the week where customers act. Its methods have the contracts of the vectorised
rules they replace, so the market calls either engine the same way:

- :meth:`Crowd.purchase_step` (phase 5) like :func:`loyaltysim.model.purchases.purchase_step`:
  each customer's :meth:`~loyaltysim.engines.agents.Customer.step`;
- :meth:`Crowd.referral_step` (phase 7) like :func:`loyaltysim.model.referrals.referral_step`:
  each active customer's :meth:`~loyaltysim.engines.agents.Customer.recommend`, then each
  recommended neighbour hears it (or, a prospect, may join);
- :meth:`Crowd.decay_memory` (phase 9) like :func:`loyaltysim.model.memory.decay_memory`:
  every agent's :meth:`~loyaltysim.engines.agents.Customer.forget` (customers forget; departed
  customers and prospects keep their memory as it is).

Both engines use the same random numbers (the same counter-based draw per person and week,
the other streams in the same order) and give the same results (the tests compare the
metrics tables of every programme type).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.memory import MemoryParams
from ..model.mesa_core import Model
from ..model.network import Network
from ..model.population import ACTIVE, PROSPECT, Population
from ..model.purchases import ChoiceParams
from ..model.referrals import ReferralParams, Referrals
from ..model.status import StatusRules
from ..model.trades import Draws, Outcome, Terms
from .agents import Customer, Week
from .engine import ArrayRules

DTYPES = {"buyers": np.int64, "firm": np.int64, "prev_firm": np.int32, "prev_home": np.int32}
DTYPES |= {"home": np.int32, "trips": np.int64, "member": bool, "failed": bool, "left": bool}
DTYPES |= {"was_loyal": bool, "was_active": bool}


class Crowd(ArrayRules):
    """The customers of one market as Mesa agents, with the phase methods the market calls:
    the agents' purchase, referral and memory rules; the engine's ``trade`` and ``settle``
    (the step's flows and stock metrics) are inherited from :class:`ArrayRules`."""

    def __init__(self, model: Model) -> None:
        self.model = model
        for row in range(model.population.size):
            Customer(model, row)
        self.agents = model.agents_by_type[Customer]
        self.people: list[Customer] = list(self.agents)  # by row: customer id = row
        self.watched: list[Customer] = []

    def __getitem__(self, row: int) -> Customer:
        return self.people[row]

    # ------------------------------------------------------------------ phase 5
    def purchase_step(
        self,
        pop: Population,
        rows: np.ndarray,
        terms: Terms,
        draws: Draws,
        week: int,
        dt: float,
        choice: ChoiceParams,
        memory: MemoryParams,
        rules: StatusRules = StatusRules(),  # noqa: B008
    ) -> Outcome:
        """Every active customer's week at the shops (``rows``: the active customers, in
        order; the agents check their own status)."""
        self.model.this_week = Week(week, dt, terms, draws, choice, memory, rules)
        bought = [b for b in self.agents.map("step") if b is not None]
        return Outcome(
            **{
                name: np.array([b[name] for b in bought], DTYPES.get(name, float))
                for name in Outcome.__dataclass_fields__
            }
        )

    # ------------------------------------------------------------------ phase 7
    def referral_step(
        self,
        pop: Population,
        net: Network,
        rows: np.ndarray,
        params: ReferralParams,
        wom: np.ndarray,
        boost: np.ndarray,
        dt: float,
        rng: np.random.Generator,
        week: int = 0,
    ) -> Referrals:
        """Recommendations by the active customers ``rows`` (S8), drawing from ``rng`` what
        :func:`~loyaltysim.model.referrals.referral_step` draws: one uniform per active customer,
        then, per referrer, one to pick the neighbour and one for a prospect's conversion."""
        u = rng.random(rows.size)
        rate = params.rate * dt
        says = [
            (self[r], self[r].recommend(x, rate, wom, boost)) for r, x in zip(rows, u, strict=True)
        ]
        said = [(c, firm) for c, firm in says if firm >= 0]
        pick = rng.random(len(said))
        convert = rng.random(len(said)) < params.conversion
        joined: dict[int, int] = {}  # prospect -> the first firm recommended to them
        for (c, firm), x, yes in zip(said, pick, convert, strict=True):
            c.last_interaction[firm] = week  # a recommendation is an act of loyalty (S8)
            c.referrals += 1
            friend = int(net.neighbour(np.array([c.row]), np.array([x]))[0])
            if friend < 0:
                continue
            other = self[friend]
            if other.status == ACTIVE:
                other.hear(firm, params.wom_gain)
            elif other.status == PROSPECT and yes:
                joined.setdefault(friend, firm)
        referrers = np.array([c.row for c, _ in said], np.int64)
        firms = np.array([f for _, f in said], np.int64)
        new = np.array(sorted(joined), np.int64)
        return Referrals(referrers, firms, new, np.array([joined[r] for r in new], np.int64))

    # ------------------------------------------------------------------ phase 9
    def decay_memory(
        self, pop: Population, decay: float, forget: np.ndarray, forget_rows: np.ndarray
    ) -> None:
        """End of the week for everyone: engagement fades, the forgetful forget (S6)."""
        rates = forget.tolist()
        for c in self.agents:
            c.forget(decay, rates[c.segment])
        for c in self.watched:
            c.diary += _entries(self.model.week, c)

    # --------------------------------------------------------------- inspection
    def watch(self, row: int) -> Customer:
        """Keep a diary of customer ``row``'s memory of each firm at the end of every step
        from now on (:func:`diary_frame`)."""
        c = self[row]
        if c.diary is None:
            c.diary = _entries(self.model.week, c)
            self.watched.append(c)
        return c


def _entries(week: int, c: Customer) -> list[dict]:
    return [{"week": week, "firm": firm, **values} for firm, values in c.memory().items()]


def diary_frame(customer: Customer) -> pd.DataFrame:
    """A watched customer's diary: one row per week and firm, with engagement, g(E),
    habit loyalty and membership."""
    return memory_frame(customer.diary or [])


def memory_frame(entries: list[dict]) -> pd.DataFrame:
    """Diary entries (week, firm, engagement, g, loyalty, member) as a table."""
    return pd.DataFrame(entries, columns=["week", "firm", "engagement", "g", "loyalty", "member"])


def take_over(model: Model) -> Crowd:
    """From now on, Mesa agents play the customers of ``model`` (built with either engine):
    benchmarks warm a market up with arrays, then time both engines from the same state."""
    if model.crowd is None:
        model.crowd = Crowd(model)
        model.engine = model.crowd
    return model.crowd
