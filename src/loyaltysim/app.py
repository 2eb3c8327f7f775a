"""``loyaltysim-app``: the market as a live Mesa page.

    loyaltysim-app                       # http://localhost:8765, opens nothing by itself
    loyaltysim-app --port 9000 --host 0.0.0.0

Sliders for the main levers (your programme, its rebate and personalisation, your price)
and uncertainties (how fast engagement fades, how hard and from when rivals poach), each
showing its value and unit; play/step/reset (Mesa's controller); plots of share, profit,
loyal customers (active and passive) and programme members per firm, the referral network
of a small market coloured by each customer's current firm, and one customer's memory of
each firm over time. The engine switch runs the same market with one Mesa agent per
customer (``engine=agents``, same results, slower: for small markets); the watched customer
is then a :class:`~loyaltysim.engines.agents.Customer` agent keeping a diary.

The page starts from *teaching presets* (:data:`LEVERS`, the defaults of
:class:`LiveMarket`), chosen so that the story shows within the horizon: your firm runs the
engagement programme, loyalty forms in the first year, and rivals may start poaching in week
52, when the poaching slider's top takes away over a third of your active loyal customers
(tests/test_app.py checks this). They are not the library's defaults (conf/), which drive
results/ and the regression values.

:class:`LiveMarket` is a :class:`~loyaltysim.Market` built from keyword parameters (Mesa's
controller rebuilds the model as ``model.__class__(**params)`` on reset) with a Mesa
``DataCollector`` whose model reporters the plots read. It works in a notebook too:
``LiveMarket(customers=300).run()`` then ``model.datacollector.get_model_vars_dataframe()``.
Needs the ``app`` extra (``pip install -e '.[app]'``).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mesa import DataCollector

from .engines.crowd import diary_frame, memory_frame
from .engines.market import Market
from .runs.runner import load_config

PROGRAMMES = ("none", "discount", "engagement")


@dataclass(frozen=True)
class Series:
    """One plotted quantity per firm: a column of the market's metrics, scaled for display."""

    column: str  # metrics column (loyaltysim.model.metrics)
    scale: float  # display unit per metrics unit
    title: str  # the plot's title
    ylabel: str  # the y axis, with its unit
    counts_customers: bool = False  # a head count: the y axis runs 0..the market's size


SERIES = {  # reporter stem -> what it shows
    "share %": Series("share", 100.0, "Share of the week's purchases", "share of purchases (%)"),
    "profit kEUR": Series(
        "cumulative_profit", 1e-3, "Cumulative profit (after programme costs)", "profit (kEUR)"
    ),
    "active loyal": Series(
        "active_loyal",
        1.0,
        "Active loyal customers (repeat buyers, engaged lately)",
        "customers",
        counts_customers=True,
    ),
    "passive loyal": Series(
        "passive_loyal",
        1.0,
        "Passive loyal customers (repeat buyers, not engaged lately)",
        "customers",
        counts_customers=True,
    ),
    "members": Series("members", 1.0, "Programme members", "customers", counts_customers=True),
}
DEFAULT_FIRMS = ("your firm", "rival1", "rival2")  # the names the default market shows
ENGINES = ("arrays", "agents")
AGENTS_MAX = 5000  # customers: the agent engine is for small markets
AUTO = -1  # the watched customer "auto": see default_watched

# Teaching presets: a market that runs a step in milliseconds and its two years in seconds.
CUSTOMERS = 400  # customers at week 0 (the pool also holds as many prospects)
HORIZON_WEEKS = 104  # a year for loyalty to form, a year for rivals to break it


@dataclass(frozen=True)
class Lever:
    """One slider of the page: a :class:`LiveMarket` keyword a teacher can move.

    ``value`` is the teaching preset; ``fmt`` formats a value for the slider's caption and
    ``unit`` follows it (``fmt`` may carry the unit itself, e.g. a percentage).
    """

    name: str  # LiveMarket keyword
    label: str
    value: float
    lo: float
    hi: float
    step: float
    unit: str = ""
    fmt: str = "{:g}"

    @property
    def integer(self) -> bool:
        """Whether the slider moves in whole numbers (weeks, ids, seeds)."""
        return all(float(v).is_integer() for v in (self.value, self.lo, self.hi, self.step))

    def caption(self, value: float) -> str:
        """The slider's label with its current value and unit, e.g. ``Your price: 5.00 EUR``."""
        if self.name == "customer" and int(value) == AUTO:
            shown = "auto (your firm's most frequent buyer)"
        else:
            shown = f"{self.fmt.format(value)} {self.unit}".strip()
        return f"{self.label}: {shown}"


LEVERS = (
    Lever(
        "rebate_rate",
        "Member rebate (discount programme)",
        0.05,
        0.0,
        0.3,
        0.01,
        "off list price",
        "{:.0%}",
    ),
    Lever(
        "personalisation",
        "Personalisation (engagement programme)",
        0.8,
        0.0,
        1.0,
        0.05,
        "of contacts well personalised",
        "{:.0%}",
    ),
    Lever("price", "Your price", 5.0, 3.5, 7.0, 0.1, "EUR per unit", "{:.2f}"),
    Lever("half_life_weeks", "Engagement half-life", 12, 1, 52, 1, "weeks", "{:.0f}"),
    # the rate is a weekly probability; one offer at a time (valid 4 weeks), so 1 = always
    Lever(
        "poaching_rate",
        "Rivals' poaching rate",
        0.0,
        0.0,
        1.0,
        0.05,
        "chance per week a customer gets an offer",
        "{:.2f}",
    ),
    Lever(
        "poaching_depth",
        "Rivals' poaching offer",
        0.25,
        0.0,
        0.5,
        0.05,
        "off their list price",
        "{:.0%}",
    ),
    Lever(
        "poaching_start_week",
        "Rivals start poaching",
        52,
        0,
        HORIZON_WEEKS,
        1,
        "",
        "in week {:.0f}",
    ),
    Lever("customer", "Watched customer", AUTO, AUTO, 2 * CUSTOMERS - 1, 1, "", "id {:.0f}"),
    Lever("seed", "Seed", 0, 0, 99, 1),
)
LEVER = {lever.name: lever for lever in LEVERS}


def default_watched(model: Market) -> int:
    """The customer the memory plot follows when none is chosen: of your firm's customers
    at week 0 (after the warm-up), among the quarter who buy most often (highest purchase
    rate), the one least likely to leave the category after a purchase (lowest dropout;
    the lowest id on ties), so that the plot shows a memory that keeps moving. Any active
    customer if your firm has none; customer 0 if nobody is active."""
    pop = model.population
    active = pop.active_index()
    mine = active[pop.home[active] == model.firms[0].index]
    pool = mine if mine.size else active
    if not pool.size:
        return 0
    frequent = pool[pop.purchase_rate[pool] >= np.quantile(pop.purchase_rate[pool], 0.75)]
    return int(frequent[np.argmin(pop.dropout[frequent])])


class LiveMarket(Market):
    """A Market made from keyword parameters, with a DataCollector for the live page.

    The keyword defaults are the page's teaching presets (see the module docstring); prices
    in EUR, rates per week, ``rebate_rate``/``poaching_depth`` fractions of a list price,
    ``customer`` a row of the population or ``-1`` for :func:`default_watched`.
    """

    def __init__(
        self,
        customers: int = CUSTOMERS,
        horizon_weeks: int = HORIZON_WEEKS,
        programme: str = "engagement",
        rebate_rate: float = LEVER["rebate_rate"].value,
        personalisation: float = LEVER["personalisation"].value,
        price: float = LEVER["price"].value,
        half_life_weeks: float = LEVER["half_life_weeks"].value,
        poaching_rate: float = LEVER["poaching_rate"].value,
        poaching_depth: float = LEVER["poaching_depth"].value,
        poaching_start_week: int = int(LEVER["poaching_start_week"].value),
        seed: int = 0,
        firm_name: str = "your firm",
        warmup_weeks: int = 26,  # short: a small market would spend its prospects in 104
        engine: str = "arrays",
        customer: int = AUTO,
        **kwargs,  # Mesa may pass keys of its own; the name must be "kwargs"
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
            competitor__poaching__depth=float(poaching_depth),
            competitor__poaching__start_week=int(poaching_start_week),
            seed=int(seed),
            engine="agents" if engine == "agents" and int(customers) <= AGENTS_MAX else "arrays",
        )
        super().__init__(config)
        # One week at a time, and no drawing mid-week: a STEP click, Mesa's play thread and
        # the page's drawing threads share the model. Mesa counts a step (steps += 1) before
        # calling ours, so the lock holds around its wrapper: two steps at once would both
        # count and then play the same week twice (one week lost, one doubled).
        self.lock = threading.RLock()
        self._mesa_step = self.step
        self.step = self._serialised_step
        # the watched customer: its agent keeps a diary (engine=agents), or a view is read
        picked = default_watched(self) if int(customer) == AUTO else int(customer)
        self.watched = picked % self.population.size
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

    def _serialised_step(self) -> None:
        """Mesa's step (count, then play the week), one caller at a time."""
        with self.lock:
            self._mesa_step()

    def _collect(self) -> None:
        if self.steps:
            last = self.metrics()
            last = last[last["step"] == last["step"].max()]
            for row in last.itertuples():
                for stem, series in SERIES.items():
                    value = float(getattr(row, series.column)) * series.scale
                    self.latest[f"{row.firm} {stem}"] = value
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

    @property
    def horizon(self) -> int:
        """The last week the market plays (the x axes run from week 0 to it)."""
        return self.n_steps * self.config.market.step_weeks


def series_figure(model: LiveMarket, stem: str):
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


def memory_figure(model: LiveMarket):
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


def teaching_defaults() -> dict:
    """The keywords the page builds its first market from: every lever at its preset, the
    teaching market's size and horizon, and the selects' first values."""
    return {
        "customers": CUSTOMERS,
        "horizon_weeks": HORIZON_WEEKS,
        "programme": "engagement",
        "engine": "arrays",
        **{lever.name: lever.value for lever in LEVERS},
    }


def page():
    """The live page (Solara serves the module-level ``page``): Mesa's controller (play,
    step, reset) and components view, with sliders that show their values.

    Mesa's SolaraViz draws its sliders without their values, so the page composes Mesa's
    own parts (ModelController, ComponentsView) around sliders of its own."""
    import solara
    from mesa.visualization.solara_viz import ComponentsView, ModelController
    from mesa.visualization.utils import update_counter

    def figure(draw):
        @solara.component
        def Plot(model):
            week = update_counter.get()

            def render() -> bytes:
                with model.lock:  # the figure copies one week's data: no step in between
                    fig = draw(model)
                out = io.BytesIO()
                fig.savefig(out, format="png", bbox_inches="tight")
                return out.getvalue()

            # Drawn in a thread, not in the click's handler: Solara handles one message at a
            # time, so seven figures redrawn per STEP (~2-3 s) made quick clicks queue
            # behind the redraws (five clicks showed week 3 for seconds). A redraw that is
            # still waiting when another week arrives is skipped, and the last image stays
            # on screen until the new one is ready.
            png = solara.use_thread(render, dependencies=[model, week], intrusive_cancel=False)
            if png.value is None:
                solara.Text("drawing ...")
            else:
                solara.Image(png.value)

        return Plot

    components = [figure(lambda m, s=stem: series_figure(m, s)) for stem in SERIES]
    components += [figure(network_figure), figure(memory_figure)]

    @solara.component
    def Week(model):
        update_counter.get()
        solara.Text(f"Week {model.week} of {model.horizon}")

    @solara.component
    def Page():
        start = solara.use_memo(teaching_defaults, [])
        params = solara.use_reactive(start)
        model = solara.use_reactive(solara.use_memo(lambda: LiveMarket(**start), []))
        play_interval = solara.use_reactive(150)
        render_interval = solara.use_reactive(1)
        use_threads = solara.use_reactive(False)

        def set_param(name, value):
            params.set({**params.value, name: value})

        with solara.AppBar():
            solara.AppBarTitle("loyaltysim: how loyalty forms and breaks")
        with solara.Sidebar(), solara.Column():
            with solara.Card("Controls"):
                solara.SliderInt(
                    f"Play interval: {play_interval.value} ms",
                    value=play_interval,
                    min=10,
                    max=1000,
                    step=10,
                )
                ModelController(
                    model,
                    model_parameters=params,
                    play_interval=play_interval,
                    render_interval=render_interval,
                    use_threads=use_threads,
                )
                Week(model.value)
            with solara.Card("Market (press RESET to apply)"):
                solara.Select(
                    "Your programme",
                    value=params.value["programme"],
                    values=list(PROGRAMMES),
                    on_value=lambda v: set_param("programme", v),
                )
                solara.Select(
                    f"Engine (agents: one Mesa agent per customer, up to {AGENTS_MAX:,})",
                    value=params.value["engine"],
                    values=list(ENGINES),
                    on_value=lambda v: set_param("engine", v),
                )
                for lever in LEVERS:
                    # the caption above the slider, not beside it: a long one beside it
                    # would squeeze the slider to nothing in the sidebar
                    slider = solara.SliderInt if lever.integer else solara.SliderFloat
                    value = params.value[lever.name]
                    with solara.Column(gap="0px", classes=["lever"]):
                        solara.Text(lever.caption(value), style={"font-size": "0.9em"})
                        slider(
                            "",
                            value=int(value) if lever.integer else float(value),
                            min=lever.lo,
                            max=lever.hi,
                            step=lever.step,
                            on_value=lambda v, name=lever.name: set_param(name, v),
                        )
        ComponentsView(components, model.value)

    return Page()


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
