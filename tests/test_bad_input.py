"""Bad input found by an outside trial (issue 25): each is refused before anything runs, in
one line with exit status 2 (the command line) or a clear exception (the API), or warned
where the set-up is meaningful. Names new in that fix are imported inside the tests, so
that each test fails on its own against the code before it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyaltysim import load_config, run
from loyaltysim.model.params import ConfigError

ENV = {**os.environ, "MPLBACKEND": "Agg"}
TINY = ["debug=default", "customers.n=60", "market.warmup_weeks=4", "output.customer_table=false"]
# loyaltysim-ask's arguments for a scenario that would run in seconds if it were not refused
ASK_TINY = ["customers.n=60", "market.horizon_weeks=8", "market.warmup_weeks=4", "seeds=1"]


def cli(*args: str, env: dict | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", *args]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, env={**ENV, **(env or {})}
    )


def refused(proc: subprocess.CompletedProcess, *words: str) -> str:
    """The one stderr line of a refusal with exit status 2, which names every word."""
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# 1 and 4: values that overflowed (a traceback, or inf/NaN figures and exit 0)
@pytest.mark.parametrize(
    "override",
    [
        "customers.prospects_per_customer=1e308",
        "customers.basket_mean=1e308",
        "customers.purchase_rate_mean=1e308",
    ],
)
def test_overflowing_values_are_refused_before_the_run(tmp_path, override):
    proc = cli("loyaltysim", *TINY, override, f"hydra.run.dir={tmp_path}/r")
    refused(proc, override.split("=")[0], "allowed: a number")
    assert not (tmp_path / "r" / "metrics.csv").exists()


def test_every_uncertainty_and_size_has_an_upper_bound_far_above_its_plausible_range():
    from loyaltysim import describe

    for row in describe():
        if row["kind"] == "uncertainty" and row["plausible_hi"] is not None:
            hi = (
                float(row["allowed"].rsplit("<", 1)[1].lstrip("= "))
                if "<" in row["allowed"]
                else None
            )
            assert hi is not None, f"{row['key']} has no upper bound: {row['allowed']}"
            # a natural bound (a probability's 1) may be the plausible one; any other bound
            # lies ten times beyond it at least, so no plausible study meets it
            assert hi >= row["plausible_hi"] * (10 if hi > 1 else 1), (row["key"], row["allowed"])
    bounded = {r["key"]: r["allowed"] for r in describe()}
    for key in (
        "customers.n",
        "customers.prospects_per_customer",
        "customers.basket_mean",
        "customers.purchase_rate_mean",
        "customers.referral.network_degree",
    ):
        assert "<=" in bounded[key], (key, bounded[key])


def test_a_market_at_the_bounds_keeps_every_figure_finite():
    # the largest sizes, rates and prices allowed at once: money sums stay far below 1e308
    cfg = load_config(
        [
            *TINY,
            "customers.basket_mean=1e4",
            "customers.purchase_rate_mean=100",
            "customers.price_sensitivity_median=1e3",
            "customers.price_sensitivity_sigma=10",
            "customers.choice.taste_sigma=100",
            "customers.choice.engagement_basket_lift=100",
            "customers.memory.experience_gain=100",
            "firm.price=1e9",
            "firm.pricing.max_price=1e9",
            "firm.unit_cost=1e9",
        ]
    )
    result = run(cfg)
    numbers = result.metrics.select_dtypes("number")
    assert not np.isinf(numbers.to_numpy()).any()
    assert (
        np.isfinite(result.metrics[["revenue", "units", "cogs", "cumulative_profit"]]).all().all()
    )
    assert result.metrics["revenue"].max() > 1e9  # the extreme values did take effect


def test_a_non_finite_metric_is_a_recorded_failure_not_a_finished_run(tmp_path, monkeypatch):
    from loyaltysim.engines.market import Market
    from loyaltysim.runs.limits import NonFiniteMetrics, check_metrics
    from loyaltysim.runs.runner import run_one

    ok = pd.DataFrame({"week": [0, 1], "firm": ["a", "a"], "revenue": [1.0, 2.0]})
    ok["share"] = [np.nan, 0.5]  # a ratio with no denominator is honest
    check_metrics(ok)
    for column, value in (("revenue", np.inf), ("revenue", np.nan), ("share", -np.inf)):
        bad = ok.copy()
        bad.loc[1, column] = value
        with pytest.raises(NonFiniteMetrics, match=f"metric {column} = .* at week 1"):
            check_metrics(bad)

    real = Market.metrics

    def overflowed(self):
        table = real(self)
        table.loc[table.index[-1], "cumulative_profit"] = np.nan
        return table

    monkeypatch.setattr(Market, "metrics", overflowed)
    with pytest.raises(NonFiniteMetrics, match="cumulative_profit"):
        run_one(load_config(TINY), tmp_path / "run")
    assert not (tmp_path / "run" / "metrics.csv").exists()
    assert not (tmp_path / "run" / "done.json").exists()


# 2 and 7: output folders that cannot be made, or that belong to a sweep
def test_output_folders_that_cannot_be_made_are_refused(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for key, folder, sweep in (
        ("hydra.run.dir", afile, False),
        ("hydra.run.dir", "/proc/loyaltysim-test/run", False),
        ("hydra.sweep.dir", afile / "sub", True),
        ("hydra.sweep.dir", "/proc/loyaltysim-test/sweep", True),
    ):
        args = ["-m", "seed=0"] if sweep else []
        proc = cli("loyaltysim", *args, *TINY, f"{key}={folder}")
        refused(proc, key, str(folder), "a folder that can be created")
    assert afile.read_text() == "x"


def test_a_single_run_into_a_sweep_folder_is_refused(tmp_path):
    sweep_dir = tmp_path / "sweep"
    (sweep_dir / "superseded").mkdir(parents=True)
    (sweep_dir / "sweep.json").write_text(json.dumps({"total": 1, "jobs": []}))
    before = files_under(sweep_dir)
    for folder in (sweep_dir, sweep_dir / "superseded"):
        proc = cli("loyaltysim", *TINY, f"hydra.run.dir={folder}")
        refused(proc, "hydra.run.dir", "not a sweep folder")
    assert files_under(sweep_dir) == before and not (sweep_dir / ".hydra").exists()


def test_ask_and_validate_refuse_an_out_folder_before_running(tmp_path):
    proc = cli(
        "loyaltysim.studies.ask", "scenario=withdraw_rebate", *ASK_TINY, "out=/proc/loyaltysim-x"
    )
    refused(proc, "out", "/proc/loyaltysim-x", "a folder that can be created")
    assert "arms x" not in proc.stdout  # nothing started
    proc = cli(
        "loyaltysim.studies.validation.cli", "--quick", "--only", "polygamy",
        "--out", "/proc/loyaltysim-x",
    )  # fmt: skip
    refused(proc, "--out", "/proc/loyaltysim-x")
    assert "polygamy" not in proc.stdout  # the check did not run first


# 3, 9 and 10: loyaltysim-ask's scenario files and options
ASK_BAD = {
    "not YAML": ("baseline: a\narms: [\n  - name: a\n", "not valid YAML"),
    "firm_names not a mapping": (
        "baseline: a\nfirm_names: 42\narms:\n  - name: a\n  - name: b\n",
        "firm_names = 42; allowed: a mapping",
    ),
    "only the baseline": ("baseline: a\narms:\n  - name: a\n", "at least one other arm"),
    "arm name escapes": (
        "baseline: a\narms:\n  - name: a\n  - name: ../../escape\n",
        "name = '../../escape'; allowed: letters, digits",
    ),
}


@pytest.mark.parametrize("case", list(ASK_BAD))
def test_ask_refuses_a_broken_scenario_before_running(tmp_path, case):
    text, message = ASK_BAD[case]
    (tmp_path / "q.yaml").write_text(text)
    out = tmp_path / "deep" / "er" / "out"
    proc = cli("loyaltysim.studies.ask", f"scenario={tmp_path / 'q.yaml'}", *ASK_TINY, f"out={out}")
    refused(proc, message)
    assert files_under(tmp_path) == [tmp_path / "q.yaml"]  # no log, no run, anywhere


@pytest.mark.parametrize("jobs", ["0", "abc", "-1"])
def test_ask_refuses_jobs_that_are_not_a_positive_integer(tmp_path, jobs):
    proc = cli(
        "loyaltysim.studies.ask",
        "scenario=withdraw_rebate",
        *ASK_TINY,
        f"jobs={jobs}",
        f"out={tmp_path}",
    )
    refused(proc, f"jobs = '{jobs}'", "an integer >= 1")
    assert files_under(tmp_path) == []


# 5 and 6: sweeps
def test_a_sweep_with_one_invalid_value_runs_nothing(tmp_path):
    proc = cli("loyaltysim", "-m", *TINY, "customers.n=-5,300", f"hydra.sweep.dir={tmp_path}")
    refused(proc, "customers.n = -5", "nothing was run")
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]  # no run folder, no result
    assert not (tmp_path / "sweep.json").exists()  # nor the record of a sweep that never ran


def test_an_empty_sweep_is_refused(tmp_path):
    proc = cli("loyaltysim", "-m", *TINY, "seed=range(0,-5)", f"hydra.sweep.dir={tmp_path}/s")
    refused(proc, "seed", "range(0,-5)", "at least one value")
    assert not (tmp_path / "s" / "sweep.json").exists()  # no record of a sweep that never ran


def test_cfg_job_does_not_show_an_invalid_config():
    proc = cli("loyaltysim", "--cfg", "job", "customers.n=-5")
    refused(proc, "customers.n = -5")
    assert "customers:" not in proc.stdout


@pytest.mark.parametrize(
    "override, key",
    [
        ("output.transactions=2", "output.transactions"),
        ("output.transactions=yes", "output.transactions"),
        ("customers.bgnbd_cohort=0", "customers.bgnbd_cohort"),
        ("firm.name=''", "firm.name"),
        ("competitor.name=' '", "competitor.name"),
    ],
)
def test_booleans_are_true_or_false_and_names_are_not_empty(override, key):
    with pytest.raises(ConfigError, match=f"{key} = "):
        load_config([override])


def test_booleans_still_take_true_false_and_null():
    cfg = load_config(["output.transactions=true", "output.figure=null", "output.overwrite=False"])
    assert cfg.output.transactions is True and cfg.output.figure is None
    assert cfg.output.overwrite is False


def test_the_kernel_variable_takes_only_the_values_the_readme_lists(monkeypatch):
    from loyaltysim.engines import engine

    for value in ("NUMBA", " numpy", "Auto"):
        monkeypatch.setenv("LOYALTYSIM_KERNEL", value)
        with pytest.raises(ConfigError, match="LOYALTYSIM_KERNEL"):
            engine.selected()
    for value in ("auto", "numba", "numpy"):
        monkeypatch.setenv("LOYALTYSIM_KERNEL", value)
        assert engine.selected() == value
    proc = cli("loyaltysim", *TINY, env={"LOYALTYSIM_KERNEL": "NUMBA"})
    refused(proc, "LOYALTYSIM_KERNEL", "'NUMBA'", "auto, numba, numpy")


# 8: collect on a folder that is no sweep
def test_collect_refuses_an_empty_folder_or_one_that_is_no_sweep(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "other" / "notes").mkdir(parents=True)
    (tmp_path / "other" / "notes" / "a.txt").write_text("x")
    for folder in (tmp_path / "empty", tmp_path / "other"):
        refused(cli("loyaltysim.runs.collect", str(folder)), str(folder), "no run folders")
        assert not (folder / "collected").exists()


# 11: a network larger than the market; a segment no channel reaches; poaching alone
def test_a_network_degree_above_the_market_is_warned():
    # a market of a handful of people is legitimate (tests, loyaltysim-fit's weekly cohorts):
    # the network is then as dense as it can be, and the user is told so
    notes = load_config(["customers.n=3"]).cautions()
    assert any("network_degree = 8" in n and "only 6 people" in n for n in notes), notes
    assert not any("network_degree" in n for n in load_config(["customers.n=5"]).cautions())


def test_unreachable_segments_and_poaching_alone_are_warned(recwarn):
    from loyaltysim.model.params import ConfigWarning

    assert load_config(TINY).cautions() == []
    cfg = load_config(
        [
            *TINY,
            "customers.segments.quiet.channels=[]",
            "competitor.count=0",
            "firm.poaching.rate=0.2",
        ]
    )
    notes = cfg.cautions()
    assert len(notes) == 2
    assert "quiet" in notes[0] and "no channel reaches" in notes[0]
    assert "firm.poaching.rate = 0.2" in notes[1] and "no other firm" in notes[1]
    with pytest.warns(ConfigWarning, match="no poaching offer goes out"):
        run(cfg)
    # with a rival, poaching is no caution
    assert not load_config([*TINY, "firm.poaching.rate=0.2"]).cautions()


# 12: loyaltysim-validate --only NAME key=value
def test_validate_only_leaves_overrides_to_the_runs():
    from loyaltysim.studies.validation.cli import parse

    args = parse(["--only", "polygamy", "customers.memory.loyalty_smoothing=0.9"])
    assert args.only == ["polygamy"]
    assert args.overrides == ["customers.memory.loyalty_smoothing=0.9"]
    args = parse(["--only", "polygamy,double_jeopardy", "--quick"])
    assert args.only == ["polygamy", "double_jeopardy"] and args.overrides == []


def test_validate_only_with_an_override_is_checked_as_an_override(capsys):
    from loyaltysim.studies.validation.cli import main

    assert main(["--only", "polygamy", "customers.memory.loyalty_smoothing=2"]) == 2
    err = capsys.readouterr().err
    assert "invalid override" in err and "loyalty_smoothing" in err and "unknown check" not in err


# the Python API: clear exceptions for the wrong types
def test_the_api_says_what_it_expected():
    with pytest.raises(TypeError, match=r"a list of strings .*got str 'a=b'; wrap it in a list"):
        load_config("a=b")
    with pytest.raises(TypeError, match="must be strings .*got int 123"):
        load_config([123])
    with pytest.raises(TypeError, match=r"run\(\): config must be a SimConfig .*got str 'x'"):
        run("x")


def test_a_world_file_without_the_global_package_line_says_so(tmp_path):
    """A hand-written world file without ``# @package _global_`` would have Hydra nest its
    keys under ``world.`` and refuse them as unknown keys: the one line names the cause."""
    from loyaltysim.runs.io import world_by_path

    (tmp_path / "world").mkdir()
    bare = tmp_path / "world" / "mine.yaml"
    bare.write_text("# my market\ncustomers:\n  n: 500\n")
    with pytest.raises(ConfigError, match="@package _global_"):
        world_by_path([f"world={bare}"])
    r = subprocess.run(
        [sys.executable, "-m", "loyaltysim", f"world={bare}"],
        capture_output=True, text=True, cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")},
    )  # fmt: skip
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "@package _global_" in r.stderr and r.stderr.strip().count("\n") == 0, r.stderr
    # Hydra reads the header only before any other line, a comment included
    bare.write_text("# my market\n# @package _global_\ncustomers:\n  n: 500\n")
    with pytest.raises(ConfigError, match="@package _global_"):
        world_by_path([f"world={bare}"])
    bare.write_text("\n# @package _global_\n# my market\ncustomers:\n  n: 500\n")
    assert world_by_path([f"world={bare}"])[0] == "world=mine"


def test_a_refused_single_run_leaves_no_folder_and_jobs_says_where_it_belongs(tmp_path):
    """A config refused before the run leaves no ``outputs/runs/...`` folder (a run that
    failed is recorded; a refused config is no run); a folder the user named stays; and
    ``jobs=`` (loyaltysim-ask's) says where it belongs."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "loyaltysim", *args],
            capture_output=True, text=True, cwd=tmp_path, env=env,
        )  # fmt: skip

    r = cli("customers.n=-5")
    assert r.returncode == 2 and "customers.n = -5" in r.stderr, r.stderr
    assert not (tmp_path / "outputs").exists(), sorted(tmp_path.rglob("*"))
    (tmp_path / "outputs" / "earlier").mkdir(parents=True)
    assert cli("customers.n=-5").returncode == 2
    assert sorted(p.name for p in (tmp_path / "outputs").iterdir()) == ["earlier"]
    assert cli("customers.n=-5", f"hydra.run.dir={tmp_path / 'mine'}").returncode == 2
    assert (tmp_path / "mine").is_dir()  # the user's own folder is theirs
    r = cli("jobs=2")
    assert r.returncode == 2 and "hydra.launcher.n_jobs" in r.stderr, r.stderr
    assert r.stderr.strip().count("\n") == 0, r.stderr


# issue 22: the targets that read what a rival cannot observe are gone, and refused by name
@pytest.mark.parametrize("value", ["passive", "high_value"])
def test_removed_poaching_targets_are_refused_with_the_allowed_ones(value):
    with pytest.raises(ConfigError) as err:
        load_config([*TINY, f"competitor.poaching.target={value}"])
    message = str(err.value)
    assert "\n" not in message.strip()
    for word in ("competitor.poaching.target", value, "all", "deal_prone", "own_buyers"):
        assert word in message, message


def test_a_removed_poaching_target_is_refused_on_the_command_line(tmp_path):
    proc = cli(
        "loyaltysim", *TINY, "competitor.poaching.target=passive", f"hydra.run.dir={tmp_path}/r"
    )
    refused(proc, "competitor.poaching.target", "'passive'", "all, deal_prone, own_buyers")
    assert not (tmp_path / "r" / "metrics.csv").exists()
