"""The curated claims across the plausible worlds: each experiment's headline effects (the
focal firm's cumulative profit, an arm against its experiment's baseline) read from the
results folder of each world, gathered into ``<out>/ensemble/claims.csv`` and ``claims.md``,
and a section for ``results/README.md`` that states every claim's verdict across the
ensemble first (holds in k of n worlds, the median effect, the range) and the central
world's as detail. ``experiments/run_all.py --worlds`` drives it: it runs the experiments in
each world and calls :func:`write_ensemble`; this module only reads and writes tables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .patterns import (
    FLAGS,
    SHARES,
    claim_flags,
    claim_shares,
    flag_lead,
    flag_rows,
    share_lead,
    share_rows,
    share_verdict,
)
from .summary import claims_markdown, long_effects, summarise, verdict

# claim: (experiment, comparison file under its results folder, arm); every experiment with
# a paired comparison of profit. An "arm" of the form "col=value;col=value" picks the row of
# a table without an arm column (personalisation's contact effects: a level and a rate
# against no contact at that level). design_lottery reports a share of designs, not an
# effect of one arm: it is a share claim (SHARES, below).
CLAIMS: dict[str, tuple[str, str, str]] = {
    "S3/S4 engagement vs none": ("head_to_head", "comparison.csv", "engagement"),
    "S3 discount vs none": ("head_to_head", "comparison.csv", "discount"),
    "S5 split budget": ("acquisition_vs_retention", "budget/comparison.csv", "split"),
    "S5 all to retention": ("acquisition_vs_retention", "budget/comparison.csv", "retain_all"),
    "withdrawing the rebate at week 78": ("withdrawal", "discount/comparison.csv", "78"),
    "withdrawing engagement at week 78": ("withdrawal", "engagement/comparison.csv", "78"),
    "referral thanks vs nothing": ("referral_thanks", "comparison.csv", "thanks"),
    "referral rebate vs nothing": ("referral_thanks", "comparison.csv", "rebate"),
    "engagement under poaching 0.2 vs none": ("poaching", "engagement/comparison.csv", "0.2"),
    "rebate under poaching 0.2 vs none": ("poaching", "discount/comparison.csv", "0.2"),
    "both rebate vs neither": (
        "rival_rebates",
        "focal/comparison.csv",
        "competitor/programme=discount · firm/programme=discount",
    ),
    "badly personalised contact (0.2, every four weeks) vs none": (
        "personalisation",
        "contact_effect.csv",
        "personalisation=0.2;contacts_per_week=0.25",
    ),
    "well personalised contact (1.0, every four weeks) vs none": (
        "personalisation",
        "contact_effect.csv",
        "personalisation=1.0;contacts_per_week=0.25",
    ),
}
# what the seed claim says of the profit effect (+1: it raises profit, -1: it lowers it);
# a claim missing here is reported as up or down only (its claim is about something else)
DIRECTION: dict[str, tuple[int, str]] = {
    "S3/S4 engagement vs none": (1, "S3/S4 (engagement raises profit)"),
    "S3 discount vs none": (-1, "S2 (the discount lowers profit)"),
    "S5 split budget": (1, "S5 (moving budget to retention raises profit)"),
    "S5 all to retention": (1, "S5 (moving budget to retention raises profit)"),
    "referral thanks vs nothing": (1, "S8 (thanking referrers pays)"),
    "badly personalised contact (0.2, every four weeks) vs none": (
        -1,
        "S7 (badly personalised contact lowers profit)",
    ),
}
# the README bullet each claim's across-worlds sentence leads (the start of its line)
BULLETS: dict[str, str] = {
    "S3/S4 engagement vs none": "- **S3/S4**",
    "S3 discount vs none": "- **S2**",
    "S5 split budget": "- **S5** moving acquisition budget to retention (split",
    "S5 all to retention": "- **S5** moving acquisition budget to retention (retain_all",
    "withdrawing the rebate at week 78": "- **S1**",
    "withdrawing engagement at week 78": "- **S1**",
    "referral thanks vs nothing": "- **S8**",
    "referral rebate vs nothing": "- **S8**",
    "engagement under poaching 0.2 vs none": "- **S6**",
    "rebate under poaching 0.2 vs none": "- **S6**",
    "both rebate vs neither": "- **Rebates and competition**",
    "badly personalised contact (0.2, every four weeks) vs none": "- **S7** (badly",
    "well personalised contact (1.0, every four weeks) vs none": "- **S7** (badly",
    "S9 random discount designs not paid back at week 104": "- **S9**",
    "S7 an interior optimum contact rate at the best personalisation": "- **S7** (wrong",
}
LEAD, LEAD_END = "<!-- worlds -->", "<!-- /worlds -->"
BREAK_EVEN = {"be": "break_even", "be_lo": "ci_low", "be_hi": "ci_high"}
PARAMS = {
    "customers.choice.engagement_weight": "engagement weight",
    "customers.choice.engagement_churn_relief": "churn relief",
    "customers.purchase_rate_mean": "purchase rate",
}
FIELDS = {
    "pct": "pct_of_baseline",
    "pct_lo": "pct_of_baseline_ci_low",
    "pct_hi": "pct_of_baseline_ci_high",
    "per_1000": "per_1000",
    "per_1000_lo": "per_1000_ci_low",
    "per_1000_hi": "per_1000_ci_high",
}
BEGIN, END = "<!-- across-worlds: begin -->", "<!-- across-worlds: end -->"


def claims_of(experiments: Sequence[str] | None = None) -> list[str]:
    """The claims (effects and shares) whose experiment is among ``experiments`` (all by
    default)."""
    exps = {c: spec[0] for c, spec in [*CLAIMS.items(), *SHARES.items(), *FLAGS.items()]}
    return [c for c, e in exps.items() if experiments is None or e in experiments]


def claim_effects(folder: Path, claims: Sequence[str] | None = None) -> dict[str, dict]:
    """Each claim's profit effect read from one world's results folder (the layout
    ``experiments/run_all.py`` writes); a claim whose file or arm is missing is left out."""
    out = {}
    for claim in claims or list(CLAIMS):
        exp, file, arm = CLAIMS[claim]
        path = Path(folder) / exp / file
        if not path.is_file():
            continue
        table = pd.read_csv(path, dtype={"arm": str})
        row = _row(table, arm)
        if row.empty or not all(v in row for v in FIELDS.values()):
            continue
        out[claim] = {k: float(row.iloc[0][v]) for k, v in FIELDS.items()}
        if "break_even" in row:  # a table that carries its rows' break-even margins
            cols = {"be": "break_even", "be_lo": "break_even_ci_low", "be_hi": "break_even_ci_high"}
            out[claim] |= {k: float(row.iloc[0][v]) for k, v in cols.items()}
        margin = path.parent / "break_even_margin.csv"  # head_to_head writes one per arm
        if margin.is_file():
            be = pd.read_csv(margin, dtype={"arm": str})
            be = be[be["arm"] == arm]
            if not be.empty:
                out[claim] |= {k: float(be.iloc[0][v]) for k, v in BREAK_EVEN.items()}
    return out


def _row(table: pd.DataFrame, arm: str) -> pd.DataFrame:
    """The claim's row: its arm's cumulative profit, or the row ``col=value;...`` picks."""
    if "arm" in table:
        return table[(table["arm"] == arm) & (table["metric"] == "cumulative_profit_eur")]
    pick = pd.Series(True, index=table.index)
    for term in arm.split(";"):
        col, _, value = term.partition("=")
        if col not in table:
            return table.iloc[0:0]
        pick &= np.isclose(table[col].astype(float), float(value))
    return table[pick]


def world_row(world: str, folder: Path, values: Mapping[str, float], central: bool) -> dict:
    """One row of claims.csv: the world, its uncertainties' values, each claim's effect
    and its verdict within the world (the seed-CI above, below or around zero)."""
    row: dict = {"world": world, "central": bool(central)}
    row |= {label: values.get(key, np.nan) for key, label in PARAMS.items()}
    for claim, e in claim_effects(folder).items():
        row |= {f"{claim} {k}": v for k, v in e.items()}
        row[f"{claim} verdict"] = verdict(e["pct_lo"], e["pct_hi"])
    for claim, value in claim_flags(folder).items():
        row[f"{claim} verdict"] = "holds" if value else "fails"
    for claim, e in claim_shares(folder).items():  # "share", not "pct": not an effect
        row |= {f"{claim} share{k[3:]}": v for k, v in e.items()}
        row[f"{claim} verdict"] = share_verdict(claim, e["pct_lo"], e["pct_hi"])
    return row


INTRO = [
    "# Claims across the accepted worlds",
    "",
    "Written by `experiments/run_all.py --worlds` (loyaltysim.studies.worlds.claims). The "
    "focal firm's cumulative profit, as % of the experiment's baseline arm (95% CI over the "
    "seeds within the world) and EUR per 1,000 customers, in each accepted world of the "
    "calibration, each run with its file's exact values and {seeds}.",
    "",
]


def _seeds(seeds: int | None) -> str:
    return f"seeds 0-{seeds - 1} in every experiment" if seeds else "the experiments' own seeds"


def write_ensemble(rows: Sequence[dict], out: Path, seeds: int | None = None) -> pd.DataFrame:
    """Write ``out/claims.csv`` and ``out/claims.md`` (the central world first); returns
    the table. ``seeds``: the seeds each world ran (None: each experiment's own count)."""
    table = pd.DataFrame(list(rows)).sort_values(["central", "world"], ascending=[False, True])
    claims = [c for c in CLAIMS if f"{c} pct" in table]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "claims.csv", index=False)
    text = claims_markdown(table, claims, list(PARAMS.values()))
    intro = "\n".join(INTRO).format(seeds=_seeds(seeds))
    text = intro + "\n" + text.split("\n\n", 2)[2]  # the generic intro replaced
    (out / "claims.md").write_text(text)
    return table


def _break_even(table: pd.DataFrame, claim: str) -> str:
    """The break-even gross margin across the worlds (median, range), where measured."""
    col = f"{claim} be"
    if col not in table or not np.isfinite(table[col].to_numpy(float)).any():
        return "n/a"
    be = 100 * table[col].to_numpy(float)
    be = be[np.isfinite(be)]
    text = f"{np.median(be):.0f}% ({be.min():.0f} to {be.max():.0f}%)"
    if be.max() < 0 or be.min() > 100:  # no margin a firm can have changes the sign
        text += ", outside 0-100% in every world: the same sign at every margin"
    return text


def lead(claim: str, s, table: pd.DataFrame) -> str:
    """The sentence a claim's README bullet starts with: its verdict across the worlds."""
    n = s.n
    text = f"Across the {n} plausible worlds: profit "
    text += f"up in {s.better_ci}, down in {s.worse_ci}, not resolved in {s.not_resolved} "
    text += "(each world by its 95% CI over its seeds); "
    if claim in DIRECTION:
        sign, what = DIRECTION[claim]
        holds = s.better_ci if sign > 0 else s.worse_ci
        text = text.replace("Across", f"{what} holds in {holds} of {n} plausible worlds. Across")
    text += f"median world {s.median:+.1f}% of the baseline (worlds {s.low:+.1f} to {s.high:+.1f}%)"
    be = _break_even(table, claim)
    if be != "n/a":
        text += f"; break-even gross margin {be}"
    return text + "."


def readme_section(
    table: pd.DataFrame, central: Mapping[str, dict] | None = None, seeds: int | None = None
) -> str:
    """The README's section: per claim, in how many worlds profit rises (seed-CI above
    zero), falls and is unresolved, the median world's effect, the range of worlds and the
    break-even gross margin across them, then the default (central) run's effect as the
    detail."""
    claims = [c for c in CLAIMS if f"{c} pct" in table]
    summaries = summarise(long_effects(table, claims)) if claims else {}
    n = len(table)
    lines = [
        BEGIN,
        "## Across the plausible worlds",
        "",
        f"Every claim's verdict across the {n} accepted worlds of the calibration (the worlds",
        "the data cannot tell apart) first; the default run, the central world's values at",
        "three significant digits, is the last column and the detail in the sections below.",
        f"A world counts as up or down by its 95% CI over its own seeds ({_seeds(seeds)});",
        "the median and range are over the worlds' point estimates; the break-even gross",
        "margin (where the profit effect crosses zero) is the median and range over the",
        "worlds, where the experiment measures it (not where prices adapt, as in the rival",
        "rebates' duopoly); one outside 0-100% means the effect has the same sign at every",
        "margin a firm can have, and a wide range goes with an effect near zero. Each world:",
        "`ensemble/claims.md`.",
        "",
        "| claim | profit up in | profit down in | not resolved | median world | range of worlds |"
        " break-even margin | default run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for claim in claims:
        s = summaries[claim]
        c = (central or {}).get(claim)
        default = f"{c['pct']:+.1f}% [{c['pct_lo']:+.1f}, {c['pct_hi']:+.1f}]" if c else "n/a"
        lines.append(
            f"| {claim} | {s.better_ci} of {s.n} | {s.worse_ci} of {s.n} | "
            f"{s.not_resolved} | {s.median:+.1f}% | {s.low:+.1f} to {s.high:+.1f}% | "
            f"{_break_even(table, claim)} | {default} |"
        )
    shares = share_rows(table, central) + flag_rows(table, central)
    if shares:
        lines += [
            "",
            "Claims about a share or a pattern, not an effect: a world counts as holding where",
            "its 95% CI lies above the claim's threshold (a share) or where the pattern is",
            "found (by the point estimates).",
            "",
            "| claim | holds in | fails in | not resolved | median world | range of worlds |"
            " default run |",
            "|---|---|---|---|---|---|---|",
            *shares,
        ]
    return "\n".join([*lines, "", END]) + "\n"


def leads(table: pd.DataFrame) -> dict[str, str]:
    """Each README bullet's lead (its claims' across-worlds sentences), by bullet start."""
    claims = [c for c in CLAIMS if f"{c} pct" in table]
    summaries = summarise(long_effects(table, claims)) if claims else {}
    out: dict[str, list[str]] = {}
    for claim in claims:
        text = lead(claim, summaries[claim], table)
        out.setdefault(BULLETS[claim], []).append(f"*{claim}*: {text}")
    for claim in SHARES:
        if f"{claim} share" in table:
            out.setdefault(BULLETS[claim], []).append(f"*{claim}*: {share_lead(claim, table)}")
    for claim in FLAGS:
        if f"{claim} verdict" in table:
            out.setdefault(BULLETS[claim], []).append(f"*{claim}*: {flag_lead(claim, table)}")
    return {b: " ".join(t) for b, t in out.items()}


def insert_section(readme: Path, section: str, table: pd.DataFrame | None = None) -> None:
    """Put ``section`` into ``readme`` after its title (replacing an earlier one) and, with
    ``table``, start each claim's bullet with its verdict across the worlds (marked, so a
    rerun replaces it); the central world's sentence follows as "In the default world"."""
    text = Path(readme).read_text() if Path(readme).is_file() else "# Results\n"
    text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END) + r"\n*", "", text, flags=re.S)
    text = re.sub(re.escape(LEAD) + r".*?" + re.escape(LEAD_END) + " ", "", text)
    if table is not None:
        lines = text.split("\n")
        for start, sentence in leads(table).items():
            for i, line in enumerate(lines):
                if line.startswith(start):
                    head, colon, rest = line.partition("): ")
                    if colon:
                        lines[i] = (
                            f"{head}): {LEAD}**{sentence}** In the default world: {LEAD_END} {rest}"
                        )
                    break
        text = "\n".join(lines)
    head, sep, rest = text.partition("\n\n")
    Path(readme).write_text(f"{head}\n\n{section}\n{rest}" if sep else f"{text}\n\n{section}")
