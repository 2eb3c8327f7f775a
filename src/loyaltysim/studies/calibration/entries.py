"""One entry of a calibration file: an uncertainty to sample (:class:`Parameter`) or a
target (:class:`Target`), read and checked; every mistake is a ConfigError naming the key,
the value and what is allowed (used by :mod:`.targets`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ...model.params import ConfigError
from .measures import check_statistic

PARAM_KEYS = ("key", "range", "scale")
TARGET_KEYS = ("name", "statistic", "value", "range", "tolerance", "weight", "source", "enforce")


@dataclass(frozen=True)
class Parameter:
    key: str
    lo: float
    hi: float
    scale: str = "linear"
    integer: bool = False


@dataclass(frozen=True)
class Target:
    name: str
    statistic: str
    lo: float
    hi: float
    tolerance: float
    weight: float
    source: str
    enforce: bool = True  # False: reported and in the distance, not required for acceptance

    @property
    def bounds(self) -> tuple[float, float]:
        """The acceptance interval: the target range widened by the tolerance."""
        return self.lo - self.tolerance, self.hi + self.tolerance

    @property
    def centre(self) -> float:
        return (self.lo + self.hi) / 2

    @property
    def half_width(self) -> float:
        return (self.hi - self.lo) / 2 + self.tolerance

    def text(self) -> str:
        aim = f"{self.lo:g}" if self.lo == self.hi else f"{self.lo:g} to {self.hi:g}"
        return f"{aim} +- {self.tolerance:g}"


def checked_number(value: Any, key: str, allowed: str, least: float | None = None) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or (least is not None and value < least):
        raise ConfigError(key, value, allowed)
    return float(value)


def parameter(item: Any, i: int) -> Parameter:
    where = f"calibration.parameters.{i}"
    if isinstance(item, str):
        item = {"key": item}
    if not isinstance(item, dict):
        raise ConfigError(where, item, "{key, range, scale}")
    for k in item:
        if k not in PARAM_KEYS:
            raise ConfigError(f"{where}.{k}", item[k], "one of " + ", ".join(PARAM_KEYS))
    key = item.get("key")
    row = uncertainties().get(key)
    if row is None:
        raise ConfigError(
            f"{where}.key",
            key,
            "an uncertainty with a plausible range, not a programme's own setting "
            "(loyaltysim-describe --kind uncertainty)",
        )
    rng = item.get("range", [row["plausible_lo"], row["plausible_hi"]])
    if not isinstance(rng, list) or len(rng) != 2:
        raise ConfigError(f"{where}.range", rng, "[low, high]")
    lo = checked_number(rng[0], f"{where}.range", "two numbers, low < high")
    hi = checked_number(rng[1], f"{where}.range", "two numbers, low < high")
    if not lo < hi:
        raise ConfigError(f"{where}.range", rng, "two numbers, low < high")
    scale = item.get("scale", "linear")
    if scale not in ("linear", "log") or (scale == "log" and lo <= 0):
        raise ConfigError(f"{where}.scale", scale, "linear, or log with a range above 0")
    _check_value(key, lo, f"{where}.range")
    _check_value(key, hi, f"{where}.range")
    return Parameter(key, lo, hi, scale, isinstance(row["default"], int))


def target(item: Any, i: int) -> Target:
    where = f"calibration.targets.{i}"
    if not isinstance(item, dict):
        raise ConfigError(where, item, "{" + ", ".join(TARGET_KEYS) + "}")
    if isinstance(item.get("name"), str) and item["name"]:
        where = f"calibration.targets.{item['name']}"  # as the other errors name it
    for k in item:
        if k not in TARGET_KEYS:
            raise ConfigError(f"{where}.{k}", item[k], "one of " + ", ".join(TARGET_KEYS))
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}.name", name, "a name")
    where = f"calibration.targets.{name}"
    statistic = item.get("statistic")
    check_statistic(statistic, f"{where}.statistic")
    if ("value" in item) == ("range" in item):
        raise ConfigError(where, item, "exactly one of value or range")
    if "value" in item:
        lo = hi = checked_number(item["value"], f"{where}.value", "a number")
    else:
        rng = item["range"]
        if not isinstance(rng, list) or len(rng) != 2:
            raise ConfigError(f"{where}.range", rng, "[low, high] with low <= high")
        lo = checked_number(rng[0], f"{where}.range", "[low, high] with low <= high")
        hi = checked_number(rng[1], f"{where}.range", "[low, high] with low <= high")
        if lo > hi:
            raise ConfigError(f"{where}.range", rng, "[low, high] with low <= high")
    tol = checked_number(item.get("tolerance", 0.0), f"{where}.tolerance", "a number >= 0", 0.0)
    if lo == hi and tol == 0:
        raise ConfigError(f"{where}.tolerance", tol, "a number > 0 for a single target value")
    weight = checked_number(item.get("weight", 1.0), f"{where}.weight", "a number > 0", 0.0)
    if weight == 0:
        raise ConfigError(f"{where}.weight", weight, "a number > 0")
    source = item.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ConfigError(f"{where}.source", source, "where the target comes from (text)")
    enforce = item.get("enforce", True)
    if not isinstance(enforce, bool):
        raise ConfigError(f"{where}.enforce", enforce, "true (required to accept) or false")
    return Target(name, statistic, lo, hi, tol, weight, source, enforce)


def uncertainties() -> dict[str, dict[str, Any]]:
    """The numeric uncertainties a world can set, by key: those of every run, not a
    programme's own (the arms of a calibration switch programmes)."""
    from ...model.config import describe

    out: dict[str, dict[str, Any]] = {}
    for row in describe():
        if row["kind"] != "uncertainty" or row["plausible_lo"] is None or row["when"]:
            continue
        if ".programme." in row["key"]:
            continue
        out.setdefault(row["key"], row)
    return out


def _check_value(key: str, value: float, where: str) -> None:
    """A bound outside the parameter's allowed values fails here, not in every run."""
    from ...runs.runner import load_config

    row = uncertainties()[key]
    v = int(round(value)) if isinstance(row["default"], int) else value
    try:
        load_config([f"{key}={v!r}"])
    except ConfigError as err:
        raise ConfigError(where, value, f"within {key}'s allowed values: {err.allowed}") from None
