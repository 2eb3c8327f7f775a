"""Reading a firm's transaction log: columns, checks, and the RFM summary.

A log is CSV (also ``.csv.gz``) or Parquet with one row per purchase: a customer id and a
date or datetime, optionally the amount paid, the units bought, a member flag and the firm
or store. Column names are guessed from common spellings (:data:`ROLES`) unless given.
Every problem is a :class:`LogError` with one line naming it; nothing is written before
the log has passed every check.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .files import (  # noqa: F401  (reading a log's file; LogError: every problem)
    BATCH_ROWS,
    READ,
    LogError,
    column_names,
    file_kind,
    iter_batches,
)
from .members import flags
from .rfm import MIN_REPEAT_BUYERS, RFM, check_repeat_buyers, occasions, rfm  # noqa: F401

# spellings tried for each column role, lower-cased, in no order of preference: two
# matches are ambiguous (the user says which with --customer, --date, ...)
ROLES: dict[str, tuple[str, ...]] = {
    "customer": ("customer_id", "customer", "cust_id", "customerid", "client_id", "user_id"),
    "date": ("date", "datetime", "timestamp", "order_date", "purchase_date", "time"),
    "amount": ("amount", "value", "revenue", "sales", "spend", "dollar_value", "total"),
    "units": ("units", "quantity", "qty", "cds", "number_of_cds", "items"),
    "member": ("member", "is_member", "loyalty_member", "card"),
    "firm": ("firm", "store", "shop", "brand", "retailer"),
}
REQUIRED = ("customer", "date")
OPTIONS = {"customer": "--customer", "date": "--date", "amount": "--amount",
           "units": "--units", "member": "--member", "firm": "--firm"}  # fmt: skip


def guess_columns(names: Sequence[str], given: dict[str, str | None]) -> dict[str, str]:
    """Map roles to column names: those given must exist; the others are guessed."""
    names = [str(c) for c in names]
    lower = {c.lower(): c for c in names}
    out: dict[str, str] = {}
    for role, spellings in ROLES.items():
        name = given.get(role)
        if name:
            if name not in names:
                raise LogError(
                    f"{OPTIONS[role]} {name}: no such column (columns: {', '.join(names)})"
                )
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


@dataclass
class Log:
    """A checked log, compact: ``frame`` has columns customer (int32 code, see ``ids``),
    date (datetime64[us]) and, where present, amount and units (float64) and member (int8
    0/1); ``columns``
    maps each role to the input's column name; ``ids[code]`` is the customer's id in the
    input (codes are in sorted id order, so sorting by code sorts by id)."""

    frame: pd.DataFrame
    columns: dict[str, str]
    duplicates: int  # exact duplicate rows found (dropped with --dedupe)
    path: Path
    ids: np.ndarray
    firms: int = 1  # firms in the input's firm column (before --focal)
    firm: str | None = None  # the firm whose rows were kept


class _Codes:
    """Integer codes of the values met so far, batch by batch (ids and firm names): a
    batch is dictionary-encoded by pyarrow and only its distinct values are looked up."""

    def __init__(self) -> None:
        self.known = pd.Index([])

    def __call__(self, column: pa.Array) -> np.ndarray:
        enc = pc.dictionary_encode(column)
        values = pd.Index(enc.dictionary.to_pandas())
        if not len(self.known):
            self.known = values[:0]  # the input's type (int64 ids stay int64)
        pos = self.known.get_indexer(values)
        new = pos < 0
        pos[new] = len(self.known) + np.arange(int(new.sum()))
        if new.any():
            self.known = self.known.append(values[new])
        indices = pc.fill_null(enc.indices, 0).to_numpy(zero_copy_only=False)
        return pos[indices].astype(np.int32) if pos.size else np.zeros(len(column), np.int32)


@dataclass
class _Problems:
    """Counts of each bad-input kind over every batch (the messages give totals)."""

    no_customer: int = 0
    bad_dates: int = 0
    first_bad_date: object = None
    future: int = 0
    latest: pd.Timestamp | None = None
    missing: dict = field(default_factory=dict)
    infinite: dict = field(default_factory=dict)
    negative: dict = field(default_factory=dict)


def _numbers(values: pd.Series, role: str, problems: _Problems) -> np.ndarray:
    """float64 amounts or units; missing, infinite and negative values counted."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(float)
    nan = np.isnan(v)
    inf = np.isinf(v)
    for counts, n in ((problems.missing, nan), (problems.infinite, inf), (problems.negative,
                      ~nan & (v < 0))):  # fmt: skip
        counts[role] = counts.get(role, 0) + int(n.sum())
    return v


def _dates(column: pa.Array, today: pd.Timestamp, problems: _Problems) -> np.ndarray:
    """datetime64[us] of one batch's dates; unparsable and future dates counted."""
    if pa.types.is_date(column.type):  # pyarrow reads ISO dates as date32
        column = column.cast(pa.timestamp("s"))
    raw = column.to_pandas()
    dates = parse_dates(raw)
    bad = dates.isna().to_numpy()
    if bad.any():
        if problems.first_bad_date is None:
            problems.first_bad_date = raw[bad].iloc[0]
        problems.bad_dates += int(bad.sum())
    dates = dates.astype("datetime64[us]")  # ns would end in 2262
    future = (dates.dt.normalize() > today).to_numpy()
    if future.any():
        problems.future += int(future.sum())
        latest = dates[future].max()
        problems.latest = latest if problems.latest is None else max(latest, problems.latest)
    return dates.to_numpy()


def _integer_ids(ids: pd.Index) -> pd.Index:
    """Text ids that are all integers as int64, as pandas' CSV reader would give them (so
    they sort as numbers); others unchanged."""
    text = ids.astype(str)
    if len(text) and text.str.fullmatch(r"[+-]?\d{1,18}").all():
        return pd.Index(text.astype(np.int64))
    return ids


def read_log(
    path: Path,
    given: dict[str, str | None] | None = None,
    dedupe: bool = False,
    keep_duplicates: bool = False,
    focal: str | None = None,
    today: _dt.date | None = None,
) -> Log:
    """Read and check a transaction log (see the module docstring) batch by batch: each
    batch becomes an int32 customer code, a datetime64 and float64 amounts and units, so a
    row costs 28 bytes whatever the input; ``focal`` keeps one firm's rows when the log
    has a firm column."""
    path = Path(path)
    cols = guess_columns(column_names(path), given or {})
    today_ts = pd.Timestamp(today or _dt.date.today())
    try:
        scanned = _scan(path, cols, today_ts, text=False)
    except pa.ArrowInvalid as err:
        if file_kind(path) != "csv":
            first = str(err).splitlines()[0] if str(err) else ""
            raise LogError(f"{path}: cannot be read (ArrowInvalid: {first})") from None
        scanned = _scan(path, cols, today_ts, text=True)
    return _checked(path, cols, *scanned, dedupe, keep_duplicates, focal, today_ts)


def _scan(
    path: Path, cols: dict[str, str], today: pd.Timestamp, text: bool
) -> tuple[dict[str, list[np.ndarray]], _Problems, _Codes, _Codes]:
    """Every batch's compact columns, the problems counted and the codes' values."""
    problems = _Problems()
    customers, firms = _Codes(), _Codes()
    parts: dict[str, list[np.ndarray]] = {role: [] for role in cols if role in READ}
    try:
        for batch in iter_batches(path, cols, text):
            cust = batch.column(cols["customer"])
            problems.no_customer += cust.null_count
            parts["customer"].append(customers(cust))
            parts["date"].append(_dates(batch.column(cols["date"]), today, problems))
            for role in ("amount", "units"):
                if role in cols:
                    values = batch.column(cols[role]).to_pandas()
                    parts[role].append(_numbers(values, role, problems))
            if "member" in cols:
                parts["member"].append(flags(batch.column(cols["member"]), cols["member"]))
            if "firm" in cols:
                parts["firm"].append(firms(batch.column(cols["firm"]).cast(pa.string())))
    except (LogError, pa.ArrowInvalid):
        raise
    except Exception as err:  # a corrupt file: say which and why, in one line
        raise LogError(f"{path}: cannot be read ({type(err).__name__}: {err})") from None
    return parts, problems, customers, firms


def _checked(
    path: Path,
    cols: dict[str, str],
    parts: dict[str, list[np.ndarray]],
    problems: _Problems,
    customers: _Codes,
    firms: _Codes,
    dedupe: bool,
    keep_duplicates: bool,
    focal: str | None,
    today_ts: pd.Timestamp,
) -> Log:
    """The checks in the order of the messages, then the compact frame."""
    if not parts["customer"] or not sum(p.size for p in parts["customer"]):
        raise LogError(f"{path}: the log has no rows")
    if problems.no_customer:
        raise LogError(f"{cols['customer']}: {problems.no_customer} rows without a customer id")
    if problems.bad_dates:
        raise LogError(
            f"{cols['date']}: {problems.bad_dates} unparsable dates "
            f"(first: {problems.first_bad_date!r})"
        )
    if problems.future:
        raise LogError(
            f"{cols['date']}: {problems.future} dates after today ({today_ts.date()}), latest "
            f"{problems.latest.date()}"
        )
    for role in ("amount", "units"):
        if problems.missing.get(role):
            raise LogError(f"{cols[role]}: {problems.missing[role]} missing or non-numeric values")
        if problems.infinite.get(role):
            raise LogError(f"{cols[role]}: {problems.infinite[role]} infinite values")
        if problems.negative.get(role):
            raise LogError(f"{cols[role]}: {problems.negative[role]} negative values (returns?)")
    arrays = {role: np.concatenate(p) for role, p in parts.items()}
    parts.clear()
    pa.default_memory_pool().release_unused()  # the batches' buffers, back to the system
    n_firms, kept = 1, None
    if "firm" in arrays:
        codes = arrays.pop("firm")
        counts = np.bincount(codes, minlength=len(firms.known))
        names = pd.Series(counts, firms.known.astype(str)).sort_values(
            ascending=False, kind="stable"
        )
        n_firms = len(names)
        if focal is None and n_firms > 1:
            raise LogError(
                f"{cols['firm']}: {n_firms} firms ({', '.join(names.index[:5])}); choose "
                "yours with --focal"
            )
        if focal is not None:
            if focal not in names.index:
                raise LogError(
                    f"--focal {focal}: not in {cols['firm']} ({', '.join(names.index[:5])})"
                )
            keep = codes == int(np.flatnonzero(firms.known.astype(str) == focal)[0])
            arrays = {role: a[keep] for role, a in arrays.items()}
        kept = focal if focal is not None else str(names.index[0])
    # codes in sorted id order: rfm.csv and the simulated holdout come out sorted by id
    ids = customers.known
    if file_kind(path) == "csv":
        ids = _integer_ids(ids)
    rank, ids = pd.factorize(ids, sort=True)
    arrays["customer"] = rank.astype(np.int32)[arrays["customer"]]
    frame = pd.DataFrame(arrays, copy=False)
    del arrays
    dup = frame.duplicated()
    n_dup = int(dup.sum())
    if n_dup and not (dedupe or keep_duplicates):
        raise LogError(
            f"{n_dup} duplicated rows (same customer, date and values); drop them with "
            "--dedupe or keep them as separate purchases with --keep-duplicates"
        )
    if dedupe:
        frame = frame[~dup.to_numpy()]
    del dup
    days = frame["date"].to_numpy().astype("datetime64[D]")
    if days.min() == days.max():
        raise LogError(f"{cols['date']}: every purchase is on one day; a fit needs a log over time")
    return Log(frame.reset_index(drop=True), cols, n_dup, path, np.asarray(ids), n_firms, kept)


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
