"""The Mesa model: agents, views, network, stepping API, and memory release after a run."""

from __future__ import annotations

import gc
import weakref

import mesa
import networkx as nx
import numpy as np

from conftest import small_config
from loyaltysim import CustomerAgent, Market, build_model, run_one
from loyaltysim.model.network import small_world


def test_firms_are_mesa_agents_and_customers_are_views_on_demand():
    model = Market(small_config(seed=1))
    assert isinstance(model, mesa.Model)
    assert [f.name for f in model.firms] == ["focal", "rival1", "rival2"]
    assert all(isinstance(f, mesa.Agent) for f in model.firms)
    assert len(model.agents) == 3, "no agent object per customer"
    model.step()
    row = int(model.population.active_index()[0])
    view = model.customer(row)
    assert isinstance(view, CustomerAgent) and model.customer(row) is view
    assert view.status == "active" and view.main_firm in model.firm_names
    assert set(view.engagement) == set(model.firm_names)
    assert view.price_sensitivity == model.population.price_sensitivity[row]


def test_step_by_step_equals_run():
    cfg = small_config(seed=2)
    stepped = build_model(cfg)
    for _ in range(30):
        stepped.step()
    stepped.step()  # past the horizon: no-op
    assert not stepped.running
    assert stepped.metrics().equals(Market(cfg).run().metrics())


def test_models_are_freed_after_a_run():
    refs = []
    for seed in range(3):
        model = Market(small_config("market.horizon_weeks=4", seed=seed)).run()
        model.customer(0)
        refs.append(weakref.ref(model))
        model.release()
        del model
    gc.collect()
    assert all(r() is None for r in refs)


def test_without_release_mesa_33_keeps_the_model_alive():
    """Shows the check above can fail: the leak it guards against is real on mesa < 3.4.2."""
    ids = getattr(mesa.Agent, "_ids", None)
    if not isinstance(ids, dict):
        return  # fixed upstream (mesa >= 3.4.2): nothing to demonstrate
    model = Market(small_config("market.horizon_weeks=2", seed=0)).run()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is not None, "mesa's strong _ids dict keeps an unreleased model alive"
    ref().release()
    gc.collect()
    assert ref() is None


def test_run_one_does_not_keep_models_alive():
    before = len(getattr(mesa.Agent, "_ids", {}))
    for seed in range(3):
        run_one(small_config("market.horizon_weeks=4", seed=seed))
    gc.collect()
    assert len(getattr(mesa.Agent, "_ids", {})) <= before


def test_small_world_network_matches_networkx_shape():
    net = small_world(2000, 8, 0.1, np.random.default_rng(0))
    g = Market(small_config("customers.n=50", seed=0)).social_graph()
    assert g.number_of_nodes() == 100
    ours = nx.from_scipy_sparse_array(
        __import__("scipy").sparse.csr_array(
            (np.ones(net.indices.size), net.indices, net.indptr), shape=(2000, 2000)
        )
    )
    ref = nx.watts_strogatz_graph(2000, 8, 0.1, seed=0)
    assert abs(np.mean(net.degree) - 8) < 0.1
    assert abs(nx.average_clustering(ours) - nx.average_clustering(ref)) < 0.05
    assert not any(u == v for u, v in ours.edges())
    # neighbour() picks only real neighbours
    rows = np.arange(2000)
    nb = net.neighbour(rows, np.random.default_rng(1).random(2000))
    assert all(ours.has_edge(int(r), int(n)) for r, n in zip(rows, nb, strict=True))


def test_a_network_without_ties_has_nobody_to_tell():
    """A one-customer market (pool of two) has no ties: every neighbour is -1, not an error."""
    empty = small_world(2, 8, 0.1, np.random.default_rng(0))
    assert empty.indices.size == 0
    assert empty.neighbour(np.array([0, 1]), np.array([0.3, 0.9])).tolist() == [-1, -1]
