"""One warm-up for many arms: the state of a market at week 0 (:class:`WarmStart`), and the
key (:func:`warmup_key`) that says which configs play the same warm-up.

The warm-up plays without programmes, offers or price reviews, so arms of a comparison that
differ only in those (or in the horizon) reach week 0 in the same state; a market built with
``Market(config, warm=...)`` starts from a copy of it instead of playing its own, with the
same results (``tests/test_warmstart.py``). :func:`loyaltysim.runs.ensemble.run_arms` uses it.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from ..model.config import SimConfig
from ..model.network import Network
from ..model.population import Population
from ..model.streams import Streams

# what the warm-up never reads of a firm: it plays without programmes, offers or price reviews
_AFTER_WARMUP_FIRM = ("programme", "poaching", "pricing")


def warmup_key(config: SimConfig) -> str:
    """A hash of everything in ``config`` the warm-up can depend on: the seed, the engine,
    the design, the customers, the market (but its horizon) and the firms (but their
    programmes, poaching offers and pricing policies, which act from week 0 on). Two configs
    with the same key play identical warm-ups, so they can share one (:class:`WarmStart`)."""

    def firm(params) -> dict[str, Any]:
        d = asdict(params)
        for name in _AFTER_WARMUP_FIRM:
            d.pop(name)
        return d

    market = asdict(config.market)
    market.pop("horizon_weeks")
    view = {
        "seed": config.seed,
        "design": config.design,
        "engine": config.engine,
        "customers": asdict(config.customers),
        "market": market,
        "firms": [firm(f) for f in config.firm_params()],
        "rivals": config.competitor.count,
    }
    return hashlib.sha256(repr(view).encode()).hexdigest()


@dataclass
class WarmStart:
    """A market's state at week 0, after its warm-up: what every market of the same
    :func:`warmup_key` starts from (``Market(config, warm=...)``, which copies it), so that
    arms of a comparison that differ only from week 0 play the warm-up once. The copy of the
    population and of the random streams makes an arm's run bit-identical to one that
    played its own warm-up (tests/test_warmstart.py)."""

    key: str
    population: Population
    network: Network  # read only by the market: shared, not copied
    streams: Streams  # after the warm-up
    mesa_state: dict  # the Mesa stream before Mesa's Model drew its seed from it

    @classmethod
    def of(cls, model: Any, copy_state: bool = True) -> WarmStart:
        """The warm start of ``model`` (a :class:`~loyaltysim.engines.market.Market` that has
        not stepped yet, engine=arrays). ``copy_state=False`` takes the model's own arrays
        (for a model thrown away after)."""
        if model.steps or model.crowd is not None:
            raise ValueError("a warm start is taken from an unstepped market, engine=arrays")
        take = copy.deepcopy if copy_state else (lambda x: x)
        return cls(
            warmup_key(model.config),
            take(model.population),
            model.network,
            copy.deepcopy(model.streams),
            model._mesa_state,
        )
