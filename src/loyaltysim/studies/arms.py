"""Which runs make an arm and how an arm reads: the override keys of a sweep, selecting
runs by override value (``--where``), finding keys that vary within an arm (what
``--pool`` pools), the pairing unit of a pooled run, and each arm in words.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..runs.collect import Collected, UsageError
from ..runs.collect import _value as override_value  # how collect typed the factor columns
from . import formatting as fmt

__all__ = [
    "labels_in_words",
    "override_keys",
    "override_value",
    "pairing_units",
    "select",
    "shown",
    "varying_within",
]


def override_keys(collected: Collected) -> list[str]:
    """The override keys of a sweep (besides the seed), as columns of its tables."""
    columns = list(collected.summary.columns)
    return columns[2 : columns.index("firm")]  # collect puts the override keys there


def pairing_units(frame: pd.DataFrame, pooled: Sequence[str]) -> pd.Series:
    """The replication a pooled run stands for: its seed with the values of the pooled
    keys ("0 · discount"), so a pooled arm pairs run by run with the baseline."""
    parts = [frame["seed"].map(str)] + [frame[k].map(shown) for k in pooled]
    return pd.concat(parts, axis=1).agg(" · ".join, axis=1)


def shown(value: object) -> str:
    """A factor value as the user typed it in an override (None as null)."""
    return "null" if value is None else str(value)


def varying_within(summary: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """Keys whose value differs between runs of the same arm."""
    return [k for k in keys if (summary[k].map(shown).groupby(summary["arm"]).nunique() > 1).any()]


def labels_in_words(
    summary: pd.DataFrame, by: Sequence[str], arms: Sequence[str]
) -> dict[str, str]:
    """Each arm in words, from its ``by`` values ("discount programme"); the raw arm name
    where two arms would read alike."""
    # row by row, not indexed by arm: "arm" may itself be a by key (a scenario's arms)
    first = summary.drop_duplicates("arm")
    labels = {r["arm"]: fmt.arm_title({k: r[k] for k in by}) for _, r in first.iterrows()}
    labels = {a: labels[a] for a in arms}
    if len(set(labels.values())) < len(labels):
        return {a: f"{text} ({a})" for a, text in labels.items()}
    return labels


def select(collected: Collected, where: Sequence[str]) -> Collected:
    """The runs whose overrides match every ``KEY=VALUE`` of ``where`` (values read as the
    sweep's overrides are: ``null``, ``78``, ``discount``), with the factors recomputed."""
    if not where or collected.summary.empty:
        return collected
    keys = override_keys(collected)
    keep = pd.Series(True, index=collected.summary.index)
    for item in where:
        key, sep, text = item.partition("=")
        if not sep or key not in keys:
            raise UsageError(
                f"--where {item!r}; allowed: KEY=VALUE with KEY one of "
                + (", ".join(keys) or "(no override keys besides seed)")
            )
        column = collected.summary[key]
        match = column.map(shown) == shown(override_value(text))
        if not (keep & match).any():
            values = ", ".join(dict.fromkeys(column[keep].map(shown)))
            raise UsageError(f"--where {item!r} matches no runs; {key} is one of: {values}")
        keep &= match
    run_ids = set(collected.summary.loc[keep, "run_id"])
    summary = collected.summary[keep].reset_index(drop=True)
    runs = collected.runs[collected.runs["run_id"].isin(run_ids)].reset_index(drop=True)
    factors = [k for k in keys if summary[k].map(shown).nunique() > 1]
    return Collected(runs, summary, collected.failures, factors)
