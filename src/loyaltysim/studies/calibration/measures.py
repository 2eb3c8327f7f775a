"""The statistics a calibration target can name, measured by the validation suite's own
functions (:mod:`loyaltysim.studies.validation`) on the runs of a candidate world.

A statistic is ``<family>.<key>``: the family says which runs (arms) it needs and which of
the suite's measurement functions reads them; the key picks one of its values (the mean
over replications is compared with the target). ``metrics.<arm>.<column>`` is any column
of a run's metrics table: the focal firm's mean over the last 52 weeks of that arm.

    loyaltysim-calibrate --statistics        # lists them
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ...model.params import ConfigError
from ..validation import bgnbd, ehrenberg, programme, stationarity
from ..validation.common import RunData

LATE = 26  # the week a programme starts in the heavy/light-buyer arms (Liu 2007)

# arm -> overrides of its runs (besides the world, its size and its seed); the same
# settings as the validation suite's checks
ARMS: dict[str, tuple[str, ...]] = {
    "plain": ("firm/programme=none",),  # three identical firms, no programmes
    "discount": ("firm/programme=discount",),
    "engagement": ("firm/programme=engagement",),
    "discount_late": ("firm/programme=discount", f"firm.programme.start_week={LATE}"),
    "engagement_late": ("firm/programme=engagement", f"firm.programme.start_week={LATE}"),
    "ladder": ("validation=double_jeopardy",),  # five unequal firms
}
LOGGED = ("plain", "discount_late", "engagement_late", "ladder")  # arms the log is read of

Runs = dict[str, list[RunData]]


@dataclass(frozen=True)
class Family:
    arms: tuple[str, ...]
    keys: tuple[str, ...]
    fn: Callable[[Runs, int, int], dict[str, list[float]]]  # (runs, customers, weeks)
    doc: str


def _jeopardy(runs: Runs, n: int, weeks: int) -> dict[str, list[float]]:
    return ehrenberg.jeopardy_values(runs["ladder"], weeks)[0]


def _effects(key: str) -> Callable[[Runs, int, int], dict[str, list[float]]]:
    return lambda runs, n, weeks: programme.effect_values(runs["plain"], runs[key], n, weeks)[0]


def _liu(arm: str) -> Callable[[Runs, int, int], dict[str, list[float]]]:
    return lambda runs, n, weeks: programme.liu_values(runs["plain"], runs[arm], LATE, weeks)


def _purchase(runs: Runs, n: int, weeks: int) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {k: [] for k in (*bgnbd.NAMES, "rate_per_week")}
    for r in runs["plain"]:
        fitted = bgnbd.fit(*bgnbd.rfm_from_log(r.log, weeks))
        for k, v in zip(bgnbd.NAMES, fitted, strict=True):
            out[k].append(float(v))
        out["rate_per_week"].append(float(fitted[0] / fitted[1]))
    return out


EFFECT_KEYS = (
    "profit_lift_pct",
    "profit_lift_year1_pct",
    "profit_lift_eur_per_1000_customers_year",
    "share_lift_pp",
    "payback_week",
    "paid_back_by_week_13",
    "gain_frequency_pct",
    "gain_basket_pct",
    "gain_margin_per_unit_pct",
    "gain_retention_pct",
    "gain_retention_category_pct",
    "gain_retention_rivals_pct",
    "gain_retention_existing_pct",
    "gain_won_from_rivals_pct",
    "gain_new_customers_pct",
    "gain_initial_pct",
)
LIU_KEYS = tuple(
    f"{t}_{k}"
    for k in ("change_pct", "change_all_pct", "members_pct")
    for t in ("light", "moderate", "heavy")
) + ("heavy_over_light",)
JEOPARDY_KEYS = tuple(
    f"{k}_{s}w"
    for s in (52, 13)
    for k in ("spearman", "cv_penetration", "cv_frequency", "cv_ratio", "law_deviation_pct")
)

FAMILIES: dict[str, Family] = {
    "purchase_process": Family(
        ("plain",),
        (*bgnbd.NAMES, "rate_per_week"),
        _purchase,
        "BG/NBD fitted to the no-programme market's log (r, alpha, a, b; r/alpha)",
    ),
    "polygamy": Family(
        ("plain",),
        ("sole_over_90_pct", "sole_100_pct", "scr_main_pct"),
        lambda runs, n, weeks: ehrenberg.polygamy_values(runs["plain"], weeks),
        "4+ buyers over the last 52 weeks: % buying >90% (100%) at one firm, mean SCR",
    ),
    "main_firm_switching": Family(
        ("plain",),
        ("switching_pct", "switching_3plus_pct", "churn_to_competitor_per_100_cy"),
        lambda runs, n, weeks: ehrenberg.switching_values(runs["plain"], weeks),
        "% changing main firm between the halves of the last 52 weeks",
    ),
    "double_jeopardy": Family(
        ("ladder",),
        JEOPARDY_KEYS,
        _jeopardy,
        "five unequal firms: Spearman(frequency, penetration), CVs and their ratio",
    ),
    "programme_effect_discount": Family(
        ("plain", "discount"), EFFECT_KEYS, _effects("discount"), "discount vs none, paired"
    ),
    "programme_effect_engagement": Family(
        ("plain", "engagement"), EFFECT_KEYS, _effects("engagement"), "engagement vs none"
    ),
    "heavy_light_buyers": Family(
        ("plain", "discount_late"),
        LIU_KEYS,
        _liu("discount_late"),
        f"discount from week {LATE}: members' change in focal purchases by pre-period tercile (%)",
    ),
    "heavy_light_buyers_engagement": Family(
        ("plain", "engagement_late"),
        LIU_KEYS,
        _liu("engagement_late"),
        f"engagement from week {LATE}: change by pre-period tercile (%)",
    ),
    "stationarity": Family(
        ("plain",),
        (
            "repeat_change_pp",
            "customers_change_pct",
            "focal_share_change_pp",
            "repeat_slope_pp_per_year",
        ),
        lambda runs, n, weeks: stationarity.stationarity_values(runs["plain"])[0],
        "no programmes: first vs last 52 weeks",
    ),
}


def check_statistic(statistic: object, where: str) -> None:
    """ConfigError unless ``statistic`` names a known family and key (or a metrics column)."""
    allowed = "<family>.<key> (loyaltysim-calibrate --statistics) or metrics.<arm>.<column>"
    if not isinstance(statistic, str) or "." not in statistic:
        raise ConfigError(where, statistic, allowed)
    family, _, key = statistic.partition(".")
    if family == "metrics":
        arm, _, column = key.partition(".")
        if arm not in ARMS or not column:
            raise ConfigError(where, statistic, f"metrics.<arm>.<column>, arm one of {_arms()}")
        if column not in _metric_columns():
            raise ConfigError(where, statistic, "a column of metrics.csv: " + _columns())
        return
    if family not in FAMILIES:
        raise ConfigError(where, statistic, "a family of " + ", ".join([*FAMILIES, "metrics"]))
    if key not in FAMILIES[family].keys:
        raise ConfigError(
            where, statistic, f"{family}.<key>, key one of " + ", ".join(FAMILIES[family].keys)
        )


def arms_of(statistics: list[str] | tuple[str, ...]) -> list[str]:
    """The arms the statistics need, in a fixed order."""
    need: set[str] = set()
    for stat in statistics:
        family, _, key = stat.partition(".")
        need.update((key.partition(".")[0],) if family == "metrics" else FAMILIES[family].arms)
    return [a for a in ARMS if a in need]


SE = "se."  # prefix of a statistic's standard error: ``se.<statistic>``


def measure(
    statistics: list[str] | tuple[str, ...], runs: Runs, n: int, weeks: int
) -> dict[str, float]:
    """Mean over replications of each statistic (NaN where it could not be measured), and
    under ``se.<statistic>`` the standard error of that mean, sd / sqrt(k) over the k
    replications that measured it (NaN with fewer than two): the screen's own noise, which
    the confirmation rule ``confirm_rule: noise`` reads (:func:`.accept.to_confirm`)."""
    out: dict[str, float] = {}
    done: dict[str, dict[str, list[float]]] = {}
    for stat in statistics:
        family, _, key = stat.partition(".")
        if family == "metrics":
            arm, _, column = key.partition(".")
            values = [_metric(r, column, weeks) for r in runs[arm]]
        else:
            if family not in done:
                done[family] = FAMILIES[family].fn(runs, n, weeks)
            values = done[family].get(key, [])
        x = np.asarray(values, float)
        x = x[np.isfinite(x)]
        out[stat] = float(x.mean()) if x.size else float("nan")
        out[SE + stat] = float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")
    return out


def _metric(run: RunData, column: str, weeks: int) -> float:
    m = run.metrics
    focal = m[(m["firm"] == m["firm"].iloc[0]) & (m["week"] > m["week"].max() - 52)]
    return float(focal[column].mean())


def _metric_columns() -> tuple[str, ...]:
    from ...model.metrics import COLUMNS

    return tuple(COLUMNS)


def _columns() -> str:
    return ", ".join(c for c in _metric_columns() if c not in ("step", "week", "date", "firm"))


def _arms() -> str:
    return ", ".join(ARMS)


def listing() -> str:
    """The statistics, one family a line, for ``--statistics``."""
    lines = [
        f"{name}: {f.doc} (arms {', '.join(f.arms)})\n    " + ", ".join(f.keys)
        for name, f in FAMILIES.items()
    ]
    lines.append(
        f"metrics.<arm>.<column>: focal firm, mean over the last 52 weeks; arms "
        f"{_arms()}\n    columns: {_columns()}"
    )
    return "\n".join(lines)
