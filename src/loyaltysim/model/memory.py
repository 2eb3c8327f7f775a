"""How customers remember firms (S3, S4, S6): engagement stocks and their decay, forgetting.

- *Engagement* E per customer and firm is a stock of positive minus negative touchpoints.
  Its effect saturates: ``g(E) = E / (1 + |E|)`` lies in (-1, 1). At the end of each step
  it decays with a half-life: ``E <- E * 0.5 ** (dt / half_life)``.
- *Habit* H per customer and firm: ``H <- a H + 1[bought there]`` at each purchase step, so
  each past purchase counts with weight a^age (memory a; Guadagni & Little's smoothing,
  unnormalised). Its effect on choice is the firm's *share of the remembered purchases*,
  shrunk toward indifference by a prior of ``k`` purchases spread evenly over the firms,
  ``L = H / (sum_f H_f + k)`` (:func:`habit_loyalty`). Memory and polygamy stay apart: a
  buyer's loyalty reflects *how* they split their purchases, not how long they remember;
  a longer memory holds more purchases and so a surer, more lasting loyalty (the prior
  weighs less), never a weaker one. (Normalised smoothing, ``L <- a L + (1-a) 1[bought]``,
  and a saturating ``H / (1 + H)`` both gave less loyalty for longer memory: issue 7.)
  Updated in :mod:`~loyaltysim.model.purchases`.
- *Forgetting* (S6): customers of a forgetful segment lose a share ``forget_rate`` of their
  habit each week for every firm that did not contact them.

:func:`decay_memory` is the reference for the compiled end of step
(:mod:`loyaltysim.engines.kernel`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import UNCERTAINTY, Params, param
from .population import ACTIVE, Population


@dataclass(frozen=True)
class MemoryParams(Params):
    """How customers remember firms (S3, S4, S6)."""

    engagement_half_life_weeks: float = param(
        12.0,
        lo=0,
        hi=1e4,
        lo_open=True,
        kind=UNCERTAINTY,
        unit="weeks",
        doc="half-life of the engagement stock",
        plausible=(4.0, 52.0),
        source="no direct estimate: effects of single experiences and contacts fade over "
        "weeks to about a year",
    )
    loyalty_smoothing: float = param(
        0.79,
        lo=0,
        hi=1,
        hi_open=True,
        kind=UNCERTAINTY,
        unit="per purchase step",
        doc="memory of the habit stock: the weight kept by each past purchase at every new "
        "purchase step",
        plausible=(0.6, 0.9),
        source="Guadagni & Little (1983) estimate about 0.8; brand-choice models use 0.6-0.9",
    )
    experience_gain: float = param(
        0.08,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="engagement",
        doc="engagement added by a purchase without failure (S3)",
        plausible=(0.0, 0.2),
        source="reason: a routine good purchase is a small positive touchpoint, well below "
        "a personal contact",
    )
    failure_penalty: float = param(
        1.0,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="engagement",
        doc="engagement removed by a service failure",
        plausible=(0.3, 2.0),
        source="reason: negative experiences weigh more than positive ones (negativity bias); "
        "size unknown",
    )

    def decay_factor(self, dt: float) -> float:
        """Share of the engagement stock left after ``dt`` weeks."""
        return 0.5 ** (dt / self.engagement_half_life_weeks)


def habit_loyalty(habit: np.ndarray, prior: float) -> np.ndarray:
    """Loyalty from habit, per customer (rows) and firm (columns), in [0, 1).

    The share of the customer's remembered (discounted) purchases made at each firm, with
    ``prior`` pseudo-purchases spread evenly over the firms: ``H_f / (sum_g H_g + prior)``
    (the even part of the prior is the same for every firm and drops out of the logit).
    A customer with no purchases in memory has loyalty 0 everywhere.
    """
    return habit / (habit.sum(axis=1, keepdims=True) + prior)


def engagement_g(e: np.ndarray) -> np.ndarray:
    """Engagement stock mapped to (-1, 1): g(E) = E / (1 + |E|)."""
    return e / (1.0 + np.abs(e))


def decay_memory(
    pop: Population, decay: float, forget: np.ndarray, forget_rows: np.ndarray
) -> None:
    """End-of-step memory of the active customers: engagement decays by its half-life;
    customers of a forgetful segment not contacted by a firm lose a share of their purchase
    loyalty to it (S6). A departed customer's memory stays as it was when they left (and no
    step touches them).

    Args:
        decay: share of engagement left after this step (:meth:`MemoryParams.decay_factor`).
        forget: weekly forget rate per segment (0..1).
        forget_rows: the people whose segment forgets; only the active ones are updated.
    """
    active = (pop.status == ACTIVE)[:, None]
    np.multiply(pop.engagement, decay, out=pop.engagement, where=active)
    rows = forget_rows[pop.status[forget_rows] == ACTIVE]
    if rows.size:
        rate = forget[pop.segment[rows]]
        keep = 1.0 - rate[:, None] * ~np.take(pop.contacted, rows, axis=0)
        pop.habit[rows] = np.take(pop.habit, rows, axis=0) * keep
