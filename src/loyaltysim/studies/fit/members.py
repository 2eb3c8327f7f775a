"""Members' and non-members' repeat rates around a programme's start (``--member``,
``--programme-start``): an association, never the programme's causal effect.

A customer is a member if flagged on any of their transactions. A window's customers are
those of the group whose first purchase (in the log) came before the window's end; a
repeat purchase is any purchase occasion (a customer's purchases on one day) but the
customer's first. For each group and window: repeat purchases per customer per week and
the share of the window's customers with a repeat purchase in it. The windows before and
after the start have equal lengths, as long as the log allows: ``[start - L, start)`` and
``[start, start + L)`` with L the shorter of the log's days before and from the start.
Without a start, one window: the calibration period.
"""

from __future__ import annotations

import argparse
import datetime as _dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .files import LogError

TRUE = ("1", "true", "yes", "y", "t")
FALSE = ("0", "false", "no", "n", "f")
ALLOWED = "true/false, 1/0, yes/no"
CAVEAT = (
    "This is an association, not the programme's causal lift: customers choose to join, "
    "and heavier buyers are the likelier to join, so members' rates differ from "
    "non-members' with or without the programme."
)
GROUPS = ("members", "non-members")
COLUMNS = [
    "group",
    "window",
    "from",
    "to",
    "weeks",
    "customers",
    "repeat_purchases",
    "repeats_per_customer_week",
    "share_buying_again",
]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--programme-start",
        default=None,
        help="first day of the loyalty programme (ISO date): members' and non-members' "
        "repeat rates before and after it (needs a member column)",
    )


def flags(column: pa.Array, name: str) -> np.ndarray:
    """int8 0/1 of one batch's member column; LogError naming the first bad value."""
    if pa.types.is_boolean(column.type) and not column.null_count:
        return column.to_numpy(zero_copy_only=False).astype(np.int8)
    # each distinct value looked at once: a batch is dictionary-encoded by pyarrow
    enc = pc.dictionary_encode(column)
    values = pd.Series(enc.dictionary.to_pylist(), dtype=object)
    text = values.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
    text = text.str.strip().str.lower()
    yes, no = text.isin(TRUE).to_numpy(), text.isin(FALSE).to_numpy()
    bad = ~(yes | no) | values.isna().to_numpy()
    if bad.any() or enc.indices.null_count:
        value = values[bad].iloc[0] if bad.any() else None
        raise LogError(f"{name}: member flag {value!r} is not allowed; allowed: {ALLOWED}")
    return yes[enc.indices.to_numpy(zero_copy_only=False)].astype(np.int8)


def programme_start(
    text: str | None, first: pd.Timestamp, last: pd.Timestamp
) -> pd.Timestamp | None:
    """The start day, strictly after the log's first day and not after its last."""
    if text is None:
        return None
    try:
        start = pd.Timestamp(_dt.date.fromisoformat(str(text)))
    except ValueError:
        raise LogError(f"--programme-start {text}: not an ISO date (2021-03-01)") from None
    if not first < start <= last:
        raise LogError(
            f"--programme-start {text}: outside the log ({first.date()} to {last.date()}); "
            "a start after the first day and not after the last is needed"
        )
    return start


def analyse(log, text: str | None, calibration_end: pd.Timestamp) -> dict | None:
    """The members' section (None without a member column); LogError for a start without
    a member column or outside the log. ``log`` is a checked :class:`.logs.Log`."""
    frame = log.frame
    if "member" not in frame:
        if text is not None:
            raise LogError(
                f"--programme-start {text}: needs a member flag column (tried member, "
                "is_member, loyalty_member, card); name it with --member"
            )
        return None
    days = frame["date"].dt.normalize()
    first, last = days.min(), days.max()
    start = programme_start(text, first, last)
    n = int(frame["customer"].max()) + 1
    member = np.bincount(frame["customer"], weights=frame["member"], minlength=n) > 0
    occ = pd.DataFrame({"customer": frame["customer"].to_numpy(), "day": days.to_numpy()})
    occ = occ.drop_duplicates().sort_values(["customer", "day"])
    occ["repeat"] = occ["customer"].duplicated().to_numpy()
    first_day = occ.groupby("customer")["day"].min()
    if start is None:
        windows = {"calibration": (first, calibration_end)}
    else:
        length = min(start - first, last + pd.Timedelta(days=1) - start)
        windows = {"before": (start - length, start), "after": (start, start + length)}
    rows = []
    for g, flag in zip(GROUPS, (True, False), strict=True):
        ids = first_day.index[member[first_day.index.to_numpy()] == flag]
        mine = occ[np.isin(occ["customer"].to_numpy(), ids)]
        for w, (lo, hi) in windows.items():
            base = int((first_day[ids] < hi).sum())
            rep = mine[mine["repeat"] & (mine["day"] >= lo) & (mine["day"] < hi)]
            weeks = (hi - lo).days / 7
            rows.append(
                [
                    g,
                    w,
                    str(lo.date()),
                    str((hi - pd.Timedelta(days=1)).date()),
                    weeks,
                    base,
                    len(rep),
                    len(rep) / base / weeks if base else np.nan,
                    rep["customer"].nunique() / base if base else np.nan,
                ]
            )
    table = pd.DataFrame(rows, columns=COLUMNS)
    out = {
        "column": log.columns["member"],
        "programme_start": text,
        "caveat": CAVEAT,
        "members": int(member[first_day.index].sum()),
        "non_members": int((~member[first_day.index]).sum()),
    }
    if start is not None:
        t = table.set_index(["group", "window"])[COLUMNS[-2:]]
        for g in GROUPS:
            change = t.loc[(g, "after")] - t.loc[(g, "before")]
            out[f"{g}_change"] = {k: float(change[k]) for k in COLUMNS[-2:]}
        out["difference_in_differences"] = {
            k: out["members_change"][k] - out["non-members_change"][k] for k in COLUMNS[-2:]
        }
    out["table"] = table.to_dict("records")
    return out


def write(folder, m: dict | None) -> None:
    """members.csv: one row a group and window, then the changes and their difference."""
    if m is None:
        return
    table = pd.DataFrame(m["table"], columns=COLUMNS)
    extra = []
    if "difference_in_differences" in m:
        for g in (*GROUPS, "members minus non-members"):
            key = "difference_in_differences" if g not in GROUPS else f"{g}_change"
            window = "after minus before" if g in GROUPS else "difference in differences"
            extra.append({"group": g, "window": window, **m[key]})
    table = pd.concat([table, pd.DataFrame(extra, columns=COLUMNS)], ignore_index=True)
    table[["customers", "repeat_purchases"]] = table[["customers", "repeat_purchases"]].astype(
        "Int64"
    )
    table["note"] = "association, not a causal effect: members self-select"
    table.to_csv(folder / "members.csv", index=False)


def section(m: dict | None) -> list[str]:
    """fit.md's members section."""
    if m is None:
        return []
    when = (
        f"before and after the programme start {m['programme_start']} (equal windows, "
        "as long as the log allows)"
        if m["programme_start"]
        else "over the calibration period (give --programme-start for before and after)"
    )
    lines = [
        "## Members and non-members",
        "",
        f"Member flag `{m['column']}`: {m['members']} members (flagged on any purchase), "
        f"{m['non_members']} non-members. Repeat purchases (occasions after a customer's "
        f"first) per customer per week and the share of customers buying again, {when}; a "
        "window's customers are those who had made a first purchase by its end.",
        "",
        "| group | window | from | to | customers | repeats/customer/week | buying again |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in pd.DataFrame(m["table"], columns=COLUMNS).itertuples(index=False):
        lines.append(
            f"| {r.group} | {r.window} | {r[2]} | {r.to} | {r.customers} | "
            f"{r.repeats_per_customer_week:.4f} | {r.share_buying_again:.1%} |"
        )
    if "difference_in_differences" in m:
        for g in GROUPS:
            c = m[f"{g}_change"]
            lines.append(
                f"| {g} | after minus before | | | | "
                f"{c['repeats_per_customer_week']:+.4f} | "
                f"{100 * c['share_buying_again']:+.1f} pts |"
            )
        d = m["difference_in_differences"]
        lines.append(
            f"| members minus non-members | difference in differences | | | | "
            f"{d['repeats_per_customer_week']:+.4f} | "
            f"{100 * d['share_buying_again']:+.1f} pts |"
        )
    return lines + ["", f"**{m['caveat']}**", ""]


def line(m: dict | None) -> str | None:
    """The line printed: members' and non-members' rates, the difference, the caveat."""
    if m is None:
        return None
    t = pd.DataFrame(m["table"]).set_index(["group", "window"])["repeats_per_customer_week"]
    if "difference_in_differences" not in m:
        return (
            f"repeats/customer/week: members {t[('members', 'calibration')]:.4f}, "
            f"non-members {t[('non-members', 'calibration')]:.4f} (an association: "
            "members self-select, not a causal lift)"
        )
    d = m["difference_in_differences"]["repeats_per_customer_week"]
    return (
        f"repeats/customer/week before -> after {m['programme_start']}: members "
        f"{t[('members', 'before')]:.4f} -> {t[('members', 'after')]:.4f}, non-members "
        f"{t[('non-members', 'before')]:.4f} -> {t[('non-members', 'after')]:.4f}; "
        f"difference in differences {d:+.4f} (an association: members self-select, "
        "not a causal lift)"
    )
