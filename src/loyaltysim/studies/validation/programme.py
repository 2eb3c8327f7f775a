"""Programme effects and the claims about loyal customers, from paired runs.

- Passive:active loyal ratio at the end of a run (S6's "about 6 to 1", a claim to test:
  reported, never passed or failed).
- Programme effect sizes, ``firm/programme=X`` against ``none`` on the same seeds (the same
  customers and draws): the focal firm's profit lift in % of its no-programme profit (the
  same % per year), its purchase-share lift in pp, the payback week (first week from which
  the cumulative profit difference stays >= 0), and an additive split of its gain in gross
  margin GM = CW x F x B x M (customer-weeks, purchases per customer-week, units per
  purchase, margin per unit) by the log-mean Divisia index (LMDI: the terms add up to the
  change exactly). The customer-weeks term is split further by the channel that brought
  the programme's extra customers (:func:`base_split`): retention (a lower attrition rate:
  fewer of its customers leaving the category or leaving it for a rival, Gopalakrishnan et
  al.'s attrition), won from rivals (more switching in) and new customers (paid and
  referred). Each channel's extra customers then leave at the no-programme attrition rate,
  so a larger base's extra departures are charged to the channel that brought it, not to
  retention.
- Heavy vs light buyers (Liu 2007): with the programme starting in week 26, focal
  customers are split into terciles by their focal purchases in weeks 0-25; the change in
  their focal purchases afterwards (programme minus none, same seed and customers) in %.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import check
from .channels import decompose
from .common import Context, Measured, mean_ci, verdict


@check(
    "passive_active_ratio",
    "claims",
    "S6 (claim under test): passive loyal about 6x as numerous as active loyal",
    "report only: S6 says about 6:1",
)
def _passive_active(ctx: Context) -> Measured:
    n = ctx.pick(3000, 10000)
    runs, plain = ctx.batch([[f"customers.n={n}"], [f"customers.n={n}", "firm/programme=none"]])

    def ratio(r, firm=None):
        end = r.metrics[r.metrics["week"] == r.metrics["week"].max()].set_index("firm")
        end = end if firm is None else end.iloc[[firm]]
        return end["passive_loyal"].sum() / max(end["active_loyal"].sum(), 1)

    total = [ratio(r) for r in runs]
    focal = [ratio(r, 0) for r in runs]
    none = [ratio(r) for r in plain]
    evidence = (
        f"Default market (focal discount programme), end of the run: {mean_ci(total)['mean']:.2f} "
        f"passive loyal per active loyal customer over all firms ({mean_ci(focal)['mean']:.2f} at "
        f"the focal firm; {mean_ci(none)['mean']:.2f} with no programme). S6 claims about 6 to 1; "
        "the number is what the model's definitions give: loyal = purchase loyalty at or "
        "above market.loyal_threshold, active = interacted with the firm (recommended it, "
        "responded to a contact or a surprise) within market.active_window_weeks; under an "
        "engagement programme, how many respond is set by customers.contact.response_prob. "
        "It is evidence on S6 only as far as those definitions match the claim's."
    )

    def figure(fig):
        ax = fig.subplots()
        m = runs[0].metrics.groupby("week")[["passive_loyal", "active_loyal"]].sum()
        ax.plot(m.index, m["passive_loyal"] / m["active_loyal"].clip(lower=1), label="model")
        ax.axhline(6, color="k", ls="--", label="S6: about 6")
        ax.set(xlabel="week", ylabel="passive : active", title="Passive:active loyal (seed 0)")
        ax.legend()

    return Measured(
        {"ratio_all_firms": total, "ratio_focal": focal, "ratio_no_programme": none},
        "ratio_all_firms",
        "report",
        evidence,
        figure,
    )


# Gopalakrishnan et al. (2021): over 80% of the programme's lift through lower attrition
# (over 70% in the 2019 version of the same study), over five years. One retailer's
# programme, and a share that grows with the horizon (an avoided departure pays for the
# rest of it; ours is three years): what is required is the finding's direction, lower
# attrition as the main channel, a majority of the gain.
RETENTION_SHARE_MIN = 50.0


def payback_week(weeks: np.ndarray, cumdiff: np.ndarray) -> float:
    """First week from which ``cumdiff`` stays >= 0; NaN if it ends below 0."""
    below = np.flatnonzero(cumdiff < 0)
    if below.size == 0:
        return float(weeks[0])
    return float(weeks[below[-1] + 1]) if below[-1] + 1 < weeks.size else np.nan


def effect_values(base, prog, n: int, weeks: int) -> tuple[dict[str, list[float]], list]:
    """Per seed, the focal firm's programme effects (``prog`` against ``base``, paired by
    seed): profit and share lifts, payback, the LMDI split of the gross-margin gain; and
    the cumulative profit differences (for the figure)."""
    values: dict[str, list[float]] = {}
    diffs = []
    for r0, r1 in zip(base, prog, strict=True):
        f0, f1 = (r.metrics[r.metrics["firm"] == r.metrics["firm"].iloc[0]] for r in (r0, r1))
        p0, p1 = f0["profit"].sum(), f1["profit"].sum()
        year = f0["week"] <= 52
        cum = np.cumsum(f1["profit"].to_numpy() - f0["profit"].to_numpy())
        diffs.append(cum)
        pb = payback_week(f0["week"].to_numpy(), cum)
        row = {
            "profit_lift_pct": 100 * (p1 - p0) / p0,
            "profit_lift_year1_pct": 100
            * (f1["profit"][year.to_numpy()].sum() / f0["profit"][year].sum() - 1),
            "profit_lift_eur_per_1000_customers_year": (p1 - p0) / (n / 1000) / (weeks / 52),
            "share_lift_pp": 100 * (f1["share"].mean() - f0["share"].mean()),
            "payback_week": pb,
            "paid_back_by_week_13": float(np.isfinite(pb) and pb <= 13),
        }
        row.update({f"gain_{k}_pct": v for k, v in decompose(f0, f1, detail=True).items()})
        for k, v in row.items():
            values.setdefault(k, []).append(v)
    return values, diffs


def effects(ctx: Context, key: str) -> Measured:
    n = ctx.pick(3000, 10000)
    weeks = ctx.pick(104, 156)
    base, prog = ctx.batch(
        [
            [f"customers.n={n}", f"market.horizon_weeks={weeks}", f"firm/programme={p}"]
            for p in ("none", key)
        ]
    )
    values, diffs = effect_values(base, prog, n, weeks)
    lift = mean_ci(values["profit_lift_pct"])["mean"]
    early = np.mean(values["paid_back_by_week_13"])
    share = mean_ci(values["share_lift_pp"])["mean"]
    # no lower bound on profit: a programme that loses money is S2's claim, which must
    # stay possible; the literature bounds the size and speed of gains, and the behavioural
    # effect (positive, modest)
    ok = lift <= 10 and 0 <= share <= 5 and early < 0.5
    retention = mean_ci(values.get("gain_retention_existing_pct", []))["mean"]
    if key == "engagement":  # the channel (issue 22): a majority through lower attrition
        ok = ok and retention >= RETENTION_SHARE_MIN
    g = {k[5:-4]: mean_ci(v)["mean"] for k, v in values.items() if k.startswith("gain_")}
    pb = np.asarray(values["payback_week"])
    paid = (
        f"mean payback week {np.nanmean(pb):.0f} in the {int(np.isfinite(pb).sum())} seeds "
        f"that paid back within {weeks} weeks"
        if np.isfinite(pb).any()
        else f"no seed paid back within {weeks} weeks"
    )
    evidence = (
        f"{key} programme vs none, {weeks} weeks, paired seeds: focal profit {lift:+.1f}% of the "
        f"no-programme profit ({mean_ci(values['profit_lift_year1_pct'])['mean']:+.1f}% in "
        "year 1), "
        f"share {mean_ci(values['share_lift_pp'])['mean']:+.2f} pp, payback by week 13 in "
        f"{100 * early:.0f}% of seeds ({paid}). Split of the gross-margin gain: "
        + ", ".join(f"{k} {v:.0f}%" for k, v in g.items())
        + " (retention: the customers a lower rate of losing them kept, to the category's "
        "end or to a rival, as Gopalakrishnan et al. count attrition; its two parts are not "
        "added again). Literature: about 30% over five years, >80% via attrition "
        "(Gopalakrishnan et al. 2021); modest (Belli et al. 2022); weak (Sharp & Sharp 1997). "
        "A large, fast lift or one made of customers won from rivals is evidence of an "
        "over-strong mechanism."
        + (
            f" Required of engagement: retention at least {RETENTION_SHARE_MIN:.0f}% of the "
            f"gain less the new customers' (the study's split is of the customers a firm "
            f"had): measured {retention:.0f}%."
            + (
                " Below it the programme works mostly through share of wallet, basket and "
                "referrals, not attrition: in the calibrated worlds churn relief (at most "
                "0.8 x g(E), g about 0.4 under the programme) is applied to a category "
                "drop-out of a few % a year; worlds with strong churn relief, little basket "
                "lift and more drop-out reach the study's share (docs/validation.md)."
                if not retention >= RETENTION_SHARE_MIN
                else ""
            )
            if key == "engagement"
            else ""
        )
    )

    def figure(fig):
        ax = fig.subplots()
        for cum in diffs:
            ax.plot(np.arange(1, cum.size + 1), cum / 1000, color="C0", alpha=0.5)
        ax.axhline(0, color="k", lw=0.8)
        ax.axvline(13, color="r", ls="--", label="week 13")
        ax.set(
            xlabel="week",
            ylabel="cumulative profit difference (kEUR)",
            title=f"{key} vs none, focal firm (one line per seed)",
        )
        ax.legend()

    return Measured(values, "profit_lift_pct", verdict(ok), evidence, figure)


for _key in ("discount", "engagement"):
    check(
        f"programme_effect_{_key}",
        "programme",
        "Gopalakrishnan et al. (2021); Belli et al. (2022); Sharp & Sharp (1997)",
        "profit lift <= 10% of the no-programme profit a year (no lower bound: S2), share "
        "lift 0-5 pp (positive, modest), payback by week 13 in under half the seeds"
        + (
            f"; retention at least {RETENTION_SHARE_MIN:.0f}% of the existing customers' gain"
            if _key == "engagement"
            else ""
        ),
    )(lambda ctx, _k=_key: effects(ctx, _k))


def focal_members(run, focal: str) -> pd.Series:
    """Who is a member of the focal firm's programme at the end of ``run``: a bool per
    customer id, from the kept population arrays or the run's customer table."""
    if run.population is not None and "member" in run.population:
        member = np.asarray(run.population["member"])[:, 0]  # the focal firm is firm 0
        return pd.Series(member, index=np.arange(member.size))
    if run.customers is not None and f"member_{focal}" in run.customers:
        table = run.customers
        return pd.Series(table[f"member_{focal}"].to_numpy(bool), index=table["customer_id"])
    raise ValueError("the Liu measure needs the programme arm's membership (keep='member')")


def liu_values(base, prog, start: int, weeks: int) -> dict[str, list[float]]:
    """Per seed, the change (%) in later focal purchases of light, moderate and heavy
    buyers (terciles of focal purchases before ``start``), ``prog`` against ``base``.

    Liu (2007) followed the programme's members, segmented by their patronage before the
    programme; ``{tercile}_change_pct`` is that: customers who are members at the end of
    ``prog``, against the same customers in ``base`` (same seed, same draws).
    ``{tercile}_members_pct`` is the share of the tercile who joined and
    ``{tercile}_change_all_pct`` the change over all of the tercile, members or not (it
    mixes the response with who joins: heavy buyers join sooner). ``heavy_over_light`` is
    the members' heavy change over their light change."""
    out: dict[str, list[float]] = {}
    for r0, r1 in zip(base, prog, strict=True):
        focal = r0.metrics["firm"].iloc[0]

        def focal_counts(log, lo, hi, focal=focal):
            w = log[(log["firm"] == focal) & (log["week"] >= lo) & (log["week"] < hi)]
            return w.groupby("customer_id").size()

        pre = focal_counts(r0.log, 0, start)
        tercile = pd.qcut(pre.rank(method="first"), 3, labels=["light", "moderate", "heavy"])
        post0 = focal_counts(r0.log, start, weeks).reindex(pre.index, fill_value=0)
        post1 = focal_counts(r1.log, start, weeks).reindex(pre.index, fill_value=0)
        member = focal_members(r1, focal).reindex(pre.index, fill_value=False).to_numpy(bool)
        change = {}
        for name in ("light", "moderate", "heavy"):
            sel = (tercile == name).to_numpy()
            for key, rows in (("change_pct", sel & member), ("change_all_pct", sel)):
                change[f"{name}_{key}"] = 100 * (post1[rows].sum() / max(post0[rows].sum(), 1) - 1)
            change[f"{name}_members_pct"] = 100 * member[sel].mean() if sel.any() else np.nan
        with np.errstate(divide="ignore", invalid="ignore"):
            change["heavy_over_light"] = np.divide(
                change["heavy_change_pct"], change["light_change_pct"]
            )
        for key, v in change.items():
            out.setdefault(key, []).append(float(v))
    return out


def liu(ctx: Context, key: str = "discount", start: int = 26) -> dict[str, list[float]]:
    n = ctx.pick(3000, 10000)
    weeks = ctx.pick(78, 104)
    arms = [
        [
            f"customers.n={n}",
            f"market.horizon_weeks={weeks}",
            f"firm/programme={p}",
            f"firm.programme.start_week={start}",
        ]
        for p in ("none", key)
    ]
    base, prog = ctx.batch(arms, log=True, keep=("member",))
    return liu_values(base, prog, start, weeks)


@check(
    "heavy_light_buyers",
    "programme",
    "Liu (2007): light and moderate buyers increase, heavy buyers do not change",
    "discount programme from week 26, its members by pre-period tercile: light and moderate "
    "CI above 0; heavy below half of light",
)
def _liu(ctx: Context) -> Measured:
    values = liu(ctx, "discount")
    values.update({f"engagement_{k}": v for k, v in liu(ctx, "engagement").items()})
    ci = {k: mean_ci(v) for k, v in values.items()}
    lo = {k: c["lo"] if np.isfinite(c["lo"]) else c["mean"] for k, c in ci.items()}
    ok = (
        lo["light_change_pct"] > 0
        and lo["moderate_change_pct"] > 0
        and ci["heavy_change_pct"]["mean"] < 0.5 * ci["light_change_pct"]["mean"]
    )

    def pct(key: str) -> str:
        return f"{ci[key]['mean']:+.1f}%"

    evidence = (
        "Discount programme from week 26 against none (same seeds and customers). As in Liu "
        "(2007), the programme's members (at the end of the run) are split into terciles by "
        "their focal purchases in weeks 0-25; change in their later focal purchases: light "
        f"{pct('light_change_pct')}, moderate {pct('moderate_change_pct')}, heavy "
        f"{pct('heavy_change_pct')} (heavy/light {ci['heavy_over_light']['mean']:.2f}; "
        f"{ci['light_members_pct']['mean']:.0f}%, {ci['moderate_members_pct']['mean']:.0f}% and "
        f"{ci['heavy_members_pct']['mean']:.0f}% of each tercile joined). Over all focal buyers, "
        f"members or not: light {pct('light_change_all_pct')}, moderate "
        f"{pct('moderate_change_all_pct')}, heavy {pct('heavy_change_all_pct')}. With the "
        f"engagement programme instead (members): light {pct('engagement_light_change_pct')}, "
        f"moderate {pct('engagement_moderate_change_pct')}, heavy "
        f"{pct('engagement_heavy_change_pct')}. Liu (2007) found gains from light and moderate "
        "buyers only; a uniform or heavy-led response is evidence that the programme works "
        "through a channel real ones do not. In a logit choice a price cut moves a buyer's "
        "focal share s by about (1 - s) of the same relative amount, so heavy buyers respond "
        "less only in proportion to how much of their category buying the focal firm already "
        "has: a heavy/light ratio under 0.5 needs heavy members who leave rivals under half the "
        "share of their category purchases that light members leave them, which polygamous "
        "buyers do not do."
    )

    def figure(fig):
        ax = fig.subplots()
        names = ["light", "moderate", "heavy"]
        for i, prefix in enumerate(("", "engagement_")):
            c = [ci[f"{prefix}{k}_change_pct"] for k in names]
            ax.bar(
                np.arange(3) + 0.4 * i,
                [x["mean"] for x in c],
                0.4,
                yerr=[x["hi"] - x["mean"] if np.isfinite(x["hi"]) else 0 for x in c],
                capsize=4,
                label=prefix.rstrip("_") or "discount",
            )
        ax.set_xticks(np.arange(3) + 0.2, names)
        ax.legend()
        ax.axhline(0, color="k", lw=0.8)
        ax.set(
            ylabel="change in focal purchases (%)",
            title="Members' response by pre-period tercile",
        )

    return Measured(values, "light_change_pct", verdict(ok), evidence, figure)
