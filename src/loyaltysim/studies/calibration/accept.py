"""Which worlds are plausible, how well each fits, and which is the most central.

- **Acceptance** (history matching / ABC by rejection): a world is accepted when every
  enforced target's statistic (mean over replications) lies within the target's range or value
  widened by its tolerance. A world whose runs failed or could not be measured is not.
- **Distance** (for ranking): the weighted root-mean-square of each target's miss from
  its centre in units of its half-width (half the range plus the tolerance); an accepted
  world has every term at most 1, so its distance is at most 1.
- **Most central world**: the medoid of the accepted worlds in the normalised parameter
  space (each parameter mapped to [0, 1] of its sampled range, in logs for ``scale: log``):
  the accepted world with the smallest summed Euclidean distance to all the others. Ties
  go to the smaller target distance. It is a member of the ensemble (so it meets every
  target) and the one the others lie around, so a default set to it sits in the middle of
  what the data allow, not at one edge of it.
- **Confirmation** (which screened worlds get more replications): ``fixed``, every
  enforced target missed by at most ``confirm_cutoff`` half-widths; ``noise``, every
  enforced target missed by at most ``confirm_z`` standard errors of the screen's mean
  (plus ``confirm_cutoff`` half-widths): a world is then left unconfirmed, i.e. rejected,
  only where the screen's own noise cannot explain its miss. The standard error of a
  target's statistic is pooled over every measured world of the screen (the root mean
  square of the worlds' own errors): two replications give a world's own error one degree
  of freedom, so a world whose two seeds happened to agree would escape confirmation on a
  spread that is mostly luck; the pooled one has as many degrees of freedom as worlds.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from .measures import SE
from .sample import normalised
from .targets import Calibration

ENGAGEMENT_LIFT = "programme_effect_engagement.profit_lift_pct"  # the ensemble's verdict


def within(cal: Calibration, stats: pd.DataFrame) -> pd.DataFrame:
    """True where a world's statistic meets the target (NaN never does); one column each."""
    out = {}
    for t in cal.targets:
        lo, hi = t.bounds
        x = stats[t.statistic].astype(float)
        out[t.name] = (x >= lo - 1e-12) & (x <= hi + 1e-12)
    return pd.DataFrame(out, index=stats.index)


def implausibility(cal: Calibration, stats: pd.DataFrame) -> pd.Series:
    """History matching's implausibility of each world: the largest miss of an enforced
    target beyond its acceptance interval, in half-widths (0 when every target is met;
    infinite when a statistic could not be measured)."""
    worst = pd.Series(0.0, index=stats.index)
    for t in cal.targets:
        if not t.enforce:
            continue
        lo, hi = t.bounds
        x = stats[t.statistic].astype(float)
        miss = np.maximum(np.maximum(lo - x, x - hi), 0.0) / t.half_width
        worst = np.maximum(worst, miss.fillna(np.inf))
    return worst


def distance(cal: Calibration, stats: pd.DataFrame) -> pd.Series:
    """Weighted RMS miss from the targets' centres in half-widths (NaN if unmeasured)."""
    total = pd.Series(0.0, index=stats.index)
    weights = sum(t.weight for t in cal.targets)
    for t in cal.targets:
        z = (stats[t.statistic].astype(float) - t.centre) / t.half_width
        total = total + t.weight * z**2
    return np.sqrt(total / weights)


def table(cal: Calibration, params: pd.DataFrame, stats: pd.DataFrame) -> pd.DataFrame:
    """Every candidate: parameters, status, statistics, target met, distance, accepted."""
    ok = within(cal, stats)
    out = params.join(stats, how="left")
    out["status"] = out["status"].fillna("missing")
    for name in ok.columns:
        out[f"meets_{name}"] = ok[name].reindex(out.index, fill_value=False)
    out["distance"] = distance(cal, stats).reindex(out.index)
    out["implausibility"] = implausibility(cal, stats).reindex(out.index, fill_value=np.inf)
    required = ok[[t.name for t in cal.targets if t.enforce]]
    out["accepted"] = (out["status"] == "measured") & required.all(axis=1).reindex(
        out.index, fill_value=False
    )
    return out


def pooled_se(cal: Calibration, cands: pd.DataFrame) -> dict[str, float]:
    """Per enforced target's statistic: the standard error of a world's screen mean (its
    unit), pooled over the measured worlds: sqrt of the mean of their squared own errors
    (``se.<statistic>``, sd / sqrt(replications)); 0 where no world has one."""
    measured = cands[cands["status"] == "measured"] if "status" in cands else cands
    out = {}
    for t in cal.targets:
        col = SE + t.statistic
        se = measured[col].astype(float) if col in measured else pd.Series(dtype=float)
        se = se[np.isfinite(se)]
        out[t.statistic] = float(np.sqrt((se**2).mean())) if se.size else 0.0
    return out


def screen_bound(
    cal: Calibration, cands: pd.DataFrame, z: float, se: dict[str, float] | None = None
) -> pd.Series:
    """Each world's implausibility were every enforced statistic ``z`` pooled standard
    errors nearer its target than the screen measured it (0: the screen's noise could
    hide a world that meets every target; infinite when a statistic is unmeasured)."""
    se = pooled_se(cal, cands) if se is None else se
    worst = pd.Series(0.0, index=cands.index)
    for t in cal.targets:
        if not t.enforce:
            continue
        lo, hi = t.bounds
        x = cands[t.statistic].astype(float)
        gap = np.maximum(lo - x, x - hi) - z * se.get(t.statistic, 0.0)
        worst = np.maximum(worst, (np.maximum(gap, 0.0) / t.half_width).fillna(np.inf))
    return worst


def to_confirm(
    cal: Calibration,
    cands: pd.DataFrame,
    rule: str | None = None,
    se: dict[str, float] | None = None,
) -> list[str]:
    """The screened worlds worth confirming under ``rule`` (default ``cal.confirm_rule``):
    ``fixed``, implausibility at most ``cal.confirm_cutoff``; ``noise``, the
    :func:`screen_bound` at ``cal.confirm_z`` (with the screen's pooled errors ``se``,
    by default pooled over ``cands``) at most ``cal.confirm_cutoff``."""
    rule = rule or cal.confirm_rule
    if rule == "noise":
        near = screen_bound(cal, cands, cal.confirm_z, se)
    else:
        near = cands["implausibility"]
    return list(cands.index[near <= cal.confirm_cutoff])


def rules(cal: Calibration, cands: pd.DataFrame, arms: int, se: dict[str, float]) -> pd.DataFrame:
    """How the ensemble depends on the confirmation rule: per rule (fixed; noise at z = 1,
    2, 3 and ``cal.confirm_z``), the worlds it confirms, the confirmation runs that costs,
    and where this calibration confirmed all of them (so their confirmed means exist) the
    worlds it accepts and in how many of those the engagement programme loses money.
    ``se``: the screen's pooled standard errors (:func:`pooled_se` of the screen)."""
    screen = cands.assign(implausibility=cands["screen_implausibility"])
    for t in cal.targets:  # the rules judge the screen: confirmed means are not theirs
        if "screen_" + t.statistic in cands:
            screen[t.statistic] = cands["screen_" + t.statistic]
    options = [("fixed", None)] + [("noise", z) for z in sorted({1.0, 2.0, 3.0, cal.confirm_z})]
    rows = []
    for rule, z in options:
        c = replace(cal, confirm_z=z) if z is not None else cal
        picked = to_confirm(c, screen, rule, se)
        covered = bool(cands.loc[picked, "confirmed"].all()) if picked else True
        acc = cands.loc[picked][cands.loc[picked, "accepted"]] if covered else None
        loses = (
            int((acc[ENGAGEMENT_LIFT] < 0).sum())
            if acc is not None and ENGAGEMENT_LIFT in acc
            else None
        )
        rows.append(
            {
                "rule": rule if z is None else f"noise, z = {z:g}",
                "cut-off": f"{cal.confirm_cutoff:g} half-widths"
                + ("" if z is None else f" + {z:g} SE"),
                "confirms": len(picked),
                "confirmation runs": len(picked)
                * arms
                * (cal.confirm_replications - cal.replications),
                "accepted": None if acc is None else len(acc),
                "engagement loses money in": loses,
                "used": rule == cal.confirm_rule and (z is None or z == cal.confirm_z),
            }
        )
    return pd.DataFrame(rows)


def confirm(
    cal: Calibration,
    params: pd.DataFrame,
    screen: pd.DataFrame,
    confirmed: pd.DataFrame,
) -> pd.DataFrame:
    """The candidates table after the confirmation stage: the confirmed worlds' statistics
    are their means over ``cal.confirm_replications`` seeds and only those decide
    acceptance; every other world keeps its screening statistics and is not accepted (it
    was too far from some target to be worth confirming). Columns added: the screen's
    implausibility and acceptance, whether the world was confirmed, and the replications
    its statistics average."""
    stats = screen.copy()
    stats.loc[confirmed.index, confirmed.columns] = confirmed
    first = table(cal, params, screen)
    out = table(cal, params, stats)
    for t in cal.targets:  # the screen's means, which the confirmation rules judged
        out["screen_" + t.statistic] = first[t.statistic]
    sure = out.index.isin(confirmed.index)
    out["accepted"] = out["accepted"] & sure
    out["screen_implausibility"] = first["implausibility"]
    out["screen_accepted"] = first["accepted"]
    out["confirmed"] = sure
    out["replications"] = np.where(sure, cal.confirm_replications, cal.replications)
    return out


def central(cal: Calibration, candidates: pd.DataFrame) -> str | None:
    """The accepted world that is the medoid in normalised parameter space (see above)."""
    acc = candidates[candidates["accepted"]]
    if acc.empty:
        return None
    u = normalised(cal, acc)
    summed = np.sqrt(((u[:, None, :] - u[None, :, :]) ** 2).sum(axis=2)).sum(axis=1)
    order = np.lexsort((acc["distance"].to_numpy(float), np.round(summed, 12)))
    return str(acc.index[order[0]])


def best_fit(candidates: pd.DataFrame) -> str | None:
    """The accepted world nearest to the targets' centres."""
    acc = candidates[candidates["accepted"]]
    return None if acc.empty else str(acc["distance"].idxmin())


def binding(cal: Calibration, candidates: pd.DataFrame) -> pd.DataFrame:
    """Per target: how many measured candidates meet it, and how many meet it alone among
    the targets they miss (a target that removes most candidates is what pins them)."""
    measured = candidates[candidates["status"] == "measured"]
    rows = []
    for t in cal.targets:
        met = measured[f"meets_{t.name}"]
        others = measured[
            [f"meets_{o.name}" for o in cal.targets if o.name != t.name and o.enforce]
        ]
        only = (~met) & others.all(axis=1) if not others.empty else ~met
        x = measured[t.statistic].astype(float)
        rows.append(
            {
                "target": t.name,
                "statistic": t.statistic,
                "target_value": t.text() + ("" if t.enforce else " (not enforced)"),
                "met": int(met.sum()),
                "measured": len(measured),
                # only an enforced target can be the one a world misses alone
                "missed_only_this": int(only.sum()) if t.enforce else None,
                "all_min": x.min(),
                "all_median": x.median(),
                "all_max": x.max(),
                "accepted_median": x[candidates.loc[measured.index, "accepted"]].median(),
                "source": t.source,
            }
        )
    return pd.DataFrame(rows)


def pinned(cal: Calibration, candidates: pd.DataFrame) -> pd.DataFrame:
    """Per parameter: the accepted worlds' spread against the sampled one (standard
    deviation on [0, 1] of the range over that of a uniform, 1/sqrt(12)); below 0.5 the
    targets pin the parameter down, above 0.8 they leave it open."""
    acc = candidates[candidates["accepted"]]
    rows = []
    for j, p in enumerate(cal.parameters):
        u = normalised(cal, acc)[:, j] if len(acc) else np.array([])
        ratio = float(u.std(ddof=1) * np.sqrt(12)) if u.size > 1 else np.nan
        verdict = (
            "n/a"
            if not np.isfinite(ratio)
            else "pinned"
            if ratio < 0.5
            else "open"
            if ratio > 0.8
            else "narrowed"
        )
        vals = acc[p.key].astype(float)
        rows.append(
            {
                "parameter": p.key,
                "sampled": f"{p.lo:g} to {p.hi:g}" + (" (log)" if p.scale == "log" else ""),
                "accepted_min": vals.min() if len(vals) else np.nan,
                "accepted_median": vals.median() if len(vals) else np.nan,
                "accepted_max": vals.max() if len(vals) else np.nan,
                "spread_ratio": ratio,
                "verdict": verdict,
            }
        )
    return pd.DataFrame(rows)
