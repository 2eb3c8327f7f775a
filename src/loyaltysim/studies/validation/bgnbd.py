"""BG/NBD round trip: fit the cohort's transaction log and recover r, alpha, a, b.

The BG/NBD log-likelihood of one customer with x repeat purchases, the last at t_x, observed
for T since the first purchase (Fader, Hardie & Lee 2005, eq. 6)::

    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))

(Gamma and Beta functions only), maximised over log-parameters with scipy. Weekly steps bias
the fit, so the model's estimates are judged against a plain NumPy BG/NBD generator with the
same timing (Poisson purchases per week, drop-out after a week's repeat purchases, days
drawn within the week as the transaction log draws them), fitted the same way.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.special import betaln, gammaln

from ...runs.io import purchase_days
from . import check
from .common import Context, Measured, mean_ci

CDNOW = (0.243, 4.414, 0.793, 2.426)  # r, alpha (weeks), a, b
NAMES = ("r", "alpha", "a", "b")


def loglik(params, x, tx, T) -> np.ndarray:
    """Per-customer BG/NBD log-likelihood (Fader, Hardie & Lee 2005, eq. 6)."""
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) - betaln(a, b)
    first = betaln(a, b + x) - (r + x) * np.log(alpha + T)
    second = np.where(
        x > 0,
        betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - (r + x) * np.log(alpha + tx),
        -np.inf,
    )
    return common + np.logaddexp(first, second)


def fit(x, tx, T, start=(0.5, 5.0, 1.0, 2.0)) -> np.ndarray:
    """Maximum-likelihood (r, alpha, a, b)."""
    x, tx, T = (np.asarray(v, float) for v in (x, tx, T))

    def nll(theta):
        return -loglik(np.exp(theta), x, tx, T).sum() / x.size

    res = optimize.minimize(nll, np.log(start), method="L-BFGS-B", bounds=[(-9, 9)] * 4)
    return np.exp(res.x)


def rfm(first_day, last_day, count, weeks: int):
    """(x, t_x, T) in weeks; a purchase on day d happens at (d + 1/2)/7."""
    first = (np.asarray(first_day) + 0.5) / 7
    return np.asarray(count) - 1, (np.asarray(last_day) - first_day) / 7, weeks - first


def rfm_from_log(log, weeks: int):
    g = log.groupby("customer_id")["day"].agg(["min", "max", "size"])
    return rfm(g["min"].to_numpy(), g["max"].to_numpy(), g["size"].to_numpy(), weeks)


def weekly_cohort(params, n: int, weeks: int, rng: np.random.Generator):
    """A NumPy BG/NBD cohort in weekly steps, timed as the model's cohort option: a trial
    purchase in week 0, Poisson(lam) repeat purchases a week, drop-out with probability p
    after each repeat purchase (none after it in that week), days within the week drawn as
    the transaction log draws them."""
    r, alpha, a, b = params
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    alive = np.ones(n, bool)
    count = np.zeros(n, np.int64)
    first = np.zeros(n, np.int64)
    last = np.zeros(n, np.int64)
    for w in range(weeks):
        rows = np.flatnonzero(alive)
        k = rng.poisson(lam[rows])
        j = rng.geometric(p[rows])  # the repeat purchase after which the customer drops out
        gone = j <= k
        k = np.where(gone, j, k)
        trips = k + (w == 0)
        buy = trips > 0
        rows_b, trips_b = rows[buy], trips[buy]
        days = purchase_days(trips_b, 7, rng)
        ends = np.cumsum(trips_b)
        if w == 0:
            first[rows_b] = days[ends - trips_b]
        last[rows_b] = 7 * w + days[ends - 1]
        count[rows_b] += trips_b
        alive[rows[gone]] = False
    seen = count > 0
    return rfm(first[seen], last[seen], count[seen], weeks)


def judge(model: dict, ref: dict, rel: float = 0.10, level: float = 0.99) -> tuple[bool, list]:
    """A parameter passes if the model's mean over seeds is within ``rel`` of the
    reference's, or the difference is not significant at ``level``: a t-test that takes the
    sampling spread of one fit from the reference's replicates (cheap, so there are many)."""
    from scipy import stats

    rows = []
    for k in NAMES:
        m, q = np.asarray(model[k]), np.asarray(ref[k])
        se = q.std(ddof=1) * np.sqrt(1 / m.size + 1 / q.size) if q.size > 1 else 0.0
        bound = stats.t.ppf(0.5 + level / 2, max(q.size - 1, 1)) * se
        diff = m.mean() - q.mean()
        rows.append((k, diff, bool(abs(diff) <= max(rel * abs(q.mean()), bound))))
    return all(ok for *_, ok in rows), rows


def round_trip(ctx: Context, reference=CDNOW) -> Measured:
    n = ctx.pick(5000, 20000)
    weeks = 78
    runs = ctx.runs(["validation=bgnbd", f"customers.n={n}"], log=True)
    model = {k: [] for k in NAMES}
    ref = {k: [] for k in NAMES}
    for r in runs:
        for k, v in zip(NAMES, fit(*rfm_from_log(r.log, weeks)), strict=True):
            model[k].append(float(v))
    for rep in range(max(len(runs), 8)):  # replicates of the reference: its spread
        rng = np.random.default_rng(np.random.SeedSequence(rep, spawn_key=(78,)))
        for k, v in zip(NAMES, fit(*weekly_cohort(reference, n, weeks, rng)), strict=True):
            ref[k].append(float(v))
    ok, rows = judge(model, ref)
    parts = ", ".join(
        f"{k} {mean_ci(model[k])['mean']:.3g} vs {mean_ci(ref[k])['mean']:.3g}"
        f" ({'ok' if good else 'off'})"
        for k, _, good in rows
    )
    evidence = (
        f"The cohort option (validation=bgnbd, {n} customers, {weeks} weeks) fitted by "
        f"maximum likelihood gives (model vs weekly NumPy reference, truth "
        f"{', '.join(f'{k} {v}' for k, v in zip(NAMES, CDNOW, strict=True))}): {parts}. "
        "Agreement is evidence that the purchase process is the BG/NBD story and that the "
        "transaction log carries the true frequencies and recencies a CLV library reads; "
        "the reference absorbs the bias of weekly timing."
    )

    def figure(fig):
        ax = fig.subplots()
        xs = np.arange(4)
        for i, (label, vals) in enumerate((("model", model), ("reference", ref))):
            ci = [mean_ci(np.asarray(vals[k]) / t) for k, t in zip(NAMES, CDNOW, strict=True)]
            mean = np.array([c["mean"] for c in ci])
            err = np.array([c["hi"] - c["mean"] if np.isfinite(c["hi"]) else 0 for c in ci])
            ax.bar(xs + 0.35 * i, mean, 0.35, yerr=err, label=label, capsize=3)
        ax.axhline(1, color="k", lw=0.8)
        ax.set_xticks(xs + 0.17, NAMES)
        ax.set(ylabel="estimate / CDNOW value", title="BG/NBD round trip (95% CI over seeds)")
        ax.legend()

    values = {f"{k}_model": model[k] for k in NAMES}
    values.update({f"{k}_reference": ref[k] for k in NAMES})
    return Measured(values, "r_model", "pass" if ok else "fail", evidence, figure)


@check(
    "bgnbd_round_trip",
    "bgnbd",
    "Fader, Hardie & Lee (2005), CDNOW: r 0.243, alpha 4.414, a 0.793, b 2.426",
    "each MLE within 10% of a NumPy BG/NBD generator with the same weekly timing "
    "(8+ replicates), or not different at the 1% level",
)
def _round_trip(ctx: Context) -> Measured:
    return round_trip(ctx)
