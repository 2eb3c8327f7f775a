"""Analytic limits: settings under which the model has a closed form.

- Tenure under constant drop-out: every customer buys Poisson(lam) times a week and drops
  out with probability d after each purchase, so a week ends with drop-out with probability
  h = 1 - E[(1-d)^k] = 1 - exp(-lam d); tenure (weeks until drop-out, that week included) is
  geometric with mean 1/h (about 1/(lam d) + 1/2), and purchases before drop-out have mean
  lam/h (Wald; about 1/d, the continuous-time BG/NBD value).
- Logit shares: with habit (loyalty) and engagement out of the utility, customer i picks
  firm f with probability softmax(-beta_i p + taste_i)_f; the market share of purchases is
  that probability averaged over customers weighted by their purchases (the mixed logit).
- Conservation: the accounting identities of :func:`loyaltysim.studies.checks.check_identities`.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np

from . import check
from .common import Context, Measured, mean_ci, verdict

QUIET = (
    "market.warmup_weeks=0",  # a cohort from week 0: the closed forms start there
    "firm/programme=none",
    "competitor/programme=none",
    "customers.prospects_per_customer=0",
    "customers.referral.rate=0",
    "firm.acquisition.weekly_budget_per_1000=0",
    "competitor.acquisition.weekly_budget_per_1000=0",
    "competitor.poaching.rate=0",
    "customers.choice.engagement_churn_relief=0",
    "customers.choice.engagement_basket_lift=0",
    # the closed forms know no engagement: dissatisfaction (g < 0) must not move drop-out
    "customers.choice.dissatisfaction_churn=0",
)
D, LAM = 0.1, 0.5


def tenure_closed_form(lam: float, d: float) -> tuple[float, float]:
    """Mean (weeks until drop-out, purchases until drop-out) in the weekly model."""
    h = -np.expm1(-lam * d)
    return 1.0 / h, lam / h


def tenure(ctx: Context, closed_form: Callable = tenure_closed_form) -> Measured:
    n = ctx.pick(3000, 10000)
    weeks = 400  # survival to the horizon: exp(-400 h), about 1e-9
    own = [
        *QUIET,
        f"customers.n={n}",
        f"market.horizon_weeks={weeks}",
        f"customers.dropout_a={D * 1e6}",
        f"customers.dropout_b={(1 - D) * 1e6}",
        "customers.purchase_rate_shape=1000000.0",
        f"customers.purchase_rate_mean={LAM}",
    ]
    runs = ctx.runs(own, customers=True)
    expect_weeks, expect_buys = closed_form(LAM, D)
    ten, buys, censored = [], [], []
    for r in runs:
        c = r.customers
        gone = c["left_week"] >= 0
        t = np.where(gone, c["left_week"] - c["joined_week"] + 1, weeks)
        ten.append(float(t.mean()))
        buys.append(float(c["purchases"].mean()))
        censored.append(float((~gone).mean()))
    ci_t, ci_b = mean_ci(ten), mean_ci(buys)
    tol = 0.01  # 1% on top of the CI over seeds
    ok = all(
        ci["lo"] * (1 - tol) <= x <= ci["hi"] * (1 + tol)
        for ci, x in ((ci_t, expect_weeks), (ci_b, expect_buys))
    )
    evidence = (
        f"With d = {D} and lam = {LAM} a week for every customer (beta and gamma "
        f"concentrated), engagement effects, referrals and acquisition off, the mean tenure "
        f"is {ci_t['mean']:.2f} weeks against the closed form {expect_weeks:.2f} "
        f"(1/(lam d) = {1 / (LAM * D):.1f} in continuous time) and the mean purchases until "
        f"drop-out {ci_b['mean']:.2f} against {expect_buys:.2f} (1/d = {1 / D:.0f}); "
        f"{100 * np.mean(censored):.2g}% still active at week {weeks}. Evidence that the "
        "purchase-timing and drop-out rules implement the buy-till-you-die process they state."
    )

    def figure(fig):
        ax = fig.subplots()
        c = runs[0].customers
        t = c.loc[c["left_week"] >= 0, "left_week"] + 1
        ax.hist(t, bins=np.arange(0, 150, 3), density=True, alpha=0.6, label="model, seed 0")
        h = 1 / expect_weeks
        x = np.arange(1, 150)
        ax.plot(x, h * (1 - h) ** (x - 1), "k-", label="geometric, closed form")
        ax.set(xlabel="tenure (weeks)", ylabel="density", title="Tenure under constant drop-out")
        ax.legend()

    return Measured(
        {
            "mean_tenure_weeks": ten,
            "closed_form_weeks": [expect_weeks] * len(ten),
            "mean_purchases": buys,
            "closed_form_purchases": [expect_buys] * len(ten),
        },
        "mean_tenure_weeks",
        verdict(ok),
        evidence,
        figure,
    )


@check(
    "tenure_closed_form",
    "analytic",
    "analytic: geometric drop-out, h = 1 - exp(-lam d) (BG/NBD in weekly steps)",
    "mean tenure = 1/h weeks and purchases = lam/h, within the 95% CI over seeds +-1%",
)
def _tenure(ctx: Context) -> Measured:
    return tenure(ctx)


def logit_share(
    beta: np.ndarray, prices: np.ndarray, weights: np.ndarray, taste: np.ndarray | None = None
) -> np.ndarray:
    """Mixed-logit purchase shares: softmax(-beta_i p + taste_i) averaged with weights."""
    u = -np.outer(beta, prices)
    if taste is not None:
        u += taste
    u -= u.max(axis=1, keepdims=True)
    p = np.exp(u)
    p /= p.sum(axis=1, keepdims=True)
    return weights @ p / weights.sum()


def shares(ctx: Context, beta_scale: float = 1.0) -> Measured:
    n = ctx.pick(3000, 10000)
    own = [
        *QUIET,
        f"customers.n={n}",
        "market.horizon_weeks=52",
        "customers.choice.loyalty_weight=0",
        "customers.choice.engagement_weight=0",
        "customers.choice.engagement_price_relief=0",
        "customers.choice.dissatisfaction_price=0",  # the logit's beta is the customer's own
        "firm.price=4.5",
    ]
    runs = ctx.runs(own, keep=("taste",), customers=True)
    prices = runs[0].metrics.groupby("firm", sort=False)["price"].first()
    measured, analytic = [], []
    for r in runs:
        c = r.customers
        want = logit_share(
            beta_scale * c["price_sensitivity"].to_numpy(),
            prices.to_numpy(),
            c["purchases"].to_numpy(float),
            r.population["taste"][c["customer_id"].to_numpy()],
        )
        got = r.metrics.groupby("firm", sort=False)["purchases"].sum()
        measured.append(100 * got.iloc[0] / got.sum())
        analytic.append(100 * want[0])
    diff = np.subtract(measured, analytic)
    tol = 0.5
    ok = abs(mean_ci(diff)["mean"]) <= tol
    evidence = (
        f"Loyalty, engagement and price relief out of the utility, focal price "
        f"{prices.iloc[0]} against {prices.iloc[1]}: the focal firm's share of purchases is "
        f"{np.mean(measured):.2f}% against the mixed-logit {np.mean(analytic):.2f}% (the "
        "logit probability averaged over each seed's drawn price sensitivities and persistent "
        "tastes, weighted by purchases). Evidence that the choice rule is the multinomial "
        "logit it states."
    )

    def figure(fig):
        ax = fig.subplots()
        ax.scatter(analytic, measured)
        lo, hi = min(analytic + measured) - 0.5, max(analytic + measured) + 0.5
        ax.plot([lo, hi], [lo, hi], "k--", label="equal")
        ax.set(xlabel="analytic mixed-logit share (%)", ylabel="simulated share (%)")
        ax.set_title("Focal share, loyalty and engagement off (one point per seed)")
        ax.legend()

    return Measured(
        {"focal_share_pct": measured, "analytic_share_pct": analytic, "difference_pp": diff},
        "difference_pp",
        verdict(ok),
        evidence,
        figure,
    )


@check(
    "logit_shares",
    "analytic",
    "analytic: multinomial logit averaged over drawn price sensitivities and tastes",
    "simulated minus analytic focal share within +-0.5 pp (mean over seeds)",
)
def _shares(ctx: Context) -> Measured:
    return shares(ctx)


@check(
    "customers_conserved",
    "analytic",
    "analytic: accounting identities (loyaltysim.studies.checks.check_identities)",
    "every run: customers conserved per firm and in total, profit identities, shares sum to 1",
)
def _conserved(ctx: Context) -> Measured:
    from ..checks import ProgrammeCheckError, check_identities

    n = ctx.pick(2000, 10000)
    arms = [
        [f"customers.n={n}", "firm/programme=engagement", "competitor/programme=discount"],
        [f"customers.n={n}", "competitor.poaching.rate=0.05", "firms=ladder"],
    ]
    ok, errors = [], []
    for runs in ctx.batch(arms):
        for r in runs:
            try:
                check_identities(SimpleNamespace(metrics=r.metrics), "validation")
                ok.append(1.0)
            except ProgrammeCheckError as err:
                ok.append(0.0)
                errors.append(str(err))
    evidence = (
        f"{int(sum(ok))} of {len(ok)} runs (engagement programme against discounting rivals; "
        "five unequal firms with poaching) keep every identity: arrivals minus departures "
        "equal the change in customers per firm and in total, profit is revenue less its "
        "costs, shares sum to one. " + ("; ".join(errors[:2]) if errors else "")
    )

    def figure(fig):
        ax = fig.subplots()
        m = ctx.batch(arms)[0][0].metrics
        for firm, df in m.groupby("firm", sort=False):
            flow = df["acquired"] + df["referred"] + df["switched_in"]
            flow = flow - df["churn_to_competitor"] - df["churn_out"]
            ax.plot(df["week"], df["customers"].diff() - flow, label=firm)
        ax.set(xlabel="week", ylabel="change - net flows", title="Conservation residual (seed 0)")
        ax.legend()

    return Measured({"runs_conserving": ok}, "runs_conserving", verdict(all(ok)), evidence, figure)
