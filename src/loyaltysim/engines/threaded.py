"""The compiled loops played by threads over chunks of customers, with the same results bit
for bit at any number of threads.

Each customer's rules read and write only that customer's row, and its draws are hashed
from the week's keys and its id (:mod:`~loyaltysim.model.counters`), so chunks of customers
can be played in any order, on any thread. What is shared is added up in one order: the
per-firm counts (integers: exact in any order) are summed over the chunks; the per-firm
float sums, whose value depends on the order of the additions, are added afterwards in
customer order from the buyers' outcome rows (:func:`sum_flows`) and, for the stock metrics,
by a pass over the customers in order after the threads' decay (:func:`stocks`): the
operations of the one-thread loops, in their order.

The number of threads is ``LOYALTYSIM_THREADS`` (default: the cores this process may use;
the sweep launcher's workers set 1, as they run side by side); a step uses fewer where the
chunks would hold under ``MIN_CHUNK`` customers.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from . import kernel as k
from .kernel import F_MEMBER_DISC, F_OFFER_DISC, F_REVENUE, F_UNITS
from .threads import threads

MIN_CHUNK = 100_000  # customers a thread at least: below, one thread plays the step
_JIT = {"cache": True, "error_model": "numpy", "nogil": True}
_POOL: dict[str, object] = {}


def chunks(n: int, size: int = 0) -> list[tuple[int, int]]:
    """``[start, stop)`` of the chunks of ``n`` customers for this step's threads."""
    t = max(1, min(threads(), n // max(size or MIN_CHUNK, 1)))
    edges = [n * i // t for i in range(t + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def _map(fn, parts: list) -> list:
    """``fn`` over ``parts`` on the threads (a pool per process: a forked child makes its own)."""
    if len(parts) == 1:
        return [fn(parts[0])]
    pool = _POOL.get("pool")
    if pool is None or _POOL.get("pid") != os.getpid() or _POOL.get("size", 0) < len(parts):
        if pool is not None and _POOL.get("pid") == os.getpid():
            pool.shutdown(wait=False)
        pool = ThreadPoolExecutor(max_workers=len(parts), thread_name_prefix="loyaltysim")
        _POOL.update(pool=pool, pid=os.getpid(), size=len(parts))
    return list(pool.map(fn, parts))


def timing(rows: np.ndarray, *args):
    """:func:`~loyaltysim.engines.kernel.timing` over chunks of ``rows``: the buyers in row
    order, their occasions, and the range of weeks over every buyer."""
    parts = chunks(rows.size)
    if len(parts) == 1:
        return k.timing(rows, *args)
    done = _map(lambda c: k.timing(rows[c[0] : c[1]], *args), parts)
    found = [d for d in done if d[0].size]
    if not found:
        return done[0]
    b = np.concatenate([d[0] for d in done])
    repeat = np.concatenate([d[1] for d in done])
    return b, repeat, min(d[2] for d in found), max(d[3] for d in found)


def buy(head, b, repeat, middle, rebate, earn, personal, tail, packed, fsum, count) -> None:
    """:func:`~loyaltysim.engines.kernel.buy` (arguments in its order: ``head`` before the
    buyers, ``middle`` from ``week`` to ``price``, ``tail`` from ``offer_depth`` to
    ``pow_lo``, ``packed`` the four outcome arrays) over chunks of the buyers."""
    parts = chunks(b.size)
    if len(parts) == 1:
        k.buy(*head, b, repeat, *middle, rebate, earn, personal, *tail, *packed, fsum, count)
        return

    def play(c):
        s, e = c
        f, n = np.zeros_like(fsum), np.zeros_like(count)
        rows = slice(s, e) if personal else slice(None)
        k.buy(*head, b[s:e], repeat[s:e], *middle, rebate[rows], earn[rows], personal, *tail,
              *[p[s:e] for p in packed], f, n)  # fmt: skip
        return n

    for n in _map(play, parts):
        count += n
    sum_flows(head[0], packed[0], packed[3], fsum)


def settle(args: list) -> None:
    """:func:`~loyaltysim.engines.kernel.settle` (``args``: its arguments) over chunks of its
    rows: the decay on the threads, then (``observe``) the stock sums in row order
    (:func:`stocks`)."""
    rows, observe = args[1], args[6]
    parts = chunks(rows.size)
    if len(parts) == 1:
        k.settle(*args)
        return

    def play(c):
        part = list(args)
        part[1], part[6] = rows[c[0] : c[1]], False
        part[-2], part[-1] = np.zeros_like(args[-2]), np.zeros_like(args[-1])
        k.settle(*part)

    _map(play, parts)
    if observe:  # engagement ... window: arguments 8 to 15 of settle
        stocks(args[0], rows, *args[8:16], args[-2], args[-1])


@njit(**_JIT)
def sum_flows(firms, o_int, o_eur, fsum):
    """The per-firm float sums of :func:`buy` from its outcome rows, added in buyer order as
    :func:`buy` adds them (for buyers played in chunks by threads: the same sums, bit for
    bit, whatever the chunks)."""
    for j in range(o_int.shape[0]):
        c = o_int[j, 0]
        fsum[c, F_UNITS] += o_eur[j, 0]
        fsum[c, F_REVENUE] += o_eur[j, 1]
        fsum[c, F_MEMBER_DISC] += o_eur[j, 2] + o_eur[j, 4]
        fsum[c, F_OFFER_DISC] += o_eur[j, 3]


@njit(**_JIT)
def stocks(
    firms, rows, engagement, recent, member, home, last_interaction, loyal_threshold, week,
    window, ssum, scount,
):  # fmt: skip
    """The stock sums of :func:`settle` (``observe``) alone, in row order, for rows whose
    memory has decayed already (by :func:`settle` without ``observe``, in chunks): the same
    operations in the same order, so the same sums bit for bit."""
    n_firms = len(firms)
    share = np.empty(n_firms)
    for j in range(rows.size):
        k.observe_row(
            rows[j], share, engagement, recent, member, home, last_interaction,
            loyal_threshold, week, window, ssum, scount,
        )  # fmt: skip
