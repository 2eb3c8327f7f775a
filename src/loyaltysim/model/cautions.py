"""Valid configs that do something a user may not expect, each said in one sentence
before a run (:class:`~.params.ConfigWarning`, warned by ``run_one``)."""

from __future__ import annotations

from typing import Any

from .customers import SEGMENTS


def cautions(cfg: Any) -> list[str]:
    """What this valid config does that a user may not expect, one sentence each;
    :func:`~loyaltysim.runs.runner.run_one` warns them (:class:`ConfigWarning`).

    Warned, not refused: each is a meaningful set-up (a segment out of every
    programme's reach; a monopoly point of a sweep over ``competitor.count``; a market of a
    handful of people, as in tests and in ``loyaltysim-fit``'s weekly cohorts) whose effect
    is simply that something does not happen, or happens less."""
    notes = []
    degree, people = cfg.customers.referral.network_degree, cfg.customers.pool_size
    if degree >= people:
        notes.append(
            f"customers.referral.network_degree = {degree}: the market has only {people:,} "
            "people (n x (1 + prospects_per_customer)), so each has at most "
            f"{max(people - 1, 0)} neighbours in the referral network"
        )
    for name in SEGMENTS:
        seg = getattr(cfg.customers.segments, name)
        if seg.share > 0 and not seg.channels:
            notes.append(
                f"customers.segments.{name}.channels = []: no channel reaches the {name} "
                f"segment ({seg.share:.0%} of people), so no programme contact or "
                "surprise reaches them (thanks for a referral still does)"
            )
    if len(cfg.firm_params()) == 1 and cfg.firm.poaching.rate > 0:
        notes.append(
            f"firm.poaching.rate = {cfg.firm.poaching.rate:g}: the market has no other "
            "firm (competitor.count = 0, no extra_firms), so no poaching offer goes out"
        )
    return notes
