"""Buy-till-you-die models fitted by maximum likelihood with SciPy.

Each customer is summarised by the RFM triple of the calibration period, in weeks:
``x`` repeat purchases (purchase occasions after the first; same-day purchases are one
occasion), ``t_x`` the time of the last purchase and ``T`` the time of the end of the
calibration, both measured from the first purchase.

- **BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy way", eq. 6):
  while alive, purchases are Poisson with rate lambda ~ Gamma(r, alpha) (shape r, rate
  alpha in weeks, mean r/alpha a week); after each repeat purchase the customer drops out
  with probability p ~ Beta(a, b). The log-likelihood is
  :func:`loyaltysim.studies.validation.bgnbd.loglik` (one copy in the package).
- **Pareto/NBD** (Schmittlein, Morrison & Colombo 1987; the likelihood as written by Fader
  & Hardie 2005, "A note on deriving the Pareto/NBD model", eqs. 22-24): the same purchase
  process; lifetimes are exponential with rate mu ~ Gamma(s, beta).
- **Gamma-gamma** (Fader, Hardie & Lee 2005, "RFM and CLV", section 4): the spend of one
  purchase occasion is Gamma(p, nu) around the customer's mean p/nu, nu ~ Gamma(q, gamma);
  fitted to the mean spend of each customer's repeat purchases.

The fits maximise the summed log-likelihood over log-parameters (L-BFGS-B, bounded to
exp(+-9)); standard errors come from the inverse Hessian of the negative log-likelihood
(numerical, in log space, mapped by the delta method).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import gammaln, hyp2f1

from ..validation.bgnbd import loglik as bgnbd_loglik

BGNBD = ("r", "alpha", "a", "b")
PARETO = ("r", "alpha", "s", "beta")
GAMMA_GAMMA = ("p", "q", "gamma")
# Published CDNOW (2,357-customer sample, 39-week calibration) estimates, for tests
CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL 2005, weeks
CDNOW_PARETO = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}  # F&H 2005 note
CDNOW_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}  # FHL 2005 "RFM and CLV", USD


@dataclass(frozen=True)
class Fit:
    """A maximum-likelihood fit: parameters, standard errors, the maximised
    log-likelihood (summed over customers), customers used, and whether SciPy converged."""

    model: str
    params: dict[str, float]
    se: dict[str, float]
    loglik: float
    n: int
    converged: bool
    at_bound: tuple[str, ...] = ()  # parameters stopped at exp(+-9): not identified here

    def values(self) -> np.ndarray:
        return np.array(list(self.params.values()))


def pareto_nbd_loglik(params, x, tx, T) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood (Fader & Hardie 2005 note, eq. 22)::

        L = G(r+x) alpha^r beta^s / G(r) * ( 1 / ((alpha+T)^(r+x) (beta+T)^s)
                                            + s / (r+s+x) * A0 )

    with, for alpha >= beta (eq. 23; the other case swaps the roles, eq. 24),
    ``A0 = F(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+t_x)) / (alpha+t_x)^(r+s+x)
    - F(...; (alpha-beta)/(alpha+T)) / (alpha+T)^(r+s+x)``, F the Gauss hypergeometric
    function. Computed in logs: A0 is a difference of two positive terms, the first the
    larger (t_x <= T)."""
    r, alpha, s, beta = params
    x, tx, T = (np.asarray(v, float) for v in (x, tx, T))
    rsx = r + s + x
    if alpha >= beta:
        big, b2, z_t, z_T = (
            alpha,
            s + 1,
            (alpha - beta) / (alpha + tx),
            (alpha - beta) / (alpha + T),
        )
    else:
        big, b2, z_t, z_T = beta, r + x, (beta - alpha) / (beta + tx), (beta - alpha) / (beta + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a = np.log(hyp2f1(rsx, b2, rsx + 1, z_t)) - rsx * np.log(big + tx)
        log_b = np.log(hyp2f1(rsx, b2, rsx + 1, z_T)) - rsx * np.log(big + T)
        log_a0 = log_a + np.log1p(-np.exp(np.minimum(log_b - log_a, 0.0)))
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    return head + np.logaddexp(alive, np.log(s / rsx) + log_a0)


def gamma_gamma_loglik(params, x, m) -> np.ndarray:
    """Per-customer gamma-gamma log-likelihood of the mean spend ``m`` of ``x`` purchase
    occasions (Fader, Hardie & Lee 2005, "RFM and CLV", eq. 3)::

        f(m | x) = G(px+q) / (G(px) G(q)) * gamma^q m^(px-1) x^(px) / (gamma + m x)^(px+q)
    """
    p, q, g = params
    x, m = np.asarray(x, float), np.asarray(m, float)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + m * x)
    )


def _ml(model: str, names, nll_of, start, n: int) -> Fit:
    """Minimise the mean negative log-likelihood over log-parameters; SEs by delta method."""

    def nll(theta):
        value = nll_of(np.exp(theta))
        return value if np.isfinite(value) else 1e300

    res = optimize.minimize(
        nll, np.log(start), method="L-BFGS-B", bounds=[(-9.0, 9.0)] * len(start)
    )
    theta = res.x
    est = np.exp(theta)
    se = np.full(len(theta), np.nan)
    try:  # numerical Hessian of the summed NLL in log space (central differences)
        h = 1e-4
        k = len(theta)
        hess = np.empty((k, k))
        for i in range(k):
            for j in range(k):
                e_i, e_j = np.eye(k)[i] * h, np.eye(k)[j] * h
                hess[i, j] = (
                    nll(theta + e_i + e_j)
                    - nll(theta + e_i - e_j)
                    - nll(theta - e_i + e_j)
                    + nll(theta - e_i - e_j)
                ) / (4 * h * h)
        cov = np.linalg.inv(hess * n)
        se = est * np.sqrt(np.clip(np.diag(cov), 0, None))
    except np.linalg.LinAlgError:
        pass
    return Fit(
        model,
        dict(zip(names, map(float, est), strict=True)),
        dict(zip(names, map(float, se), strict=True)),
        float(-res.fun * n),
        n,
        bool(res.success),
        tuple(k for k, t in zip(names, theta, strict=True) if abs(t) > 9.0 - 1e-6),
    )


def distinct_histories(x, tx, T) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (x, t_x, T) triples and how many customers share each: the likelihood
    depends on nothing else, and whole-day recency and age leave a million customers a few
    hundred thousand distinct triples at most, so each is evaluated once, weighted."""
    rows = np.column_stack([np.asarray(v, float) for v in (x, tx, T)])
    hist, count = np.unique(rows, axis=0, return_counts=True)
    return hist[:, 0], hist[:, 1], hist[:, 2], count.astype(float)


def fit_bgnbd(x, tx, T, start=(0.5, 5.0, 1.0, 2.0)) -> Fit:
    """Maximum-likelihood BG/NBD (r, alpha in weeks, a, b)."""
    hx, htx, hT, w = distinct_histories(x, tx, T)
    n = w.sum()
    return _ml("BG/NBD", BGNBD, lambda p: -(w @ bgnbd_loglik(p, hx, htx, hT)) / n, start,
               int(n))  # fmt: skip


def fit_pareto_nbd(x, tx, T, start=(0.5, 5.0, 0.5, 5.0)) -> Fit:
    """Maximum-likelihood Pareto/NBD (r, alpha in weeks, s, beta in weeks)."""
    hx, htx, hT, w = distinct_histories(x, tx, T)
    n = w.sum()
    return _ml(
        "Pareto/NBD", PARETO, lambda p: -(w @ pareto_nbd_loglik(p, hx, htx, hT)) / n, start,
        int(n),
    )  # fmt: skip


def fit_gamma_gamma(x, m, start=(2.0, 2.0, 10.0)) -> Fit:
    """Maximum-likelihood gamma-gamma (p, q, gamma in money units) on customers with
    ``x >= 1`` occasions of mean spend ``m > 0``."""
    x, m = np.asarray(x, float), np.asarray(m, float)
    keep = (x >= 1) & (m > 0)
    x, m = x[keep], m[keep]
    return _ml(
        "gamma-gamma", GAMMA_GAMMA, lambda p: -gamma_gamma_loglik(p, x, m).mean(), start, x.size
    )


# ---------------------------------------------------------------- BG/NBD predictions
def p_alive(params, x, tx, T) -> np.ndarray:
    """P(alive at T | x, t_x, T) under BG/NBD (FHL 2005, eq. 11)."""
    r, alpha, a, b = params
    x, tx, T = (np.asarray(v, float) for v in (x, tx, T))
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where(
            x > 0,
            a / np.maximum(b + x - 1, 1e-12) * ((alpha + T) / (alpha + tx)) ** (r + x),
            0.0,
        )
    return 1.0 / (1.0 + odds)


def expected_repeat(params, t) -> np.ndarray:
    """E[X(t)]: expected repeat purchases in the first ``t`` weeks after a first purchase
    (FHL 2005, eq. 7)."""
    r, alpha, a, b = params
    t = np.asarray(t, float)
    z = t / (alpha + t)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z))


def expected_future(params, x, tx, T, t) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in the ``t`` weeks after T given the
    customer's calibration history (FHL 2005, eq. 10)."""
    r, alpha, a, b = params
    x, tx, T = (np.asarray(v, float) for v in (x, tx, T))
    z = t / (alpha + T + t)
    head = (a + b + x - 1) / (a - 1)
    body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    return head * body * p_alive(params, x, tx, T)


def simulate_forward(params, x, tx, T, weeks: float, rng: np.random.Generator):
    """Purchases of each customer in the ``weeks`` after T, drawn from the BG/NBD posterior
    given the calibration history: alive with :func:`p_alive`; if alive, lambda ~
    Gamma(r+x, alpha+T) and p ~ Beta(a, b+x) (the alive branch of the likelihood, eq. 6,
    times the priors); then Poisson(lambda) purchases in continuous time, each followed by
    drop-out with probability p. Returns ``(customer_index, weeks_after_T)`` arrays."""
    r, alpha, a, b = params
    x, tx, T = (np.asarray(v, float) for v in (x, tx, T))
    n = x.size
    alive = rng.random(n) < p_alive(params, x, tx, T)
    lam = rng.gamma(r + x, 1.0 / (alpha + T))
    p = rng.beta(a, b + x)
    return _purchases(np.flatnonzero(alive), lam, p, np.zeros(n), weeks, rng)


def simulate_cohort(params, n: int, weeks, rng: np.random.Generator):
    """A BG/NBD cohort from its first purchases: repeat purchases of customer i in the
    ``weeks[i]`` after its first purchase (lambda ~ Gamma(r, alpha), p ~ Beta(a, b); drop-out
    only after repeat purchases). Returns ``(customer_index, weeks_after_first)``."""
    r, alpha, a, b = params
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    return _purchases(np.arange(n), lam, p, np.zeros(n), np.asarray(weeks, float), rng)


def _purchases(rows, lam, p, t0, horizon, rng):
    """Continuous-time Poisson purchases of ``rows`` from ``t0`` until ``horizon`` (scalar
    or per customer), each followed by drop-out with probability ``p``."""
    horizon = np.broadcast_to(np.asarray(horizon, float), lam.shape)
    t = t0[rows].copy()
    who, when = [], []
    while rows.size:
        t += rng.exponential(1.0 / np.maximum(lam[rows], 1e-300))
        inside = t < horizon[rows]
        rows, t = rows[inside], t[inside]
        who.append(rows)
        when.append(t.copy())
        stay = rng.random(rows.size) >= p[rows]
        rows, t = rows[stay], t[stay]
    if not who:
        return np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(who).astype(np.int64), np.concatenate(when)
