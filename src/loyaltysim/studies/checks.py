"""Checks any programme type must pass (like Gymnasium's ``check_env``).

:func:`check_programme` runs a programme, as the focal firm's and as the rivals', in small
markets and checks what must hold for every programme, whatever it does:

- **accounting**: profit = revenue - unit costs - programme cost - acquisition cost (each
  recomputed from its parts), cumulative profit is the running sum, customers are conserved
  per firm and in total (arrivals - departures = change), shares sum to one, counts and
  costs are never negative, loyal and membership splits add up;
- **determinism**: the same config and seed give identical tables; another seed differs;
- **zero effect**: a programme that never starts equals no programme, bit for bit;
- **common random numbers**: a programme starting at week X leaves weeks before X
  identical to no programme;
- **one model, two engines**: the vectorised engine (``engine=arrays``) and the Mesa agents
  (``engine=agents``, :class:`~loyaltysim.engines.agents.Customer`, the specification) give the
  same metrics table, bit for bit, with the programme as the focal firm's and as the
  rivals' (with poaching).

The test suite runs it over the whole registry, so a new programme is tested without
editing a test. Run it on your own programme with ``check_programme("my_key")``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..model.metrics import COUNT_COLUMNS
from ..model.programmes import REGISTRY
from ..runs.runner import RunResult, load_config, run_one

SMALL = (
    "customers.n=300",
    "market.horizon_weeks=24",
    "market.warmup_weeks=10",
    "output.figure=false",
)
BUSY = ("competitor.poaching.rate=0.1", "competitor.poaching.target=own_buyers")


class ProgrammeCheckError(AssertionError):
    """A programme broke a rule every programme must keep."""


def _require(ok: bool, key: str, what: str) -> None:
    if not ok:
        raise ProgrammeCheckError(f"programme {key!r}: {what}")


def check_identities(res: RunResult, key: str = "?") -> None:
    """Accounting identities and invariants of one run (raises ProgrammeCheckError)."""
    m = res.metrics
    close = np.allclose
    _require(close(m["gross_margin"], m["revenue"] - m["cogs"]), key, "gross margin identity")
    profit = m["revenue"] - m["cogs"] - m["programme_cost"] - m["acquisition_cost"]
    _require(close(m["profit"], profit, rtol=1e-12, atol=1e-9), key, "profit identity")
    for firm, df in m.groupby("firm"):
        cum = df["profit"].cumsum()
        _require(close(df["cumulative_profit"], cum, atol=1e-6), key, f"cumulative profit {firm}")
        flow = df["acquired"] + df["referred"] + df["switched_in"]
        flow = flow - df["churn_to_competitor"] - df["churn_out"]
        change = df["customers"].diff().iloc[1:].to_numpy()
        _require(np.array_equal(change, flow.iloc[1:].to_numpy()), key, f"{firm} conservation")
    tot = m.groupby("step")[["customers", "acquired", "referred", "churn_out"]].sum()
    arrivals = (tot["acquired"] + tot["referred"] - tot["churn_out"]).iloc[1:]
    _require(np.array_equal(tot["customers"].diff().dropna(), arrivals), key, "total customers")
    buying = m.groupby("step")["purchases"].sum() > 0
    shares = m.groupby("step")["share"].sum()[buying]
    _require(close(shares, 1.0, rtol=1e-12), key, "shares sum to 1")
    for col in (*COUNT_COLUMNS, "revenue", "cogs", "programme_cost", "acquisition_cost"):
        _require(bool((m[col] >= 0).all()), key, f"{col} is never negative")
    repeat = m["repeat_rate"].dropna()
    _require(bool(((repeat >= 0) & (repeat <= 1)).all()), key, "repeat rate in 0..1")
    _require(bool((m["active_loyal"] + m["passive_loyal"] <= m["customers"]).all()), key, "loyal")
    loyal_defections = m["defected_active_loyal"] + m["defected_passive_loyal"]
    _require(bool((loyal_defections <= m["churn_to_competitor"]).all()), key, "defections")
    members = m["loyal_members"] + m["disloyal_members"]
    _require(bool((members == m["members"]).all()), key, "membership split")


def _run(overrides: Sequence[str], seed: int) -> pd.DataFrame:
    return run_one(load_config([*SMALL, *overrides], seed=seed)).metrics


def engine_difference(overrides: Sequence[str], seed: int = 0) -> str:
    """Where the two engines' metrics tables differ for one config ('' if identical)."""
    arrays = _run([*overrides, "engine=arrays"], seed)
    agents = _run([*overrides, "engine=agents"], seed)
    try:
        pd.testing.assert_frame_equal(arrays, agents, check_exact=True)
    except AssertionError as err:
        return str(err)
    return ""


def check_programme(key: str, seeds: Sequence[int] = (0, 1), extra: Sequence[str] = ()) -> None:
    """Run the programme-agnostic checks on the registered programme ``key``.

    ``extra`` are overrides added to every run (e.g. settings that make the programme act a
    lot). Raises :class:`ProgrammeCheckError` naming the first rule broken.
    """
    if key not in REGISTRY:
        raise KeyError(f"no programme {key!r}; registered: {sorted(REGISTRY)}")
    arms = {
        "focal": [f"firm/programme={key}", *extra],
        "rivals": [f"competitor/programme={key}", "firm/programme=none", *BUSY],
    }
    for seed in seeds:
        for overrides in arms.values():
            res = run_one(load_config([*SMALL, *overrides], seed=seed))
            check_identities(res, key)
        first = _run(arms["focal"], seed)
        _require(first.equals(_run(arms["focal"], seed)), key, "same seed, same table")
    _require(
        not _run(arms["focal"], seeds[0]).equals(_run(arms["focal"], seeds[0] + 101)),
        key,
        "another seed gives another table",
    )
    for arm, overrides in arms.items():
        diff = engine_difference(overrides, seeds[0])
        _require(not diff, key, f"engine=agents differs from engine=arrays ({arm}): {diff}")
    none = _run(["firm/programme=none"], seeds[0])
    never = _run([*arms["focal"], "firm.programme.start_week=24"], seeds[0])
    _require(none.equals(never), key, "a programme that never starts changes nothing")
    late = _run([*arms["focal"], "firm.programme.start_week=12"], seeds[0])
    before = none["week"] <= 12  # the step that starts at week 11 ends at week 12
    _require(none[before].equals(late[before]), key, "weeks before its start are untouched")
