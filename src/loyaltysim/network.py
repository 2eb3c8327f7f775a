"""The social network on which customers recommend firms (S8, S11).

A Watts-Strogatz small world (ring lattice of degree k, each edge rewired with probability
p) over everyone in the market, built with NumPy and stored as a CSR adjacency (indptr,
indices) so a million-person market needs no million Python objects. :func:`to_networkx`
gives the same graph as a ``networkx.Graph`` for inspection, plotting or other analyses.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class Network:
    indptr: np.ndarray
    indices: np.ndarray

    @property
    def degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    def neighbour(self, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """One neighbour of each row, picked by uniform ``u``; -1 for a row with none."""
        start = self.indptr[rows]
        deg = self.indptr[rows + 1] - start
        pick = start + np.minimum((u * deg).astype(np.int64), np.maximum(deg - 1, 0))
        return np.where(deg > 0, self.indices[np.minimum(pick, self.indices.size - 1)], -1)


def small_world(n: int, k: int, p: float, rng: np.random.Generator) -> Network:
    """Watts-Strogatz graph on ``n`` nodes with mean degree about ``k`` (even)."""
    half = min(k // 2, (n - 1) // 2)
    if half <= 0:
        return Network(np.zeros(n + 1, np.int64), np.zeros(0, np.int64))
    src = np.repeat(np.arange(n, dtype=np.int64), half)
    dst = (src + np.tile(np.arange(1, half + 1, dtype=np.int64), n)) % n
    rewire = rng.random(src.size) < p
    dst[rewire] = rng.integers(0, n, int(rewire.sum()))
    keep = src != dst
    src, dst = src[keep], dst[keep]
    ones = np.ones(src.size, np.int8)
    adj = sparse.coo_array((ones, (src, dst)), shape=(n, n)).tocsr()
    adj = (adj + adj.T).tocsr()
    adj.sum_duplicates()
    adj.sort_indices()
    return Network(adj.indptr.astype(np.int64), adj.indices.astype(np.int64))


def to_networkx(net: Network) -> nx.Graph:
    """The network as an undirected ``networkx.Graph`` (nodes are customer ids)."""
    n = net.indptr.size - 1
    data = np.ones(net.indices.size)
    adj = sparse.csr_array((data, net.indices, net.indptr), shape=(n, n))
    return nx.from_scipy_sparse_array(adj)
