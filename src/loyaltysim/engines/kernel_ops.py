"""Primitives of the compiled loops (:mod:`~loyaltysim.engines.kernel`): a prefetch hint, a
person's counter-based draw (:mod:`~loyaltysim.model.counters`, bit for bit) and a
customer's part of the stock sums, shared by the kernel's settle and the threaded pass."""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from ..model.counters import GOLDEN, M1, M2, SHIFTS, TO_UNIT


@intrinsic
def prefetch(typingctx, arr, index):
    """Hint the CPU to fetch element ``index`` of C-contiguous ``arr`` (counted over all its
    elements, row-major) into cache (``llvm.prefetch``): one customer's row of each of many
    arrays is read, so the hardware prefetcher alone falls behind."""

    def codegen(context, builder, sig, args):
        data = context.make_array(sig.args[0])(context, builder, args[0]).data
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        # named for the pointer type by llvmlite (p0 with opaque pointers, p0i8 before)
        fn = builder.module.declare_intrinsic("llvm.prefetch", [i8p], fnty)
        ptr = builder.bitcast(builder.gep(data, [args[1]]), i8p)
        builder.call(fn, [ptr, i32(1), i32(3), i32(1)])  # write, keep in all levels, data
        return context.get_dummy_value()

    return types.void(arr, index), codegen


_G, _M1, _M2, _S = np.uint64(GOLDEN), np.uint64(M1), np.uint64(M2), np.uint64(SHIFTS)


@njit(inline="always", cache=True, error_model="numpy", nogil=True)
def uniform(key, i):
    """Person ``i``'s draw of the week whose key is ``key`` (counters.uniform)."""
    z = np.uint64(i + 1) * _G + key
    z = (z ^ (z >> _S[0])) * _M1
    z = (z ^ (z >> _S[1])) * _M2
    return np.float64((z ^ (z >> _S[2])) >> _S[3]) * TO_UNIT


# columns of the stock accumulators of `settle`
S_G, S_SCR = range(2)
# counts: per main firm of customers by status (column 0 + status: 0 not loyal, 1 passive
# loyal, 2 active loyal); per firm of customers by membership and loyalty (column 3 + 2
# member + loyal); one increment each instead of one per count
K_HOME, K_FIRM = 0, 3


@njit(
    inline="always", cache=True, error_model="numpy", nogil=True
)  # not inlined, the call made a step ~1.2x slower
def observe_row(
    i, share, engagement, recent, member, home, last_interaction, loyal_threshold, week,
    window, ssum, scount,
):  # fmt: skip
    """Customer ``i``'s part of the stock sums (metrics.population_metrics): home, loyal and
    active counts, g(E) and share of requirements at the home firm, membership by loyalty.
    ``share`` is scratch space of one row. :func:`settle` and the threaded ``stocks`` both
    call it, so their sums are the same operations in the same order."""
    n_firms = share.size
    held = 0.0
    for f in range(n_firms):
        held += recent[i, f]
    for f in range(n_firms):
        share[f] = recent[i, f] / held if held > 0 else 0.0
    h = home[i]
    e = engagement[i, h]
    loyal = share[h] >= loyal_threshold
    active = loyal & (last_interaction[i, h] > week - window)  # `&`: no branch
    scount[h, K_HOME + (1 if loyal else 0) + (1 if active else 0)] += 1
    ssum[h, S_G] += e / (1.0 + abs(e))
    ssum[h, S_SCR] += share[h]
    for f in range(n_firms):
        code = (2 if member[i, f] else 0) + (1 if share[f] >= loyal_threshold else 0)
        scount[f, K_FIRM + code] += 1
