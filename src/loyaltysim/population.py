"""Customer state held as NumPy arrays, one row per person in the addressable market.

This module only holds state; the rules that change it live in their own modules
(:mod:`~loyaltysim.customers` draws it, :mod:`~loyaltysim.purchases`,
:mod:`~loyaltysim.memory`, :mod:`~loyaltysim.referrals`, the programmes and poaching act on
it).

The market has a fixed pool of people: the initial customers plus prospects who may later
join through paid acquisition or a referral. Each row's status is prospect, active customer
or gone (left the category; buy-till-you-die: no return). Rows are never reused, so a
customer's id is its row index and the final customer table covers everyone who ever bought.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROSPECT, ACTIVE, GONE = 0, 1, 2
ORIGIN_INITIAL, ORIGIN_PAID, ORIGIN_REFERRAL = 0, 1, 2
ORIGINS = ("initial", "paid", "referral")


@dataclass
class Population:
    """Arrays describing every person; shapes are ``(N,)`` or ``(N, F)`` for F firms."""

    status: np.ndarray  # int8: PROSPECT, ACTIVE or GONE
    price_sensitivity: np.ndarray  # utility lost per EUR of unit price (>0)
    purchase_rate: np.ndarray  # category purchases per week (gamma across people)
    dropout: np.ndarray  # probability of leaving the category after a purchase (beta)
    basket: np.ndarray  # units per purchase
    segment: np.ndarray  # int8 index into customers.SEGMENTS (S10)
    engagement: np.ndarray  # (N, F) stock of positive minus negative touchpoints (S3)
    loyalty: np.ndarray  # (N, F) exponentially smoothed share of past choices
    points: np.ndarray  # (N, F) unredeemed programme points
    member: np.ndarray  # (N, F) bool: programme membership
    offer_until: np.ndarray  # (N, F) last week a poaching offer from the firm is valid; -1 none
    contacted: np.ndarray  # (N, F) bool: contacted by the firm this step (S6)
    last_firm: np.ndarray  # int32 firm of the last purchase (or the acquiring firm); -1 none
    home: np.ndarray  # int32 home firm: highest purchase loyalty (the firm's customer base)
    joined_week: np.ndarray  # int32, -1 for prospects
    left_week: np.ndarray  # int32, -1 while not gone
    origin: np.ndarray  # int8: ORIGIN_INITIAL, ORIGIN_PAID or ORIGIN_REFERRAL
    purchases: np.ndarray  # int64 purchase occasions so far
    spend: np.ndarray  # EUR paid so far
    firm_spend: np.ndarray  # (N, F) EUR paid to each firm so far
    referrals: np.ndarray  # int64 recommendations made so far
    prospect_queue: np.ndarray  # random order in which paid acquisition reaches prospects
    queue_pos: int = 0

    @property
    def size(self) -> int:
        return self.status.shape[0]

    @property
    def n_firms(self) -> int:
        return self.engagement.shape[1]

    def active_index(self) -> np.ndarray:
        return np.flatnonzero(self.status == ACTIVE)

    def activate(self, rows: np.ndarray, firm: int, week: int, origin: int, loyalty: float) -> None:
        """Turn prospects into customers of ``firm`` (paid acquisition or referral), starting
        with purchase loyalty ``loyalty`` to it."""
        self.status[rows] = ACTIVE
        self.last_firm[rows] = firm
        self.home[rows] = firm
        self.joined_week[rows] = week
        self.origin[rows] = origin
        self.loyalty[rows, firm] = loyalty

    def take_prospects(self, k: int) -> np.ndarray:
        """The next ``k`` people still outside the category, in the acquisition queue's order."""
        out: list[np.ndarray] = []
        need = k
        q = self.prospect_queue
        while need > 0 and self.queue_pos < q.size:
            window = q[self.queue_pos : self.queue_pos + 2 * need]
            ok = window[self.status[window] == PROSPECT]
            take = ok[:need]
            if take.size == need:
                # advance just past the last one taken
                self.queue_pos += int(np.flatnonzero(window == take[-1])[0]) + 1
            else:
                self.queue_pos += window.size
            out.append(take)
            need -= take.size
        return np.concatenate(out) if out else np.empty(0, dtype=np.int64)
