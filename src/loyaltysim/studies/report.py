"""A self-contained HTML report of a comparison: the plain-language answer first, then the
tables (baseline highlighted, money as €1,234,567, p-values readable) and the figures,
embedded as base64 PNGs, so the one file can be mailed or opened anywhere.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from . import formatting as fmt
from .comparison import METRICS, Comparison

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;
margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}
tr.baseline td{background:#fff3c4;font-weight:600}
.answer li{margin:.35em 0}.note{color:#555;font-size:.9em}
img{max-width:100%;border:1px solid #eee}
"""


def _img(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    alt = html.escape(Path(path).stem)
    return f'<p><img alt="{alt}" src="data:image/png;base64,{data}"></p>'


def _table(header: Sequence[str], rows: Sequence[tuple[bool, Sequence[str]]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        f"<tr{' class=baseline' if base else ''}>"
        + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
        + "</tr>"
        for base, cells in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def metric_tables(cmp: Comparison) -> str:
    parts = []
    base = cmp.label(cmp.baseline)
    for metric, (label, unit, dunit) in METRICS.items():
        arms = cmp.arms[cmp.arms["metric"] == metric]
        diffs = cmp.differences[cmp.differences["metric"] == metric].set_index("arm")
        rows = []
        for _, r in arms.iterrows():
            ci = f"{fmt.value(r.ci_low, unit)} to {fmt.value(r.ci_high, unit)}"
            if r.arm in diffs.index:
                d = diffs.loc[r.arm]
                cells = [
                    cmp.label(r.arm),
                    r.n,
                    fmt.value(r["mean"], unit),
                    ci,
                    fmt.value(d["diff"], dunit, True),
                    f"{fmt.value(d['ci_low'], dunit, True)} to "
                    f"{fmt.value(d['ci_high'], dunit, True)}",
                    fmt.p_value(d["p_value"]),
                ]
                rows.append((False, cells))
            else:
                cells = [f"{cmp.label(r.arm)} (baseline)", r.n, fmt.value(r["mean"], unit), ci]
                rows.append((True, [*cells, "", "", ""]))
        header = ["arm", "seeds", "mean", "95% CI", f"Δ vs {base} ({dunit})", "95% CI of Δ", "p"]
        parts.append(f"<h2>{html.escape(label)} ({html.escape(unit)})</h2>" + _table(header, rows))
    return "\n".join(parts)


def headline_table(head: pd.DataFrame, cmp: Comparison, titles: Mapping[str, str]) -> str:
    rows = [(True, [f"{titles.get(cmp.baseline, cmp.label(cmp.baseline))} (baseline)"] + [""] * 5)]
    for _, r in head.iterrows():
        rows.append(
            (
                False,
                [
                    titles.get(r.arm, cmp.label(r.arm)),
                    f"{fmt.number(r.profit_pct, 1, True)}% "
                    f"({fmt.ci(r.profit_pct_ci_low, r.profit_pct_ci_high, '%')})",
                    f"{fmt.money(r.profit_per_1000_eur, True)} "
                    f"({fmt.ci(r.profit_per_1000_ci_low, r.profit_per_1000_ci_high, 'EUR')})",
                    f"{fmt.number(r.share_pp, 1, True)} "
                    f"({fmt.ci(r.share_pp_ci_low, r.share_pp_ci_high)})",
                    "n/a" if not np.isfinite(r.payback_week) else f"{r.payback_week:.0f}",
                    f"{r.better_seeds} of {r.seeds}",
                ],
            )
        )
    header = [
        "arm",
        "profit vs baseline, % (95% CI)",
        "profit per 1,000 customers (95% CI)",
        "share, pp (95% CI)",
        "payback week",
        "seeds better",
    ]
    return _table(header, rows)


def write_html(
    path: Path,
    title: str,
    cmp: Comparison,
    figures: Sequence[Path],
    sentences: Sequence[str] = (),
    head: pd.DataFrame | None = None,
    titles: Mapping[str, str] | None = None,
    names: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
) -> Path:
    """Write the report; returns its path."""
    firm = fmt.firm_name(cmp.firm, names)
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p class=note>Firm: <b>{html.escape(firm)}</b>. Baseline: "
        f"<b>{html.escape(cmp.label(cmp.baseline))}</b>. {html.escape(cmp.pairing())}. "
        "All intervals are 95% confidence intervals (95% CI) over seeds.</p>",
    ]
    if sentences:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
        parts.append(f"<h2>The answer</h2><ul class=answer>{items}</ul>")
    if head is not None and len(head):
        parts.append(headline_table(head, cmp, titles or {}))
    parts += [f"<p class=note>{html.escape(n)}</p>" for n in notes]
    parts += [_img(p) for p in figures if Path(p).suffix == ".png"]
    parts.append(metric_tables(cmp))
    parts.append("</body></html>")
    path = Path(path)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
