"""Parameter objects: declared once, validated on every construction path, described for users.

Every parameter is a field of a frozen dataclass that derives from :class:`Params` and is
declared with :func:`param`, which records:

- its allowed range (``lo``/``hi``, open or closed, or ``choices``), enforced in
  ``__post_init__``, so a value is checked whether it comes from YAML, the command line, a
  keyword argument, direct construction or :func:`dataclasses.replace`;
- its role in EMA Workbench's XLRM vocabulary: a *lever* (what a firm decides), an
  *uncertainty* (customer or competitor behaviour the firm cannot control) or a *constant*
  (simulation set-up);
- its unit and meaning; and, for an uncertainty, a *plausible range* with a one-line source
  or reason, which sensitivity analysis and calibration sample from.

Each rule module owns the params dataclass of its rule (``customers.CustomerParams``,
``firms.FirmParams``, ``programmes.discount.DiscountParams``, ...). :func:`build` turns a
plain mapping (a Hydra config) into those objects, naming the full key in any error, and
:func:`describe` lists every parameter with its true default.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

LEVER = "lever"
UNCERTAINTY = "uncertainty"
CONSTANT = "constant"
KINDS = (LEVER, UNCERTAINTY, CONSTANT)


class ConfigError(ValueError):
    """An invalid configuration value; the message names key, value and what is allowed."""

    def __init__(self, key: str, value: Any, allowed: str) -> None:
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"invalid config: {key} = {value!r}; allowed: {allowed}")

    def under(self, prefix: str) -> ConfigError:
        """The same error with its key placed under ``prefix`` (``price`` -> ``firm.price``)."""
        if not prefix:
            return self
        return ConfigError(f"{prefix}.{self.key}", self.value, self.allowed)


class ConfigWarning(UserWarning):
    """A valid configuration that does something a user may not expect (a segment no
    channel reaches, poaching with no rival): warned, in one sentence, before a run."""


def param(
    default: Any,
    *,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
    choices: tuple[str, ...] | None = None,
    kind: str = CONSTANT,
    unit: str = "",
    doc: str = "",
    plausible: tuple[float, float] | None = None,
    source: str = "",
) -> Any:
    """Declare a dataclass field with its allowed range, XLRM kind, unit and meaning.

    ``plausible`` and ``source`` are required for numeric uncertainties: the range a
    researcher should consider (inside the allowed range) and where it comes from.
    """
    if kind not in KINDS:
        raise TypeError(f"kind must be one of {KINDS}")
    meta = {
        "lo": lo,
        "hi": hi,
        "lo_open": lo_open,
        "hi_open": hi_open,
        "choices": choices,
        "kind": kind,
        "unit": unit,
        "doc": doc,
        "plausible": plausible,
        "source": source,
    }
    if isinstance(default, (list, dict)):
        raise TypeError("use a tuple for sequence defaults")
    if dataclasses.is_dataclass(default):
        return dataclasses.field(default_factory=lambda: default, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


_NO_META: dict[str, Any] = {
    "lo": None,
    "hi": None,
    "lo_open": False,
    "hi_open": False,
    "choices": None,
    "kind": CONSTANT,
    "unit": "",
    "doc": "",
    "plausible": None,
    "source": "",
}


def meta_of(field: dataclasses.Field) -> dict[str, Any]:
    return {**_NO_META, **(field.metadata or {})}


def allowed_text(meta: Mapping[str, Any], tp: Any) -> str:
    """What a field accepts, in words (the 'allowed' part of a :class:`ConfigError`)."""
    tp = _strip_optional(tp)[0]
    if dataclasses.is_dataclass(tp):
        return f"a mapping of {tp.__name__} fields"
    if tp is bool:
        return "true or false"
    if tp in (int, float):
        what = "an integer" if tp is int else "a number"
        parts = []
        if meta["lo"] is not None:
            parts.append(f"{'>' if meta['lo_open'] else '>='} {meta['lo']:g}")
        if meta["hi"] is not None:
            parts.append(f"{'<' if meta['hi_open'] else '<='} {meta['hi']:g}")
        return what + (" " + " and ".join(parts) if parts else "")
    if typing.get_origin(tp) is tuple:
        return "a list of " + ", ".join(meta["choices"]) if meta["choices"] else "a list"
    if meta["choices"]:
        return "one of " + ", ".join(meta["choices"])
    return "a string"


def _strip_optional(tp: Any) -> tuple[Any, bool]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(tp))
    return tp, False


def _number(key: str, value: Any, meta: Mapping[str, Any], tp: type) -> int | float:
    allowed = allowed_text(meta, tp)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(key, value, allowed)
    if not math.isfinite(value) or (tp is int and not float(value).is_integer()):
        raise ConfigError(key, value, allowed)
    lo, hi = meta["lo"], meta["hi"]
    if lo is not None and (value <= lo if meta["lo_open"] else value < lo):
        raise ConfigError(key, value, allowed)
    if hi is not None and (value >= hi if meta["hi_open"] else value > hi):
        raise ConfigError(key, value, allowed)
    return int(value) if tp is int else float(value)


# Fields whose dataclass depends on a value in the data (a programme's ``type``): the
# programme registry installs its resolver here, so this module needs no import of it.
_POLYMORPHIC: dict[str, Callable[[Any], type]] = {}


def register_polymorphic(field_name: str, resolver: Callable[[Any], type]) -> None:
    """Let fields called ``field_name`` pick their dataclass from their data."""
    _POLYMORPHIC[field_name] = resolver


def convert(name: str, value: Any, tp: Any, meta: Mapping[str, Any]) -> Any:
    """Check ``value`` for a field of type ``tp``; return it in canonical form.

    Errors carry the field's own name as key; :func:`build` places them under their path.
    """
    tp, optional = _strip_optional(tp)
    if value is None:
        if optional:
            return None
        raise ConfigError(name, value, allowed_text(meta, tp))
    if name in _POLYMORPHIC and isinstance(value, Mapping):
        try:
            tp = _POLYMORPHIC[name](value)
        except ConfigError as err:
            raise err.under(name) from None
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if isinstance(value, Mapping):
            return build(tp, value, name)
        raise ConfigError(name, value, allowed_text(meta, tp))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(name, value, "true or false")
        return value
    if tp in (int, float):
        return _number(name, value, meta, tp)
    if tp is str:
        if not isinstance(value, str) or (meta["choices"] and value not in meta["choices"]):
            raise ConfigError(name, value, allowed_text(meta, tp))
        return value
    if typing.get_origin(tp) is tuple:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise ConfigError(name, value, allowed_text(meta, tp))
        item_tp = typing.get_args(tp)[0]
        if dataclasses.is_dataclass(item_tp):  # a list of parameter objects
            return tuple(
                convert(f"{name}.{i}", item, item_tp, _NO_META) for i, item in enumerate(value)
            )
        items = tuple(value)
        if meta["choices"] and any(item not in meta["choices"] for item in items):
            raise ConfigError(name, list(items), allowed_text(meta, tp))
        return items
    raise TypeError(f"unsupported field type {tp!r} for {name}")


@dataclasses.dataclass(frozen=True)
class Params:
    """Base of every parameter object: validates and normalises its fields when built.

    Subclasses add cross-field rules by overriding :meth:`check` (raise
    :class:`ConfigError` with the field's own name as key).
    """

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            clean = convert(field.name, value, hints[field.name], meta_of(field))
            if clean is not value:
                object.__setattr__(self, field.name, clean)
        self.check()

    def check(self) -> None:
        """Cross-field rules (none by default)."""


def build(cls: type, data: Any, path: str = "") -> Any:
    """Build the params dataclass ``cls`` from a mapping, validating every value.

    Missing keys take the declared defaults; unknown keys are rejected (a misspelt key would
    otherwise be silently ignored and the run would not be the one asked for). Every error
    names the full dotted key.
    """
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(path or "<root>", data, f"a mapping of {cls.__name__} fields")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = f"{path}.{unknown[0]}" if path else unknown[0]
        raise ConfigError(key, data[unknown[0]], "one of the keys " + ", ".join(sorted(fields)))
    kwargs = {}
    for name in fields:
        if name not in data:
            continue
        key = f"{path}.{name}" if path else name
        tp, _ = _strip_optional(hints[name])
        value = data[name]
        if name in _POLYMORPHIC and isinstance(value, Mapping):
            try:
                tp = _POLYMORPHIC[name](value)
            except ConfigError as err:
                raise err.under(key) from None
        # nested objects are built here so that their errors carry the full path
        nested = dataclasses.is_dataclass(tp) and isinstance(value, Mapping)
        kwargs[name] = build(tp, value, key) if nested else value
        item_tp = typing.get_args(tp)[0] if typing.get_origin(tp) is tuple else None
        if dataclasses.is_dataclass(item_tp) and isinstance(value, (list, tuple)):
            kwargs[name] = tuple(
                build(item_tp, item, f"{key}.{i}") if isinstance(item, Mapping) else item
                for i, item in enumerate(value)
            )
    try:
        return cls(**kwargs)
    except ConfigError as err:
        raise err.under(path) from None


def describe(obj: Any, prefix: str = "", when: str = "") -> list[dict[str, Any]]:
    """Every parameter of ``obj`` (a params object or class), recursively.

    One row per parameter: key, default (the true default of that position, walking the
    default instance), kind, unit, allowed range, plausible range and its source, meaning,
    and ``when`` (the option that selects it, if any). :func:`loyaltysim.describe` with no
    argument describes a whole run and every registered programme type.
    """
    instance = obj() if isinstance(obj, type) else obj
    rows = []
    hints = typing.get_type_hints(type(instance))
    for field in dataclasses.fields(instance):
        key = f"{prefix}{field.name}"
        value = getattr(instance, field.name)
        if dataclasses.is_dataclass(value):
            rows.extend(describe(value, key + ".", when))
            continue
        meta = meta_of(field)
        plausible = meta["plausible"]
        rows.append(
            {
                "key": key,
                "default": list(value) if isinstance(value, tuple) else value,
                "kind": meta["kind"],
                "unit": meta["unit"],
                "allowed": allowed_text(meta, hints[field.name]),
                "plausible_lo": plausible[0] if plausible else None,
                "plausible_hi": plausible[1] if plausible else None,
                "source": meta["source"],
                "doc": meta["doc"],
                "when": when,
            }
        )
    return rows
