"""Valid configs that do something a user may not expect, each said in one sentence
before a run (:class:`~.params.ConfigWarning`, warned by ``run_one``)."""

from __future__ import annotations

from typing import Any

from .customers import SEGMENTS


def cautions(cfg: Any) -> list[str]:
    """What this valid config does that a user may not expect, one sentence each;
    :func:`~loyaltysim.runs.runner.run_one` warns them (:class:`ConfigWarning`).

    Warned, not refused: both are meaningful set-ups (a segment out of every
    programme's reach; a monopoly point of a sweep over ``competitor.count``) whose
    effect is simply that something does not happen."""
    notes = []
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
