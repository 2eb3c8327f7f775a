"""Write the suite's results: ``README.md`` (a table and a paragraph per check),
``validation.json`` (everything, per-seed values included) and one PNG per check."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from .common import Result, fmt

ICON = {"pass": "pass", "fail": "**FAIL**", "report": "report"}


def figure(result: Result, path: Path) -> str | None:
    if result.figure is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=90, layout="constrained")
    result.figure(fig)
    fig.savefig(path)
    return path.name


def _clean(x):
    """JSON without NaN: NaN and infinities become null."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write(
    results: Sequence[Result], out: Path, meta: dict, calibration: Path | None = None
) -> Path:
    """Write the report; with ``calibration`` (a loyaltysim-calibrate folder), a table of
    its targets at the default config and across its accepted worlds."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    figures = {r.name: figure(r, out / f"{r.name}.png") for r in results}
    data = {"meta": meta, "checks": [{**r.to_json(), "figure": figures[r.name]} for r in results]}
    text = json.dumps(_clean(data), indent=2, default=float, allow_nan=False)
    (out / "validation.json").write_text(text + "\n")
    lines = [
        "# Validation report",
        "",
        "Written by `"
        + " ".join(["loyaltysim-validate", *meta.get("argv", [])])
        + "`"
        + f" ({meta['size']} sizes, seeds {meta['seeds']}, git {meta.get('git_commit')}).",
        "Each value is the mean over seeds with its 95% t-interval in brackets. Verdicts: "
        "pass or FAIL against the target; *report* for a claim under test (S1-S13), which is "
        "measured, never a target. Runs of different checks that share a config and seed are "
        "the same run; arms of a comparison share seeds (same customers, common random numbers).",
        f"Reproduce: `{' '.join(['loyaltysim-validate', *meta.get('argv', [])])}` "
        f"({meta.get('seconds', '?')} s here; `--quick` for small sizes, `--only NAME`).",
        "",
        "| check | source | target | measured | verdict |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| `{r.name}` | {r.source} | {r.target} | {r.headline} = "
            f"{fmt(r.measured[r.headline])} | {ICON[r.verdict]} |"
        )
    lines.append("")
    if calibration is not None:
        from .ensemble import section

        lines += section(results, calibration)
    for r in results:
        lines += [f"## {r.name} ({r.family}): {ICON[r.verdict]}", "", r.evidence, ""]
        lines += ["| quantity | mean [95% CI] | seeds |", "|---|---|---|"]
        for k, ci in r.measured.items():
            lines.append(f"| {k} | {fmt(ci)} | {ci['n']} |")
        lines.append("")
        if figures[r.name]:
            lines += [f"![{r.name}]({figures[r.name]})", ""]
        lines += [f"Source: {r.source}. Target: {r.target}. Time: {r.seconds} s.", ""]
    (out / "README.md").write_text("\n".join(lines))
    return out
