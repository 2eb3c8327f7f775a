"""Scenarios that read like questions: ``loyaltysim-ask scenario=NAME`` runs every arm and
prints a plain-language answer; a broken scenario is a one-line error with exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from loyaltysim.runs.collect import UsageError
from loyaltysim.runs.io import config_dir
from loyaltysim.studies import formatting as fmt
from loyaltysim.studies.ask import check, load_scenario, merged

SHIPPED = sorted(p.stem for p in (config_dir() / "scenario").glob("*.yaml"))
TINY = ["customers.n=300", "market.horizon_weeks=60", "market.warmup_weeks=10", "seeds=2"]
CENTRAL = [*TINY, "worlds=central"]  # one world: the default config
ENV = {**os.environ, "MPLBACKEND": "Agg"}


def ask(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "loyaltysim.studies.ask", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV)


def test_at_least_four_scenarios_ship_and_load():
    assert len(SHIPPED) >= 4, SHIPPED
    for name in SHIPPED:
        scn = load_scenario(name)
        assert scn.baseline in [a.name for a in scn.arms]
        assert len(scn.arms) >= 2 and scn.seeds


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_scenario_runs_and_prints_its_answer(tmp_path, name):
    proc = ask(f"scenario={name}", *CENTRAL, f"out={tmp_path}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    scn = load_scenario(name)
    for arm in scn.arms:
        if arm.name != scn.baseline:  # one sentence per arm, led by its title
            assert f"{arm.title}: " in proc.stdout
    # the answer says what it is measured against and what its intervals cover
    base = next(a.title for a in scn.arms if a.name == scn.baseline)
    assert f"against the baseline, {base[0].lower() + base[1:]}" in proc.stdout
    assert "95% CIs cover the 2 seeds of one world" in proc.stdout
    assert "(95% CIs over 2 seeds in one world)" in proc.stdout
    answer = tmp_path / "answer"
    html = (answer / "report.html").read_text()
    assert "data:image/png;base64," in html and "95% CI" in html
    assert "class=baseline" in html  # the baseline row is highlighted
    head = pd.read_csv(answer / "answer.csv")
    assert sorted(head["arm"]) == sorted(a.name for a in scn.arms if a.name != scn.baseline)
    assert (head["seeds"] == 2).all()
    # a second call skips every finished run and gives the same answer
    again = ask(f"scenario={name}", *CENTRAL, f"out={tmp_path}")
    assert again.returncode == 0, again.stderr
    assert "0 done, 0 failed" not in again.stdout
    assert pd.read_csv(answer / "answer.csv").equals(head)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "question.yaml"
    path.write_text(text)
    return path


BAD = {
    "unknown arm key": (
        "baseline: a\narms:\n  - name: a\n  - name: b\n    overides: [firm.price=6]\n",
        "arm 'b' has unknown key 'overides'",
    ),
    "missing baseline": (
        "arms:\n  - name: a\n  - name: b\n",
        "baseline = None; allowed: one of a, b",
    ),
    "baseline not an arm": (
        "baseline: c\narms:\n  - name: a\n",
        "baseline = 'c'; allowed: one of a",
    ),
    "empty arm list": ("baseline: a\narms: []\n", "arms = []; allowed: a non-empty list"),
    "invalid value": (
        "baseline: a\narms:\n  - name: a\n  - name: b\n"
        "    overrides: [firm.programme.rebate_rate=1.5]\n",
        "arm 'b': invalid config: firm.programme.rebate_rate = 1.5",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_broken_scenario_is_one_line_and_exit_2(tmp_path, case):
    text, message = BAD[case]
    proc = ask(f"scenario={write(tmp_path, text)}", f"out={tmp_path / 'out'}", timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("loyaltysim-ask: "), proc.stderr
    assert message in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "runs").exists()  # nothing ran


def test_unknown_scenario_lists_the_shipped_ones():
    proc = ask("scenario=nope", timeout=60)
    assert proc.returncode == 2 and "allowed: " + ", ".join(SHIPPED) in proc.stderr


def test_later_overrides_win_per_key():
    assert merged(
        ["customers.n=3000", "firm/programme=discount"],
        ["firm/programme=none"],
        ["customers.n=300"],
    ) == ["customers.n=300", "firm/programme=none"]


def test_a_manager_reads_money_p_values_and_names():
    assert fmt.money(1234567.4) == "€1,234,567" and fmt.money(-1234, signed=True) == "-€1,234"
    assert fmt.p_value(4.8e-19) == "< 0.001" and fmt.p_value(0.0123) == "0.012"
    assert fmt.firm_name("focal") == "your firm"
    assert fmt.firm_name("focal", {"focal": "Café Rosa"}) == "Café Rosa"
    row = dict(
        profit_pct=8.1,
        profit_pct_ci_low=7.5,
        profit_pct_ci_high=8.7,
        profit_diff_eur=1e4,
        profit_diff_ci_low=9e3,
        profit_diff_ci_high=1.1e4,
        profit_per_1000_eur=2500.0,
        profit_per_1000_ci_low=2250.0,
        profit_per_1000_ci_high=2750.0,
        share_pp=-1.2,
        share_pp_ci_low=-1.5,
        share_pp_ci_high=-0.9,
        payback_week=40.0,
        better_seeds=20,
        seeds=20,
    )
    assert fmt.sentence(row, "Replacing the rebate with thanks") == (
        "Replacing the rebate with thanks: profit +8.1% (95% CI +7.5 to +8.7%), +€2,500 per "
        "1,000 customers (95% CI +€2,250 to +€2,750), share -1.2 pp (95% CI -1.5 to -0.9 pp); "
        "pays back in week 40; better in 20 of 20 seeds"
    )
    # ahead from the first week: nothing was paid up front, so no payback is said
    ahead = {**row, "payback_week": 1.0, "costs_up_front": False}
    assert "; better in 20 of 20 seeds" in fmt.sentence(ahead, "A")
    assert "pays back" not in fmt.sentence(ahead, "A")


def test_usage_error_is_raised_for_a_missing_file():
    with pytest.raises(UsageError, match="not found"):
        load_scenario("does_not_exist")


def test_progress_estimates_time_left_only_after_a_few_runs():
    from loyaltysim.runs import progress

    first = progress.line(60, done=3, failed=0, skipped=2, elapsed=30.0, tag="t")
    assert first == (
        "[t] 3/60 runs finished (3 done, 0 failed); 2 skipped; time left: estimated after 3 runs"
    )  # one run in this session, two skipped: too early to say
    later = progress.line(60, done=8, failed=1, skipped=2, elapsed=70.0, tag="t")
    assert later.endswith("~8m30s left")  # 51 left at 7 runs per 70 s: 510 s
    assert progress.LINE.search(later).group("skipped") == "2"
    bar = progress.meter(60, 8, 1, 2, 70.0, "sweep")
    assert "9/60" in bar and "1 failed" in bar and "2 skipped" in bar


def test_the_template_copied_and_filled_loads_and_composes(tmp_path):
    template = config_dir() / "scenario" / "TEMPLATE.yaml.example"
    assert template.stem not in SHIPPED  # not listed among the shipped scenarios
    text = template.read_text()
    assert "loyaltysim-ask scenario=my_question.yaml" in text  # it says how to use it
    # filled minimally: a question of one's own and a two-arm answer
    mine = tmp_path / "my_question.yaml"
    mine.write_text(
        text.replace("What would a loyalty programme bring us?", "Is a rebate worth it?")
    )
    scn = load_scenario(str(mine))
    assert scn.question == "Is a rebate worth it?" and scn.name == "my_question"
    assert scn.baseline == "no_programme" and len(scn.arms) == 3
    assert all(a.title != a.name for a in scn.arms) and scn.seeds == list(range(10))
    # every arm composes into a valid config (what ask checks before anything runs)
    assert check(scn, ["customers.n=300"]) == 300  # the command line wins over the file
