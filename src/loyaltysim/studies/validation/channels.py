"""Where a programme's gain comes from: the focal firm's gross-margin change split into
the channels that made it (Gopalakrishnan et al. 2021 split a programme's lift into lower
attrition, more frequent visits and spending per visit).

GM = CW x F x B x M (customer-weeks, purchases per customer-week, units per purchase,
margin per unit), split additively by the log-mean Divisia index (LMDI: the terms add up
to the change exactly); the customer-weeks term is split further by the channel that
brought the programme's extra customers (:func:`base_split`).

Retention is measured as Gopalakrishnan et al. measure attrition: from the firm's side,
a customer lost is lost whether they leave the category or leave for a rival, and what
counts is the rate at which customers are lost, not the count (a programme that grows the
base loses more customers at the same rate, and those losses are the price of the growth,
not a failure of retention). A retained customer's purchases at the base frequency and
basket are retention's; a change in their frequency or basket is frequency's or basket's,
as in the study's split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# a firm's attrition: customers it loses, to the category's end or to a rival (a retailer's
# records, like Gopalakrishnan et al.'s, cannot tell the two apart); its inflows by channel
ATTRITION = {"retention_category": "churn_out", "retention_rivals": "churn_to_competitor"}
INFLOWS = {"won_from_rivals": ("switched_in",), "new_customers": ("acquired", "referred")}


def decompose(m0: pd.DataFrame, m1: pd.DataFrame, detail: bool = False) -> dict[str, float]:
    """Additive split (LMDI) of the focal firm's gross-margin change (``m1`` against
    ``m0``, its weekly metrics), in % of the change: frequency, basket, margin per unit and
    the customer-weeks term by channel (retention, won from rivals, new customers,
    initial; see :func:`base_split`). With ``detail``, also retention's two parts (not
    additive with it): ``retention_category`` (fewer leaving the category),
    ``retention_rivals`` (fewer leaving for a rival) and ``retention_existing``, retention
    in % of the gain less the new customers' (Gopalakrishnan et al. split the lift of
    customers the firm already had: acquisition is not in their split)."""
    tot0, tot1 = (m[["customers", "purchases", "units", "gross_margin"]].sum() for m in (m0, m1))
    d_gm = tot1["gross_margin"] - tot0["gross_margin"]
    if abs(d_gm) < 1e-9:
        return {}
    w = d_gm / (np.log(tot1["gross_margin"]) - np.log(tot0["gross_margin"]))

    def term(a: str, b: str | None = None) -> float:
        x0 = tot0[a] / (tot0[b] if b else 1)
        x1 = tot1[a] / (tot1[b] if b else 1)
        return float(w * np.log(x1 / x0))

    out = {
        "customer_weeks": term("customers"),
        "frequency": term("purchases", "customers"),
        "basket": term("units", "purchases"),
        "margin_per_unit": term("gross_margin", "units"),
    }
    d_cw = tot1["customers"] - tot0["customers"]
    parts = base_split(m0, m1)
    parts["retention"] = parts["retention_category"] + parts["retention_rivals"]
    if not detail:
        del parts["retention_category"], parts["retention_rivals"]
    cw = out.pop("customer_weeks")
    for name, v in parts.items():
        out[name] = cw * v / d_cw if d_cw else 0.0
    if detail:
        had = d_gm - out["new_customers"]  # the gain of the customers the firm had
        out["retention_existing"] = out["retention"] * d_gm / had if had else np.nan
    return {k: 100 * v / d_gm for k, v in out.items()}


def base_split(m0: pd.DataFrame, m1: pd.DataFrame) -> dict[str, float]:
    """The focal firm's extra customer-weeks (``m1`` against ``m0``, weekly metrics of one
    firm) by the channel that brought them; they add up to the difference exactly.

    With P_t the customers at risk in week t (present at its start: C_t less the week's
    inflows plus its attrition) and h_t = attrition / P_t, the attrition difference is
    h0 (P1 - P0) + P1 (h1 - h0): retention is the second term, -P1 (h1 - h0), the
    departures a lower rate avoided (split into the category's end and rivals). Each
    channel's stock X of extra customers evolves as X <- (1 - h0) X + its week's flow (for
    won from rivals and new customers: the difference in switching in and in acquisitions
    and referrals), so the first term, the extra customers' own departures at the old
    rate, is charged to the channel that brought them. ``initial``: the difference at the
    start (and any count that no flow explains). Returns customer-weeks per channel."""

    def col(m: pd.DataFrame, c: str) -> np.ndarray:
        return m[c].to_numpy(float)

    lost0 = {k: col(m0, c) for k, c in ATTRITION.items()}
    lost1 = {k: col(m1, c) for k, c in ATTRITION.items()}
    came0 = {k: sum(col(m0, c) for c in cs) for k, cs in INFLOWS.items()}
    came1 = {k: sum(col(m1, c) for c in cs) for k, cs in INFLOWS.items()}
    risk0 = col(m0, "customers") - sum(came0.values()) + sum(lost0.values())
    risk1 = col(m1, "customers") - sum(came1.values()) + sum(lost1.values())
    with np.errstate(invalid="ignore", divide="ignore"):
        h0 = {k: np.where(risk0 > 0, v / risk0, 0.0) for k, v in lost0.items()}
        h1 = {k: np.where(risk1 > 0, v / risk1, 0.0) for k, v in lost1.items()}
    flow = {k: -risk1 * (h1[k] - h0[k]) for k in ATTRITION}
    flow.update({k: came1[k] - came0[k] for k in INFLOWS})
    stay = 1.0 - sum(h0.values())
    stock = dict.fromkeys([*flow, "initial"], 0.0)
    total = dict.fromkeys(stock, 0.0)
    for t in range(risk0.size):
        stock["initial"] += (risk1[t] - risk0[t]) - sum(stock.values())  # 0 once counts add up
        for k in stock:
            stock[k] = stay[t] * stock[k] + (flow[k][t] if k in flow else 0.0)
            total[k] += stock[k]
    return {k: float(v) for k, v in total.items()}
