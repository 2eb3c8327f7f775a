"""Status conventions: which firm is a customer's main firm, and who counts as loyal and as
active (S6, S9, S10).

- *Main firm*: the firm with the most purchases in the customer's recent history (counts
  decayed weekly, half-life ``market.main_window_weeks``); another firm becomes the main
  firm only once it has stayed on top for ``market.main_persistence_weeks``. A change of
  main firm is a defection (churn to a competitor): real and lasting, not a passing flip.
  A firm's customers are those whose main firm it is.
- *Loyal*: the main firm's share of the customer's recent purchases (share of category
  requirements) is at least ``market.loyal_threshold``.
- *Active* loyal: loyal and interacted with the main firm (recommended it, or responded to
  a contact or a surprise) within ``market.active_window_weeks``; a contact, surprise or
  tier recognition the customer does not answer is no interaction;
  otherwise *passive* loyal (S6; S10: count interactions).
- A defector *was loyal* if they were loyal to their old main firm at a purchase within
  ``main_persistence + active_window`` weeks before the defection (by then the challenger
  has overtaken, so nobody is loyal at the moment of defection), and *was active* if they
  were active at that last loyal purchase (S6: passive vs active loyal defectors).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .population import Population


@dataclass(frozen=True)
class StatusRules:
    """The market's conventions for status (from :class:`~loyaltysim.model.config.MarketParams`).

    Attributes:
        loyal_threshold: share of recent purchases at the main firm from which a customer is
            loyal (share of category requirements).
        active_window: weeks within which an interaction makes a loyal customer active (S6).
        main_decay: weekly decay of the purchase history that decides the main firm.
        main_persistence: weeks a challenger must stay on top to become the main firm.
        cohort: a BG/NBD cohort (trial purchase, drop-out after repeat purchases only).
    """

    loyal_threshold: float = 0.6
    active_window: int = 13
    main_decay: float = 0.5 ** (1 / 26)
    main_persistence: int = 13
    cohort: bool = False


def loyalty_status(
    pop: Population,
    rows: np.ndarray,
    week: int,
    loyal_threshold: float,
    active_window: int,
    recent: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(loyal, active)`` of ``rows`` toward their main firm in ``week``: loyal if the main
    firm has at least ``loyal_threshold`` of their recent purchases, active if also
    interacted with it within ``active_window`` weeks (``recent``: the rows' gathered
    purchase history, if at hand)."""
    loyal = pop.main_share(rows, recent) >= loyal_threshold
    return loyal, loyal & pop.recently_interacted(rows, pop.home[rows], week, active_window)


def loyal_before(
    pop: Population, b: np.ndarray, recent: np.ndarray, week: int, rules: StatusRules
) -> tuple[np.ndarray, np.ndarray]:
    """Record buyers ``b``'s status toward their main firm before this step's purchases
    (``recent``: their purchase history, gathered) and return ``(was_loyal, was_active)``:
    loyal (and active) at a purchase lately (see the module docstring), which is what a
    defection is split by."""
    loyal_now, active_now = loyalty_status(
        pop, b, week, rules.loyal_threshold, rules.active_window, recent
    )
    pop.last_loyal_week[b[loyal_now]] = week
    pop.last_loyal_active[b[loyal_now]] = active_now[loyal_now]
    lookback = rules.main_persistence + rules.active_window
    was_loyal = pop.last_loyal_week[b] > week - lookback
    return was_loyal, was_loyal & pop.last_loyal_active[b]


def update_main(
    pop: Population,
    b: np.ndarray,
    recent: np.ndarray,
    c: np.ndarray,
    k: np.ndarray,
    week: int,
    rules: StatusRules,
) -> np.ndarray:
    """Main firm of buyers ``b`` after buying ``k`` times at ``c`` in ``week``; brings their
    gathered purchase history ``recent`` up to date (in place), stores it, and returns the
    (possibly new) main firm of each buyer.

    The history counts purchases at each firm, decayed weekly; the firm on top becomes the
    main firm only once it has stayed on top for ``main_persistence`` weeks (a lasting
    change), so a single purchase elsewhere is no defection.
    """
    n_firms = pop.n_firms
    elapsed = week - pop.recent_week[b]
    recent *= (rules.main_decay**elapsed)[:, None]
    recent.ravel()[np.arange(b.size) * n_firms + c] += k
    pop.recent[b] = recent
    pop.recent_week[b] = week
    main = pop.home[b]
    top = top_firm(recent, main)  # the highest count; a tie keeps the main firm on top
    challenger = pop.challenger[b]
    since = pop.challenge_since[b]
    contested = top != main
    since = np.where(contested & (challenger != top), week, since)
    switch = contested & (week - since >= rules.main_persistence)
    main = np.where(switch, top, main).astype(np.int32)
    pop.challenger[b] = np.where(contested & ~switch, top, -1)
    pop.challenge_since[b] = since
    pop.home[b] = main
    return main


def top_firm(values: np.ndarray, current: np.ndarray) -> np.ndarray:
    """The firm with the highest value per row; a tie keeps ``current``."""
    cols = np.ascontiguousarray(values.T)
    home = current.astype(np.int32)
    top = cols[home, np.arange(home.size)] if home.size else np.zeros(0)
    for f, col in enumerate(cols):
        higher = col > top
        home[higher] = f
        top = np.where(higher, col, top)
    return home
