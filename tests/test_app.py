"""The live app: LiveMarket is a Market built from keyword parameters with a DataCollector;
its teaching presets tell the story (loyalty forms, heavy poaching breaks it); the plots
and slider captions are checked as built; ``loyaltysim-app`` serves a Mesa page that a
real headless browser (Debian's chromium through Selenium; never a downloaded browser
build) loads, changes and steps."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

solara = pytest.importorskip(
    "solara", reason="the app extra is not installed (pip install -e '.[app]')"
)
from loyaltysim.app import (  # noqa: E402
    LEVER,
    LEVERS,
    SERIES,
    LiveMarket,
    memory_figure,
    series_figure,
    teaching_defaults,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
SHOTS = Path(os.environ.get("LOYALTYSIM_SCREENSHOTS", "outputs/screenshots"))


def test_live_market_rebuilds_from_keywords_and_collects_every_step():
    model = LiveMarket(customers=200, horizon_weeks=10, poaching_rate=0.1, seed=3)
    for _ in range(4):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 5  # the initial state and four steps
    assert {f"your firm {s}" for s in SERIES} <= set(frame.columns)
    assert frame["your firm profit kEUR"].iloc[-1] != frame["your firm profit kEUR"].iloc[0]
    again = model.__class__(customers=200, horizon_weeks=10, poaching_rate=0.1, seed=3)
    again.run()
    model.run()
    assert again.datacollector.get_model_vars_dataframe().equals(
        model.datacollector.get_model_vars_dataframe()
    )
    assert model.social_graph().number_of_nodes() >= 200


def _active_loyal(**changes) -> np.ndarray:
    """Your firm's active loyal customers, week by week (weeks 1..horizon), in the market
    the page starts with, changed by ``changes`` as a teacher would move the sliders."""
    model = LiveMarket(**{**teaching_defaults(), **changes})
    model.run()
    return model.datacollector.get_model_vars_dataframe()["your firm active loyal"].to_numpy()[1:]


def test_the_teaching_presets_show_loyalty_form_and_break():
    start = teaching_defaults()
    calm = _active_loyal()
    # loyalty forms: by the end of the first year about 30 of 400 are actively loyal (only
    # customers who respond to a contact are active; measured: 29.3 at seed 0, 16-29 seeds 0-2)
    assert start["programme"] == "engagement" and calm[48:52].mean() >= 0.06 * start["customers"]
    # the poaching slider's top (from the preset start week) takes away over a third of
    # them by the end (measured: 27.4 -> 17.3 over the last 13 weeks, seed 0)
    raided = _active_loyal(poaching_rate=LEVER["poaching_rate"].hi)
    begins = int(start["poaching_start_week"])
    assert np.array_equal(calm[:begins], raided[:begins])  # the same until rivals begin
    assert raided[-13:].mean() <= (2 / 3) * calm[-13:].mean()
    # the engagement sliders matter (the discount programme would ignore them)
    assert _active_loyal(personalisation=0.2)[-13:].mean() <= 0.6 * calm[-13:].mean()
    assert not np.array_equal(_active_loyal(half_life_weeks=2.0), calm)


def test_plots_have_titles_units_and_the_whole_horizon_from_week_0():
    model = LiveMarket(**{**teaching_defaults(), "horizon_weeks": 20})
    n = model.config.customers.n
    for played in (0, 20):
        model.run(played - model.steps)
        for stem, series in SERIES.items():
            ax = series_figure(model, stem).axes[0]
            assert ax.get_title() == series.title and ax.get_xlabel() == "week"
            assert ax.get_ylabel() == series.ylabel
            assert any(unit in ax.get_ylabel() for unit in ("(%)", "(kEUR)", "customers"))
            assert ax.get_xlim() == (0, 20)
            low, high = ax.get_ylim()
            if series.counts_customers:
                assert (low, high) == (0, n)
            elif stem == "share %":
                assert (low, high) == (0, 100)
            else:  # profit: at least 1 kEUR tall, and above every value drawn
                assert low <= 0 and high >= 1.0
                assert all(high >= line.get_ydata().max() for line in ax.lines if played)
            # one line per firm, from week 1: nothing is drawn before a week is played
            assert len(ax.lines) == len(model.firms)
            assert all(len(line.get_xdata()) == played for line in ax.lines)
    ax = memory_figure(model).axes[0]
    assert "memory" in ax.get_title() and ax.get_xlabel() == "week" and ax.get_ylabel()
    assert ax.get_xlim() == (0, 20) and ax.get_ylim() == (-1, 1)


def test_the_default_watched_customer_buys_and_their_memory_moves():
    model = LiveMarket(**teaching_defaults())
    who = model.watched
    pop = model.population
    assert who in set(pop.active_index()) and pop.home[who] == 0  # your firm's, at week 0
    model.run()
    assert pop.purchases[who] >= 26  # a purchase every few weeks at least (measured: 90)
    mine = model.memory()
    mine = mine[mine["firm"] == "your firm"]
    assert mine["g"].nunique() > 20 and mine["loyalty"].nunique() > 20
    assert LiveMarket(customers=200, horizon_weeks=2, customer=7).watched == 7  # chosen


def test_slider_captions_show_the_value_and_its_unit():
    assert LEVER["price"].caption(5.0) == "Your price: 5.00 EUR per unit"
    assert LEVER["poaching_rate"].caption(0.25).startswith("Rivals' poaching rate: 0.25 ")
    assert (
        LEVER["poaching_depth"].caption(0.25) == "Rivals' poaching offer: 25% off their list price"
    )
    assert LEVER["half_life_weeks"].caption(12) == "Engagement half-life: 12 weeks"
    assert LEVER["poaching_start_week"].caption(52) == "Rivals start poaching: in week 52"
    assert "auto" in LEVER["customer"].caption(-1) and LEVER["customer"].caption(9).endswith("9")
    for lever in LEVERS:
        assert lever.lo <= lever.value <= lever.hi, lever.name
        other = lever.hi if lever.value != lever.hi else lever.lo  # a preset may be the top
        assert lever.caption(lever.value) != lever.caption(other), lever.name
    assert LEVER["seed"].integer and not LEVER["price"].integer


def test_a_step_started_during_another_waits_for_it():
    """A STEP click while the play thread is mid-step (or two at once) must not interleave:
    Mesa counts the step before the market plays it, so both would play the same week."""
    import threading

    kw = dict(customers=200, horizon_weeks=6, poaching_rate=0.5, poaching_start_week=0, seed=4)
    model, alone = LiveMarket(**kw), LiveMarket(**kw)
    play, other = model._play, []

    def play_while_another_steps(*args, **kwargs):
        if not other:  # the first week: a second step arrives while this one plays
            other.append(threading.Thread(target=model.step))
            other[0].start()
            other[0].join(timeout=2)  # without the lock it runs (and finishes) in here
        return play(*args, **kwargs)

    model._play = play_while_another_steps
    model.step()
    other[0].join()
    alone.run(2)
    assert model.steps == 2
    assert model.metrics().equals(alone.metrics())
    assert model.datacollector.get_model_vars_dataframe().equals(
        alone.datacollector.get_model_vars_dataframe()
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, timeout: float = 90) -> None:
    import urllib.request

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"no server at {url} after {timeout} s")


@pytest.fixture
def server():
    port = _free_port()
    cmd = [sys.executable, "-m", "loyaltysim.app", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        _wait(f"http://localhost:{port}")
        yield f"http://localhost:{port}"
    finally:
        os.killpg(proc.pid, 15)  # the server and the solara process it started
        proc.wait(timeout=30)


@pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="no chromium/chromedriver (apt-get install chromium chromium-driver)",
)
def test_the_app_in_a_real_browser_slider_step_plots_change(server):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    def retry(action):
        """Solara re-renders elements: an element found a moment ago can go stale, so look
        it up again (under load this happens; a stale element is no failure of the app)."""
        for _ in range(20):
            try:
                return action()
            except StaleElementReferenceException:
                time.sleep(0.5)
        return action()

    opts = webdriver.ChromeOptions()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1400,1700",
    ):
        opts.add_argument(arg)
    opts.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    wait = WebDriverWait(driver, 60)
    try:
        driver.get(server)
        wait.until(lambda d: len(d.find_elements(By.TAG_NAME, "img")) >= 7)
        wait.until(lambda d: d.title.startswith("loyaltysim"))  # the tab, not "Solara"

        def plots() -> list[str]:  # the plot images' content, as the page shows it
            return retry(
                lambda: [i.screenshot_as_base64 for i in driver.find_elements(By.TAG_NAME, "img")]
            )

        def click(text: str) -> None:
            buttons = lambda: driver.find_elements(By.TAG_NAME, "button")  # noqa: E731
            retry(lambda: next(b for b in buttons() if b.text == text).click())

        def poaching_slider():  # the slider under the caption "Rivals' poaching rate: ..."
            return driver.execute_script(
                """for (const lever of document.querySelectorAll('.lever')) {
                       if (lever.textContent.startsWith("Rivals' poaching rate"))
                           return lever.querySelector('[role=slider]');
                   }"""
            )

        body = lambda: retry(lambda: driver.find_element(By.TAG_NAME, "body").text)  # noqa: E731
        # every slider shows its value and unit in its caption
        assert "Rivals' poaching rate: 0.00 chance per week" in body()
        assert "Your price: 5.00 EUR per unit" in body() and "Week 0 of 104" in body()
        before = plots()
        # move the poaching slider five notches to the right with the keyboard
        value = lambda: retry(lambda: poaching_slider().get_attribute("aria-valuenow"))  # noqa: E731
        old = value()
        retry(lambda: driver.execute_script("arguments[0].focus();", poaching_slider()))
        for _ in range(5):
            ActionChains(driver).send_keys(Keys.ARROW_RIGHT).perform()
        wait.until(lambda d: value() != old)
        assert float(value()) > float(old or 0)
        wait.until(lambda d: "Rivals' poaching rate: 0.25 chance per week" in body())
        click("RESET")
        time.sleep(2)
        for _ in range(5):  # five quick clicks: five weeks, none lost, none doubled
            click("STEP")
        started = time.time()
        wait.until(lambda d: "Week 5 of 104" in body())
        caught_up = time.time() - started  # measured: 15 s before the plots were threaded
        assert caught_up < 10, f"five quick STEPs took {caught_up:.1f} s to show week 5"

        def changed() -> int:
            return sum(a != b for a, b in zip(before, plots(), strict=False))

        wait.until(lambda d: changed() >= 6)  # the plots redraw, in their own threads
        time.sleep(2)
        assert "Week 5 of 104" in body()  # and no stray step came after
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert driver.save_screenshot(str(SHOTS / "app.png"))
    finally:
        driver.quit()


def test_the_engine_switch_gives_the_same_market_and_portrays_a_customer_agent():
    from loyaltysim.app import memory_figure
    from loyaltysim.engines.agents import Customer

    kw = dict(customers=150, horizon_weeks=6, poaching_rate=0.1, seed=2, customer=7)
    arrays, agents = LiveMarket(**kw), LiveMarket(engine="agents", **kw)
    arrays.run()
    agents.run()
    assert isinstance(agents.customer(7), Customer) and agents.config.engine == "agents"
    assert arrays.datacollector.get_model_vars_dataframe().equals(
        agents.datacollector.get_model_vars_dataframe()
    )
    memory = agents.memory()
    assert len(memory) == 7 * len(agents.firms)  # the start and six weeks, every firm
    assert memory.equals(arrays.memory())
    assert memory_figure(agents).axes[0].lines
    assert LiveMarket(customers=6000, horizon_weeks=2, engine="agents").crowd is None
