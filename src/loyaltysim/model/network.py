"""The social network on which customers recommend firms (S8, S11).

A Watts-Strogatz small world (ring lattice of degree k, each edge rewired with probability
p) over everyone in the market, built with NumPy and stored as a CSR adjacency (indptr,
indices) so a million-person market needs no million Python objects. :func:`to_networkx`
gives the same graph as a ``networkx.Graph`` for inspection, plotting or other analyses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import networkx as nx

# up to this many people the adjacency is built with NumPy alone (a sort of the edge keys:
# 16 bytes an edge for a moment); larger networks use SciPy's sparse conversions, whose
# import (about 0.2 CPU s) a large run does not notice. Both give the same graph.
NUMPY_BUILD_MAX = 200_000


@dataclass(frozen=True)
class Network:
    indptr: np.ndarray  # int64, n + 1
    indices: np.ndarray  # int32 (int64 beyond 2**31 people): the neighbours of each row

    @property
    def degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    def neighbour(self, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One neighbour of each row, picked by uniform ``u``; -1 for a row with none."""
        if self.indices.size == 0:  # a market too small for any tie: nobody to tell
            return np.full(np.shape(rows), -1, np.int64)
        start = self.indptr[rows]
        deg = self.indptr[rows + 1] - start
        pick = start + np.minimum((u * deg).astype(np.int64), np.maximum(deg - 1, 0))
        found = self.indices[np.minimum(pick, self.indices.size - 1)].astype(np.int64)
        return np.where(deg > 0, found, -1)


def small_world(n: int, k: int, p: float, rng: np.random.Generator) -> Network:
    """Watts-Strogatz graph on ``n`` nodes with mean degree about ``k`` (even)."""
    half = min(k // 2, (n - 1) // 2)
    if half <= 0:
        return Network(np.zeros(n + 1, np.int64), np.zeros(0, np.int64))
    # ids as int32 while they fit: half the memory of int64, in the edge lists built here
    # and in the neighbours kept (64 bytes a person at the default degree); neighbour()
    # hands them out as int64. The same draws and the same graph as with int64.
    ids = np.int32 if n + half <= np.iinfo(np.int32).max else np.int64
    src = np.repeat(np.arange(n, dtype=ids), half)
    dst = (src + np.tile(np.arange(1, half + 1, dtype=ids), n)) % n
    rewire = rng.random(src.size) < p
    dst[rewire] = rng.integers(0, n, int(rewire.sum()))
    keep = src != dst
    edges = [src[keep], dst[keep]]  # handed over: the builders free them as they go
    del src, dst, rewire, keep
    build = _symmetric_numpy if n <= NUMPY_BUILD_MAX else _symmetric_scipy
    return build(n, edges, ids)


def _symmetric_numpy(n: int, edges: list[np.ndarray], ids) -> Network:
    """The CSR of the undirected graph of ``edges`` (``[src, dst]``; each row's neighbours
    sorted, repeated edges once): as :func:`_symmetric_scipy`, by sorting edge keys."""
    src, dst = edges
    edges.clear()
    key = np.concatenate([src, dst]).astype(np.int64) * n
    key += np.concatenate([dst, src])
    key.sort()  # then each edge once (np.unique is many times slower here: numpy 2.4)
    key = key[np.concatenate(([True], key[1:] != key[:-1]))] if key.size else key
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(key // n, minlength=n), out=indptr[1:])
    return Network(indptr, (key % n).astype(ids))


def _symmetric_scipy(n: int, edges: list[np.ndarray], ids) -> Network:
    """The CSR of the undirected graph of ``edges``, built by SciPy."""
    from scipy import sparse

    src, dst = edges
    edges.clear()
    ones = np.ones(src.size, np.int8)
    adj = sparse.coo_array((ones, (src, dst)), shape=(n, n))
    del src, dst, ones
    adj = adj.tocsr()
    adj = (adj + adj.T).tocsr()
    adj.sum_duplicates()
    adj.sort_indices()
    return Network(adj.indptr.astype(np.int64), adj.indices.astype(ids, copy=False))


def to_networkx(net: Network) -> nx.Graph:
    """The network as an undirected ``networkx.Graph`` (nodes are customer ids)."""
    import networkx as nx
    from scipy import sparse

    n = net.indptr.size - 1
    data = np.ones(net.indices.size)
    adj = sparse.csr_array((data, net.indices, net.indptr), shape=(n, n))
    return nx.from_scipy_sparse_array(adj)
