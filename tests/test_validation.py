"""The validation suite: its statistics on known inputs, its checks at small sizes, and
checks that fail when fed a deliberately wrong closed form or generator."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loyaltysim.runs.io import purchase_days
from loyaltysim.studies.validation import REGISTRY, analytic, bgnbd, ehrenberg, programme
from loyaltysim.studies.validation.cli import main
from loyaltysim.studies.validation.common import Context, mean_ci, merge_overrides


@pytest.fixture(scope="module")
def ctx():
    return Context(seeds=[0, 1], quick=True)


def test_purchase_days_are_distinct_sorted_and_uniform():
    rng = np.random.default_rng(0)
    trips = rng.integers(1, 10, 20000)
    days = purchase_days(trips, 7, rng)
    owner = np.repeat(np.arange(trips.size), trips)
    assert days.min() >= 0 and days.max() <= 6
    df = pd.DataFrame({"o": owner, "d": days})
    few = np.repeat(trips <= 7, trips)
    assert (df[few].groupby("o")["d"].nunique() == trips[trips <= 7]).all()
    assert (np.diff(days)[np.diff(owner) == 0] >= 0).all(), "sorted within a buyer"
    single = days[np.repeat(trips == 1, trips)]
    assert stats.chisquare(np.bincount(single, minlength=7)).pvalue > 1e-4


def test_mean_ci_and_overrides():
    ci = mean_ci([1.0, 2.0, 3.0])
    assert ci["mean"] == 2 and ci["lo"] < 2 < ci["hi"]
    assert np.isnan(mean_ci([5.0])["lo"])
    merged = merge_overrides(["firm/programme=tiered", "customers.n=7"], ["firm/programme=none"])
    assert merged == ["customers.n=7", "firm/programme=none"]


def continuous_cohort(params, n, weeks, rng):
    """BG/NBD in continuous time (the textbook story) for testing the likelihood."""
    r, alpha, a, b = params
    lam, p = rng.gamma(r, 1 / alpha, n), rng.beta(a, b, n)
    x, tx, t = np.zeros(n), np.zeros(n), np.zeros(n)
    alive = np.arange(n)
    while alive.size:
        t[alive] += rng.exponential(1 / lam[alive])
        alive = alive[t[alive] <= weeks]
        x[alive] += 1
        tx[alive] = t[alive]
        alive = alive[rng.random(alive.size) >= p[alive]]
    return x, tx, np.full(n, float(weeks))


def test_bgnbd_mle_recovers_the_truth_in_continuous_time():
    x, tx, T = continuous_cohort(bgnbd.CDNOW, 20000, 78, np.random.default_rng(3))
    est = bgnbd.fit(x, tx, T)
    np.testing.assert_allclose(est, bgnbd.CDNOW, rtol=0.2)
    # the likelihood is a density: it is largest near the truth, not at a wrong value
    wrong = (0.5, 4.414, 0.793, 2.426)
    assert bgnbd.loglik(bgnbd.CDNOW, x, tx, T).sum() > bgnbd.loglik(wrong, x, tx, T).sum()


def test_bgnbd_judge_passes_the_same_generator_and_fails_a_wrong_one():
    def fits(params, seeds):
        out = {k: [] for k in bgnbd.NAMES}
        for s in seeds:
            est = bgnbd.fit(*bgnbd.weekly_cohort(params, 4000, 78, np.random.default_rng(s)))
            for k, v in zip(bgnbd.NAMES, est, strict=True):
                out[k].append(v)
        return out

    ref = fits(bgnbd.CDNOW, range(10, 18))
    assert bgnbd.judge(fits(bgnbd.CDNOW, [20, 21]), ref)[0]
    assert not bgnbd.judge(fits((0.6, 4.414, 0.793, 2.426), [20, 21]), ref)[0]


def test_bgnbd_round_trip_runs_on_the_model_log(ctx):
    m = bgnbd.round_trip(ctx)
    assert m.verdict in {"pass", "fail"} and len(m.values["r_model"]) == 2
    assert all(0.05 < v < 2 for v in m.values["r_model"] + m.values["r_reference"])
    broken = bgnbd.round_trip(ctx, reference=(0.8, 4.414, 0.793, 2.426))
    assert broken.verdict == "fail"


def test_tenure_matches_the_closed_form_and_a_wrong_form_fails(ctx):
    assert analytic.tenure(ctx).verdict == "pass"
    assert analytic.tenure(ctx, closed_form=lambda lam, d: (1 / d, 1 / d)).verdict == "fail"


def test_logit_shares_match_and_wrong_sensitivities_fail(ctx):
    assert analytic.shares(ctx).verdict == "pass"
    assert analytic.shares(ctx, beta_scale=2.0).verdict == "fail"


def test_ehrenberg_statistics_on_constructed_data():
    # firm A: 3 buyers buying 3 times each; B: 2 buyers buying twice; C: 1 buyer twice
    table = pd.DataFrame({"A": [3, 3, 3, 0], "B": [2, 0, 2, 0], "C": [0, 0, 0, 2]})
    rho, cv_pen, cv_freq = ehrenberg.jeopardy(table)
    assert rho > 0 and cv_pen == pytest.approx(0.5) and cv_freq < cv_pen
    # the reverse (small firms bought more often) is not double jeopardy
    rho, *_ = ehrenberg.jeopardy(pd.DataFrame({"A": [1, 1, 1, 0], "C": [0, 0, 0, 5]}))
    assert rho < 0
    flat = pd.DataFrame({"A": [1, 1, 1], "B": [1, 1, 1], "C": [1, 1, 1]})
    assert np.isnan(ehrenberg.jeopardy(flat)[0]) or ehrenberg.jeopardy(flat)[1] == 0
    # the double-jeopardy line w(1 - b) = w0: A (b 3/4, w 3), B (b 2/4, w 2) and C (b 1/4,
    # w 2) give w(1 - b) = 0.75, 1.0 and 1.5, mean 3.25/3: C is 38.5% above the line
    assert ehrenberg.law_deviation(table) == pytest.approx(100 * (1.5 / (3.25 / 3) - 1))
    # firms on the line: w(1 - b) = 1.5 for A and C (b 1/2, w 3) and B (b 1/4, w 2)
    on_line = pd.DataFrame({"A": [3, 3, 0, 0], "B": [2, 0, 0, 0], "C": [0, 0, 3, 3]})
    assert ehrenberg.law_deviation(on_line) == pytest.approx(0)
    # a niche firm whose few buyers buy it far more often is off the line
    niche = pd.DataFrame({"A": [2, 2, 2, 2, 0], "B": [2, 2, 0, 0, 0], "C": [0, 0, 0, 0, 9]})
    assert ehrenberg.law_deviation(niche) > 50
    # customer 0 moves from A to B, customer 1 stays with A, customer 2 ties (no switch)
    log = pd.DataFrame(
        {
            "customer_id": [0, 0, 1, 1, 2, 2, 2],
            "week": [1, 40, 2, 30, 3, 4, 35],
            "firm": pd.Categorical(["A", "B", "A", "A", "A", "B", "A"]),
        }
    )
    assert ehrenberg.switching_share(log, 52) == pytest.approx(100 / 3)


def test_payback_and_decomposition_add_up(ctx):
    weeks = np.arange(1, 6)
    assert programme.payback_week(weeks, np.array([-1, -2, 1, -0.5, 2])) == 5
    assert programme.payback_week(weeks, np.array([1, 2, 3, 4, 5])) == 1
    assert np.isnan(programme.payback_week(weeks, np.array([1, 2, 3, 4, -5])))
    base, prog = ctx.batch(
        [["customers.n=2000", f"firm/programme={p}"] for p in ("none", "engagement")]
    )
    focal = [r.metrics[r.metrics["firm"] == "focal"] for r in (base[0], prog[0])]
    parts = programme.decompose(*focal)
    assert sum(parts.values()) == pytest.approx(100.0)
    assert abs(parts["initial"]) < 1e-6


def test_cli_runs_every_check_quickly_and_writes_the_report(tmp_path, capsys):
    out = tmp_path / "v"
    assert main(["--quick", "--seeds", "2", "--workers", "1", "--out", str(out)]) == 0
    data = json.loads((out / "validation.json").read_text())
    names = [c["name"] for c in data["checks"]]
    assert names == list(REGISTRY)
    for c in data["checks"]:
        assert c["verdict"] in {"pass", "fail", "report"}
        assert (out / c["figure"]).stat().st_size > 1000
        head = c["measured"][c["headline"]]
        assert head["n"] >= 1 and np.isfinite(head["mean"]), c["name"]
    assert {c["name"]: c["verdict"] for c in data["checks"]}["passive_active_ratio"] == "report"
    text = (out / "README.md").read_text()
    assert "| check | source | target | measured | verdict |" in text
    assert all(f"## {n}" in text for n in names)


@pytest.mark.parametrize(
    "argv",
    [["--only", "no_such_check"], ["firm.prise=3"], ["customers.n=-1"], ["--seeds", "0"]],
)
def test_cli_mistakes_exit_2_with_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("loyaltysim-validate: ") and err.count("\n") == 1


def test_bgnbd_config_is_a_cohort_whose_log_starts_with_a_trial(tmp_path):
    from loyaltysim import load_config, run_one

    cfg = load_config(["validation=bgnbd", "customers.n=400", "market.horizon_weeks=6"], seed=2)
    assert cfg.customers.bgnbd_cohort and cfg.market.warmup_weeks == 0
    assert [f.name for f in cfg.firm_params()] == ["focal"]
    run_one(cfg, tmp_path)
    log = pd.read_parquet(tmp_path / "transactions.parquet")
    first = log.groupby("customer_id")["week"].min()
    assert len(first) == 400 and (first == 0).all(), "every customer's trial is in week 0"


def test_liu_measure_follows_members_by_pre_period_tercile():
    """Liu (2007) followed the programme's members: a non-member's purchases count in the
    all-buyers change only, and each tercile's change is members' post purchases in the
    programme arm over the same customers' in the no-programme arm."""
    from loyaltysim.studies.validation.common import RunData

    pre = [1, 1, 2, 2, 4, 4]  # focal purchases before week 26: light 0-1, moderate 2-3, heavy 4-5
    post_base = [10] * 6
    post_prog = [12, 10, 11, 11, 10, 10]  # customer 1 (light) never joins and does not move

    def log(post):
        rows = [(c, w, "focal") for c, k in enumerate(pre) for w in range(k)]
        rows += [(c, 30 + w, "focal") for c, k in enumerate(post) for w in range(k)]
        rows += [(0, 40, "rival")]  # another firm's sale is not counted
        c, w, f = zip(*rows, strict=True)
        return pd.DataFrame({"customer_id": c, "week": w, "firm": pd.Categorical(f)})

    metrics = pd.DataFrame({"firm": ["focal"]})
    member = np.array([[True], [False], [True], [True], [True], [True]])
    base = [RunData(metrics, None, log(post_base))]
    prog = [RunData(metrics, None, log(post_prog), {"member": member})]
    v = programme.liu_values(base, prog, 26, 104)
    assert v["light_change_pct"] == [pytest.approx(20.0)]  # member 0 only: 12 vs 10
    assert v["light_change_all_pct"] == [pytest.approx(10.0)]  # 22 vs 20
    assert v["light_members_pct"] == [pytest.approx(50.0)]
    assert v["moderate_change_pct"] == [pytest.approx(10.0)]
    assert v["heavy_change_pct"] == [pytest.approx(0.0)]
    assert v["heavy_over_light"] == [pytest.approx(0.0)]
    # the same membership read from a run folder's customer table
    table = pd.DataFrame({"customer_id": np.arange(6), "member_focal": member[:, 0]})
    prog = [RunData(metrics, table, log(post_prog))]
    assert programme.liu_values(base, prog, 26, 104)["light_change_pct"] == [pytest.approx(20.0)]


def test_report_compares_the_default_with_the_calibrated_ensemble(tmp_path):
    """The validation README's targets table: the default's value and whether it is in
    range, the central world's value and the ensemble's spread, from a calibration folder."""
    from loyaltysim.runs.runner import config_dict, load_config
    from loyaltysim.studies.validation.common import Result
    from loyaltysim.studies.validation.ensemble import section

    default_weight = config_dict(load_config())["customers"]["choice"]["loyalty_weight"]
    cal = tmp_path / "cal"
    cal.mkdir()
    central = [f"customers.choice.loyalty_weight={default_weight}"]
    summary = {
        "calibration": "literature",
        "file": None,
        "accepted": 3,
        "measured": 9,
        "central": "w1",
        "central_overrides": central,
        "customers": 3000,
        "replications": 2,
    }
    (cal / "summary.json").write_text(json.dumps(summary))
    pd.DataFrame(
        {
            "world": ["w0", "w1", "w2"],
            "polygamy.sole_over_90_pct": [12.0, 20.0, 38.0],
            "central": [False, True, False],
        }
    ).to_csv(cal / "accepted.csv", index=False)
    ci = {"mean": 45.0, "lo": 44.0, "hi": 46.0, "n": 20}
    res = Result(
        "polygamy",
        "ehrenberg",
        "s",
        "t",
        "sole_over_90_pct",
        {"sole_over_90_pct": ci},
        "fail",
        "e",
        [0],
        0.1,
    )
    text = "\n".join(section([res], cal))
    row = next(line for line in text.splitlines() if line.startswith("| `sole_buyers`"))
    assert "45 [44, 46]" in row and "**no**" in row  # the default is out of 10-40
    assert "| 20 |" in row and "12 / 20 / 38" in row
    assert "The default config is the central world" in text
    summary["central_overrides"] = [f"customers.choice.loyalty_weight={default_weight + 1}"]
    (cal / "summary.json").write_text(json.dumps(summary))
    assert "is **not** the central world" in "\n".join(section([res], cal))
    assert "No calibration found" in section([res], tmp_path / "none")[2]


def test_a_partial_validation_never_replaces_the_curated_report():
    # the README quotes results/validation: only the full suite as shipped writes there
    from loyaltysim.studies.validation.cli import CURATED, SCRATCH, default_out, parse

    assert default_out(parse([])) == CURATED
    for argv in (["--quick"], ["--only", "polygamy"], ["--seeds", "3"], ["seed=3"]):
        assert default_out(parse(argv)) == SCRATCH, argv
    assert parse(["--quick", "--out", "x"]).out.name == "x"
