"""Composition errors in one line: a Hydra or OmegaConf error about one key (misspelt,
renamed, wrong type, unknown group option) as a :class:`~.params.ConfigError` naming the
key, the value given and what is allowed. :mod:`.config` re-exports these names."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from .params import ConfigError

# keys renamed since a release, with what replaced them: an old config gets told where to go
RENAMED = {
    "budget_per_week": (
        "weekly_budget_per_1000",
        "EUR a week per 1,000 customers at week 0: the budget now scales with customers.n; "
        "EUR 150 a week at 3,000 customers is 50",
    ),
}

# keys of other commands that a user may give the main job: say where they belong
ELSEWHERE = {
    "jobs": "not a key of a run: runs at a time is hydra.launcher.n_jobs=N in a sweep (-m); "
    "jobs=N is loyaltysim-ask's",
    "scenario": "not a key of a run: a scenario is asked with loyaltysim-ask scenario=NAME",
}


def renamed_message(message: str) -> str | None:
    """One line for an error that names a renamed key (the full dotted key, what replaced
    it, and its unit), else ``None``."""
    for old, (new, note) in RENAMED.items():
        found = re.search(rf"\+?([\w.]*\b{old})\b", message)
        if found:
            key = found.group(1)
            return f"invalid config: {key} was renamed: use {key[: -len(old)] + new} ({note})"
    return None


def renamed_hint(message: str) -> str:
    """``; <key> was renamed: use ...`` for the first renamed key that ``message`` names, else
    ``""`` (for messages that keep their own wording)."""
    line = renamed_message(message)
    return "; " + line.removeprefix("invalid config: ") if line else ""


def config_error_from(
    err: BaseException,
    overrides: Sequence[str] = (),
    allowed_for: Callable[[str], str] = lambda key: "a value of the right type",
) -> ConfigError | BaseException:
    """A :class:`ConfigError` for a Hydra/OmegaConf composition error about one key
    (misspelt key, wrong type, unknown option of a group), else ``err`` itself.

    ``overrides`` are the command-line overrides composed, used to name the value given;
    ``allowed_for`` says what a key accepts (:func:`loyaltysim.model.config.allowed_for`).
    """
    from hydra.errors import MissingConfigException
    from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

    given: dict[str, Any] = {}
    for item in overrides:
        key, _, value = str(item).lstrip("+~").partition("=")
        try:  # the value as Hydra reads it (3, not '3')
            given[key] = yaml.safe_load(value)
        except yaml.YAMLError:
            given[key] = value
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ConfigError):
            return seen
        if isinstance(seen, MissingConfigException) and getattr(seen, "options", None):
            group, _, option = str(seen.missing_cfg_file).rpartition("/")
            return ConfigError(group, option, "one of " + ", ".join(seen.options))
        if isinstance(seen, OmegaConfBaseException) and getattr(seen, "full_key", None):
            key = str(seen.full_key)
            if isinstance(seen, ConfigKeyError) or "not in" in str(seen):
                group = key.rpartition(".")[0] or key
                allowed = (
                    ELSEWHERE.get(key)
                    or renamed_hint(key).removeprefix("; ")
                    or (f"an existing key (misspelt? `loyaltysim-describe {group}` lists them)")
                )
                return ConfigError(key, given.get(key, "?"), allowed)
            return ConfigError(key, getattr(seen, "value", None), allowed_for(key))
        seen = seen.__cause__ or seen.__context__
    return err
