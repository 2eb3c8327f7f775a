"""A calibration file (``conf/calibration/<name>.yaml`` or any YAML path), read and checked.

Every mistake is a :class:`~loyaltysim.model.params.ConfigError` naming the key, the value and
what is allowed, before anything runs. The file holds:

- ``parameters``: the uncertainties to sample, each ``{key, range?, scale?}``; ``range``
  defaults to the parameter's plausible range (``loyaltysim-describe --kind uncertainty``),
  ``scale`` is ``linear`` (default) or ``log``;
- ``targets``: each ``{name, statistic, value | range, tolerance, weight, source}``; a world
  meets a target when the statistic's mean over replications lies in ``range`` (or at
  ``value``) widened by ``tolerance`` on each side; ``enforce: false`` reports a target
  and counts it in the distance without requiring it for acceptance;
- the design: ``seed``, ``candidates``, ``replications``, ``customers``, ``weeks``,
  ``overrides`` (fixed for every run: your market), ``out`` and ``world_dir``;
- refinement (sequential history matching): ``waves`` further designs of
  ``wave_candidates`` worlds each, drawn in the box of the worlds not yet ruled out (every
  enforced target missed by at most ``cutoff`` half-widths beyond its tolerance); with
  ``wave_pool`` k > 1 an emulator of the statistics picks each wave from k times as many
  points in that box, those most likely to meet every target;
- confirmation: when ``confirm_replications`` exceeds ``replications``, every world within
  ``confirm_cutoff`` half-widths of every enforced target after the screening runs is rerun
  with ``confirm_replications`` seeds (the screening seeds are reused, not rerun), and only
  those means decide acceptance: a world near a bound is not let in, or kept out, by the
  chance of a few replications. ``confirm_rule`` says which worlds are near enough:
  ``fixed`` (every enforced target missed by at most ``confirm_cutoff`` half-widths) or
  ``noise`` (every enforced target missed by at most ``confirm_z`` standard errors of the
  screen's mean, plus ``confirm_cutoff`` half-widths: the screen cannot rule the world out;
  see :func:`.accept.to_confirm`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from ...model.params import ConfigError
from .entries import Parameter, Target, parameter, target, uncertainties

TOP = {
    "name": "a short name (letters, digits, _)",
    "description": "text",
    "seed": "an integer >= 0",
    "candidates": "an integer >= 1",
    "replications": "an integer >= 1",
    "customers": "an integer >= 200",
    "waves": "an integer >= 0 (refinement waves after the first design)",
    "wave_candidates": "an integer >= 1 (candidates per refinement wave)",
    "cutoff": "a number >= 0 (implausibility, in half-widths, that rules a world out)",
    "wave_pool": "an integer >= 1 (1: a wave is a plain Sobol design in its box; k > 1: an "
    "emulator picks each wave's worlds from k times as many points in the box)",
    "confirm_replications": "0 (no confirmation stage) or an integer above replications "
    "(the seeds that decide acceptance)",
    "confirm_cutoff": "a number >= 0 (implausibility, in half-widths, up to which a screened "
    "world is confirmed)",
    "confirm_rule": "fixed (confirm within confirm_cutoff half-widths) or noise (within "
    "confirm_z of the screen's standard errors, plus confirm_cutoff)",
    "confirm_z": "a number >= 0 (standard errors of the screen's mean within which a miss "
    "is not evidence against a world; noise rule)",
    "weeks": "an integer >= 78",
    "overrides": "a list of key=value overrides for every run",
    "out": "a folder",
    "world_dir": "a folder, or null (the package's conf/world)",
    "parameters": "a list of {key, range, scale}",
    "targets": "a list of {name, statistic, value or range, tolerance, weight, source}",
}


@dataclass(frozen=True)
class Calibration:
    name: str
    parameters: tuple[Parameter, ...]
    targets: tuple[Target, ...]
    seed: int = 0
    candidates: int = 64
    replications: int = 2
    customers: int = 3000
    weeks: int = 104
    waves: int = 0  # refinement waves (history matching) after the first design
    wave_candidates: int = 64
    cutoff: float = 1.0  # implausibility above which a world is ruled out
    wave_pool: int = 1  # >1: an emulator picks each wave from wave_pool x as many points
    confirm_replications: int = 0  # seeds that decide acceptance (if above replications)
    confirm_cutoff: float = 0.1  # screened worlds this near every target are confirmed
    confirm_rule: str = "fixed"  # fixed | noise (the screen's standard errors widen the cut)
    confirm_z: float = 2.0  # noise rule: misses within z standard errors are not evidence
    overrides: tuple[str, ...] = ()
    out: Path = Path("results/calibration")
    world_dir: Path | None = None
    description: str = ""
    source_file: str = field(default="", compare=False)

    @property
    def confirms(self) -> bool:
        """Whether a confirmation stage decides acceptance (more seeds than the screen)."""
        return self.confirm_replications > self.replications

    def design_hash(self) -> str:
        """Short hash of what decides the candidates: parameters, ranges, scales, seed."""
        spec = [[p.key, p.lo, p.hi, p.scale] for p in self.parameters] + [self.seed]
        return hashlib.sha1(json.dumps(spec).encode()).hexdigest()[:6]

    def world_id(self, index: int) -> str:
        return f"{self.name}_{self.design_hash()}_{index:05d}"


def locate(name: str) -> Path:
    """``literature`` -> conf/calibration/literature.yaml; a path to a YAML file as is."""
    from ...runs.io import config_dir

    path = Path(name)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise ConfigError("calibration", name, "an existing YAML file")
        return path
    known = sorted(p.stem for p in (config_dir() / "calibration").glob("*.yaml"))
    if name not in known:
        raise ConfigError("calibration", name, f"one of {', '.join(known)} or a .yaml path")
    return config_dir() / "calibration" / f"{name}.yaml"


def load(name: str, overrides: list[str] | tuple[str, ...] = ()) -> Calibration:
    """Read calibration ``name`` (or a YAML path), apply ``calibration.<key>=value``
    overrides, check everything; raises ConfigError."""
    path = locate(name)
    try:
        raw = OmegaConf.load(path)
    except Exception as err:  # a YAML syntax error: say where
        why = str(err).splitlines()[0]
        raise ConfigError("calibration", str(path), f"valid YAML ({why})") from None
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.startswith("calibration."):
            raise ConfigError("override", item, "calibration.<key>=<value>")
        try:
            OmegaConf.update(raw, key[len("calibration.") :], OmegaConf.create(f"v: {value}").v)
        except Exception as err:
            raise ConfigError(key, value, str(err).splitlines()[0]) from None
    data = OmegaConf.to_container(raw, resolve=True)
    if not isinstance(data, dict):
        raise ConfigError("calibration", str(path), "a mapping of " + ", ".join(TOP))
    return parse(data, path.stem, str(path))


def _cutoff(data: dict, key: str = "cutoff", default: float = 1.0) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ConfigError(f"calibration.{key}", value, TOP[key])
    return float(value)


def _int(data: dict, key: str, default: int, least: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ConfigError(f"calibration.{key}", value, TOP[key])
    return value


def parse(data: dict[str, Any], stem: str, source_file: str = "") -> Calibration:
    for key in data:
        if key not in TOP:
            raise ConfigError(f"calibration.{key}", data[key], "one of " + ", ".join(TOP))
    name = data.get("name", stem)
    if not isinstance(name, str) or not name.replace("_", "").isalnum():
        raise ConfigError("calibration.name", name, TOP["name"])
    overrides = data.get("overrides") or []
    if not isinstance(overrides, list) or not all(
        isinstance(o, str) and "=" in o for o in overrides
    ):
        raise ConfigError("calibration.overrides", overrides, TOP["overrides"])
    params = tuple(parameter(p, i) for i, p in enumerate(_list(data, "parameters")))
    keys = [p.key for p in params]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise ConfigError("calibration.parameters", dup[0], "each key once")
    targets = tuple(target(t, i) for i, t in enumerate(_list(data, "targets")))
    names = [t.name for t in targets]
    dup = sorted({k for k in names if names.count(k) > 1})
    if dup:
        raise ConfigError("calibration.targets", dup[0], "each target name once")
    world_dir = data.get("world_dir")
    replications = _int(data, "replications", 2, 1)
    confirm = _int(data, "confirm_replications", 0, 0)
    if 0 < confirm <= replications:  # a confirmation that adds no seed would do nothing
        raise ConfigError(
            "calibration.confirm_replications",
            confirm,
            f"0 (no confirmation) or more than replications ({replications})",
        )
    rule = data.get("confirm_rule", "fixed")
    if rule not in ("fixed", "noise"):
        raise ConfigError("calibration.confirm_rule", rule, TOP["confirm_rule"])
    if rule == "noise" and confirm and replications < 2:  # one seed has no spread to read
        raise ConfigError(
            "calibration.replications",
            replications,
            "at least 2 with confirm_rule noise (the screen's standard error needs two seeds)",
        )
    weeks = _int(data, "weeks", 104, 78)
    if weeks < 104 and any(t.statistic.startswith("stationarity.") for t in targets):
        raise ConfigError(
            "calibration.weeks",
            weeks,
            "at least 104 with a stationarity target (it compares the first and last 52 weeks)",
        )
    return Calibration(
        name=name,
        parameters=params,
        targets=targets,
        seed=_int(data, "seed", 0, 0),
        candidates=_int(data, "candidates", 64, 1),
        replications=replications,
        customers=_int(data, "customers", 3000, 200),
        weeks=weeks,
        waves=_int(data, "waves", 0, 0),
        wave_candidates=_int(data, "wave_candidates", 64, 1),
        cutoff=_cutoff(data),
        wave_pool=_int(data, "wave_pool", 1, 1),
        confirm_replications=confirm,
        confirm_cutoff=_cutoff(data, "confirm_cutoff", 0.1),
        confirm_rule=rule,
        confirm_z=_cutoff(data, "confirm_z", 2.0),
        overrides=tuple(overrides),
        out=Path(data.get("out") or f"results/calibration-{name}"),
        world_dir=Path(world_dir) if world_dir else None,
        description=str(data.get("description", "")),
        source_file=source_file,
    )


def _list(data: dict, key: str) -> list:
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise ConfigError(f"calibration.{key}", items, TOP[key] + " (at least one)")
    return items


__all__ = ["Calibration", "Parameter", "Target", "load", "parse", "uncertainties"]
