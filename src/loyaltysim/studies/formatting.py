"""Numbers as a manager reads them: money as "€1,234,567", signed changes, readable
p-values ("p < 0.001"), firm names without model jargon, and the one-sentence answer
per arm that leads every comparison.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from .margin import words

# how the model's own firm is shown unless the user names it
YOUR_FIRM = "your firm"


def finite(v: float | None) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


def money(v: float | None, signed: bool = False) -> str:
    """``€1,234,567``; ``+€1,234`` / ``-€1,234`` when ``signed``."""
    if not finite(v):
        return "n/a"
    sign = "-" if v < 0 else ("+" if signed else "")
    return f"{sign}€{abs(v):,.0f}"


def number(v: float | None, digits: int = 0, signed: bool = False) -> str:
    """``12,345`` or ``+1.2`` with thousands separators."""
    if not finite(v):
        return "n/a"
    return f"{v:+,.{digits}f}" if signed else f"{v:,.{digits}f}"


def value(v: float | None, unit: str, signed: bool = False) -> str:
    """A value in a metric's unit (EUR, customers, %, pp, ...)."""
    if unit == "EUR":
        return money(v, signed)
    if unit == "customers":
        return number(v, 0, signed)
    return number(v, 2, signed)


def p_value(p: float | None) -> str:
    """``< 0.001``, ``0.012``, ``0.43``: no scientific notation."""
    if not finite(p):
        return "n/a"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if p < 0.1 else f"{p:.2f}"


def firm_name(firm: str, names: Mapping[str, str] | None = None) -> str:
    """The name the user chose for a firm; the model's own firm is "your firm" by default."""
    names = names or {}
    if firm in names:
        return str(names[firm])
    return YOUR_FIRM if firm == "focal" else firm


def ci(lo: float, hi: float, unit: str = "", signed: bool = True, digits: int = 1) -> str:
    if not (finite(lo) and finite(hi)):
        return "n/a"
    if unit == "EUR":
        return f"{money(lo, signed)} to {money(hi, signed)}"
    return f"{number(lo, digits, signed)} to {number(hi, digits, signed)}{unit}"


def sentence(row: pd.Series | Mapping, title: str) -> str:
    """ "Replacing the rebate with thanks: profit +8.1% (95% CI +7.5 to +8.7%), share
    -1.2 pp; pays back in week 40; better in 20 of 20 seeds"."""
    if finite(row["profit_pct"]):
        profit = (
            f"profit {number(row['profit_pct'], 1, True)}% "
            f"(95% CI {ci(row['profit_pct_ci_low'], row['profit_pct_ci_high'], '%')})"
        )
    else:  # the baseline made no profit: a percentage of it means nothing
        profit = (
            f"profit {money(row['profit_diff_eur'], True)} "
            f"(95% CI {ci(row['profit_diff_ci_low'], row['profit_diff_ci_high'], 'EUR')})"
        )
    per = (
        f", {money(row['profit_per_1000_eur'], True)} per 1,000 customers "
        f"(95% CI {ci(row['profit_per_1000_ci_low'], row['profit_per_1000_ci_high'], 'EUR')})"
    )
    share = (
        f"share {number(row['share_pp'], 1, True)} pp "
        f"(95% CI {ci(row['share_pp_ci_low'], row['share_pp_ci_high'], ' pp')})"
    )
    if row["profit_diff_ci_low"] == 0 == row["profit_diff_ci_high"] and row["share_pp"] == 0:
        return f"{title}: no difference from the baseline in any of {row['seeds']} seeds"
    week = row["payback_week"]
    payback = f"pays back in week {week:.0f}; " if finite(week) else "does not pay back; "
    if finite(week) and row.get("costs_up_front") is False:
        payback = ""  # ahead from the first week: it cost nothing up front to pay back
    seeds = f"better in {row['better_seeds']} of {row['seeds']} seeds"
    return f"{title}: {profit}{per}, {share}; {payback}{seeds}{break_even(row)}"


def break_even(row: pd.Series | Mapping) -> str:
    """ "; at a 30% gross margin; break-even margin 21% (95% CI 17 to 26%): pays above it",
    or "" where the row has no break-even (studies/margin.py says when there is none)."""
    m = row.get("break_even_margin_pct", math.nan)
    if not finite(row.get("margin_pct", math.nan)):
        return ""
    at = f"; at a {row['margin_pct']:.0f}% gross margin"
    if not finite(m):
        note = row.get("break_even_note") or ""
        return f"{at}; {note}" if note else at
    lo, hi = row.get("break_even_ci_low_pct", math.nan), row.get("break_even_ci_high_pct", math.nan)
    pays_above = bool(row.get("pays_above_break_even"))
    return f"{at}; {words(m / 100, lo / 100, hi / 100, pays_above)}"


# How a few settings read in words; any other override falls back to "name = value".
_PHRASES = {
    "programme.end_week": lambda v: (
        "programme never ends" if v is None else f"programme ends week {v}"
    ),
    "programme.start_week": lambda v: f"programme starts week {v}",
}
# whose setting it is, as a manager says it: the focal firm's own settings need no owner
# unless a rival's vary too; the arm group (conf/arm) is the arm itself
_GROUP_OWNERS = {"firm": "", "arm": "", "competitor": "rival: "}
_OWNERS = {"firm": "", "competitor": "rival's "}
# groups whose members read as adjectives of the group: "discount programme", "no programme"
_ADJECTIVE_GROUPS = {"programme"}


def setting(key: str, value: object, yours: bool = False) -> str:
    """An override in words, for tables and legends: ``firm/programme=discount`` ->
    "discount programme", ``firm/programme=none`` -> "no programme",
    ``firm.programme.end_week=104`` -> "programme ends week 104", ``firm.price=5.5`` ->
    "price = 5.5", ``competitor/programme=none`` -> "rival: no programme",
    ``arm/acquisition=retain_all`` -> "acquisition: retain all". ``yours``: name the focal
    firm's settings as yours ("you: discount programme"), for arms where a rival's vary."""
    key = key.lstrip("+~")
    text = "none" if value is None else str(value)
    if "/" in key:  # a config group: the value names which member of the group
        owner, _, group = key.rpartition("/")
        owner = owner.split("/")[0]
        noun = group.replace("_", " ")
        if group in _ADJECTIVE_GROUPS:
            what = f"no {noun}" if text in ("none", "null") else f"{text} {noun}"
        else:
            what = f"{noun}: {text.replace('_', ' ')}"
        prefix = "you: " if yours and owner == "firm" else None
        return (prefix or _GROUP_OWNERS.get(owner, f"{owner.replace('_', ' ')}: ")) + what
    owner, _, rest = key.partition(".")
    if not rest:  # a top-level key or group, e.g. firms=entrant
        return f"{key.replace('_', ' ')} = {text}"
    prefix = "your " if yours and owner == "firm" else None
    prefix = prefix or _OWNERS.get(owner, f"{owner.replace('_', ' ')} ")
    phrase = _PHRASES.get(rest)
    if phrase is not None:
        return prefix + phrase(value)
    return f"{prefix}{rest.replace('.', ' ').replace('_', ' ')} = {text}"


def arm_title(assignments: Mapping[str, object]) -> str:
    """An arm named by the settings that define it: "discount programme, programme ends
    week 78"; "you: discount programme, rival: no programme" where a rival's settings vary
    too; "all runs" when nothing varies."""
    keys = [k.lstrip("+~") for k in assignments]
    rivals = any(k.startswith("competitor") for k in keys)
    # your firm's settings first (the arm is about what you do), and the choice of a group
    # member (a programme) before the settings that modify it (when it ends)
    order = sorted(
        assignments, key=lambda k: (k.lstrip("+~").startswith("competitor"), "/" not in k)
    )
    return ", ".join(setting(k, assignments[k], yours=rivals) for k in order) or "all runs"


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def lowered(title: str) -> str:
    """A title inside a sentence: "Keeping the rebate" -> "keeping the rebate" (an initial
    capital only; "EUR" or "Our shop's" keep theirs when the second letter is a capital)."""
    if len(title) > 1 and title[0].isupper() and not title[1].isupper():
        return title[0].lower() + title[1:]
    return title


def answer(row: pd.Series | Mapping, title: str) -> str:
    """:func:`sentence`, saying what its intervals cover: "...; better in 20 of 20 seeds
    (95% CIs over 20 seeds in one world)"."""
    return f"{sentence(row, title)} (95% CIs over {row['seeds']} seeds in one world)"


def scope(seeds: int) -> str:
    """What a comparison's intervals cover: the seeds' randomness in one world (the same
    parameters in every run), not the uncertainty about the parameters themselves."""
    return (
        f"95% CIs cover the {seeds} seeds of one world (the same parameters in every run), "
        "not the uncertainty about the parameters"
    )
