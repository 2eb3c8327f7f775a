"""Reading a firm's transaction log: columns, checks, and the RFM summary.

A log is CSV (also ``.csv.gz``) or Parquet with one row per purchase: a customer id and a
date or datetime, optionally the amount paid, the units bought, a member flag and the firm
or store. Column names are guessed from common spellings (:data:`ROLES`) unless given.
Every problem is a :class:`LogError` with one line naming it; nothing is written before
the log has passed every check.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

# spellings tried for each column role, lower-cased, in no order of preference: two
# matches are ambiguous (the user says which with --customer, --date, ...)
ROLES: dict[str, tuple[str, ...]] = {
    "customer": ("customer_id", "customer", "cust_id", "customerid", "client_id", "user_id"),
    "date": ("date", "datetime", "timestamp", "order_date", "purchase_date", "time"),
    "amount": ("amount", "value", "revenue", "sales", "spend", "dollar_value", "total"),
    "units": ("units", "quantity", "qty", "cds", "number_of_cds", "items"),
    "member": ("member", "is_member", "loyalty_member"),
    "firm": ("firm", "store", "shop", "brand", "retailer"),
}
REQUIRED = ("customer", "date")
OPTIONS = {"customer": "--customer", "date": "--date", "amount": "--amount",
           "units": "--units", "member": "--member", "firm": "--firm"}  # fmt: skip
MIN_REPEAT_BUYERS = 30  # customers with a repeat purchase in calibration: 4 parameters need some


class LogError(ValueError):
    """A problem with the input log, in one line."""


@dataclass
class Log:
    """A checked log: ``frame`` has columns customer, date (datetime64, day resolution
    kept for RFM) and, where present, amount, units, member, firm; ``columns`` maps each
    role to the input's column name."""

    frame: pd.DataFrame
    columns: dict[str, str]
    duplicates: int  # exact duplicate rows found (dropped with --dedupe)
    path: Path


def read_table(path: Path) -> pd.DataFrame:
    """The raw table of a CSV or Parquet file."""
    path = Path(path)
    if not path.is_file():
        raise LogError(f"{path}: no such file")
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        if name.endswith(tuple(e + z for e in (".csv", ".txt", ".tsv") for z in ("", ".gz"))):
            return pd.read_csv(path, sep=_separator(path), engine="python")
    except Exception as err:  # a corrupt file: say which and why, in one line
        raise LogError(f"{path}: cannot be read ({type(err).__name__}: {err})") from None
    raise LogError(f"{path}: not a CSV (.csv, .csv.gz) or Parquet (.parquet) file")


def _separator(path: Path) -> str | None:
    """None (let pandas sniff) where the header has a comma, semicolon, tab or bar; else
    runs of blanks: CDNOW's text files align columns with several spaces, which the
    sniffer reads as one delimiter each and so as empty columns."""
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", errors="replace") as f:
        header = f.readline()
    return None if any(c in header for c in ",;\t|") else r"\s+"


def guess_columns(table: pd.DataFrame, given: dict[str, str | None]) -> dict[str, str]:
    """Map roles to column names: those given must exist; the others are guessed."""
    lower = {str(c).lower(): str(c) for c in table.columns}
    out: dict[str, str] = {}
    for role, spellings in ROLES.items():
        name = given.get(role)
        if name:
            if name not in table.columns:
                names = ", ".join(map(str, table.columns))
                raise LogError(f"{OPTIONS[role]} {name}: no such column (columns: {names})")
            out[role] = name
            continue
        found = [lower[s] for s in spellings if s in lower and lower[s] not in out.values()]
        if len(found) > 1:
            raise LogError(
                f"ambiguous {role} column: {', '.join(found)}; choose one with {OPTIONS[role]}"
            )
        if found:
            out[role] = found[0]
        elif role in REQUIRED:
            raise LogError(
                f"no {role} column (tried {', '.join(spellings)}); name it with {OPTIONS[role]}"
            )
    return out


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates or datetimes from strings, datetime64 or yyyymmdd integers (CDNOW's form)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.tz_localize(None) if values.dt.tz is not None else values
    if pd.api.types.is_integer_dtype(values) and values.between(10_000_101, 99_991_231).all():
        return pd.to_datetime(values.astype(str), format="%Y%m%d", errors="coerce")
    if pd.api.types.is_numeric_dtype(values):
        return pd.Series(pd.NaT, index=values.index)
    text = values.astype("string")
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    if parsed.isna().any():
        parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed


def read_log(
    path: Path,
    given: dict[str, str | None] | None = None,
    dedupe: bool = False,
    keep_duplicates: bool = False,
    focal: str | None = None,
    today: _dt.date | None = None,
) -> Log:
    """Read and check a transaction log (see the module docstring); ``focal`` keeps one
    firm's rows when the log has a firm column."""
    path = Path(path)
    table = read_table(path)
    if table.empty:
        raise LogError(f"{path}: the log has no rows")
    cols = guess_columns(table, given or {})
    frame = pd.DataFrame({role: table[name] for role, name in cols.items()})
    if frame["customer"].isna().any():
        raise LogError(
            f"{cols['customer']}: {int(frame['customer'].isna().sum())} rows without a customer id"
        )
    dates = parse_dates(frame["date"])
    bad = dates.isna()
    if bad.any():
        first = frame.loc[bad, "date"].iloc[0]
        raise LogError(f"{cols['date']}: {int(bad.sum())} unparsable dates (first: {first!r})")
    frame["date"] = dates
    today = today or _dt.date.today()
    future = dates.dt.normalize() > pd.Timestamp(today)
    if future.any():
        raise LogError(
            f"{cols['date']}: {int(future.sum())} dates after today ({today}), latest "
            f"{dates.max().date()}"
        )
    for role in ("amount", "units"):
        if role not in frame:
            continue
        values = pd.to_numeric(frame[role], errors="coerce")
        if values.isna().any():
            raise LogError(
                f"{cols[role]}: {int(values.isna().sum())} missing or non-numeric values"
            )
        if not np.isfinite(values).all():
            raise LogError(f"{cols[role]}: {int((~np.isfinite(values)).sum())} infinite values")
        if (values < 0).any():
            raise LogError(f"{cols[role]}: {int((values < 0).sum())} negative values (returns?)")
        frame[role] = values.astype(float)
    if "firm" in frame:
        firms = frame["firm"].astype(str)
        names = firms.value_counts()
        if focal is None and len(names) > 1:
            raise LogError(
                f"{cols['firm']}: {len(names)} firms ({', '.join(names.index[:5])}); choose "
                "yours with --focal"
            )
        if focal is not None:
            if focal not in names.index:
                raise LogError(
                    f"--focal {focal}: not in {cols['firm']} ({', '.join(names.index[:5])})"
                )
            frame = frame[firms == focal]
    dup = frame.duplicated()
    n_dup = int(dup.sum())
    if n_dup and not (dedupe or keep_duplicates):
        raise LogError(
            f"{n_dup} duplicated rows (same customer, date and values); drop them with "
            "--dedupe or keep them as separate purchases with --keep-duplicates"
        )
    if dedupe:
        frame = frame[~dup]
    if frame["date"].dt.normalize().nunique() < 2:
        raise LogError(f"{cols['date']}: every purchase is on one day; a fit needs a log over time")
    return Log(frame.reset_index(drop=True), cols, n_dup, path)


def calibration_end(log: Log, text: str | None) -> pd.Timestamp:
    """The first day after the calibration period: ``text`` is an ISO date (the last day of
    the calibration) or a number of weeks from the log's first day; None: the whole log."""
    first = log.frame["date"].min().normalize()
    last = log.frame["date"].max().normalize()
    if text is None:
        return last + pd.Timedelta(days=1)
    try:
        end = first + pd.Timedelta(weeks=float(text))
    except ValueError:
        try:
            end = pd.Timestamp(_dt.date.fromisoformat(str(text))) + pd.Timedelta(days=1)
        except ValueError:
            raise LogError(
                f"--calibration-end {text}: neither an ISO date nor a number of weeks"
            ) from None
    if not first < end <= last:
        raise LogError(
            f"--calibration-end {text}: outside the log ({first.date()} to {last.date()}); "
            "the calibration must end after the first day and before the last"
        )
    return end


def occasions(frame: pd.DataFrame) -> pd.DataFrame:
    """Purchase occasions: a customer's purchases on one day are one occasion (amounts and
    units summed), as in Fader, Hardie & Lee's CDNOW analysis."""
    day = frame["date"].dt.normalize()
    agg = {c: "sum" for c in ("amount", "units") if c in frame}
    grouped = frame.assign(day=day).groupby(["customer", "day"], sort=True)
    out = grouped.agg(agg) if agg else grouped.size().to_frame("rows")
    return out.reset_index()


@dataclass
class RFM:
    """Per-customer calibration summary in weeks (index: customer id). ``first`` is the
    first purchase day; ``m`` the mean spend of repeat occasions (NaN without amounts or
    repeats); ``start`` the log's first day and ``end`` the first day after calibration."""

    table: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def repeat_buyers(self) -> int:
        return int((self.table["x"] > 0).sum())


def rfm(occ: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> RFM:
    """x, t_x, T (weeks) of the customers whose first purchase is before ``end``; a purchase
    on day d counts at the middle of the day (T runs to the start of ``end``)."""
    cal = occ[occ["day"] < end]
    g = cal.groupby("customer")["day"]
    first, last, count = g.min(), g.max(), g.size()
    table = pd.DataFrame(
        {
            "first": first,
            "x": count - 1,
            "tx": (last - first).dt.days / 7.0,
            "T": ((end - first).dt.days - 0.5) / 7.0,
        }
    )
    if "amount" in cal:
        repeat = cal[cal["day"] > cal["customer"].map(first)]
        table["m"] = repeat.groupby("customer")["amount"].mean().reindex(table.index)
    return RFM(table, start, end)


def check_repeat_buyers(summary: RFM) -> None:
    if summary.repeat_buyers < MIN_REPEAT_BUYERS:
        raise LogError(
            f"only {summary.repeat_buyers} customers bought again in the calibration period; "
            f"a fit needs at least {MIN_REPEAT_BUYERS} (a longer log or a later "
            "--calibration-end)"
        )
