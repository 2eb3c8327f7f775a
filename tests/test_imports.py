"""What a run imports: only what its path uses (Mesa's extras, networkx, SciPy's sparse and
spatial modules, matplotlib and numba wait until something needs them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from loyaltysim.model import network

SRC = str(Path(__file__).resolve().parents[1] / "src")
# imported by `import mesa` (its __init__), not by the two modules a market needs
HEAVY = ("mesa.space", "mesa.batchrunner", "mesa.datacollection", "mesa.experimental",
         "scipy.spatial", "scipy.sparse", "networkx", "matplotlib", "numba")  # fmt: skip


def imported_after(code: str, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; the modules of HEAVY it left imported, and
    whether ``mesa``'s own ``__init__`` ran."""
    probe = (
        f"{code}\nimport json, sys\n"
        "mesa = sys.modules.get('mesa')\n"
        f"print(json.dumps({{'heavy': [m for m in {HEAVY!r} if m in sys.modules], "
        "'mesa_init': mesa is not None and 'DataCollector' in vars(mesa)}))"
    )
    environ = {**os.environ, "PYTHONPATH": SRC, **(env or {})}
    environ.pop("LOYALTYSIM_KERNEL", None)
    out = subprocess.run(
        [sys.executable, "-c", probe], env=environ, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_default_run_imports_neither_mesa_extras_nor_plotting_nor_the_kernel():
    found = imported_after(
        "import loyaltysim\n"
        "r = loyaltysim.run(customers__n=300, market__horizon_weeks=4, market__warmup_weeks=2,"
        " seed=1)\nassert len(r.metrics)"
    )
    assert found == {"heavy": [], "mesa_init": False}


def test_importing_mesa_afterwards_gives_the_whole_package_and_the_same_classes():
    found = imported_after(
        "import loyaltysim, mesa\n"
        "from loyaltysim import Market\n"
        "assert issubclass(Market, mesa.Model) and mesa.DataCollector and mesa.space\n"
        "assert mesa.__version__.startswith('3.')"
    )
    assert found["mesa_init"] and "mesa.space" in found["heavy"]


def test_mesa_imported_first_is_used_as_it_is():
    found = imported_after(
        "import mesa, loyaltysim\nassert issubclass(loyaltysim.Market, mesa.Model)"
    )
    assert found["mesa_init"]


@pytest.mark.parametrize("n,k,p", [(3, 8, 0.1), (10, 4, 0.5), (1000, 16, 0.1), (5000, 8, 0.9)])
def test_the_numpy_and_scipy_network_builders_give_the_same_graph(monkeypatch, n, k, p):
    graphs = []
    for limit in (10**9, -1):  # NumPy, SciPy
        monkeypatch.setattr(network, "NUMPY_BUILD_MAX", limit)
        graphs.append(network.small_world(n, k, p, np.random.default_rng(n)))
    a, b = graphs
    for x, y in ((a.indptr, b.indptr), (a.indices, b.indices)):
        assert x.dtype == y.dtype and np.array_equal(x, y)


def test_the_probe_sees_an_eager_import():
    """The check above can fail: a module that imports mesa whole is caught."""
    found = imported_after("import mesa, networkx")
    assert found["mesa_init"] and "networkx" in found["heavy"]
    assert json.dumps(found)
