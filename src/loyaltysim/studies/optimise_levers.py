"""The levers ``loyaltysim-optimise`` searches: a programme's settings of kind ``lever``,
as ranges or lists, checked against the setting's bounds, and the shipped design (the
programme's defaults) where it lies in the searched space."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..runs.collect import UsageError

DEFAULT_LEVERS: dict[str, dict[str, Any]] = {
    "engagement": {
        "contacts_per_week": (0.0, 2.0),
        "personalisation": (0.0, 1.0),
        "thanks_cost_eur": (0.0, 2.0),
        "surprise_rate": (0.0, 0.05),
    },
    "discount": {"rebate_rate": (0.0, 0.2), "signup_prob": (0.05, 0.6)},
    "tiered": {"top_points_per_eur": (1.0, 4.0), "signup_prob": (0.05, 0.6)},
}


@dataclass(frozen=True)
class Lever:
    """One searched setting of the programme: a range (``low``, ``high``) or ``choices``."""

    key: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    integer: bool = False

    def distribution(self):
        import optuna.distributions as d

        if self.choices is not None:
            return d.CategoricalDistribution(list(self.choices))
        if self.integer:
            return d.IntDistribution(int(self.low), int(self.high))
        return d.FloatDistribution(float(self.low), float(self.high))


def _lever_fields(programme: str, kind: str = "lever") -> dict[str, tuple[Any, dict[str, Any]]]:
    """The programme's settings of ``kind`` (``lever``: the firm's choices; ``uncertainty``,
    ``constant``: the world's) with their type and metadata."""
    from ..model.params import meta_of
    from ..model.programmes.base import REGISTRY

    if programme not in REGISTRY or programme == "none":
        known = ", ".join(sorted(k for k in REGISTRY if k != "none"))
        raise UsageError(f"programme = {programme!r}; allowed: one of {known}")
    cls = REGISTRY[programme].Params
    hints = typing.get_type_hints(cls)
    return {
        f.name: (hints[f.name], meta_of(f))
        for f in dataclasses.fields(cls)
        if meta_of(f)["kind"] == kind and f.name != "type"
    }


def _not_a_lever(programme: str, key: str, fields: Mapping[str, Any]) -> UsageError:
    """Why ``key`` cannot be searched: how customers respond (``customers.contact``), a
    property of the world, not the firm's choice; a constant; or no setting at all."""
    from ..model.contact import ContactParams

    world = "a property of the world (how customers respond), not the firm's choice; vary it "
    why = "it has no such setting"
    if key in {f.name for f in dataclasses.fields(ContactParams)}:
        why = f"it is customers.contact.{key}, an uncertainty: {world}across worlds instead"
    elif key in _lever_fields(programme, "uncertainty"):
        why = f"it is an uncertainty: {world}across worlds (worlds=all) instead"
    elif key in _lever_fields(programme, "constant"):
        why = "it is a constant of the programme, not the firm's choice"
    return UsageError(
        f"lever {key!r} is not a lever of programme {programme}: {why}; "
        f"allowed: {', '.join(sorted(fields))}"
    )


def make_levers(programme: str, levers: Mapping[str, Any] | None) -> list[Lever]:
    """Levers from ``{key: (lo, hi) or [choices]}``; a one-line UsageError for a key that is
    not a lever of the programme or a value its setting does not allow."""
    fields = _lever_fields(programme)
    levers = DEFAULT_LEVERS.get(programme, {}) if not levers else levers
    if not levers:
        raise UsageError(f"programme {programme!r} has no default levers; give lever.KEY=LO:HI")
    out = []
    for key, spec in levers.items():
        if key not in fields:
            raise _not_a_lever(programme, key, fields)
        tp = fields[key][0]
        if isinstance(spec, tuple):
            lo, hi = spec
            if not lo < hi:
                raise UsageError(f"lever {key} = {lo}:{hi}; allowed: a range LO:HI with LO < HI")
            out.append(Lever(key, lo, hi, integer=tp is int))
        else:
            choices = tuple(dict.fromkeys(spec))
            if not choices:
                raise UsageError(f"lever {key} = []; allowed: at least one value")
            out.append(Lever(key, choices=choices))
    return out


def _value(lever: Lever, value: Any) -> Any:
    return int(value) if lever.integer else value


def _shipped(programme: str, levers: list[Lever]) -> dict[str, Any] | None:
    """The programme's defaults for the levers, where every one lies in the searched space."""
    from ..model.programmes.base import REGISTRY

    default = REGISTRY[programme].Params()
    design = {x.key: getattr(default, x.key) for x in levers}
    for x in levers:
        v = design[x.key]
        inside = v in x.choices if x.choices is not None else x.low <= v <= x.high
        if not inside:
            return None
    return design
