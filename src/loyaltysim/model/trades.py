"""The data of one step's trade: what firms offer (:class:`Terms`), the uniform draws that
decide customers' purchases (:class:`Draws`), and what each buyer did (:class:`Outcome`,
and :class:`FirmSales`, one firm's share of it, which that firm's programme sees).
The rule that turns terms and draws into outcomes is :mod:`loyaltysim.model.purchases`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .counters import Stream, week_key

# per-customer terms a programme may set: name -> one value per row asked for
PersonalTerms = Callable[[np.ndarray], Mapping[str, np.ndarray]]


@dataclass
class Terms:
    """What each firm offers this step; every array has one entry per firm (EUR, fractions).

    ``personal`` maps a firm to a function giving per-customer ``rebate`` and/or
    ``points_per_eur`` for a set of rows (tiers); firms not in it offer every member the
    same terms.
    """

    price: np.ndarray  # list price per unit
    rebate: np.ndarray  # fraction off list price for members (discount programme, rebate mode)
    points_per_eur: np.ndarray  # points earned per EUR paid by members
    point_value: np.ndarray  # EUR per point at redemption
    threshold: np.ndarray  # points needed to redeem one reward (inf: no points scheme)
    points_keep: np.ndarray  # 1 - breakage: share of earned points that stay redeemable
    offer_depth: np.ndarray  # fraction off list price for holders of a valid poaching offer
    failure: np.ndarray  # probability that a purchase meets a service failure
    personal: dict[int, PersonalTerms] = field(default_factory=dict)
    # which firms are in the market this step (None: all); a firm before its entry week
    # cannot be chosen
    open: np.ndarray | None = None

    def reward_eur(self) -> np.ndarray:
        """EUR value of one reward per firm (0 where there is no points scheme)."""
        finite = np.isfinite(self.threshold)
        return np.where(finite, np.where(finite, self.threshold, 0.0) * self.point_value, 0.0)

    def member_rates(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(rebate, points_per_eur)`` for ``rows``: ``(len(rows), F)`` arrays where a firm
        sets per-customer terms, else the per-firm ``(F,)`` arrays (they broadcast alike)."""
        if not self.personal:
            return self.rebate, self.points_per_eur
        rebate = np.repeat(self.rebate[None, :], rows.size, axis=0)
        earn = np.repeat(self.points_per_eur[None, :], rows.size, axis=0)
        for f, fn in self.personal.items():
            values = fn(rows)
            if "rebate" in values:
                rebate[:, f] = values["rebate"]
            if "points_per_eur" in values:
                earn[:, f] = values["points_per_eur"]
        return rebate, earn

    @classmethod
    def plain(cls, price: np.ndarray, failure: np.ndarray) -> Terms:
        f = len(price)
        zeros = np.zeros(f)
        return cls(
            price=np.asarray(price, float),
            rebate=zeros.copy(),
            points_per_eur=zeros.copy(),
            point_value=zeros.copy(),
            threshold=np.full(f, np.inf),
            points_keep=np.ones(f),
            offer_depth=zeros.copy(),
            failure=np.asarray(failure, float),
        )


@dataclass(frozen=True)
class Draws:
    """The step's uniform draws of the purchase, choice, service and churn streams: each
    field gives a person's draw as ``draws.choice[rows]`` (counter-based, computed on
    demand from the stream, the week and the person: :mod:`~loyaltysim.model.counters`; common
    random numbers across arms)."""

    trips: Stream
    choice: Stream
    failure: Stream
    churn: Stream

    @classmethod
    def for_week(cls, keys: Mapping[str, int], week: int) -> Draws:
        """The draws of ``week`` from the streams' keys (``trips``, ``choice``, ``failure``,
        ``churn``: :meth:`~loyaltysim.model.streams.Streams.key`)."""
        return cls(**{name: Stream(week_key(keys[name], week)) for name in DRAW_STREAMS})


# the fields of Draws and the mechanisms (loyaltysim.model.streams) whose keys they use
DRAW_STREAMS = {"trips": "purchase", "choice": "choice", "failure": "service", "churn": "churn"}


@dataclass
class Outcome:
    """What happened to each buyer this step; arrays are aligned with ``buyers``."""

    buyers: np.ndarray  # row indices
    firm: np.ndarray  # chosen firm
    prev_firm: np.ndarray  # firm of the previous purchase (-1: none)
    prev_home: np.ndarray  # home firm before this step's purchases
    home: np.ndarray  # home firm after them (changes: churn to a competitor)
    was_loyal: np.ndarray  # bool: loyal to the old home firm before this step (L >= threshold)
    was_active: np.ndarray  # bool: ... and engaged with it (g >= threshold): active loyal (S6)
    trips: np.ndarray  # purchase occasions this step (>= 1)
    units: np.ndarray
    list_value: np.ndarray  # EUR at list price
    rebate: np.ndarray  # EUR off as programme rebate
    offer: np.ndarray  # EUR off as poaching offer
    redeemed: np.ndarray  # EUR off as points redemption
    paid: np.ndarray  # EUR paid
    points_earned: np.ndarray
    member: np.ndarray  # bool: member of the chosen firm's programme at the purchase
    failed: np.ndarray  # bool: service failure
    left: np.ndarray  # bool: left the category after this step's purchases

    def for_firm(self, firm: int) -> FirmSales:
        """This step's purchases made at ``firm`` (what its programme sees)."""
        return FirmSales(self, firm)


class FirmSales:
    """The purchases of one firm in one step: the :class:`Outcome` fields, restricted to the
    buyers who chose that firm (``sales.buyers``, ``sales.paid``, ``sales.units``, ...).
    Fields are sliced when first read."""

    def __init__(self, outcome: Outcome, firm: int) -> None:
        self.firm = firm
        self._outcome = outcome
        self._index = np.flatnonzero(outcome.firm == firm)

    def __len__(self) -> int:
        return self._index.size

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_") or name not in Outcome.__dataclass_fields__:
            raise AttributeError(name)
        value = getattr(self._outcome, name)[self._index]
        setattr(self, name, value)
        return value
