"""The calibration's targets at the default config and across the accepted ensemble, for
the validation report: what the defaults reproduce, and how much the plausible worlds
differ on the same statistics (``results/calibration/`` written by loyaltysim-calibrate).

For each target: its range and tolerance; the default's value at validation size (the
check of the same family, 10,000 customers and 20 seeds at full size), where the suite
measures that statistic; the central world's value as the calibration measured it (its
small markets and few replications); and the ensemble's min, median and max.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .common import Result, fmt


def _g(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.3g}"


def _defaults_match(overrides: Sequence[str]) -> bool | None:
    """Whether the default config holds the central world's values (to 3 significant
    digits, the rounding the README's rule uses)."""
    from ...runs.runner import config_dict, load_config

    flat = pd.json_normalize(config_dict(load_config())).iloc[0]
    for item in overrides:
        key, _, value = item.partition("=")
        if key not in flat:
            return None
        here, there = float(flat[key]), float(value)
        if abs(here - there) > 5e-3 * max(abs(there), 1e-12):
            return False
    return True


def section(results: Sequence[Result], calibration: Path) -> list[str]:
    """Markdown lines: the targets table, or one line saying why there is none."""
    summary_path = Path(calibration) / "summary.json"
    if not summary_path.is_file():
        return [
            "## Calibration targets: default and ensemble",
            "",
            f"No calibration found in `{calibration}` (run `loyaltysim-calibrate`).",
            "",
        ]
    from ..calibration import targets as target_files

    summary = json.loads(summary_path.read_text())
    cal = target_files.load(summary.get("file") or summary["calibration"])
    accepted_path = Path(calibration) / "accepted.csv"
    accepted = pd.read_csv(accepted_path) if accepted_path.is_file() else pd.DataFrame()
    central = accepted[accepted["central"].astype(bool)] if "central" in accepted else accepted[:0]
    measured = {r.name: r.measured for r in results}
    match = _defaults_match(summary.get("central_overrides") or []) if len(central) else None
    lines = [
        "## Calibration targets: default and ensemble",
        "",
        f"Calibration `{summary['calibration']}` (`{calibration}`): {summary['accepted']} of "
        f"{summary['measured']} candidate worlds accepted; central world "
        + (f"`{summary['central']}`. " if summary.get("central") else "none. ")
        + (
            "The default config is the central world (3 significant digits)."
            if match
            else "The default config is **not** the central world."
            if match is False
            else "No central world to compare the defaults with."
        ),
        "Default: the validation suite's value at the default config (this report's sizes) "
        "where a check measures the statistic; central: the calibration's measurement of the "
        f"central world ({summary.get('customers')} customers, "
        f"{summary.get('confirm_replications') or summary.get('replications')} replications, "
        f"{summary.get('weeks')} weeks); ensemble: min, median and max over the accepted "
        "worlds. A target that is not enforced is reported, not required (the targets file "
        "says why).",
        "",
        "| target | statistic | range ± tolerance | enforced | default | in range | central "
        "| ensemble min / median / max |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in cal.targets:
        family, key = t.statistic.split(".", 1)
        ci = measured.get(family, {}).get(key)
        lo, hi = t.bounds
        inside = "n/a" if ci is None else ("yes" if lo <= ci["mean"] <= hi else "**no**")
        default = "not measured here" if ci is None else fmt(ci)
        values = accepted[t.statistic].to_numpy(float) if t.statistic in accepted else np.array([])
        values = values[np.isfinite(values)]
        spread = (
            " / ".join(_g(v) for v in (values.min(), np.median(values), values.max()))
            if values.size
            else "n/a"
        )
        centre = (
            _g(float(central[t.statistic].iloc[0]))
            if len(central) and t.statistic in central
            else "n/a"
        )
        lines.append(
            f"| `{t.name}` | `{t.statistic}` | {_g(t.lo)} to {_g(t.hi)} ± {_g(t.tolerance)} | "
            f"{'yes' if t.enforce else 'no'} | {default} | {inside} | {centre} | {spread} |"
        )
    lines.append("")
    return lines
