"""``loyaltysim-fit LOG --out DIR``: fit your market's purchase process from its log.

Reads a transaction log (:mod:`.logs`), fits BG/NBD, Pareto/NBD and gamma-gamma by
maximum likelihood (:mod:`.models`) on the calibration period, simulates the fitted cohort
through the holdout (:mod:`.holdout`) and writes, in DIR:

- ``world/<name>.yaml``: the model's parameters set from the fit (:mod:`.market`), usable
  by its path, ``loyaltysim world=DIR/world/<name>.yaml`` and ``loyaltysim-ask
  scenario=... world=DIR/world/<name>.yaml`` (or ``hydra.searchpath=[file://DIR]
  world=<name>``, or copied to conf/world/);
- ``tracking.csv`` also holds ``model``: the world file played by the model's own
  BG/NBD cohort (:mod:`.through_model`), entering as the log's cohort did;
- ``fit.json`` (every estimate, standard error and log-likelihood, the tracking errors),
  ``fit.md`` (the same in words), ``rfm.csv`` (x, t_x, T per customer), ``tracking.csv``,
  ``tracking.png``, ``first_purchases.csv`` (the first-purchase curve) and
  ``transactions.parquet`` (one simulated holdout, in the input's column names);
- ``members.csv`` with a member column: members' and non-members' rates (:mod:`.members`).

Bad input (missing or ambiguous columns, bad dates or amounts, duplicates, a calibration
end outside the log, too few repeat buyers): one line on stderr, exit status 2, nothing
written. So for a bad member flag or programme start.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from . import holdout, logs, market, members, models

PROG = "loyaltysim-fit"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("log", type=Path, help="transaction log: CSV (.csv, .csv.gz) or Parquet")
    p.add_argument("--out", type=Path, required=True, help="folder to write (must be empty)")
    for role in logs.ROLES:
        p.add_argument(logs.OPTIONS[role], default=None, help=f"the {role} column (guessed)")
    p.add_argument("--focal", default=None, help="your firm in the firm column")
    p.add_argument(
        "--calibration-end",
        default=None,
        help="last day of the calibration period (ISO date) or weeks from the log's first "
        "day (39); the rest is the holdout. Default: the whole log, no holdout check",
    )
    members.add_arguments(p)
    p.add_argument("--price", type=float, default=None, help="list price, EUR a unit")
    p.add_argument("--unit-cost", type=float, default=None, help="cost of a unit, EUR")
    p.add_argument(
        "--margin",
        type=float,
        default=None,
        help="gross margin, 0-1 of price (default: the model's, 0.3, at the log's price)",
    )
    p.add_argument("--rivals", type=int, default=None, help="number of rival firms")
    p.add_argument(
        "--share",
        type=float,
        default=1.0,
        help="your share of your customers' category purchases, 0-1 (default 1)",
    )
    p.add_argument("--dedupe", action="store_true", help="drop exact duplicate rows")
    p.add_argument(
        "--keep-duplicates", action="store_true", help="keep duplicate rows as purchases"
    )
    p.add_argument("--name", default="your_market", help="the world's name")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulations")
    p.add_argument("--replications", type=int, default=20, help="simulations averaged")
    p.add_argument(
        "--timings",
        action="store_true",
        help="print each phase's CPU and wall seconds and the peak RSS to stderr",
    )
    return p


class Phases:
    """Per-phase CPU (this process, every thread) and wall seconds, and the peak RSS so
    far, printed to stderr as each phase ends when ``on``: the figures the scale docs
    quote (benchmarks/bench_fit.py reads them)."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def done(self, phase: str) -> None:
        cpu, wall = time.process_time(), time.perf_counter()
        if self.on:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
            print(
                f"{PROG}: timing {phase}: cpu {cpu - self.cpu:.2f} s, wall "
                f"{wall - self.wall:.2f} s, peak RSS {peak:.2f} GiB",
                file=sys.stderr,
            )
        self.cpu, self.wall = cpu, wall


def fail(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def check_options(a: argparse.Namespace) -> None:
    if a.out.exists() and (not a.out.is_dir() or any(a.out.iterdir())):
        raise logs.LogError(f"--out {a.out}: exists and is not an empty folder")
    if a.price is not None and not (np.isfinite(a.price) and a.price > 0):
        raise logs.LogError(f"--price {a.price}: a positive price is needed")
    if a.unit_cost is not None and a.margin is not None:
        raise logs.LogError("--unit-cost and --margin: give one of them")
    if a.unit_cost is not None and not (np.isfinite(a.unit_cost) and a.unit_cost >= 0):
        raise logs.LogError(f"--unit-cost {a.unit_cost}: a cost >= 0 is needed")
    if a.margin is not None and not 0 <= a.margin < 1:
        raise logs.LogError(f"--margin {a.margin}: a fraction in [0, 1) is needed")
    if not 0 < a.share <= 1:
        raise logs.LogError(f"--share {a.share}: a fraction in (0, 1] is needed")
    if a.rivals is not None and not 0 <= a.rivals <= 50:
        raise logs.LogError(f"--rivals {a.rivals}: between 0 and 50")
    if a.replications < 1:
        raise logs.LogError(f"--replications {a.replications}: at least 1")
    if a.dedupe and a.keep_duplicates:
        raise logs.LogError("--dedupe and --keep-duplicates: give one of them")
    if not a.name.replace("_", "").replace("-", "").isalnum():
        raise logs.LogError(f"--name {a.name}: letters, digits, _ and - only")


def first_purchase_curve(summary: logs.RFM) -> pd.DataFrame:
    """Customers making their first purchase each week (week 1 = the log's first 7 days)."""
    days = (summary.table["first"] - summary.start).dt.days.to_numpy()
    counts = holdout.weekly_counts(days, int(days.max() // 7) + 1)
    out = pd.DataFrame({"week": np.arange(1, counts.size + 1), "first_purchases": counts})
    out["cumulative"] = out["first_purchases"].cumsum()
    out["share"] = out["cumulative"] / out["cumulative"].iloc[-1]
    return out


def run(a: argparse.Namespace) -> dict:
    """Every check first, then every file (see the module docstring)."""
    check_options(a)
    phases = Phases(getattr(a, "timings", False))
    given = {role: getattr(a, role) for role in logs.ROLES}
    log = logs.read_log(a.log, given, a.dedupe, a.keep_duplicates, a.focal)
    phases.done("read")
    end = logs.calibration_end(log, a.calibration_end)
    occ = logs.occasions(log.frame)
    start = occ["day"].min()
    summary = logs.rfm(occ, start, end)
    logs.check_repeat_buyers(summary)
    member_rates = members.analyse(log, a.programme_start, end)  # before the rows go
    phases.done("summarise")
    frame = log.frame
    price = a.price
    if price is None and "units" in frame and "amount" in frame and frame["units"].sum() > 0:
        price = float(frame["amount"].sum() / frame["units"].sum())
    # the rows are not needed past here (the occasions are): 20-28 bytes a row freed
    n_rows, has_units = len(frame), "units" in frame
    del frame
    log.frame = log.frame.iloc[:0]
    if price is None:
        price = 5.0  # the model's default list price: baskets are then in EUR 5 units
    unit_cost = a.unit_cost if a.margin is None else price * (1 - a.margin)
    if unit_cost is None:
        # a log shows no costs: keep the model's default margin at the log's price (the
        # model's unit cost at a price of, say, USD 15 would be a 77% margin)
        unit_cost = price * (1 - market.default_margin())
        print(
            f"loyaltysim-fit: note: no --margin or --unit-cost given: gross margin "
            f"{100 * market.default_margin():.0f}%, the model's default (give your own)",
            file=sys.stderr,
        )
    rivals = a.rivals
    if rivals is None:
        rivals = log.firms - 1 if "firm" in log.columns else 0

    t = summary.table
    x, tx, T = t["x"], t["tx"], t["T"]
    bg = models.fit_bgnbd(x, tx, T)
    pnbd = models.fit_pareto_nbd(x, tx, T)
    gg = None
    if "m" in t:
        with_m = t["m"].notna() & (t["m"] > 0)
        if with_m.sum() >= logs.MIN_REPEAT_BUYERS:
            gg = models.fit_gamma_gamma(t.loc[with_m, "x"], t.loc[with_m, "m"])
    phases.done("fit")
    cal = occ[occ["day"] < end]
    overrides = market.world(
        bg.params, market.basket_moments(cal), len(t), price, unit_cost, rivals, a.share
    )
    last_day = occ["day"].max()
    has_holdout = end <= last_day
    rng = np.random.default_rng(np.random.SeedSequence(a.seed, spawn_key=(24,)))
    tracking = None
    if has_holdout:
        tracking = holdout.track(
            occ, summary, bg.params, gg.params if gg else None, last_day, rng, a.replications
        )
        from .through_model import MODEL_CUSTOMERS, sample_counts, weekly_repeats

        first_counts = first_purchase_curve(summary)["first_purchases"].to_numpy()
        model = weekly_repeats(overrides["customers"], first_counts, tracking.last_week, a.seed)
        tracking.table["model"] = model
        tracking.table["model_cum"] = model.cumsum()
    first = first_purchase_curve(summary)
    phases.done("holdout")

    # nothing has been written so far: every check has passed
    out = a.out
    out.mkdir(parents=True, exist_ok=True)
    ensemble = market.write_worlds(out, overrides, str(a.log), a.name)
    ids = pd.Index(log.ids[t.index.to_numpy()], name=log.columns["customer"])
    t.assign(first=t["first"].dt.date).set_axis(ids).to_csv(out / "rfm.csv")
    first.to_csv(out / "first_purchases.csv", index=False)
    members.write(out, member_rates)
    result = {
        "log": str(a.log),
        "columns": log.columns,
        "rows": int(n_rows),
        "duplicates": log.duplicates,
        "duplicates_dropped": bool(a.dedupe and log.duplicates),
        "customers": int(len(t)),
        "repeat_buyers": summary.repeat_buyers,
        "occasions": int(len(occ)),
        "first_day": str(start.date()),
        "calibration_end": str((end - pd.Timedelta(days=1)).date()),
        "calibration_weeks": (end - start).days / 7,
        "last_day": str(last_day.date()),
        "fits": {f.model: fit_dict(f) for f in (bg, pnbd, gg) if f is not None},
        "world": overrides,
        "ensemble": ensemble,  # your worlds: the fit over each accepted literature world
        "price": price,
        "price_from": "--price" if a.price else ("amount/units" if has_units else "default"),
        "members": member_rates,  # None without a member column
    }
    if tracking is not None:
        tracking.table.to_csv(out / "tracking.csv", index=False)
        holdout.figure(tracking, first, out / "tracking.png")
        sim = tracking.transactions.assign(
            customer=log.ids[tracking.transactions["customer"].to_numpy()]
        ).rename(columns={"customer": log.columns["customer"], "date": log.columns["date"]})
        if "amount" in sim:
            if "units" in log.columns:
                sim[log.columns["units"]] = sim["amount"] / price
            sim = sim.rename(columns={"amount": log.columns["amount"]})
        if "firm" in log.columns:
            sim[log.columns["firm"]] = log.firm
        sim.to_parquet(out / "transactions.parquet", index=False)
        result["tracking"] = tracking.errors()
        model = tracking.table["model"]
        result["tracking"]["model_cumulative_error_pct"] = float(
            100 * (model.sum() / tracking.table["actual"].sum() - 1)
        )
        result["holdout_weeks"] = tracking.last_week - result["calibration_weeks"]
        # the scale caps (holdout.SIMULATED_DRAWS, through_model.MODEL_CUSTOMERS), stated
        result["replications"] = {"asked": a.replications, "simulated": tracking.replications}
        played = int(sample_counts(first["first_purchases"].to_numpy())[0].sum())
        result["model_customers"] = {"cohort": int(len(t)), "played": played,
                                     "cap": MODEL_CUSTOMERS}  # fmt: skip
    (out / "fit.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (out / "fit.md").write_text(report(result, a.name))
    phases.done("write")
    return result


def fit_dict(f: models.Fit) -> dict:
    return {"params": f.params, "se": f.se, "loglik": f.loglik, "customers": f.n,
            "converged": f.converged, "at_bound": list(f.at_bound)}  # fmt: skip


def report(r: dict, name: str) -> str:
    """fit.md: the fit in words and tables."""
    lines = [
        f"# Your market: {r['log']}",
        "",
        f"{r['rows']} rows, {r['customers']} customers in the calibration cohort, "
        f"{r['repeat_buyers']} of them bought again in the calibration period "
        f"({r['first_day']} to {r['calibration_end']}, {r['calibration_weeks']:.1f} weeks); "
        f"the log ends {r['last_day']}. Duplicated rows: {r['duplicates']}"
        + (" (dropped)." if r["duplicates_dropped"] else "."),
        "",
        "| model | parameter | estimate | s.e. |",
        "|---|---|---|---|",
    ]
    for model, f in r["fits"].items():
        for k, v in f["params"].items():
            lines.append(f"| {model} | {k} | {v:.4g} | {f['se'][k]:.2g} |")
    lines.append("")
    lines += [
        f"- {m}: log-likelihood {f['loglik']:.1f}"
        + ("" if f["converged"] else "; the optimiser did not converge")
        + (f"; {', '.join(f['at_bound'])} at the bound (not identified)" if f["at_bound"] else "")
        for m, f in r["fits"].items()
    ]
    lines += ["", f"World `{name}` (world/{name}.yaml):", "", "```yaml"]
    for group, values in r["world"].items():
        for k, v in values.items():
            lines.append(f"{group}.{k}: {v}")
    lines += ["```", "", f"Your ensemble ({len(r['ensemble']) - 1} worlds, worlds.csv): the "
              "fit over each accepted literature world, which sets what a log cannot show "
              "(choice weights, engagement, rivals); e.g. `loyaltysim-optimise worlds=" +
              ",".join(f"world/{w}.yaml" for w in r["ensemble"][1:3]) + ",...`.", ""]  # fmt: skip
    if "tracking" in r:
        e = r["tracking"]
        lines += [
            "Repeat transactions of the cohort, simulated against the log (tracking.csv):",
            "",
            "- from first purchases, cumulative at the last week: "
            f"{e['cumulative_error_pct']:+.1f}%"
            f" (holdout weeks alone {e['holdout_error_pct']:+.1f}%; weekly MAPE "
            f"{e['weekly_mape_pct']:.0f}%)",
            "- the world played by the model (its BG/NBD cohort entering as the log's did), "
            f"cumulative at the last week: {e['model_cumulative_error_pct']:+.1f}%",
            f"- from the calibration end, given each customer's history, holdout total: "
            f"{e['conditional_holdout_error_pct']:+.1f}% (weekly MAPE "
            f"{e['conditional_weekly_mape_pct']:.0f}%)",
            "",
        ]
        rep, mc = r["replications"], r["model_customers"]
        if rep["simulated"] < rep["asked"]:
            lines += [
                f"The simulations average {rep['simulated']} replications, not the "
                f"{rep['asked']} asked for: a large cohort is capped at "
                f"{holdout.SIMULATED_DRAWS:,} customer-draws (its noise is already small).",
                "",
            ]
        if mc["played"] < mc["cohort"]:
            lines += [
                f"The model played a sample of {mc['played']:,} of the {mc['cohort']:,} "
                "customers (each entry week's count scaled down, seeded by --seed), its "
                "weekly counts scaled back up: `model` carries that sample's noise.",
                "",
            ]
    return "\n".join(lines + members.section(r.get("members")))


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        result = run(args)
    except logs.LogError as err:
        fail(str(err))
    bg = result["fits"]["BG/NBD"]["params"]
    print(
        f"BG/NBD r={bg['r']:.3g} alpha={bg['alpha']:.3g} a={bg['a']:.3g} b={bg['b']:.3g}; "
        f"wrote {args.out}"
    )
    if "tracking" in result:
        print(f"cumulative tracking error: {result['tracking']['cumulative_error_pct']:+.1f}%")
    if result.get("members") is not None:
        print(members.line(result["members"]))
