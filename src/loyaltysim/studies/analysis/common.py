"""Shared helpers for the experiment analyses: picking arms out of a collected sweep,
reading the values the sweep actually ran (its recorded overrides and the runs' resolved
configs), formatting paired differences and the verdicts, and the results README.

Arm values are never copied from the experiment YAML files. They come from:

- ``Collected`` factor columns (one column per override, values as YAML scalars: 78,
  None, 0.05, "discount"), through :func:`levels`, which orders them as the sweep listed
  them (``multirun.yaml`` in the sweep folder) so tables and sentences keep a stable order;
- the resolved ``config.yaml`` of each run folder, through :func:`run_configs` and
  :func:`config_value`, for settings that are not swept (e.g. the poaching start week).

An arm's label is ``str(value)``, as :func:`loyaltysim.studies.compare.label_arms` makes it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ...runs.collect import Collected
from ..compare import Comparison, label_arms, write

# Registry key of the programme type "no programme" (`conf/firm/programme/none.yaml`):
# the claims compare programmes against it, so it is a name the analyses rely on.
NO_PROGRAMME = "none"

try:  # the C loader reads the runs' configs several times faster
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader


class AnalysisError(ValueError):
    """The sweep does not hold what an analysis needs (a factor, a level, a setting)."""


# ------------------------------------------------------------------------ selecting arms
def subset(col: Collected, **where: Any) -> Collected:
    """The runs whose override columns equal the given values (compared as text)."""

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        mask = np.ones(len(frame), bool)
        for key, value in where.items():
            mask &= frame[key].map(str).to_numpy() == str(value)
        return frame[mask]

    factors = [f for f in col.factors if f not in where]
    return replace(col, runs=keep(col.runs), summary=keep(col.summary), factors=factors)


def require_factor(col: Collected, key: str, experiment: str) -> None:
    """Raise :class:`AnalysisError` unless ``key`` is a factor of the sweep (varies)."""
    if key not in col.factors:
        raise AnalysisError(
            f"{experiment}: expected the sweep to vary {key!r}, but its factors are "
            f"{col.factors or '(none besides seed)'}; run it with `experiment={experiment}`"
        )


def _order_hint(sweep_dir: Path | None, key: str) -> list[Any]:
    """Values of ``key`` in the order the sweep listed them (command line first, then
    ``hydra.sweeper.params``), read from the sweep's ``multirun.yaml``; [] if unknown."""
    path = Path(sweep_dir) / "multirun.yaml" if sweep_dir is not None else None
    if path is None or not path.is_file():
        return []
    from hydra.core.override_parser.overrides_parser import OverridesParser

    hydra_cfg = (yaml.load(path.read_text(), Loader=_Loader) or {}).get("hydra", {})
    spec = {
        k.lstrip("+~"): str(v)
        for k, v in ((hydra_cfg.get("sweeper") or {}).get("params") or {}).items()
    }
    for item in (hydra_cfg.get("overrides") or {}).get("task") or []:
        k, _, v = str(item).partition("=")
        spec[k.lstrip("+~")] = v
    if key not in spec:
        return []
    ov = OverridesParser.create().parse_override(f"{key}={spec[key]}")
    texts = list(ov.sweep_string_iterator()) if ov.is_sweep_override() else [spec[key]]
    return [yaml.safe_load(t) for t in texts]


def levels(col: Collected, key: str, sweep_dir: Path | None = None) -> list[Any]:
    """The values of ``key`` that the collected runs hold, in the sweep's own order
    (values the sweep definition does not list follow, in order of appearance)."""
    if key not in col.summary.columns:
        raise AnalysisError(f"{key!r} is not an override of this sweep")
    seen = list(dict.fromkeys(col.summary[key]))
    by_text = {str(v): v for v in seen}
    ordered = [by_text[str(v)] for v in _order_hint(sweep_dir, key) if str(v) in by_text]
    ordered = list(dict.fromkeys(ordered))
    return ordered + [v for v in seen if str(v) not in {str(o) for o in ordered}]


def require_level(values: list[Any], level: Any, key: str, experiment: str) -> Any:
    """The level of ``key`` whose text is ``str(level)``, or a clear error."""
    for v in values:
        if str(v) == str(level):
            return v
    raise AnalysisError(
        f"{experiment}: expected {key}={level} among the sweep's levels {[str(v) for v in values]}"
    )


def arm_label(**values: Any) -> str:
    """The label :func:`loyaltysim.studies.compare.compare` gives the arm with these factor values
    (factors in the sweep's column order, as ``Collected.factors`` lists them)."""
    frame = pd.DataFrame([values], dtype=object)
    return str(label_arms(frame, list(values)).iloc[0])


# ------------------------------------------------------------------ the runs' configs
def run_configs(col: Collected, sweep_dir: Path) -> dict[str, dict]:
    """The resolved config (``config.yaml``) of every collected run, by run id."""
    out = {}
    for run_id in dict.fromkeys(col.summary["run_id"]):
        path = Path(sweep_dir) / run_id / "config.yaml"
        if not path.is_file():
            raise AnalysisError(f"run {run_id} has no config.yaml in {sweep_dir}")
        out[run_id] = yaml.load(path.read_text(), Loader=_Loader)
    return out


def config_value(config: dict, dotted: str) -> Any:
    """``config["a"]["b"]`` for ``"a.b"``; a clear error naming the key when missing."""
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            raise AnalysisError(f"the runs' config.yaml has no {dotted!r}")
        node = node[part]
    return node


def common_config_value(configs: dict[str, dict], dotted: str) -> Any:
    """A setting that all the given runs share (error if they differ)."""
    values = {json.dumps(config_value(c, dotted)) for c in configs.values()}
    if len(values) != 1:
        raise AnalysisError(f"{dotted} differs between runs ({sorted(values)}); expected one value")
    return config_value(next(iter(configs.values())), dotted)


# ----------------------------------------------------------- differences and verdicts
def diff(cmp: Comparison, arm: Any, metric: str) -> dict:
    """The paired difference row of ``arm`` for ``metric``: diff, ci_low, ci_high,
    p_value, n_pairs (units: those of the metric's difference, see compare.METRICS)."""
    d = cmp.differences
    rows = d[(d["arm"] == str(arm)) & (d["metric"] == metric)]
    if rows.empty:
        raise AnalysisError(
            f"no difference for arm {arm!r}, metric {metric!r} (baseline {cmp.baseline!r})"
        )
    return rows.iloc[0].to_dict()


def arm_mean(cmp: Comparison, arm: Any, metric: str) -> float:
    """Mean over seeds of ``metric`` in ``arm``."""
    a = cmp.arms
    return float(a[(a["arm"] == str(arm)) & (a["metric"] == metric)]["mean"].iloc[0])


def margin_note(cmp: Comparison, arm: Any) -> str:
    """The arm's profit verdict at the runs' margin is one point of the plausible 10-50%:
    " (at a 30% gross margin; break-even margin 21% (95% CI 17 to 26%): pays above it)"."""
    be = cmp.margins.get(str(arm))
    if be is None:
        return ""
    at = f"at a {100 * be.margin:.0f}% gross margin; " if np.isfinite(be.margin) else ""
    return f" ({at}{be.sentence()})"


def fmt_diff(d: dict, unit: str, digits: int = 1) -> str:
    """'+1.2 unit (95% CI +0.5 to +1.9; p = 0.003; 20 paired seeds)', followed for money by
    the effect as % of the baseline and per 1,000 customers, with their CIs."""
    text = f" {unit}" if unit else ""
    out = (
        f"{d['diff']:+,.{digits}f}{text} (95% CI {d['ci_low']:+,.{digits}f} to "
        f"{d['ci_high']:+,.{digits}f}; p = {d['p_value']:.2g}; {d['n_pairs']} paired seeds)"
    )
    if unit == "EUR" and np.isfinite(d.get("pct_of_baseline", np.nan)):
        out += (
            f", i.e. {d['pct_of_baseline']:+.1f}% of the baseline (95% CI "
            f"{d['pct_of_baseline_ci_low']:+.1f}% to {d['pct_of_baseline_ci_high']:+.1f}%)"
        )
    if unit == "EUR" and np.isfinite(d.get("per_1000", np.nan)):
        out += (
            f" and {d['per_1000']:+,.0f} EUR per 1,000 customers (95% CI "
            f"{d['per_1000_ci_low']:+,.0f} to {d['per_1000_ci_high']:+,.0f})"
        )
    return out


def verdict(d: dict, expected_sign: int) -> str:
    """'supported', 'contradicted' or 'not resolved' at the 5% level."""
    if not np.isfinite(d["p_value"]) or d["p_value"] >= 0.05:
        return "not resolved at the 5% level"
    return "supported" if np.sign(d["diff"]) == expected_sign else "contradicted"


def save(col: Collected, cmp: Comparison, folder: Path) -> None:
    """The comparison's Markdown and CSV tables and figures, in ``folder``."""
    write(col, cmp, col.factors, folder)


# ------------------------------------------------------------------------- the README
README_HEAD = [
    "# Results: what the model shows, claim by claim",
    "",
    "Generated by `python experiments/run_all.py` (see the main README); do not edit by hand.",
    "Every number comes from the runs of that command: means over seeds, differences "
    "between arms paired by seed (the arms share random numbers), 95% confidence "
    'intervals and two-sided paired t-tests. "Supported" means the difference has the '
    "claimed sign at p < 0.05 in this model under its default calibration: evidence about "
    "the model's mechanisms, not about any real market. Claim ids refer to "
    "`docs/claims.md`.",
    "",
]


def write_readme(
    out: Path, claims: dict[str, list[str]], titles: dict[str, str], quick: bool
) -> Path:
    """``out/README.md``: per experiment (in the order of ``titles``) its claim sentences."""
    lines = list(README_HEAD)
    if quick:
        lines += ["**Quick mode: tiny markets, for testing the pipeline only.**", ""]
    if (Path(out) / "CHANGES.md").is_file():
        lines += [
            "Which verdicts changed when the model last changed, and why: "
            "[`CHANGES.md`](CHANGES.md). How credible the model is against published "
            "regularities: [`validation/`](validation/README.md).",
            "",
            "Where a claim was read across the plausible worlds (`run_all.py --worlds all`), "
            'its bullet leads with that verdict, in bold; what follows "In the default world" '
            "is the default config's, i.e. the calibration's most central world, whose verdict "
            "can differ from the ensemble's where it rides on a parameter the calibration "
            "leaves open. A bullet without the bold lead is the default world's alone.",
            "",
        ]
    for name, title in titles.items():
        if name in claims:
            lines += [
                f"## {title}",
                "",
                *claims[name],
                "",
                f"Tables and figures: [`{name}/`]({name}/).",
                "",
            ]
    path = Path(out) / "README.md"
    path.write_text("\n".join(lines))
    return path
