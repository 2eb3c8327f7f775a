"""The transaction log as CLV libraries read it: one call from a run folder, a sweep folder
or a log DataFrame to the RFM summary that pymc-marketing's ``BetaGeoModel`` (or lifetimes'
``BetaGeoFitter``) fits.

    from loyaltysim import rfm_summary, transactions
    data = rfm_summary("outputs/run", firm="focal")          # one run (output.transactions=true)
    data = rfm_summary("outputs/multirun/...", firm="focal")  # every run of a sweep, by arm
    log = transactions("outputs/run")                         # the log, date as datetime64[ns]

Time runs in the model's own weeks: week w holds the days ``start_date + 7w`` to
``start_date + 7w + 6`` (``market.start_date``), and the observation period ends with the
run's last simulated week, ``market.horizon_weeks - 1``. That is what
``pymc_marketing.clv.utils.rfm_summary(log, "customer_id", "date", "amount",
time_unit="W", observation_period_end=<the last simulated day>)`` computes when the start
date is a Monday (the default; pandas' weeks start on Mondays), and the same conventions as
lifetimes' ``summary_data_from_transaction_data``:

- ``frequency``: weeks with a purchase, less the first (repeat-purchase weeks);
- ``recency``: weeks from the first to the last purchase week;
- ``T``: weeks from the first purchase week to the end of the observation period;
- ``monetary_value``: mean EUR paid per repeat-purchase week (0 without repeats).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import yaml

from ...runs.collect import UsageError, collect
from ..comparison import label_arms

LOG = "transactions.parquet"
# period of the summary -> its length in days
UNITS = {"W": 7, "D": 1}
SUMMARY_COLUMNS = ["customer_id", "frequency", "recency", "T", "monetary_value"]


def _run_frame(run_dir: Path) -> tuple[pd.DataFrame, dict]:
    """One run's log (date as datetime64[ns]) and its ``market`` settings."""
    if not (run_dir / LOG).is_file():
        raise UsageError(
            f"{run_dir}: no {LOG}; run it with output.transactions=true to write the log"
        )
    market = yaml.safe_load((run_dir / "config.yaml").read_text())["market"]
    log = pd.read_parquet(run_dir / LOG)
    # the file keeps calendar days (Arrow date32: what the model simulates); pandas reads
    # those as Python date objects, which CLV libraries and .dt do not take
    log["date"] = pd.to_datetime(log["date"]).astype("datetime64[ns]")
    return log, market


def _load(source: str | Path | pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The log with per-row ``_start`` (the calendar day of week 0) and ``_end_week`` (the
    last simulated week), and the columns that say which run a row came from."""
    if isinstance(source, pd.DataFrame):
        keys = [c for c in ("run", "arm", "seed", "customer") if c in source.columns]
        return source.copy(), keys
    path = Path(source)
    if (path / "config.yaml").is_file() and not (path / "multirun.yaml").is_file():
        log, market = _run_frame(path)
        return _mark(log, market), []
    if not path.is_dir():
        raise UsageError(f"source = {str(source)!r}: no such run or sweep folder")
    collected = collect(path, write=False, verify=False)
    if collected.summary.empty:
        raise UsageError(f"source = {str(source)!r}: no finished run in this folder")
    runs = collected.summary.drop_duplicates("run_id").reset_index(drop=True)
    runs["arm"] = label_arms(runs, collected.factors)
    frames = []
    for row in runs.itertuples(index=False):
        log, market = _run_frame(path / row.run_id)
        log = _mark(log, market)
        # a customer id names a person of one run's market: prefix the run, so the same
        # number in two runs (two markets) counts as two customers
        log.insert(0, "customer", log["customer_id"])
        log["customer_id"] = row.run_id + "/" + log["customer_id"].astype(str)
        log.insert(0, "seed", row.seed)
        log.insert(0, "arm", row.arm)
        log.insert(0, "run", row.run_id)
        frames.append(log)
    return pd.concat(frames, ignore_index=True), ["run", "arm", "seed", "customer"]


def _mark(log: pd.DataFrame, market: dict) -> pd.DataFrame:
    log["_start"] = pd.Timestamp(market["start_date"])
    log["_end_week"] = int(market["horizon_weeks"]) - 1
    return log


def transactions(source: str | Path | pd.DataFrame, firm: str | None = None) -> pd.DataFrame:
    """The transaction log of a run folder, of every run of a sweep folder (with ``run``,
    ``arm``, ``seed`` and the run's own ``customer`` number; ``customer_id`` made unique
    across runs as ``"<run>/<number>"``) or of a DataFrame, with ``date`` as
    datetime64[ns]; only ``firm``'s purchases when given (``"focal"``: your firm)."""
    log, _ = _load(source)
    log = log.drop(columns=["_start", "_end_week"], errors="ignore")
    log["date"] = pd.to_datetime(log["date"]).astype("datetime64[ns]")
    return _only(log, firm).reset_index(drop=True)


def _only(log: pd.DataFrame, firm: str | None) -> pd.DataFrame:
    if firm is None:
        return log
    firms = sorted(log["firm"].unique()) if "firm" in log else []
    if firm not in firms:
        raise UsageError(f"firm = {firm!r} is not in the log; allowed: {', '.join(firms)}")
    return log[log["firm"] == firm]


def rfm_summary(
    source: str | Path | pd.DataFrame,
    firm: str | None = "focal",
    unit: str = "W",
    start_date: str | _dt.date | None = None,
    observation_end: str | _dt.date | None = None,
) -> pd.DataFrame:
    """Per customer of ``firm``: customer_id, frequency, recency, T (in ``unit``: "W" weeks,
    "D" days) and monetary_value (EUR paid per repeat period), as CLV models take them.

    ``source``: a run folder, a sweep folder (one row per customer per run, with ``run``,
    ``arm``, ``seed`` and the run's own ``customer`` number, ``customer_id`` being
    ``"<run>/<number>"``; each run's period ends at its own horizon) or a log
    DataFrame (as :func:`transactions` returns it or ``pd.read_parquet`` reads it). For a
    DataFrame without the run's settings, ``start_date`` is the calendar day of week 0
    (default: the model's, ``market.start_date``) and ``observation_end`` the last day
    observed (default: the last day of the latest purchase's week).
    ``firm=None`` pools every firm's purchases (a customer of two firms is one customer).
    """
    if unit not in UNITS:
        raise UsageError(f"unit = {unit!r}; allowed: {', '.join(UNITS)}")
    log, keys = _load(source)
    log = _only(log, firm)
    if log.empty:
        raise UsageError(f"firm = {firm!r} has no purchases in the log: nothing to summarise")
    days = UNITS[unit]
    date = pd.to_datetime(log["date"]).astype("datetime64[ns]")
    if "_start" not in log:  # a DataFrame: the settings come from the arguments
        from ...model.config import MarketParams

        start = pd.Timestamp(start_date or MarketParams().start_date)
        log["_start"] = start
        if observation_end is None:  # the last day of the week of the latest purchase
            log["_end_day"] = (date - start).dt.days.max() // 7 * 7 + 6
        else:
            log["_end_day"] = (pd.Timestamp(observation_end) - start).days
    day = (date - log["_start"]).dt.days
    # the last observed period: the run's last simulated week (or its last day, in days)
    end_day = log["_end_day"] if "_end_day" in log else 7 * log["_end_week"] + 6
    end = end_day // days
    log = log.assign(_period=day // days, _end=end)
    log = log[log["_period"] <= log["_end"]]  # purchases after the end are not observed
    group = keys + ["customer_id"]
    # one row per customer and period with a purchase: frequency counts periods, not trips
    periods = (
        log.groupby([*group, "_period"], sort=True)
        .agg(amount=("amount", "sum"), _end=("_end", "first"))
        .reset_index()
    )
    first = periods.groupby(group, sort=False)["_period"].transform("min")
    repeat = periods["_period"] > first
    periods["_repeat_amount"] = periods["amount"].where(repeat)
    out = periods.groupby(group, sort=True).agg(
        first=("_period", "min"),
        last=("_period", "max"),
        count=("_period", "size"),
        end=("_end", "first"),
        monetary_value=("_repeat_amount", "mean"),
    )
    summary = pd.DataFrame(
        {
            "frequency": (out["count"] - 1).astype(float),
            "recency": (out["last"] - out["first"]).astype(float),
            "T": (out["end"] - out["first"]).astype(float),
            "monetary_value": out["monetary_value"].fillna(0.0).astype(float),
        }
    ).reset_index()
    return summary[SUMMARY_COLUMNS + keys]


__all__: Sequence[str] = ["rfm_summary", "transactions"]
