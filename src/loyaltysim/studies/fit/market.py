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
``customers.basket_mean``                   mean over customers of their mean spend per
                                            purchase occasion, over price (units a purchase)
``customers.basket_shape``                  mean^2 / variance of the customers' true mean
                                            spend zeta (method of moments, see
                                            :func:`basket_moments`; the model's basket is
                                            gamma across customers, so gamma-gamma's
                                            inverse-gamma mean spend is not used for it)
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

import pandas as pd
import yaml


def basket_moments(occ: pd.DataFrame) -> tuple[float, float] | None:
    """(mean, gamma shape) across customers of the true mean spend zeta per purchase
    occasion, by the method of moments with the within-customer noise taken out.

    As in gamma-gamma, spend varies around a customer's zeta with a coefficient of
    variation c common to all (pooled over customers with several occasions), so the
    sample mean m_i of n_i occasions has Var(m_i | zeta_i) = c^2 zeta_i^2 / n_i and
    ``Var(m) = Var(zeta) + c^2 E[1/n] (Var(zeta) + mu^2)``, solved for Var(zeta) (n taken
    independent of zeta). None without amounts, or with no spread left between customers.
    In a log of the model (spend constant within a customer) c = 0 and this is the plain
    variance of the customers' means."""
    if "amount" not in occ:
        return None
    g = occ.groupby("customer")["amount"]
    n, m, v = g.size(), g.mean(), g.var(ddof=1)
    several = (n > 1) & (m > 0)
    dof = (n[several] - 1).sum()
    c2 = float(((n[several] - 1) * v[several] / m[several] ** 2).sum() / dof) if dof else 0.0
    mu, inv_n = float(m.mean()), float((1.0 / n).mean())
    between = (float(m.var(ddof=1)) - c2 * inv_n * mu**2) / (1 + c2 * inv_n)
    if not (mu > 0 and between > 0):
        return None
    return mu, mu**2 / between


def world(
    bgnbd: dict[str, float],
    basket: tuple[float, float] | None,
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
    if basket is not None:
        customers["basket_mean"] = _round(basket[0] / price)
        customers["basket_shape"] = _round(basket[1])
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
        f"#   loyaltysim world={path.resolve()}\n"
        f"#   loyaltysim-ask scenario=replace_rebate_with_thanks world={path.resolve()}\n"
        f"# or: loyaltysim hydra.searchpath=[file://{path.parent.parent.resolve()}] world={name}\n"
        f"# or copy this file into conf/world/ and run: loyaltysim world={name}\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + yaml.safe_dump(overrides, sort_keys=False))


def default_margin() -> float:
    """The model's default gross margin (0-1): 1 - unit cost / list price of FirmParams."""
    from ...model.firms import FirmParams

    f = FirmParams()
    return 1.0 - f.unit_cost / f.price


def write_worlds(out: Path, overrides: dict[str, Any], source: str, name: str) -> list[str]:
    """Write ``out/world/<name>.yaml`` (the fit over the model's defaults) and *your*
    ensemble: one ``<name>__<id>.yaml`` per accepted literature world (``conf/world``),
    that world's values for what one firm's log cannot show (choice weights, engagement,
    memory, price sensitivity) under the fit's purchase process, basket and firm facts;
    ``worlds.csv`` lists them. Returns the worlds' names, ``name`` first."""
    from omegaconf import OmegaConf

    from ...runs.io import config_dir

    world_dir = out / "world"
    write_world(world_dir / f"{name}.yaml", overrides, source, name)
    rows = [{"world": name, "literature_world": "defaults (the central world)"}]
    for lit in sorted((config_dir() / "world").glob("*.yaml")):
        values = yaml.safe_load(lit.read_text()) or {}
        # the fit's values are the firm's own: they win where both set a key
        world = OmegaConf.to_container(OmegaConf.merge(values, overrides))
        short = lit.stem.rsplit("_", 2)[-2:]  # literature_<cal>_<wave>_<n>: <wave>_<n>
        own = f"{name}__{'_'.join(short)}"
        write_world(world_dir / f"{own}.yaml", world, f"{source} over {lit.stem}", own)
        rows.append({"world": own, "literature_world": lit.stem})
    pd.DataFrame(rows).to_csv(out / "worlds.csv", index=False)
    return [r["world"] for r in rows]
