"""From fitted BG/NBD and gamma-gamma parameters to the model's parameters: a world file.

The model's purchase process is BG/NBD's (``model/customers.py``, ``model/purchases.py``;
checked by ``loyaltysim-validate``'s ``bgnbd_round_trip`` with ``conf/validation/bgnbd.yaml``):

==========================================  =================================================
model parameter                             from the fit
==========================================  =================================================
``customers.purchase_rate_shape``           r (gamma shape of purchase rates)
``customers.purchase_rate_mean``            r / alpha / share (purchases a week; alpha is a
                                            gamma *rate* in weeks)
``customers.dropout_a``                     a
``customers.dropout_b``                     (a + b) / share - a (b when share = 1)
``customers.basket_mean``                   p gamma / (q - 1) / price (units a purchase: the
                                            mean of the gamma-gamma mean spend, over price)
``customers.basket_shape``                  q - 2 (the gamma shape with the same coefficient
                                            of variation as gamma-gamma's inverse-gamma mean
                                            spend; needs q > 2, else left at its default)
``customers.n``                             customers in the calibration cohort
``firm.price``, ``firm.unit_cost``          --price (or amount/units in the log), --unit-cost
                                            or --margin
``competitor.count``, ``competitor.price``  --rivals (default: the other firms in the log, or
                                            0), rivals at the firm's price
==========================================  =================================================

``share`` (--share, default 1) is the firm's share of its customers' category purchases:
the model's rate and drop-out are the *category's*, split among the firms by choice; a
firm that sees a share s of its customers' purchases sees the rate s lambda, and about
p / s of drop-out per purchase it sees (a category drop-out follows one of 1/p category
purchases, s/p of them at the firm), so the mean per-purchase drop-out a/(a+b) is scaled by
s. Caveats: the model lets a customer leave after any week's purchases, BG/NBD only after
repeat purchases (the cohort option ``customers.bgnbd_cohort`` reproduces BG/NBD exactly);
engaged customers leave less (``customers.choice.engagement_churn_relief``): the fitted
drop-out is that of the customers in the log, whatever the programme did to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def world(
    bgnbd: dict[str, float],
    gamma_gamma: dict[str, float] | None,
    n: int,
    price: float,
    unit_cost: float | None,
    rivals: int,
    share: float = 1.0,
) -> dict[str, Any]:
    """The world's overrides (a nested mapping) from the fits and the firm's facts."""
    r, alpha, a, b = (bgnbd[k] for k in ("r", "alpha", "a", "b"))
    customers: dict[str, Any] = {
        "n": int(n),
        "purchase_rate_shape": _round(r),
        "purchase_rate_mean": _round(r / alpha / share),
        "dropout_a": _round(a),
        "dropout_b": _round((a + b) / share - a),
    }
    if gamma_gamma is not None:
        p, q, g = (gamma_gamma[k] for k in ("p", "q", "gamma"))
        if q > 1:
            customers["basket_mean"] = _round(p * g / (q - 1) / price)
        if q > 2:
            customers["basket_shape"] = _round(q - 2)
    firm: dict[str, Any] = {"price": _round(price)}
    if unit_cost is not None:
        firm["unit_cost"] = _round(unit_cost)
    return {
        "customers": customers,
        "firm": firm,
        "competitor": {"count": int(rivals), "price": _round(price)},
    }


def _round(v: float) -> float:
    return float(f"{v:.6g}")


def write_world(path: Path, overrides: dict[str, Any], source: str, name: str) -> None:
    """Write the world as a ``# @package _global_`` config-group file."""
    head = (
        "# @package _global_\n"
        f"# written by loyaltysim-fit from {source}\n"
        f"#   loyaltysim hydra.searchpath=[file://{path.parent.parent.resolve()}] world={name}\n"
        f"# or copy this file into conf/world/ and run: loyaltysim world={name}\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + yaml.safe_dump(overrides, sort_keys=False))
