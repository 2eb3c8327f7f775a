"""Primitives of the compiled loops (:mod:`~loyaltysim.engines.kernel`): a prefetch hint and a
person's counter-based draw (:mod:`~loyaltysim.model.counters`, bit for bit)."""

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
