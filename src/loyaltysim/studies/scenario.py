"""A scenario: a question with arms, read from ``conf/scenario/<name>.yaml`` or a path.

Each arm is a name (a plain file name: it names the arm's run folders), a title and Hydra
overrides; one arm is the baseline. :func:`load_scenario` refuses a broken file in one line
(:class:`~loyaltysim.runs.collect.UsageError`) before anything runs; :func:`arm_overrides`
gives an arm's overrides with the command line winning over the arm over the scenario.
``loyaltysim-ask`` (:mod:`loyaltysim.studies.ask`) runs and answers them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..runs.collect import UsageError
from ..runs.io import config_dir
from .options import is_file

TOP_KEYS = ("question", "baseline", "seeds", "overrides", "arms", "firm", "firm_names")
ARM_KEYS = ("name", "title", "overrides")
ARM_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")


@dataclass
class Arm:
    name: str
    title: str
    overrides: list[str]


@dataclass
class Scenario:
    name: str
    question: str
    arms: list[Arm]
    baseline: str
    seeds: list[int]
    overrides: list[str] = field(default_factory=list)
    firm: str = "focal"
    firm_names: dict[str, str] = field(default_factory=dict)


def scenario_path(name: str) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    path = config_dir() / "scenario" / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in (config_dir() / "scenario").glob("*.yaml"))
        raise UsageError(f"scenario = {name!r} not found; allowed: {', '.join(known)}")
    return path


def seed_list(value: object) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return list(range(value))
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return list(dict.fromkeys(value))
    raise UsageError(f"seeds = {value!r}; allowed: a count >= 1 or a list of integers")


def _overrides(where: str, value: object) -> list[str]:
    """A list of Hydra override strings (``None``: none), else a one-line UsageError."""
    if value is None or (isinstance(value, list) and all(isinstance(o, str) for o in value)):
        return list(value or [])
    raise UsageError(
        f"{where} overrides = {value!r}; allowed: a list of Hydra overrides such as firm.price=5.5"
    )


def load_scenario(name: str) -> Scenario:
    """Read and check a scenario file; every mistake is a one-line :class:`UsageError`."""
    path = scenario_path(name)
    where = f"scenario {path.stem}"
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise UsageError(
            f"{where}: not valid YAML{at} ({problem}); allowed: a YAML mapping"
        ) from None
    if not isinstance(data, dict):
        raise UsageError(
            f"{where}: the file must be a mapping; allowed keys: {', '.join(TOP_KEYS)}"
        )
    for key in data:
        if key not in TOP_KEYS:
            raise UsageError(f"{where}: unknown key {key!r}; allowed: {', '.join(TOP_KEYS)}")
    raw_arms = data.get("arms")
    if not isinstance(raw_arms, list) or not raw_arms:
        raise UsageError(f"{where}: arms = {raw_arms!r}; allowed: a non-empty list of arms")
    arms = []
    for i, arm in enumerate(raw_arms):
        if not isinstance(arm, dict) or "name" not in arm:
            raise UsageError(f"{where}: arm {i + 1} = {arm!r}; allowed: a mapping with a name")
        for key in arm:
            if key not in ARM_KEYS:
                raise UsageError(
                    f"{where}: arm {arm['name']!r} has unknown key {key!r} = {arm[key]!r}; "
                    f"allowed: {', '.join(ARM_KEYS)}"
                )
        overrides = _overrides(f"{where}: arm {arm['name']!r}", arm.get("overrides"))
        # the name becomes a file name (logs/<name>.log): no path separators, no dot-dot
        if not ARM_NAME.fullmatch(str(arm["name"])):
            raise UsageError(
                f"{where}: arm {i + 1} name = {arm['name']!r}; allowed: letters, digits, _, - "
                "and . (not first), at most 100 characters"
            )
        arms.append(Arm(str(arm["name"]), str(arm.get("title") or arm["name"]), overrides))
    names = [a.name for a in arms]
    if len(set(names)) != len(names):
        raise UsageError(f"{where}: arm names = {names}; allowed: each name once")
    baseline = data.get("baseline")
    if baseline is None or str(baseline) not in names:
        raise UsageError(f"{where}: baseline = {baseline!r}; allowed: one of {', '.join(names)}")
    if len(arms) < 2:  # nothing to compare the baseline with: refuse before running it
        raise UsageError(
            f"{where}: arms = {names}; allowed: the baseline and at least one other arm"
        )
    firm_names = data.get("firm_names") or {}
    if not isinstance(firm_names, dict):
        raise UsageError(
            f"{where}: firm_names = {firm_names!r}; allowed: a mapping of firm to display "
            "name, such as {focal: Our shop}"
        )
    scenario_overrides = _overrides(where, data.get("overrides"))
    return Scenario(
        name=path.stem,
        question=str(data.get("question") or path.stem.replace("_", " ")),
        arms=arms,
        baseline=str(baseline),
        seeds=seed_list(data.get("seeds", 10)),
        overrides=list(scenario_overrides),
        firm=str(data.get("firm", "focal")),
        firm_names={str(k): str(v) for k, v in firm_names.items()},
    )


def merged(*lists: list[str]) -> list[str]:
    """Overrides with later lists winning per key (the command line over the arm over the
    scenario), so an arm may change what the scenario set for all arms."""
    out: dict[str, str] = {}
    for items in lists:
        for item in items:
            out[item.lstrip("+~").partition("=")[0]] = item
    return list(out.values())


def world_keys(extra: list[str]) -> set[str]:
    """The keys a ``world=`` among the command-line overrides sets (a file's path, as
    ``loyaltysim-fit`` writes it, or a name in conf/world; a swept list ``world=a,b`` sets
    those of any of its worlds); empty without one."""
    worlds = [o.partition("=")[2] for o in extra if o.partition("=")[0] == "world"]
    if not worlds:
        return set()

    def keys(d: dict, prefix: str = "") -> set[str]:
        out = set()
        for k, v in d.items():
            out |= keys(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}"}
        return out

    found: set[str] = set()
    names = [worlds[-1]] if is_file(worlds[-1]) else worlds[-1].split(",")
    for name in names:
        path = Path(name) if is_file(name) else config_dir() / "world" / f"{name}.yaml"
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue  # composing the arms reports a missing or broken world
        found |= keys(data) if isinstance(data, dict) else set()
    return found


def arm_overrides(scn: Scenario, arm: Arm, extra: list[str]) -> list[str]:
    quiet = ["output.figure=false", "output.customer_table=false"]
    # a world given on the command line is the market asked about: the scenario's own
    # settings for the generic market (its customers.n) give way to it; the arms' do not
    market = world_keys(extra)
    shared = [o for o in scn.overrides if o.lstrip("+~").partition("=")[0] not in market]
    return merged(quiet, shared, arm.overrides, extra)
