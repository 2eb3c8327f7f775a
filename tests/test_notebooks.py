"""The notebooks in notebooks/ (Jupytext percent scripts) run from top to bottom in a real
Jupyter kernel (nbclient), with small markets, and compute what they say they compute."""

from __future__ import annotations

from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext", reason="the notebooks extra is not installed")
nbclient = pytest.importorskip("nbclient", reason="the notebooks extra is not installed")
nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

CHECKS = {
    "01_how_loyalty_forms_and_breaks.py": """
assert set(controls) == {"half_life", "personalisation", "rebate", "poaching"}
assert all(isinstance(w, widgets.FloatSlider) for w in controls.values())
# the teaching presets are the live app's, and the story shows: loyalty forms in the first
# year, the poaching slider's top takes a third of it, personalisation and half-life matter
from loyaltysim.app import LEVER, teaching_defaults
app = teaching_defaults()
assert (CUSTOMERS, WEEKS, POACHING_START, OFFER_DEPTH) == (
    app["customers"], app["horizon_weeks"], app["poaching_start_week"], app["poaching_depth"]
)
assert controls["poaching"].max == LEVER["poaching_rate"].hi and controls["rebate"].value == 0
assert formed >= 0.06 * CUSTOMERS  # only customers who respond are active
assert active_raided <= (2 / 3) * active_calm
before = slice(0, POACHING_START)  # the same market until rivals may poach
assert calm["active_loyal"].iloc[before].equals(raided["active_loyal"].iloc[before])
assert active_careless <= 0.6 * active_calm
# engagement that fades slowly keeps more customers actively loyal than one that fades fast
assert active_slow > active_fast
assert raided["churn_to_competitor"].sum() > calm["churn_to_competitor"].sum()
assert same and isinstance(someone, Customer) and "def step" in inspect.getsource(Customer.step)
assert len(diary) == 27 * len(model.firms)  # the start and 26 weeks, every firm
""",
    "02_research_clv_and_sensitivity.py": """
assert len(tx) and set(tx["firm"]) == {"focal"}
assert (rfm["T"] >= rfm["recency"]).all() and (rfm["frequency"] >= 0).all()
assert rfm["T"].max() <= WEEKS + 1e-9  # weeks, up to the end of the observation period
assert fit.success or fit.nit > 100
assert all(np.isfinite(v) and v > 0 for v in bgnbd.values())
assert bgnbd_nll(fit.x, x, t_x, T) < bgnbd_nll(start_params, x, t_x, T)
assert list(sensitivity.index) == KEYS and len(Y) == len(X) == MORRIS_TRAJECTORIES * 5
assert (sensitivity["mu_star"] >= 0).all() and sensitivity["mu_star"].max() > 0
# with the clv extra (installed by the test command) the pymc-marketing fit runs too
import importlib.util
if importlib.util.find_spec("pymc_marketing") is not None:
    assert all(np.isfinite(pm_fit.posterior[k].values).all() for k in ("r", "alpha", "a", "b"))
""",
    "03_strategy_ask_a_scenario.py": """
assert len(sentences) == len(scenario.arms) - 1
assert all(s.split(":")[0] in [a.title for a in scenario.arms] for s in sentences)
assert (head["seeds"] == len(SEEDS)).all()
assert "data:image/png;base64" in report.read_text()
""",
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_notebook_runs_and_computes(name, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(tmp_path)  # anything a notebook writes stays out of the repository
    nb = jupytext.read(NOTEBOOKS / name)
    nb.cells.append(nbformat.v4.new_code_cell(CHECKS[name]))
    client = nbclient.NotebookClient(nb, timeout=240, kernel_name="python3")
    client.execute()  # raises CellExecutionError, with the failing cell, on any error


def test_every_notebook_is_checked():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.py")) == sorted(CHECKS)
