"""``loyaltysim-describe``: every parameter with its default, kind, unit, range and source.

    loyaltysim-describe                      # all parameters, as a text table
    loyaltysim-describe customers.choice     # those whose key starts with a prefix
    loyaltysim-describe programme=tiered     # the parameters of one programme type
    loyaltysim-describe --kind uncertainty   # only uncertainties (with plausible ranges)
    loyaltysim-describe --markdown > PARAMETERS.md   # the table in the repository

The rows come from the parameter dataclasses themselves (:func:`loyaltysim.describe`), so
this list cannot drift from the code.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .model.config import describe


def select(rows: list[dict[str, Any]], prefix: str = "", kind: str = "") -> list[dict[str, Any]]:
    """Rows whose key starts with ``prefix`` (or ``programme=<key>``) and of ``kind``."""
    out = []
    for row in rows:
        if prefix.startswith("programme="):
            key = prefix.split("=", 1)[1]
            own = row["when"] == f"firm/programme={key}"
            default = not row["when"] and row["key"].startswith("firm.programme.")
            if not (own or (default and _default_programme(rows) == key)):
                continue
        elif prefix and not row["key"].startswith(prefix):
            continue
        if kind and row["kind"] != kind:
            continue
        out.append(row)
    return out


def _default_programme(rows: list[dict[str, Any]]) -> str:
    return next(r["default"] for r in rows if r["key"] == "firm.programme.type" and not r["when"])


def _plausible(row: dict[str, Any]) -> str:
    if row["plausible_lo"] is None:
        return ""
    return f"{row['plausible_lo']:g} to {row['plausible_hi']:g}"


def markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as the Markdown document ``PARAMETERS.md``."""
    lines = [
        "# Parameters",
        "",
        "Generated from the parameter dataclasses by `loyaltysim-describe --markdown`; do not",
        "edit by hand (a test checks it is current). Kinds follow EMA Workbench's XLRM",
        "vocabulary: a **lever** is what a firm decides, an **uncertainty** is customer or",
        "competitor behaviour (with the plausible range that sensitivity analysis and",
        "calibration sample from, and its source), a **constant** is simulation set-up.",
        "Rows with an option in *when* apply when that programme is chosen (for the focal",
        "firm as shown, and likewise under `competitor.programme`).",
        "",
        "| key | default | kind | unit | allowed | plausible | when | meaning | source |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [
            f"`{r['key']}`",
            f"`{r['default']}`",
            r["kind"],
            r["unit"],
            r["allowed"],
            _plausible(r),
            r["when"],
            r["doc"],
            r["source"],
        ]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def text(rows: list[dict[str, Any]]) -> str:
    width = max((len(r["key"]) for r in rows), default=10)
    out = []
    for r in rows:
        head = f"{r['key']:<{width}}  {r['default']!s:<12} {r['kind']:<11}"
        unit = f" [{r['unit']}]" if r["unit"] else ""
        when = f"  (when {r['when']})" if r["when"] else ""
        out.append(f"{head} {r['doc']}{unit}; allowed: {r['allowed']}{when}")
        if r["plausible_lo"] is not None:
            out.append(f"{'':<{width}}  plausible {_plausible(r)}: {r['source']}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="List loyaltysim's parameters.")
    ap.add_argument("prefix", nargs="?", default="", help="key prefix, or programme=<key>")
    ap.add_argument("--kind", choices=("lever", "uncertainty", "constant"), default="")
    ap.add_argument("--markdown", action="store_true", help="print PARAMETERS.md")
    args = ap.parse_args(argv)
    rows = select(describe(), args.prefix, args.kind)
    if not rows:
        print(f"loyaltysim-describe: no parameter matches {args.prefix!r}", file=sys.stderr)
        raise SystemExit(2)
    print(markdown(rows) if args.markdown else text(rows), end="" if args.markdown else "\n")


if __name__ == "__main__":
    main()
