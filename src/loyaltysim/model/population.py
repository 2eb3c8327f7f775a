"""Customer state held as NumPy arrays, one row per person in the addressable market.

This module only holds state; the rules that change it live in their own modules
(:mod:`~loyaltysim.model.customers` draws it, :mod:`~loyaltysim.model.purchases`,
:mod:`~loyaltysim.model.memory`, :mod:`~loyaltysim.model.referrals`, the programmes and
poaching act on it).

The market has a fixed pool of people: the initial customers plus prospects who may later
join through paid acquisition or a referral. Each row's status is prospect, active customer
or gone (left the category; buy-till-you-die: no return). Rows are never reused, so a
customer's id is its row index and the final customer table covers everyone who ever bought.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROSPECT, ACTIVE, GONE = 0, 1, 2
NEVER = int(np.iinfo(np.int32).min)  # "no such week" in week arrays (weeks can be < 0)
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
    taste: np.ndarray  # (N, F) persistent utility of each firm to each person (heterogeneity)
    engagement: np.ndarray  # (N, F) stock of positive minus negative touchpoints (S3)
    habit: np.ndarray  # (N, F) habit stock: purchases at the firm, each weighted a^age (memory)
    points: np.ndarray  # (N, F) unredeemed programme points
    member: np.ndarray  # (N, F) bool: programme membership
    offer_until: np.ndarray  # (N, F) last week a poaching offer from the firm is valid; NEVER
    contacted: np.ndarray  # (N, F) bool: contacted by the firm this step (S6)
    last_interaction: np.ndarray  # (N, F) int32 week of the last interaction (S6, S10); NEVER
    recent: np.ndarray  # (N, F) purchases at each firm, decayed over the main-firm window
    recent_week: np.ndarray  # int32 week ``recent`` was last brought up to date
    last_firm: np.ndarray  # int32 firm of the last purchase (or the acquiring firm); -1 none
    home: np.ndarray  # int32 main firm: the firm's customer base (see purchases.update_main)
    challenger: np.ndarray  # int32 firm on top of ``recent`` that is not yet the main one; -1
    challenge_since: np.ndarray  # int32 week the challenger first came out on top
    trial_pending: np.ndarray  # bool: BG/NBD cohort member whose trial purchase is due
    last_loyal_week: np.ndarray  # int32 last purchase week the customer was loyal to main; NEVER
    last_loyal_active: np.ndarray  # bool: ... and active then (S6)
    joined_week: np.ndarray  # int32, NEVER for prospects
    left_week: np.ndarray  # int32, NEVER while not gone
    origin: np.ndarray  # int8: ORIGIN_INITIAL, ORIGIN_PAID or ORIGIN_REFERRAL
    purchases: np.ndarray  # int64 purchase occasions so far
    spend: np.ndarray  # EUR paid so far
    firm_spend: np.ndarray  # (N, F) EUR paid to each firm so far
    referrals: np.ndarray  # int64 recommendations made so far
    prospect_queue: np.ndarray  # random order in which paid acquisition reaches prospects
    queue_pos: int = 0
    # contact fatigue (programmes.engagement): (N, F) contacts from the firm, each weighted
    # by the fatigue decay per week since, as of ``fatigue_week``; zeros when not given
    fatigue: np.ndarray | None = None
    fatigue_week: np.ndarray | None = None  # (N, F) int32 week ``fatigue`` was brought up to
    opted_out: np.ndarray | None = None  # (N, F) bool: asked the firm for no more contacts

    def __post_init__(self) -> None:
        shape = self.engagement.shape
        if self.fatigue is None:
            self.fatigue = np.zeros(shape)
        if self.fatigue_week is None:
            self.fatigue_week = np.zeros(shape, np.int32)
        if self.opted_out is None:
            self.opted_out = np.zeros(shape, bool)

    @property
    def size(self) -> int:
        return self.status.shape[0]

    @property
    def n_firms(self) -> int:
        return self.engagement.shape[1]

    def active_index(self) -> np.ndarray:
        return np.flatnonzero(self.status == ACTIVE)

    def activate(self, rows: np.ndarray, firm: int, week: int, origin: int) -> None:
        """Turn prospects into customers of ``firm`` (paid acquisition or referral)."""
        self.status[rows] = ACTIVE
        self.joined_week[rows] = week
        self.origin[rows] = origin
        self.enter(rows, firm, week)

    def enter(self, rows: np.ndarray, firm: int, week: int) -> None:
        """Start ``rows`` as customers of ``firm`` the same way whatever brought them (week 0,
        paid, referral): one purchase's worth of habit and of recent history with it, and it
        as their main firm."""
        self.last_firm[rows] = firm
        self.home[rows] = firm
        self.habit[rows, firm] = 1.0
        self.recent[rows, firm] = 1.0
        self.recent_week[rows] = week
        self.challenger[rows] = -1

    def interacted(self, rows: np.ndarray, firm: int | np.ndarray, week: int) -> None:
        """Record an interaction of ``rows`` with ``firm`` in ``week`` (a recommendation and
        its thanks, a response to a contact or a surprise: S6, S10 count interactions)."""
        self.last_interaction[rows, firm] = week

    def requirement_shares(self, rows: np.ndarray) -> np.ndarray:
        """``(len(rows), F)``: each firm's share of the customer's recent purchases (share of
        category requirements over the main-firm window; 0 with no history)."""
        recent = np.take(self.recent, rows, axis=0)
        total = recent.sum(axis=1, keepdims=True)
        return np.divide(recent, total, out=np.zeros_like(recent), where=total > 0)

    def main_share(self, rows: np.ndarray, recent: np.ndarray | None = None) -> np.ndarray:
        """Share of each row's recent purchases made at its main firm (0 with no history).
        ``recent`` may pass the rows' history, already gathered, to save gathering it."""
        recent = np.take(self.recent, rows, axis=0) if recent is None else recent
        total = recent.sum(axis=1)
        at_main = recent[np.arange(rows.size), self.home[rows]]
        return np.divide(at_main, total, out=np.zeros_like(at_main), where=total > 0)

    def recently_interacted(
        self, rows: np.ndarray, firms: np.ndarray, week: int, window: int
    ) -> np.ndarray:
        """Whether each of ``rows`` interacted with its firm in ``firms`` within ``window``
        weeks before ``week`` (an *active* loyal customer, S6)."""
        return self.last_interaction[rows, firms] > week - window

    def reset_counters(self) -> None:
        """Start the observed period: purchases, spend and referrals count from here."""
        self.purchases[:] = 0
        self.spend[:] = 0.0
        self.firm_spend[:] = 0.0
        self.referrals[:] = 0

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
