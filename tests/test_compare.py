"""``loyaltysim-compare`` as the main job prints it: arms in words (not override syntax)
in tables, CSVs and legends, one sentence per arm first, and no silent pooling of arms
that differ in a factor besides ``--by`` (``--where`` picks runs, ``--pool`` pools)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from loyaltysim.studies import compare as compare_cli
from loyaltysim.studies import formatting as fmt

TINY = [
    "debug=default",
    "market.horizon_weeks=8",
    "output.figure=false",
    "output.customer_table=false",
]
SEEDS = "seed=0,1"


def _sweep(folder: Path, *overrides: str) -> Path:
    cmd = [sys.executable, "-m", "loyaltysim", "-m", *TINY, *overrides, SEEDS]
    cmd.append(f"hydra.sweep.dir={folder}")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return folder


@pytest.fixture(scope="module")
def head_to_head(tmp_path_factory) -> Path:
    """The main job's experiment, debug-sized: three programmes x two seeds."""
    folder = tmp_path_factory.mktemp("main")
    return _sweep(folder, "firm/programme=none,discount,engagement")


@pytest.fixture(scope="module")
def withdrawal(tmp_path_factory) -> Path:
    """The withdrawal experiment, debug-sized: two programmes x two end weeks x two seeds."""
    folder = tmp_path_factory.mktemp("withdrawal")
    return _sweep(folder, "firm/programme=discount,engagement", "firm.programme.end_week=null,4")


def _main(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        compare_cli.main([str(a) for a in argv])
        rc = 0
    except SystemExit as exc:
        rc = int(exc.code or 0)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_main_job_leads_with_sentences_and_labels_arms_in_words(
    head_to_head, capsys, monkeypatch, tmp_path
):
    legends: list[str] = []
    ticks: list[str] = []
    real_close = plt.close

    def keep_text(fig=None):  # read the figures' legends and ticks before they close
        if fig is not None and hasattr(fig, "axes"):
            for ax in fig.axes:
                if ax.get_legend() is not None:
                    legends.extend(t.get_text() for t in ax.get_legend().get_texts())
                ticks.extend(t.get_text() for t in ax.get_xticklabels())
        real_close(fig)

    monkeypatch.setattr(compare_cli.plt, "close", keep_text)
    rc, out, err = _main(capsys, head_to_head, "--baseline", "none", "--out", tmp_path)
    assert rc == 0, err
    lines = out.splitlines()
    # one sentence per arm against the baseline comes first, in % and EUR, with its CI and
    # what the interval covers
    for line, arm in zip(lines[:2], ("discount", "engagement"), strict=True):
        assert line.startswith(f"- {arm.capitalize()} programme vs no programme: profit ")
        assert "% (95% CI " in line and "€" in line and "per 1,000 customers" in line
        assert line.endswith("(95% CIs over 2 seeds in one world)")
    assert "seeds of one world" in lines[3]
    assert "firm/programme=" not in out  # no override syntax anywhere in the printout
    assert "| **no programme** | 2 |" in out and "| discount programme | 2 | €" in out
    # legends and bar labels in words too
    assert "no programme (baseline)" in legends and "engagement programme" in legends
    assert set(ticks) >= {"discount programme", "engagement programme"}
    assert not [t for t in legends + ticks if "=" in t]
    # the CSVs: the arm in words, and the raw value in its own column for machines
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert set(zip(table["arm"], table["label"], strict=True)) == {
        ("none", "no programme"),
        ("discount", "discount programme"),
        ("engagement", "engagement programme"),
    }
    payback = pd.read_csv(tmp_path / "payback.csv")
    assert list(payback["label"]) == ["discount programme", "engagement programme"]
    # each arm's break-even gross margin against the baseline, beside the comparison
    margins = pd.read_csv(tmp_path / "break_even_margin.csv")
    assert sorted(margins["arm"]) == ["discount", "engagement"]
    assert (margins["baseline"] == "none").all() and margins["margin"].between(0, 1).all()
    # the report leads with the same sentences
    html = (tmp_path / "report.html").read_text()
    assert html.index("The answer") < html.index("<img")
    assert lines[0][2:].replace("€", "&euro;")[:40] in html.replace("€", "&euro;")


def test_by_one_factor_refuses_to_pool_the_others(withdrawal, capsys):
    rc, out, err = _main(capsys, withdrawal, "--by", "firm.programme.end_week")
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("loyaltysim-compare: ")
    assert "firm/programme" in lines[0] and "discount, engagement" in lines[0]
    assert "--where firm/programme=VALUE" in lines[0] and "--pool" in lines[0]
    assert "Traceback" not in err


def test_where_selects_the_runs_of_one_programme(withdrawal, capsys, tmp_path):
    argv = [withdrawal, "--by", "firm.programme.end_week", "--where", "firm/programme=discount"]
    rc, out, err = _main(capsys, *argv, "--baseline", "null", "--out", tmp_path)
    assert rc == 0, err
    assert out.startswith("- Programme ends week 4 vs programme never ends: profit ")
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert set(table["label"]) == {"programme never ends", "programme ends week 4"}
    assert (table["n"] == 2).all()  # two seeds each, not the engagement runs pooled in
    collected = pd.read_csv(withdrawal / "collected" / "summary.csv")
    mine = collected[
        (collected["firm"] == "focal")
        & (collected["firm/programme"] == "discount")
        & collected["firm.programme.end_week"].isna()
    ]["cumulative_profit_eur"].mean()
    never = table["label"] == "programme never ends"
    row = table[(table["metric"] == "cumulative_profit_eur") & never]
    assert row["mean"].iloc[0] == pytest.approx(mine)
    # a second --where narrows further; a value that matches nothing is a one-line error
    rc, _, err = _main(capsys, withdrawal, "--where", "firm/programme=tiered")
    assert rc == 2 and "discount, engagement" in err and len(err.strip().splitlines()) == 1
    rc, _, err = _main(capsys, withdrawal, "--where", "nokey=1")
    assert rc == 2 and "firm/programme" in err


def test_pool_pools_on_request_and_pairs_run_by_run(withdrawal, capsys, tmp_path):
    argv = [withdrawal, "--by", "firm.programme.end_week", "--pool", "--baseline", "null"]
    rc, out, err = _main(capsys, *argv, "--out", tmp_path)
    assert rc == 0, err
    assert "Pooled on request (--pool): runs that differ in firm/programme." in out
    table = pd.read_csv(tmp_path / "comparison.csv")
    assert (table["n"] == 4).all()  # both programmes' runs in each arm
    profit = table[
        (table["metric"] == "cumulative_profit_eur") & (table["label"] == "programme ends week 4")
    ]
    assert profit["n_pairs"].iloc[0] == 4  # each run paired with its own programme's baseline


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("firm/programme", "discount", "discount programme"),
        ("firm/programme", "none", "no programme"),
        ("firm.programme.end_week", 104, "programme ends week 104"),
        ("firm.programme.end_week", None, "programme never ends"),
        ("firm.price", 5.5, "price = 5.5"),
        ("competitor/programme", "discount", "rival: discount programme"),
        ("firms", "entrant", "firms = entrant"),
        ("arm/acquisition", "retain_all", "acquisition: retain all"),
        ("competitor.poaching.rate", 0.05, "rival's poaching rate = 0.05"),
    ],
)
def test_an_override_reads_in_words(key, value, words):
    assert fmt.setting(key, value) == words


def test_an_arm_reads_yours_first_and_the_programme_before_its_settings():
    both = {"competitor/programme": "none", "firm/programme": "discount"}
    assert fmt.arm_title(both) == "you: discount programme, rival: no programme"
    ended = {"firm.programme.end_week": 78, "firm/programme": "engagement"}
    assert fmt.arm_title(ended) == "engagement programme, programme ends week 78"
