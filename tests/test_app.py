"""The live app: LiveMarket is a Market built from keyword parameters with a DataCollector;
``loyaltysim-app`` serves a SolaraViz page that a real headless browser (Debian's chromium
through Selenium; never a downloaded browser build) loads, changes and steps."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

solara = pytest.importorskip(
    "solara", reason="the app extra is not installed (pip install -e '.[app]')"
)
from loyaltysim.app import SERIES, LiveMarket  # noqa: E402

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
        wait.until(lambda d: len(d.find_elements(By.TAG_NAME, "img")) >= 6)

        def plots() -> list[str]:  # the plot images' content, as the page shows it
            return retry(
                lambda: [i.screenshot_as_base64 for i in driver.find_elements(By.TAG_NAME, "img")]
            )

        def click(text: str) -> None:
            buttons = lambda: driver.find_elements(By.TAG_NAME, "button")  # noqa: E731
            retry(lambda: next(b for b in buttons() if b.text == text).click())

        def poaching_slider():
            return driver.find_elements(By.CSS_SELECTOR, "[role=slider]")[-2]

        body = lambda: retry(lambda: driver.find_element(By.TAG_NAME, "body").text)  # noqa: E731
        assert "Rivals' poaching rate" in body() and "Step: 0" in body()
        before = plots()
        # move the poaching slider five notches to the right with the keyboard
        value = lambda: retry(lambda: poaching_slider().get_attribute("aria-valuenow"))  # noqa: E731
        old = value()
        retry(lambda: driver.execute_script("arguments[0].focus();", poaching_slider()))
        for _ in range(5):
            ActionChains(driver).send_keys(Keys.ARROW_RIGHT).perform()
        wait.until(lambda d: value() != old)
        assert float(value()) > float(old or 0)
        click("RESET")
        time.sleep(2)
        for _ in range(4):
            click("STEP")
            time.sleep(0.7)
        wait.until(lambda d: "Step: 4" in body())
        time.sleep(3)  # let the plots redraw
        after = plots()
        changed = sum(a != b for a, b in zip(before, after, strict=False))
        assert changed >= 5, f"only {changed} of {len(after)} plots changed"
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
