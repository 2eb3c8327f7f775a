"""The live app's figures (see :mod:`loyaltysim.app`): each quantity per firm over the
weeks, the referral network, and the watched customer's memory; each takes a
:class:`~loyaltysim.app.LiveMarket` and returns a matplotlib Figure."""

from __future__ import annotations

import numpy as np

from ._app_presets import SERIES
from .engines.market import Market


def series_figure(model: Market, stem: str):
    """One of :data:`SERIES` for every firm over the weeks played so far, on axes that span
    the whole horizon from the start (x: weeks 0..horizon; y: 0..the market's customers
    for head counts, 0..100 % for the share, 0..the largest profit so far for profit), so a
    teacher sees where the lines will go and the scale does not jump as they grow."""
    from matplotlib.figure import Figure

    series = SERIES[stem]
    frame = model.datacollector.get_model_vars_dataframe()
    weeks = np.arange(len(frame)) * model.config.market.step_weeks
    fig = Figure(figsize=(5, 3.2))
    ax = fig.subplots()
    values = []
    for i, firm in enumerate(model.firm_names):
        # row 0 is the state before week 1 is played: nothing has been measured yet
        y = frame[f"{firm} {stem}"].to_numpy()[1:]
        values.append(y)
        ax.plot(weeks[1:], y, color=f"C{i}", label=firm)
    seen = np.concatenate(values) if values else np.zeros(0)
    if series.counts_customers:
        top = max(model.config.customers.n, float(seen.max(initial=0.0)))
        ax.set_ylim(0, top)
    elif stem == "share %":
        ax.set_ylim(0, 100)
    else:  # profit: from the lowest (0 or a loss) to the highest so far, never a flat band
        low, high = min(0.0, float(seen.min(initial=0.0))), float(seen.max(initial=0.0))
        ax.set_ylim(low * 1.1, max(high * 1.1, 1.0))
    ax.set_xlim(0, model.horizon)
    if model.steps == 0:
        ax.text(
            0.5,
            0.5,
            "press STEP or ▶ to play week 1",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="grey",
        )
    ax.set_title(series.title, fontsize=9)
    ax.set_xlabel("week")
    ax.set_ylabel(series.ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return fig


def network_figure(model: Market, max_nodes: int = 400):
    """The referral network (who may recommend to whom) of the first ``max_nodes``
    customers, coloured by the firm each buys from now (grey: out of the category)."""
    import matplotlib.pyplot as plt
    import networkx as nx
    from matplotlib.figure import Figure

    graph = model.social_graph().subgraph(range(min(max_nodes, model.population.size)))
    firm = getattr(model.population, "home", None)
    colours = [
        f"C{int(firm[n])}" if firm is not None and firm[n] >= 0 else "lightgrey"
        for n in graph.nodes
    ]
    fig = Figure(figsize=(5, 5))
    ax = fig.subplots()
    # the network never changes during a run: lay it out once (and the same way each week)
    pos = getattr(model, "_network_layout", None)
    if pos is None:
        pos = nx.spring_layout(graph, seed=1, iterations=30)
        model._network_layout = pos
    nx.draw_networkx_edges(graph, pos, ax=ax, alpha=0.15, width=0.5)
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=12, node_color=colours)
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=f"C{i}", label=name)
        for i, name in enumerate(model.firm_names)
    ]
    ax.legend(handles=handles, fontsize=7, loc="lower left")
    ax.set_title(f"Referral network, week {model.week} (colour: current firm)", fontsize=9)
    ax.set_axis_off()
    return fig


def memory_figure(model: Market):
    """The watched customer's memory of each firm over time: engagement g(E) (solid) and
    habit loyalty (dashed), per firm, on weeks 0..horizon and the memory's range -1..1."""
    from matplotlib.figure import Figure

    memory = model.memory()
    fig = Figure(figsize=(5, 3.2))
    ax = fig.subplots()
    for i, name in enumerate(model.firm_names):
        rows = memory[memory["firm"] == name]
        ax.plot(rows["week"], rows["g"], color=f"C{i}", label=f"{name} g(E)")
        ax.plot(rows["week"], rows["loyalty"], color=f"C{i}", ls="--", label=f"{name} loyalty")
    who = repr(model.customer(model.watched))
    ax.set_title(
        f"Customer {model.watched}'s memory of each firm\n{who} ({model.config.engine})",
        fontsize=8,
    )
    ax.set_xlabel("week")
    ax.set_ylabel("engagement g(E), loyalty (-1..1)", fontsize=8)
    ax.set_xlim(0, model.horizon)
    ax.set_ylim(-1, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6, ncol=2, loc="lower left")
    return fig
