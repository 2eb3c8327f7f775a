"""The module ``solara run`` serves for ``loyaltysim-app`` (see :mod:`loyaltysim.app`): the
live page. Solara runs it as a file, so it imports the package by its absolute name."""

from __future__ import annotations

import io

import solara
from mesa.visualization.solara_viz import ComponentsView, ModelController
from mesa.visualization.utils import update_counter

from loyaltysim._app_figures import memory_figure, network_figure, series_figure
from loyaltysim._app_presets import (
    AGENTS_MAX,
    ENGINES,
    LEVERS,
    PROGRAMMES,
    SERIES,
    teaching_defaults,
)
from loyaltysim.app import LiveMarket

TITLE = "loyaltysim: how loyalty forms and breaks"


def make_page():
    """The live page (Solara serves the module-level ``page``): Mesa's controller (play,
    step, reset) and components view, with sliders that show their values.

    Mesa's SolaraViz draws its sliders without their values, so the page composes Mesa's
    own parts (ModelController, ComponentsView) around sliders of its own."""

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
        play_interval = solara.use_reactive(150)  # ms between weeks while playing
        # Mesa's controller wants these too; fixed: every week is shown, and the page draws
        # in threads of its own (see figure above)
        render_interval = solara.use_reactive(1)
        use_threads = solara.use_reactive(False)

        def set_param(name, value):
            params.set({**params.value, name: value})

        solara.Title(TITLE)  # the browser tab's title (Solara's default is "Solara")
        with solara.AppBar():
            solara.AppBarTitle(TITLE)
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


page = make_page()
