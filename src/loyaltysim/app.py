"""``loyaltysim-app``: the market as a live Mesa SolaraViz page.

    loyaltysim-app                       # http://localhost:8765, opens nothing by itself
    loyaltysim-app --port 9000 --host 0.0.0.0

Sliders for the main levers (your programme, its rebate and personalisation, your price)
and uncertainties (how fast engagement fades, how hard rivals poach), play/step/reset, plots
of share, profit, loyal customers (active and passive) and programme members per firm, the
referral network of a small market coloured by each customer's current firm, and one
customer's memory of each firm over time. The engine switch runs the same market with one
Mesa agent per customer (``engine=agents``, same results, slower: for small markets); the
watched customer is then a :class:`~loyaltysim.engines.agents.Customer` agent keeping a diary.

:class:`LiveMarket` is a :class:`~loyaltysim.Market` built from keyword parameters (SolaraViz
rebuilds the model as ``model.__class__(**params)`` on reset) with a Mesa
``DataCollector`` whose model reporters the plot components read. It works in a notebook
too: ``LiveMarket(customers=300).run()`` then ``model.datacollector.get_model_vars_dataframe()``.
Needs the ``app`` extra (``pip install -e '.[app]'``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mesa import DataCollector

from .engines.crowd import diary_frame, memory_frame
from .engines.market import Market
from .runs.runner import load_config

PROGRAMMES = ("none", "discount", "engagement")
SERIES = {  # reporter stem -> (metrics column, scale)
    "share %": ("share", 100.0),
    "profit kEUR": ("cumulative_profit", 1e-3),
    "active loyal": ("active_loyal", 1.0),
    "passive loyal": ("passive_loyal", 1.0),
    "members": ("members", 1.0),
}
DEFAULT_FIRMS = ("your firm", "rival1", "rival2")  # the names the default market shows
ENGINES = ("arrays", "agents")
AGENTS_MAX = 5000  # customers: the agent engine is for small markets


class LiveMarket(Market):
    """A Market made from keyword parameters, with a DataCollector for SolaraViz."""

    def __init__(
        self,
        customers: int = 500,
        horizon_weeks: int = 156,
        programme: str = "discount",
        rebate_rate: float = 0.05,
        personalisation: float = 0.8,
        price: float = 5.0,
        half_life_weeks: float = 12.0,
        poaching_rate: float = 0.0,
        seed: int = 0,
        firm_name: str = "your firm",
        warmup_weeks: int = 26,
        engine: str = "arrays",
        customer: int = 0,  # short: a small market would spend its prospects in 104
        **kwargs,  # SolaraViz may pass keys of its own; the name must be "kwargs"
    ):
        overrides = [f"firm/programme={programme}"]
        if programme == "discount":
            overrides.append(f"firm.programme.rebate_rate={float(rebate_rate)!r}")
        if programme == "engagement":
            overrides.append(f"firm.programme.personalisation={float(personalisation)!r}")
        config = load_config(
            overrides,
            customers__n=int(customers),
            market__horizon_weeks=int(horizon_weeks),
            market__warmup_weeks=int(warmup_weeks),
            firm__name=firm_name,
            firm__price=float(price),
            customers__memory__engagement_half_life_weeks=float(half_life_weeks),
            competitor__poaching__rate=float(poaching_rate),
            seed=int(seed),
            engine="agents" if engine == "agents" and int(customers) <= AGENTS_MAX else "arrays",
        )
        super().__init__(config)
        # the watched customer: its agent keeps a diary (engine=agents), or a view is read
        self.watched = int(customer) % self.population.size
        self.memory_rows: list[dict] = []
        if self.crowd is not None:
            self.crowd.watch(self.watched)
        self.latest: dict[str, float] = {}
        reporters = {
            f"{firm} {stem}": (lambda m, key=f"{firm} {stem}": m.latest.get(key, 0.0))
            for firm in self.firm_names
            for stem in SERIES
        }
        self.datacollector = DataCollector(model_reporters=reporters)
        self._collect()

    def _collect(self) -> None:
        if self.steps:
            last = self.metrics()
            last = last[last["step"] == last["step"].max()]
            for row in last.itertuples():
                for stem, (col, scale) in SERIES.items():
                    self.latest[f"{row.firm} {stem}"] = float(getattr(row, col)) * scale
        if self.crowd is None:  # arrays: read the watched customer's row
            pop, i = self.population, self.watched
            loyalty = pop.habit[i] / (pop.habit[i].sum() + self.config.customers.choice.habit_prior)
            for f in self.firms:
                e = float(pop.engagement[i, f.index])
                g, lo = e / (1 + abs(e)), float(loyalty[f.index])
                m = bool(pop.member[i, f.index])
                row = {"engagement": e, "g": g, "loyalty": lo, "member": m}
                self.memory_rows.append({"week": self.week, "firm": f.name, **row})
        self.datacollector.collect(self)

    def memory(self):
        """The watched customer's memory of each firm, one row per week and firm."""
        if self.crowd is not None:
            return diary_frame(self.crowd[self.watched])
        return memory_frame(self.memory_rows)

    def step(self) -> None:
        if not self.running:
            return
        super().step()
        self._collect()


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
    pos = nx.spring_layout(graph, seed=1, iterations=30)
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


def memory_figure(model: LiveMarket):
    """The watched customer's memory of each firm over time: engagement g(E) (solid) and
    habit loyalty (dashed), per firm."""
    from matplotlib.figure import Figure

    memory = model.memory()
    fig = Figure(figsize=(5, 3.2))
    ax = fig.subplots()
    for i, name in enumerate(model.firm_names):
        rows = memory[memory["firm"] == name]
        ax.plot(rows["week"], rows["g"], color=f"C{i}", label=f"{name} g(E)")
        ax.plot(rows["week"], rows["loyalty"], color=f"C{i}", ls="--", label=f"{name} loyalty")
    who = repr(model.customer(model.watched))
    ax.set_title(f"{who}\nmemory of each firm ({model.config.engine})", fontsize=8)
    ax.set_xlabel("week", fontsize=8)
    ax.set_ylim(-1, 1)
    ax.legend(fontsize=6, ncol=2, loc="lower left")
    return fig


def model_params() -> dict:
    from mesa.visualization import Slider

    return {
        "customers": 400,
        "horizon_weeks": 156,
        "programme": {
            "type": "Select",
            "value": "discount",
            "values": list(PROGRAMMES),
            "label": "Your programme",
        },
        "engine": {
            "type": "Select",
            "value": "arrays",
            "values": list(ENGINES),
            "label": f"Engine (agents: one Mesa agent per customer, up to {AGENTS_MAX:,})",
        },
        "customer": Slider("Watched customer (id)", 0, 0, 399, 1),
        "rebate_rate": Slider("Rebate (discount programme)", 0.05, 0.0, 0.3, 0.01),
        "personalisation": Slider("Personalisation (engagement)", 0.8, 0.0, 1.0, 0.05),
        "price": Slider("Your price (EUR)", 5.0, 3.5, 7.0, 0.1),
        "half_life_weeks": Slider("Engagement half-life (weeks)", 12.0, 1.0, 52.0, 1.0),
        "poaching_rate": Slider("Rivals' poaching rate (per week)", 0.0, 0.0, 0.3, 0.01),
        "seed": Slider("Seed", 0, 0, 99, 1),
    }


def page():
    """The SolaraViz page (Solara serves the module-level ``page``)."""
    import solara
    from mesa.visualization import SolaraViz, make_plot_component
    from mesa.visualization.utils import update_counter

    @solara.component
    def Network(model):
        update_counter.get()
        solara.FigureMatplotlib(network_figure(model), format="png")

    @solara.component
    def Memory(model):
        update_counter.get()
        solara.FigureMatplotlib(memory_figure(model), format="png")

    def plot(stem: str):
        colours = {f"{f} {stem}": f"C{i}" for i, f in enumerate(DEFAULT_FIRMS)}
        return make_plot_component(colours, backend="matplotlib")

    model = LiveMarket(customers=400)
    return SolaraViz(
        model,
        components=[plot(stem) for stem in SERIES] + [Network, Memory],
        model_params=model_params(),
        name="loyaltysim: how loyalty forms and breaks",
        play_interval=150,
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Start the loyaltysim SolaraViz app.")
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args(argv)
    try:
        import solara  # noqa: F401
    except ImportError:
        print(
            "loyaltysim-app: solara is missing; install the extra: pip install -e '.[app]'",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    page_file = Path(__file__).with_name("_app_page.py")
    cmd = [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(page_file),
        "--host",
        args.host,
        "--port",
        str(args.port),
        "--production",
    ]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    print(f"loyaltysim-app: serving on http://{args.host}:{args.port}", flush=True)
    os.execve(sys.executable, cmd, env)  # become the server: stopping us stops it


if __name__ == "__main__":
    main()
