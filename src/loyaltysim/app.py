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
import os
import sys
import threading
from pathlib import Path

from mesa import DataCollector

from ._app_figures import memory_figure, network_figure, series_figure
from ._app_presets import (
    AGENTS_MAX,
    AUTO,
    CUSTOMERS,
    ENGINES,
    HORIZON_WEEKS,
    LEVER,
    LEVERS,
    PROGRAMMES,
    SERIES,
    Lever,
    Series,
    default_watched,
    teaching_defaults,
)
from .engines.crowd import diary_frame, memory_frame
from .engines.market import Market
from .runs.runner import load_config

__all__ = [  # the presets and figures are the app's too (from loyaltysim.app import ...)
    "AGENTS_MAX",
    "AUTO",
    "CUSTOMERS",
    "ENGINES",
    "HORIZON_WEEKS",
    "LEVER",
    "LEVERS",
    "PROGRAMMES",
    "SERIES",
    "Lever",
    "LiveMarket",
    "Series",
    "default_watched",
    "main",
    "memory_figure",
    "network_figure",
    "series_figure",
    "teaching_defaults",
]


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


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Start the loyaltysim live app (a Mesa page).")
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
