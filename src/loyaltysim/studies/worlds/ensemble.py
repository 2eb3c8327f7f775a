"""Which worlds an answer is asked in, and what each world is: the values of its
uncertainties, read from its file in ``conf/world`` (``loyaltysim-calibrate`` writes one per
accepted world) for the sensitivity and the flip analysis."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import yaml

from ...runs.collect import UsageError
from ...runs.io import config_dir
from ..options import is_file


def accepted_worlds() -> list[str]:
    """The accepted worlds shipped in conf/world, sorted by name."""
    return sorted(p.stem for p in (config_dir() / "world").glob("*.yaml"))


def world_list(worlds: Sequence[str] | str, paths: bool = True) -> list[str]:
    """World names: ``default`` (or ``central``: no world override, the default config),
    ``all`` (every world in conf/world), names in conf/world or (with ``paths``) YAML paths,
    several separated by ``,``; a one-line :class:`UsageError` for any other."""
    names = worlds.split(",") if isinstance(worlds, str) else list(worlds)
    if names == ["all"]:
        names = accepted_worlds()
    names = ["default" if n == "central" else n for n in names if n]
    known = set(accepted_worlds())
    for n in names:
        is_path = paths and is_file(n)
        if n != "default" and n not in known and not is_path:
            raise UsageError(
                f"worlds = {n!r}; allowed: default (or central), all, a world of conf/world"
                + (" or a world file's path" if paths else "")
                + ", or several separated by ,"
            )
    if not names:
        raise UsageError("worlds = ''; allowed: default, all, or world names separated by ,")
    return list(dict.fromkeys(names))


def spread(names: Sequence[str], k: int) -> list[str]:
    """``k`` of the worlds, evenly spaced through the list (all of them where there are no
    more than ``k``): a quick answer's worlds, the same ones on every call."""
    names = list(names)
    if len(names) <= k:
        return names
    return [names[round(i * (len(names) - 1) / (k - 1))] for i in range(k)] if k > 1 else names[:1]


def _leaves(d: dict, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, v in d.items():
        if isinstance(v, dict):
            out |= _leaves(v, f"{prefix}{key}.")
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[f"{prefix}{key}"] = float(v)
    return out


def world_values(names: Sequence[str]) -> pd.DataFrame:
    """One row per world (index ``world``), one column per numeric setting of its file; only
    the settings that differ between the worlds (the uncertainties the ensemble spans)."""
    rows = {}
    for name in names:
        path = Path(name) if is_file(name) else config_dir() / "world" / f"{name}.yaml"
        rows[name] = _leaves(yaml.safe_load(path.read_text()) or {})
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "world"
    varying = [c for c in table.columns if table[c].nunique(dropna=True) > 1]
    return table[varying]


def not_ruled_out_box(
    worlds: pd.DataFrame, calibration: Path | None = None
) -> tuple[dict[str, tuple[float, float]], str]:
    """The box of the not-ruled-out space over the columns of ``worlds``: each
    uncertainty's range over the calibration's candidates whose implausibility is within its
    cutoff (``results/calibration/candidates.csv``; the cutoff from its conf/calibration
    file), widened to hold the worlds; where that is not at hand, the worlds' own box.
    Returns the box and what it is, in words."""
    own = {c: (float(worlds[c].min()), float(worlds[c].max())) for c in worlds.columns}
    folder = Path(calibration or config_dir().parent / "results" / "calibration")
    try:
        cands = pd.read_csv(folder / "candidates.csv")
        import json

        name = json.loads((folder / "summary.json").read_text())["calibration"]
        conf = yaml.safe_load((config_dir() / "calibration" / f"{name}.yaml").read_text())
        cutoff = float(conf.get("cutoff", 1.0))
        kept = cands[cands["implausibility"] <= cutoff]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return own, "the box the accepted worlds span"
    box = {}
    for c, (lo, hi) in own.items():
        if c in kept and len(kept):
            box[c] = (min(lo, float(kept[c].min())), max(hi, float(kept[c].max())))
        else:
            box[c] = (lo, hi)
    return box, (
        f"the box of the {len(kept)} candidate worlds the calibration did not rule out "
        f"(implausibility <= {cutoff:g})"
    )
