"""Typed, validated parameter objects and the machinery that builds them from a config.

Every parameter is declared with :func:`param`, which records its allowed range and its role
in EMA Workbench's XLRM vocabulary: a *lever* (what a firm decides), an *uncertainty*
(customer or competitor behaviour the firm cannot control) or a *constant* (simulation
set-up). :func:`build` turns a plain mapping (a Hydra ``DictConfig`` converted to a dict)
into frozen dataclasses and rejects, before anything runs, unknown keys, wrong types and
out-of-range values with a :class:`ConfigError` that names the key, the value and what is
allowed.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

SEGMENTS = ("digital", "traditional", "hybrid", "quiet")  # S10
CHANNELS = ("digital", "phone")

LEVER = "lever"
UNCERTAINTY = "uncertainty"
CONSTANT = "constant"


class ConfigError(ValueError):
    """An invalid configuration value; the message names key, value and what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"invalid config: {key} = {value!r}; allowed: {allowed}")


def param(
    default: Any,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    choices: tuple[str, ...] | None = None,
    kind: str = CONSTANT,
    doc: str = "",
) -> Any:
    """Declare a dataclass field with its allowed range, XLRM kind and meaning."""
    meta = {
        "lo": lo,
        "hi": hi,
        "lo_open": lo_open,
        "hi_open": hi_open,
        "choices": choices,
        "kind": kind,
        "doc": doc,
    }
    if isinstance(default, (list, dict)):
        raise TypeError("use a tuple for sequence defaults")
    if dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=lambda: default, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def _describe_range(meta: Mapping[str, Any], is_int: bool) -> str:
    what = "an integer" if is_int else "a number"
    parts = []
    if meta["lo"] is not None:
        parts.append(f"{'>' if meta['lo_open'] else '>='} {meta['lo']:g}")
    if meta["hi"] is not None:
        parts.append(f"{'<' if meta['hi_open'] else '<='} {meta['hi']:g}")
    return what + (" " + " and ".join(parts) if parts else "")


def _check_number(key: str, value: Any, meta: Mapping[str, Any], is_int: bool) -> float:
    allowed = _describe_range(meta, is_int)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(key, value, allowed)
    if is_int and not float(value).is_integer():
        raise ConfigError(key, value, allowed)
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(key, value, allowed)
    lo, hi = meta["lo"], meta["hi"]
    if lo is not None and (value <= lo if meta["lo_open"] else value < lo):
        raise ConfigError(key, value, allowed)
    if hi is not None and (value >= hi if meta["hi_open"] else value > hi):
        raise ConfigError(key, value, allowed)
    return int(value) if is_int else float(value)


def _convert(key: str, value: Any, tp: Any, meta: Mapping[str, Any]) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(key, value, args[0], meta)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, key)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, value, "true or false")
        return value
    if tp is int:
        return _check_number(key, value, meta, is_int=True)
    if tp is float:
        return _check_number(key, value, meta, is_int=False)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(key, value, "a string")
        if meta["choices"] and value not in meta["choices"]:
            raise ConfigError(key, value, "one of " + ", ".join(meta["choices"]))
        return value
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ConfigError(key, value, "a list")
        items = tuple(value)
        if meta["choices"]:
            for item in items:
                if item not in meta["choices"]:
                    raise ConfigError(key, value, "a list of " + ", ".join(meta["choices"]))
        return items
    raise TypeError(f"unsupported field type {tp!r} for {key}")


# Fields whose dataclass type depends on a value in the mapping (a programme's "type").
_POLYMORPHIC: dict[str, Callable[[str, Mapping[str, Any]], type]] = {}


def register_polymorphic(field_name: str, resolver: Callable[[str, Mapping[str, Any]], type]):
    """Let ``field_name`` pick its dataclass from the mapping (used by the programme registry)."""
    _POLYMORPHIC[field_name] = resolver


def build(cls: type, data: Any, path: str = "") -> Any:
    """Build the frozen dataclass ``cls`` from a mapping, validating every value.

    Missing keys take the declared defaults; unknown keys are rejected (a misspelt key would
    otherwise be silently ignored and the run would not be the one asked for).
    """
    if isinstance(data, cls):
        data = dataclasses.asdict(data)
    if not isinstance(data, Mapping):
        raise ConfigError(path or "<root>", data, f"a mapping of {cls.__name__} fields")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = f"{path}.{unknown[0]}" if path else unknown[0]
        raise ConfigError(key, data[unknown[0]], "one of the keys " + ", ".join(sorted(fields)))
    kwargs = {}
    for name, field in fields.items():
        key = f"{path}.{name}" if path else name
        if name not in data:
            continue
        tp = hints[name]
        if name in _POLYMORPHIC and data[name] is not None:
            tp = _POLYMORPHIC[name](key, data[name])
        kwargs[name] = _convert(key, data[name], tp, field.metadata or _NO_META)
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if check is not None:
        check(path)
    return obj


_NO_META = {"lo": None, "hi": None, "lo_open": False, "hi_open": False, "choices": None}


def describe(cls: type, prefix: str = "") -> list[dict[str, Any]]:
    """List every parameter of ``cls`` (recursively): key, default, kind, range and meaning.

    Used to document the model and by researchers to set up sensitivity analyses (SALib needs
    the bounds of each uncertainty).
    """
    rows = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        tp = hints[f.name]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        if dataclasses.is_dataclass(tp):
            rows.extend(describe(type(default), key + "."))
            continue
        meta = f.metadata or _NO_META
        rows.append(
            {
                "key": key,
                "default": default,
                "kind": meta.get("kind", CONSTANT),
                "lo": meta.get("lo"),
                "hi": meta.get("hi"),
                "choices": meta.get("choices"),
                "doc": meta.get("doc", ""),
            }
        )
    return rows
