"""Counter-based uniform draws: the draw of a person in a week is a hash of (stream, week,
person), computed where it is needed instead of drawn for the whole pool.

Customers' weekly draws (purchase timing, choice, service failure, drop-out) used to be a
fresh ``Generator.random(pool size)`` per stream and step: a pass over every person in the
pool, prospects and departed customers included, whose values were then read back from
memory. Here the draw of person ``i`` in a step is

    u = (mix(key_w + (i + 1) * GOLDEN) >> 11) * 2**-53,   key_w = mix(key + (week + 2**32) * GOLDEN)

where ``mix`` is the SplitMix64 finaliser (Steele, Lea & Flood 2014, "Fast splittable
pseudorandom number generators"; the seeding generator of xoshiro) and ``key`` a 64-bit word
from the stream's ``numpy.random.SeedSequence``: a SplitMix64 sequence seeded anew each week,
read at position ``i + 1``. Its properties for the model:

- one seed gives identical draws wherever and in whatever order they are computed (the NumPy
  rules, the compiled loops and the Mesa agents compute the same numbers);
- arms of a comparison share every person's draw of a stream in a week (common random
  numbers), whatever else they do, because the draw does not depend on who else drew;
- uniforms on [0, 1) with 53 random bits, like ``Generator.random``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15  # 2**64 / golden ratio, odd: SplitMix64's increment
M1, M2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB  # SplitMix64's finaliser (Stafford's mix 13)
TO_UNIT = 2.0**-53
SHIFTS = (30, 27, 31, 11)  # the finaliser's shifts, then 64 - 53 bits dropped
WEEK_OFFSET = 1 << 32  # weeks of the warm-up are negative


def mix(z: int) -> int:
    """SplitMix64's finaliser of a 64-bit word (Python integers)."""
    z = ((z ^ (z >> SHIFTS[0])) * M1) & MASK
    z = ((z ^ (z >> SHIFTS[1])) * M2) & MASK
    return z ^ (z >> SHIFTS[2])


def week_key(key: int, week: int) -> int:
    """The seed of a stream's draws in ``week``: a word from the stream's key and the week."""
    return mix((key + (week + WEEK_OFFSET) * GOLDEN) & MASK)


def uniform(key_w: int, person: int) -> float:
    """One person's draw of a week (``key_w`` from :func:`week_key`)."""
    return (mix((key_w + (person + 1) * GOLDEN) & MASK) >> SHIFTS[3]) * TO_UNIT


_G, _M1, _M2, _S = np.uint64(GOLDEN), np.uint64(M1), np.uint64(M2), np.uint64(SHIFTS)


def uniforms(key_w: int, people: np.ndarray) -> np.ndarray:
    """Draws of ``people`` (row indices) in a week: :func:`uniform` for each, vectorised
    (uint64 arithmetic wraps modulo 2**64, as the hash needs)."""
    z = np.asarray(people).astype(np.uint64) + np.uint64(1)
    z *= _G
    z += np.uint64(key_w)
    z ^= z >> _S[0]
    z *= _M1
    z ^= z >> _S[1]
    z *= _M2
    z ^= z >> _S[2]
    return (z >> _S[3]).astype(np.float64) * TO_UNIT


@dataclass(frozen=True)
class Stream:
    """One stream's draws in one week: ``stream[rows]`` (an index array or one row)."""

    key: int  # week_key of the stream and week

    def __getitem__(self, rows):
        if isinstance(rows, (int, np.integer)):
            return uniform(self.key, int(rows))
        return uniforms(self.key, rows)
