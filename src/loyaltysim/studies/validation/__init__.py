"""The validation suite: named checks of the model against closed forms and published
regularities, each with its source, target, measured value (mean and 95% CI over seeds) and
verdict (``pass``, ``fail`` or ``report`` for a claim under test, never pass/fail).

Run it with ``loyaltysim-validate`` (see :mod:`loyaltysim.studies.validation.cli`); the checks are
registered by the family modules imported at the bottom of this file:

- :mod:`.analytic`: closed-form limits (tenure, logit shares, conservation);
- :mod:`.bgnbd`: a BG/NBD round trip on the transaction log (Fader, Hardie & Lee 2005);
- :mod:`.ehrenberg`: double jeopardy, polygamy, main-firm switching;
- :mod:`.lockin`: where lock-in to one firm sets in as the loyalty weight rises;
- :mod:`.programme`: passive:active ratio (S6), programme effect sizes, Liu (2007);
- :mod:`.stationarity`: no trend in the no-programme market.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .common import Context, Measured, Result, summarise_values


@dataclass(frozen=True)
class Check:
    name: str
    family: str
    source: str
    target: str
    fn: Callable[[Context], Measured] = field(repr=False)

    def run(self, ctx: Context) -> Result:
        import time

        start = time.perf_counter()
        m = self.fn(ctx)
        return Result(
            name=self.name,
            family=self.family,
            source=self.source,
            target=self.target,
            headline=m.headline,
            measured=summarise_values(m.values),
            verdict=m.verdict,
            evidence=m.evidence,
            seeds=list(ctx.seeds),
            seconds=round(time.perf_counter() - start, 1),
            figure=m.figure,
        )


REGISTRY: dict[str, Check] = {}


def check(name: str, family: str, source: str, target: str):
    """Register ``fn(ctx) -> Measured`` as the check ``name``."""

    def wrap(fn: Callable[[Context], Measured]) -> Callable[[Context], Measured]:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        REGISTRY[name] = Check(name, family, source, target, fn)
        return fn

    return wrap


from . import analytic, bgnbd, ehrenberg, lockin, programme, stationarity  # noqa: E402,F401

__all__ = ["REGISTRY", "Check", "Context", "Measured", "Result", "check"]
