"""Random streams: one root seed, one independent ``numpy.random.Generator`` per mechanism.

Each mechanism (population draw, purchase timing, firm choice, service failures, drop-out,
each firm's programme, each firm's poaching, referrals, acquisition) has its own stream,
identified by a fixed spawn key. Two arms of a comparison that share the seed therefore share
every draw of every mechanism they do not change (common random numbers): switching on a
programme changes the programme stream's use, not the customers' purchase or choice draws.
Replications use different seeds, hence independent streams (NumPy's SeedSequence design;
no ``seed + i``). The customers' weekly draws (purchase, choice, service, churn) are
counter-based instead (:meth:`Streams.key`, :mod:`~loyaltysim.model.counters`): a hash of the
stream's key, the week and the person, computed only for the people who need one.
"""

from __future__ import annotations

import numpy as np

MECHANISMS = {
    "population": 0,
    "network": 1,
    "purchase": 2,
    "choice": 3,
    "service": 4,
    "churn": 5,
    "referral": 6,
    "acquisition": 7,
    "mesa": 8,
    "programme": 9,  # one child per firm
    "poaching": 10,  # one child per firm
    "timing": 11,  # days of purchases within a step (transaction log only)
    "taste": 12,  # one child per firm: persistent tastes for it
}


class Streams:
    """Named generators spawned from ``seed``; ``spawn_keys`` records them for the manifest."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self.spawn_keys: dict[str, tuple[int, ...]] = {}
        self._cache: dict[str, np.random.Generator] = {}

    def get(self, mechanism: str, firm: int | None = None) -> np.random.Generator:
        key = (MECHANISMS[mechanism],) if firm is None else (MECHANISMS[mechanism], int(firm))
        name = mechanism if firm is None else f"{mechanism}[{firm}]"
        if name not in self._cache:
            seq = np.random.SeedSequence(self.seed, spawn_key=key)
            self._cache[name] = np.random.Generator(np.random.PCG64(seq))
            self.spawn_keys[name] = key
        return self._cache[name]

    def key(self, mechanism: str) -> int:
        """A 64-bit key for the counter-based draws of ``mechanism``
        (:mod:`~loyaltysim.model.counters`): the first word of its SeedSequence."""
        key = (MECHANISMS[mechanism],)
        self.spawn_keys[mechanism] = key
        seq = np.random.SeedSequence(self.seed, spawn_key=key)
        return int(seq.generate_state(1, np.uint64)[0])
