"""Domain rules pinned independently of the code that books them.

Each scenario isolates one mechanism, steps a :class:`~loyaltysim.Market` by hand and keeps
a per-step trace: the purchases (the same fields as the transaction log: customer, firm,
amount paid, discount, units, member flag) and copies of the population arrays before and
after the step. Every cost, audience, withdrawal, target and count is then recomputed from
the config and the trace and compared with the model's metrics. Money is compared to 1e-9
relative (float sums in another order); counts exactly. No test here is statistical.

The clock: step ``k`` (1-based) plays in-step week ``(k - 1) * step_weeks`` and its metrics
row carries ``week = k * step_weeks`` (weeks simulated so far).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from loyaltysim import Market, load_config, run_one
from loyaltysim.model.population import NEVER

N = 400
SNAP = (
    "status",
    "home",
    "last_firm",
    "member",
    "points",
    "offer_until",
    "engagement",
    "habit",
    "recent",
    "recent_week",
    "challenger",
    "challenge_since",
    "last_interaction",
    "last_loyal_week",
    "last_loyal_active",
    "left_week",
    "contacted",
    "referrals",
    "segment",
    "origin",
)
ACTIVE, GONE = 1, 2
RTOL = 1e-9


def cfg(*overrides: str, seed: int = 1, n: int = N, weeks: int = 20):
    return load_config(
        [
            f"customers.n={n}",
            f"market.horizon_weeks={weeks}",
            "market.warmup_weeks=10",
            "output.figure=false",
            *overrides,
        ],
        seed=seed,
    )


@dataclass
class Step:
    k: int  # 1-based step
    week: int  # in-step week
    sink_week: int  # week the market passed to the transaction sink
    before: dict[str, np.ndarray]
    after: dict[str, np.ndarray]
    log: pd.DataFrame  # customer_id, firm, amount, discount, units, member, list_value, trips
    m: pd.DataFrame  # this step's metrics, indexed by firm index
    draws: object = None  # this step's uniform draws (trips, choice, failure, churn)


class Trace:
    """A market stepped by hand, with the log and population snapshots of every step."""

    def __init__(self, config):
        self.config = config
        self._out = None
        self.model = Market(config, transaction_sink=self._sink)
        self.steps: list[Step] = []
        pop = self.model.population
        self.start = {f: getattr(pop, f).copy() for f in SNAP}  # after the warm-up
        self.start_profit = [f.cumulative_profit for f in self.model.firms]
        draw = self.model.draws
        self._draws = None

        def capture(week=None):
            self._draws = draw(week)
            return self._draws

        self.model.draws = capture
        sw = config.market.step_weeks
        while self.model.running and self.model.steps < self.model.n_steps:
            before = {f: getattr(pop, f).copy() for f in SNAP}
            self._out = None
            self.model.step()
            after = {f: getattr(pop, f).copy() for f in SNAP}
            k = self.model.steps
            week, out = self._out
            log = pd.DataFrame(
                {
                    "customer_id": out.buyers.copy(),
                    "firm": out.firm.copy(),
                    "amount": out.paid.copy(),
                    "discount": (out.rebate + out.offer + out.redeemed).copy(),
                    "units": out.units.copy(),
                    "member": out.member.copy(),
                    "trips": out.trips.copy(),
                }
            )
            log["list_value"] = log["amount"] + log["discount"]
            self.steps.append(Step(k, (k - 1) * sw, week, before, after, log, None, self._draws))
        metrics = self.model.metrics()
        names = self.model.firm_names
        metrics["f"] = metrics["firm"].map({n: i for i, n in enumerate(names)})
        for s in self.steps:
            s.m = metrics[metrics["step"] == s.k].set_index("f").sort_index()
        self.metrics = metrics
        self.n_firms = len(names)

    def _sink(self, week, out):
        self._out = (week, out)


def g(e):
    return e / (1.0 + np.abs(e))


def shares(recent):
    """Each firm's share of the recent purchases (share of category requirements)."""
    total = recent.sum(axis=1, keepdims=True)
    return np.divide(recent, np.where(total > 0, total, 1.0)) * (total > 0)


def status_of(t, state, rows, week):
    """(main firm, loyal, active loyal) of ``rows`` in a snapshot, as the rules define them:
    loyal = share of recent purchases at the main firm >= loyal_threshold; active = loyal
    and interacted with the main firm within active_window_weeks before ``week``."""
    m = t.config.market
    home = state["home"][rows]
    loyal = shares(state["recent"][rows])[np.arange(rows.size), home] >= m.loyal_threshold
    active = loyal & (state["last_interaction"][rows, home] > week - m.active_window_weeks)
    return home, loyal, active


def close(a, b, msg=""):
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-9, err_msg=msg)


# ------------------------------------------------------------------ rebates, profit (log file)
REBATE = (
    "firm/programme=discount",
    "firm.programme.mode=rebate",
    "firm.programme.rebate_rate=0.1",
    "firm.programme.signup_prob=0.3",
    "firm.programme.joining_gift_eur=0",
    "competitor/programme=none",
    "output.transactions=true",
)


@pytest.fixture(scope="module")
def rebate_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("rebate")
    res = run_one(cfg(*REBATE, seed=3), out_dir=out)
    log = pq.read_table(out / "transactions.parquet").to_pandas()
    return res, log


def test_rebate_cost_is_rate_times_members_list_value_from_the_log(rebate_run):
    res, log = rebate_run
    rate = res.config.firm.programme.rebate_rate
    log["list_value"] = log["amount"] + log["discount"]
    focal = log[log["firm"] == "focal"]
    members, others = focal[focal["member"]], focal[~focal["member"]]
    assert len(members) > 50 and len(others) > 50
    close(members["discount"], rate * members["list_value"])
    assert (others["discount"] == 0).all()
    assert (log.loc[log["firm"] != "focal", "discount"] == 0).all()  # rivals run nothing
    booked = res.metrics.set_index(["week", "firm"])["programme_cost"]
    # log week w is in-step week w: its metrics row is week w + 1
    expect = log.groupby([log["week"] + 1, "firm"])["discount"].sum()
    expect = expect.reindex(booked.index, fill_value=0.0)
    close(booked.to_numpy(), expect.to_numpy())


def test_revenue_costs_and_profit_from_the_log_and_config(rebate_run):
    res, log = rebate_run
    c = res.config
    m = res.metrics.set_index(["week", "firm"])
    price = {f.name: f.price for f in c.firm_params()}
    unit_cost = {f.name: f.unit_cost for f in c.firm_params()}
    cpc = {f.name: f.acquisition.cost_per_customer for f in c.firm_params()}
    list_value = log["amount"] + log["discount"]
    # every purchase is at list price: amount + discount = price x units
    close(list_value, log["firm"].map(price) * log["units"])
    grp = log.assign(list_value=list_value).groupby([log["week"] + 1, "firm"])
    revenue = grp["list_value"].sum().reindex(m.index, fill_value=0.0)
    units = grp["units"].sum().reindex(m.index, fill_value=0.0)
    purchases = grp.size().reindex(m.index, fill_value=0)
    close(m["revenue"], revenue)
    close(m["units"], units)
    close(m["purchases"], purchases)  # one row per purchase occasion
    cogs = units * m.index.get_level_values("firm").map(unit_cost).to_numpy()
    # no poaching: paid acquisition costs the configured price per customer, nothing more
    acq = m["acquired"] * m.index.get_level_values("firm").map(cpc).to_numpy()
    assert m["acquired"].sum() > 0
    close(m["acquisition_cost"], acq)
    close(m["profit"], revenue - cogs - m["programme_cost"] - acq)


# ------------------------------------------------------------------------ clock
def test_clock_in_step_week_and_metrics_week():
    t = Trace(cfg("market.step_weeks=2", "firm/programme=none", weeks=12))
    assert [s.sink_week for s in t.steps] == [0, 2, 4, 6, 8, 10]
    assert [int(s.m["week"].iloc[0]) for s in t.steps] == [2, 4, 6, 8, 10, 12]


# ------------------------------------------------------------- joining gifts and withdrawal
@pytest.fixture(scope="module")
def gift_trace():
    return Trace(
        cfg(
            "firm/programme=discount",
            "firm.programme.rebate_rate=0.1",
            "firm.programme.signup_prob=0.2",
            "firm.programme.joining_gift_eur=3",
            "firm.programme.end_week=10",
            "competitor/programme=none",
            seed=5,
            weeks=16,
        )
    )


def test_gift_cost_is_gift_times_new_members_plus_rebates(gift_trace):
    t, joined = gift_trace, 0
    for s in t.steps:
        new = int(np.sum(s.after["member"][:, 0] & ~s.before["member"][:, 0]))
        rebates = s.log.loc[s.log["firm"] == 0, "discount"].sum()
        close(s.m.loc[0, "programme_cost"], 3.0 * new + rebates, f"step {s.k}")
        joined += new
        members = s.after["member"][:, 0] & (s.after["status"] == ACTIVE)
        assert s.m.loc[0, "members"] == members.sum()
        # sign-ups only among this step's buyers at the firm
        buyers = s.log.loc[s.log["firm"] == 0, "customer_id"].to_numpy()
        assert np.isin(
            np.flatnonzero(s.after["member"][:, 0] & ~s.before["member"][:, 0]), buyers
        ).all()
    assert joined > 20


def test_withdrawal_ends_membership_rebates_and_costs_at_end_week(gift_trace):
    t = gift_trace
    end = t.config.firm.programme.end_week
    before = [s for s in t.steps if s.week < end]
    assert sum(s.log.loc[s.log["firm"] == 0, "discount"].sum() for s in before) > 0
    assert before[-1].after["member"][:, 0].sum() > 0
    for s in t.steps:
        if s.week < end:
            continue
        focal = s.log[s.log["firm"] == 0]
        assert not s.after["member"][:, 0].any(), s.week
        assert not focal["member"].any() and (focal["discount"] == 0).all()
        assert s.m.loc[0, "programme_cost"] == 0 and s.m.loc[0, "members"] == 0


# ------------------------------------------------------------------------- points
POINTS = (
    "firm/programme=discount",
    "firm.programme.mode=points",
    "firm.programme.points_per_eur=10",
    "firm.programme.point_value_eur=0.01",
    "firm.programme.redemption_threshold=200",
    "firm.programme.breakage=0.2",
    "firm.programme.signup_prob=0.4",
    "firm.programme.referral_reward_points=50",
    "firm.programme.end_week=14",
    "competitor/programme=none",
    "customers.referral.rate=0.5",
)


@pytest.fixture(scope="module")
def points_trace():
    return Trace(cfg(*POINTS, seed=7, weeks=18))


def test_points_earned_net_of_breakage_redeemed_at_threshold(points_trace):
    t = points_trace
    p = t.config.firm.programme
    reward = p.point_value_eur * p.redemption_threshold
    redemptions = rewarded = 0
    for s in t.steps:
        if s.week >= p.end_week:
            continue
        b, a = s.before["points"][:, 0], s.after["points"][:, 0]
        expect = b.copy()
        focal = s.log[s.log["firm"] == 0]
        ids = focal["customer_id"].to_numpy()
        mem = focal["member"].to_numpy()
        redeem = mem & (b[ids] >= p.redemption_threshold)
        # a redemption is worth threshold x point value (capped at the bill)
        close(focal["discount"], np.where(redeem, np.minimum(reward, focal["list_value"]), 0.0))
        earned = focal["amount"].to_numpy() * p.points_per_eur * (1 - p.breakage) * mem
        expect[ids] += earned - p.redemption_threshold * redeem
        # referral reward: referrers of the firm who are members after the step
        referred = (s.after["referrals"] > s.before["referrals"]) & (s.after["home"] == 0)
        got = referred & s.after["member"][:, 0]
        expect[got] += p.referral_reward_points
        close(a, expect, f"step {s.k}")
        assert not a[~s.after["member"][:, 0]].any()  # non-members hold no points
        close(s.m.loc[0, "programme_cost"], focal["discount"].sum())
        redemptions += redeem.sum()
        rewarded += got.sum()
    assert redemptions > 10 and rewarded > 5


def test_points_withdrawal_clears_points_and_members(points_trace):
    t = points_trace
    end = t.config.firm.programme.end_week
    assert t.steps[end - 1].before["points"][:, 0].sum() > 0
    for s in t.steps[end:]:
        assert not s.after["points"].any() and not s.after["member"].any()
        assert (s.log["discount"] == 0).all() and s.m.loc[0, "programme_cost"] == 0


# --------------------------------------------------------------- engagement: contacts
ONE_SEGMENT = (
    "customers.segments.digital.share=1.0",
    "customers.segments.traditional.share=0",
    "customers.segments.hybrid.share=0",
    "customers.segments.quiet.share=0",
    "customers.referral.rate=0",
    "customers.memory.experience_gain=0",
    "firm.service_quality=1.0",
)
CONTACTS = (
    *ONE_SEGMENT,
    "firm/programme=engagement",
    "firm.programme.channels=[digital]",
    "firm.programme.cost_per_contact_digital=0.07",
    "firm.programme.cost_per_contact_phone=1.3",
    "firm.programme.contacts_per_week=0.5",
    "firm.programme.surprise_rate=0",
    "customers.contact.contact_gain=0.5",
    "customers.contact.bad_contact_penalty=0.8",
    "firm.programme.signup_prob=0.3",
    # no contact fatigue or opt-outs: each contact's effect is the plain one (fatigue and
    # opt-outs are recomputed in tests/test_backfire.py)
    "customers.contact.contact_fatigue=0",
    "customers.contact.optout_prob=0",
    "competitor/programme=none",
)


def contacts_and_effect(t, s, firm=0):
    """(contacts paid for, engagement added by contacts) at ``firm`` in step ``s``: with
    no purchase gain, no failures and no word of mouth, every change of the firm's
    engagement column before decay comes from contacts."""
    # only customers still active at the end of the step decay (a leaver's memory stays)
    decay = t.config.customers.memory.decay_factor(t.model.dt)
    decay = np.where(s.after["status"] == ACTIVE, decay, 1.0)
    effect = np.sum(s.after["engagement"][:, firm] / decay - s.before["engagement"][:, firm])
    n = s.m.loc[firm, "programme_cost"] / t.config.firm.programme.cost_per_contact_digital
    assert abs(n - round(n)) < 1e-6, n
    return round(n), effect


def test_contacts_reach_members_only_and_cost_per_contact():
    t = Trace(
        cfg(
            *CONTACTS,
            "firm.programme.personalisation=1.0",
            "customers.contact.response_prob=1.0",
            seed=11,
        )
    )
    c = t.config.customers.contact
    total = 0
    for s in t.steps:
        n, effect = contacts_and_effect(t, s)
        # personalisation 1: each contact adds contact_gain x response (1 for digital)
        assert abs(effect - c.contact_gain * n) < 1e-6 * max(1, n), (s.k, effect, n)
        contacted = s.after["contacted"][:, 0]
        audience = s.before["member"][:, 0] & (s.before["status"] == ACTIVE)
        assert not (contacted & ~audience).any()
        assert contacted.sum() <= n
        assert not s.after["contacted"][:, 1:].any()
        # response_prob 1: every well-personalised contact is answered, an interaction;
        # nothing else is one here
        np.testing.assert_array_equal(s.after["last_interaction"][:, 0] == s.week, contacted)
        total += n
    assert total > 100


def test_contacts_to_customers_penalise_when_badly_personalised_and_stop_at_withdrawal():
    t = Trace(
        cfg(
            *CONTACTS,
            "firm.programme.audience=customers",
            "firm.programme.personalisation=0.0",
            "customers.contact.bad_response_ratio=0.0",
            "firm.programme.end_week=12",
            seed=12,
            weeks=16,
        )
    )
    p, c = t.config.firm.programme, t.config.customers.contact
    total = 0
    for s in t.steps:
        n, effect = contacts_and_effect(t, s)
        contacted = s.after["contacted"][:, 0]
        if s.week >= p.end_week:
            assert n == 0 and not contacted.any(), s.week
            continue
        assert abs(effect + c.bad_contact_penalty * n) < 1e-6 * max(1, n), (s.k, effect, n)
        audience = (s.before["home"] == 0) & (s.before["status"] == ACTIVE)
        assert not (contacted & ~audience).any()
        assert contacted.sum() <= n
        # badly personalised contacts are never answered here: no interaction
        assert (s.after["last_interaction"] == NEVER).all()
        total += n
    assert total > 100


@pytest.mark.parametrize("audience", ["members", "customers"])
def test_surprises_go_to_members_at_surprise_cost(audience):
    t = Trace(
        cfg(
            *CONTACTS,
            f"firm.programme.audience={audience}",
            "firm.programme.contacts_per_week=0",
            "firm.programme.surprise_rate=0.3",
            "firm.programme.surprise_cost_eur=5",
            "customers.contact.response_prob=1.0",  # every surprise is answered
            seed=13,
            weeks=12,
        )
    )
    total = 0
    for s in t.steps:
        surprised = s.after["contacted"][:, 0]
        assert not (surprised & ~s.before["member"][:, 0]).any()
        if audience == "customers":
            assert not (surprised & (s.before["home"] != 0)).any()
        close(s.m.loc[0, "programme_cost"], 5.0 * surprised.sum())
        np.testing.assert_array_equal(s.after["last_interaction"][:, 0] == s.week, surprised)
        total += surprised.sum()
    assert total > 20


THANKS = (
    "firm/programme=engagement",
    "firm.programme.contacts_per_week=0",
    "firm.programme.surprise_rate=0",
    "firm.programme.thanks_cost_eur=0.7",
    "firm.programme.end_week=10",
    "competitor/programme=none",
    "customers.referral.rate=1.0",
    "customers.memory.experience_gain=0.3",
)


def test_thanks_cost_is_thanks_cost_times_the_firms_referrers_until_withdrawal():
    t = Trace(cfg(*THANKS, seed=14, weeks=14))
    end = t.config.firm.programme.end_week
    thanked = 0
    for s in t.steps:
        referrer = s.after["referrals"] > s.before["referrals"]
        per_firm = np.bincount(s.after["home"][referrer], minlength=t.n_firms)
        np.testing.assert_array_equal(s.m["referrals"].to_numpy(), per_firm)
        mine = referrer & (s.after["home"] == 0)
        expect = 0.7 * mine.sum() if s.week < end else 0.0
        close(s.m.loc[0, "programme_cost"], expect, f"step {s.k}")
        if s.week < end:
            assert np.array_equal(s.after["contacted"][:, 0], mine)
            thanked += mine.sum()
        assert not s.after["contacted"][:, 1:].any()
    assert thanked > 20
    assert sum(s.m["referrals"].sum() for s in t.steps if s.week >= end) > 0


# ---------------------------------------------------------------- poaching, acquisition
POACH = (
    "firm/programme=none",
    "competitor/programme=none",
    "competitor.count=2",
    "competitor.poaching.rate=0.5",
    "competitor.poaching.target=own_buyers",
    "competitor.poaching.depth=0.4",
    "competitor.poaching.start_week=5",
    "competitor.poaching.offer_weeks=3",
    "customers.referral.rate=0.3",
    "customers.referral.wom_gain=0",
    "customers.memory.experience_gain=0.5",
    "firm.service_quality=1.0",
    "competitor.service_quality=1.0",
    "market.acquisition_crowding=0.25",
    "market.main_window_weeks=4",
    "market.main_persistence_weeks=3",
    "market.loyal_threshold=0.4",  # < 1/2: a main firm contested by a challenger can be loyal
    "market.active_window_weeks=4",
    "customers.memory.loyalty_smoothing=0.4",
    "customers.choice.habit_prior=2.5",  # not the default: a test that ignores it fails
)


@pytest.fixture(scope="module")
def poach_trace():
    # EUR 240 a week for the focal firm in this market of 600: several customers a week, so
    # that a budget not scaled to the market (EUR 400 a week) gives other counts
    return Trace(
        cfg(*POACH, "firm.acquisition.weekly_budget_per_1000=400", seed=21, n=600, weeks=20)
    )


def offer_recipients(s, firm):
    """Customers who got a new offer from ``firm`` in step ``s``: either they still hold
    it (valid until the step's week + offer_weeks - 1) or they used it at once."""
    bought = s.log[(s.log["firm"] == firm) & (s.log["discount"] > 0)]["customer_id"].to_numpy()
    had = s.before["offer_until"][:, firm] >= s.week
    used_now = np.zeros(had.size, bool)
    used_now[bought] = True
    used_now &= ~had
    return np.flatnonzero(
        used_now | (s.after["offer_until"][:, firm] > s.before["offer_until"][:, firm])
    )


def test_poaching_offers_go_only_to_rivals_customers_who_bought_from_the_poacher(poach_trace):
    t = poach_trace
    c = t.config
    start, ow = c.competitor.poaching.start_week, c.competitor.poaching.offer_weeks
    assert (t.start["offer_until"] == NEVER).all()  # the warm-up sends no offers
    sent = 0
    for s in t.steps:
        if s.week < start:
            assert s.m["offers_sent"].sum() == 0 and (s.after["offer_until"] == NEVER).all()
            continue
        for f in (1, 2):
            got = offer_recipients(s, f)
            assert got.size == s.m.loc[f, "offers_sent"], (s.k, f)
            home = s.before["home"][got]
            assert (s.before["status"][got] == ACTIVE).all()
            assert (home != f).all()
            assert (s.before["recent"][got, f] > 0).all()  # the poacher's own sales records
            kept = got[s.after["offer_until"][got, f] != NEVER]
            assert (s.after["offer_until"][kept, f] == s.week + ow - 1).all()
            sent += got.size
        assert s.m.loc[0, "offers_sent"] == 0
    first = next(s for s in t.steps if s.week == start)
    assert first.m["offers_sent"].sum() > 0
    assert sent > 100


def test_with_rate_one_every_own_buyer_without_a_valid_offer_gets_one():
    """rate 1: from start_week on, each week every customer of another firm who has bought
    from the poacher and holds no valid offer from it (none yet, used, or expired) gets one,
    active loyal or not (a rival cannot see the other firm's contacts)."""
    t = Trace(cfg(*POACH, "competitor.poaching.rate=1.0", seed=22, n=300, weeks=14))
    c = t.config
    start = c.competitor.poaching.start_week
    renewed = reached_active = skipped = 0
    for s in t.steps[start:]:
        act = np.flatnonzero(s.before["status"] == ACTIVE)
        home, _loyal, active = status_of(t, s.before, act, s.week)
        for f in (1, 2):
            free = s.before["offer_until"][act, f] < s.week
            bought = s.before["recent"][act, f] > 0
            expect = act[bought & (home != f) & free]
            np.testing.assert_array_equal(np.sort(offer_recipients(s, f)), expect)
            renewed += (s.before["offer_until"][expect, f] == s.week - 1).sum()
            reached_active += (active & bought & (home != f) & free).sum()
            skipped += (~bought & (home != f)).sum()
    assert t.steps[start].m["offers_sent"].sum() > 0
    assert renewed > 0  # offers that expired last week were renewed
    assert reached_active > 0  # active loyal customers of the other firm get offers too
    assert skipped > 0  # customers who never bought from the poacher got none


def test_offer_discount_is_depth_times_list_value_while_valid_and_used_once(poach_trace):
    t = poach_trace
    depth = t.config.competitor.poaching.depth
    used = 0
    for s in t.steps:
        for f in (1, 2):
            valid = s.before["offer_until"][:, f] >= s.week
            valid[offer_recipients(s, f)] = True
            sales = s.log[s.log["firm"] == f]
            ids = sales["customer_id"].to_numpy()
            close(sales["discount"], np.where(valid[ids], depth * sales["list_value"], 0.0))
            # a used offer is gone
            assert (s.after["offer_until"][ids, f] < s.week + 1).all()
            used += valid[ids].sum()
        assert (s.log.loc[s.log["firm"] == 0, "discount"] == 0).all()
    assert used > 10


def test_acquisition_cost_with_crowding_and_offer_discounts_to_the_poacher(poach_trace):
    t = poach_trace
    c = t.config
    crowd = c.market.acquisition_crowding
    cpc = [f.acquisition.cost_per_customer for f in c.firm_params()]
    # EUR a week: the budget per 1,000 customers at week 0 times customers.n / 1,000
    budget = [f.acquisition.weekly_budget_per_1000 * c.customers.n / 1000 for f in c.firm_params()]
    rounded_up = 0
    for s in t.steps:
        poachers = 2 if s.week >= c.competitor.poaching.start_week else 0
        for f in range(3):
            # budget x weeks / cost per customer, rounded up or down at random
            e = budget[f] * t.model.dt / (cpc[f] * (1 + crowd * poachers))
            assert s.m.loc[f, "acquired"] in (np.floor(e), np.floor(e) + 1), (s.k, f, e)
            rounded_up += s.m.loc[f, "acquired"] > e
        discounts = s.log.groupby("firm")["discount"].sum().reindex(range(3), fill_value=0.0)
        for f in range(3):
            paid = s.m.loc[f, "acquired"] * cpc[f] * (1 + crowd * poachers)
            close(s.m.loc[f, "acquisition_cost"], paid + discounts[f], f"step {s.k} firm {f}")
            assert s.m.loc[f, "programme_cost"] == 0
    assert t.metrics["acquired"].sum() > 0 and rounded_up > 0


# ------------------------------------------------------------------------------ counts
def main_firm_after(t, s):
    """Recompute each buyer's purchase history and main firm from the step's purchases:
    counts decayed by 0.5 ** (weeks since last update / main_window_weeks), + trips at the
    chosen firm; the firm on top (a tie keeps the main firm) becomes the main firm only once
    it has stayed on top main_persistence_weeks (the challenger and its start week tracked).
    Returns (buyers, recent, recent_week, home, challenger, challenge_since) expected."""
    m = t.config.market
    b = s.log["customer_id"].to_numpy()
    c = s.log["firm"].to_numpy()
    elapsed = s.week - s.before["recent_week"][b]
    recent = s.before["recent"][b] * (0.5 ** (1.0 / m.main_window_weeks)) ** elapsed[:, None]
    recent[np.arange(b.size), c] += s.log["trips"].to_numpy()
    main = s.before["home"][b].copy()
    challenger = s.before["challenger"][b].copy()
    since = s.before["challenge_since"][b].copy()
    for i in range(b.size):
        r = recent[i]
        top = main[i] if r[main[i]] >= r.max() else int(np.argmax(r))
        if top == main[i]:
            challenger[i] = -1  # not contested: no challenger (its start week is kept)
            continue
        if challenger[i] != top:
            since[i] = s.week
        if s.week - since[i] >= m.main_persistence_weeks:
            main[i], challenger[i] = top, -1
        else:
            challenger[i] = top
    return b, recent, main, challenger, since


def check_counts(t, s):
    F = t.n_firms
    a = s.after
    act = np.flatnonzero(a["status"] == ACTIVE)
    home, loyal, active = status_of(t, a, act, s.week)
    m = s.m
    np.testing.assert_array_equal(m["customers"], np.bincount(home, minlength=F))
    np.testing.assert_array_equal(m["active_loyal"], np.bincount(home[active], minlength=F))
    np.testing.assert_array_equal(
        m["passive_loyal"], np.bincount(home[loyal & ~active], minlength=F)
    )
    own = shares(a["recent"][act])[np.arange(act.size), home]
    with np.errstate(invalid="ignore"):
        close(m["mean_scr"], np.bincount(home, own, F) / np.bincount(home, minlength=F))
    np.testing.assert_array_equal(m["members"], a["member"][act].sum(axis=0))
    # the main firm: recomputed for the buyers; nobody else's history or main firm changes
    # (except newcomers, who enter with one purchase at their firm)
    b, recent, main, challenger, since = main_firm_after(t, s)
    close(a["recent"][b], recent, f"step {s.k}")
    assert (a["recent_week"][b] == s.week).all()
    np.testing.assert_array_equal(a["home"][b], main)
    np.testing.assert_array_equal(a["challenger"][b], challenger)
    np.testing.assert_array_equal(a["challenge_since"][b], since)
    new = (s.before["status"] == 0) & (a["status"] != 0)
    rest = np.ones(a["status"].size, bool)
    rest[b] = False
    rest &= ~new
    for f in ("recent", "recent_week", "home", "challenger", "challenge_since"):
        np.testing.assert_array_equal(a[f][rest], s.before[f][rest], f)
    n = np.flatnonzero(new)
    expect = np.zeros((n.size, F))
    expect[np.arange(n.size), a["home"][n]] = 1.0
    np.testing.assert_array_equal(a["recent"][n], expect)
    np.testing.assert_array_equal(a["habit"][n] > 0, expect > 0)
    assert (a["recent_week"][n] == s.week).all() and (a["challenger"][n] == -1).all()
    assert (a["last_firm"][n] == a["home"][n]).all()
    # flows between home firms
    was = s.before["status"] == ACTIVE
    moved = was & (s.before["home"] != a["home"])
    np.testing.assert_array_equal(
        m["churn_to_competitor"], np.bincount(s.before["home"][moved], minlength=F)
    )
    np.testing.assert_array_equal(m["switched_in"], np.bincount(a["home"][moved], minlength=F))
    # newcomers (prospects who became customers) by how they came: paid or referred
    new = (s.before["status"] == 0) & (a["status"] != 0)
    for col, origin in (("acquired", 1), ("referred", 2)):
        got = np.bincount(a["home"][new & (a["origin"] == origin)], minlength=F)
        np.testing.assert_array_equal(m[col], got, col)
    assert not (new & (a["origin"] == 0)).any()
    left = was & (a["status"] == GONE)
    np.testing.assert_array_equal(m["churn_out"], np.bincount(a["home"][left], minlength=F))
    # repeat rate: of buyers whose previous purchase was with the firm, the share who stayed
    ids = s.log["customer_id"].to_numpy()
    prev = s.before["last_firm"][ids]
    chosen = s.log["firm"].to_numpy()
    for f in range(F):
        back = prev == f
        expect = (chosen[back] == f).mean() if back.any() else np.nan
        np.testing.assert_allclose(m.loc[f, "repeat_rate"], expect, rtol=1e-12)
    contested = (challenger >= 0).sum() + (main != s.before["home"][b]).sum()
    return moved, contested


def test_counts_flows_and_defections_recomputed_from_the_trace(poach_trace):
    t = poach_trace
    split = np.zeros(2, int)
    contested = 0
    for s in t.steps:
        moved, n = check_counts(t, s)
        contested += n
        # defections split by the state before the step (no programme acts before purchases;
        # recommendations come after them)
        # a defector counts as loyal if loyal to the old main firm at a purchase within
        # persistence + active window weeks, and as active if active at that purchase
        idx = np.flatnonzero(moved)
        home, loyal_now, active_now = status_of(t, s.before, idx, s.week)
        m = t.config.market
        last_week = np.where(loyal_now, s.week, s.before["last_loyal_week"][idx])
        last_active = np.where(loyal_now, active_now, s.before["last_loyal_active"][idx])
        was_loyal = last_week > s.week - (m.main_persistence_weeks + m.active_window_weeks)
        was_active = was_loyal & last_active
        np.testing.assert_array_equal(s.after["last_loyal_week"][idx], last_week)
        act = np.bincount(home[was_active], minlength=3)
        pas = np.bincount(home[was_loyal & ~was_active], minlength=3)
        np.testing.assert_array_equal(s.m["defected_active_loyal"], act)
        np.testing.assert_array_equal(s.m["defected_passive_loyal"], pas)
        split += [act.sum(), pas.sum()]
    assert (split > 0).all(), split
    # challengers that had not yet lasted (no defection) and lasting changes both happened
    assert contested > sum(s.m["churn_to_competitor"].sum() for s in t.steps) > 0
    last = t.steps[-1].m
    assert last["active_loyal"].sum() > 0 and last["passive_loyal"].sum() > 0
    assert t.metrics["churn_out"].sum() > 0 and t.metrics["churn_to_competitor"].sum() > 0


def test_habit_smoothing_forgetting_and_engagement_decay(poach_trace):
    """Buyers: H <- a H + 1[chosen]; then a forgetful segment loses its forget rate
    of habit to every firm that did not contact it; E gains experience_gain at the chosen
    firm (no failures) and decays by the half-life, for those still customers (a leaver's
    memory stays as it was)."""
    t = poach_trace
    c = t.config
    a = c.customers.memory.loyalty_smoothing
    gain = c.customers.memory.experience_gain
    decay = c.customers.memory.decay_factor(t.model.dt)
    forget = np.array([sg.forget_rate for sg in c.customers.segments.ordered()])
    assert forget.max() > 0
    for s in t.steps:
        was = np.flatnonzero(s.before["status"] == ACTIVE)
        L = s.before["habit"][was].copy()
        E = s.before["engagement"][was].copy()
        pos = {cid: i for i, cid in enumerate(was)}
        rows = np.array([pos[i] for i in s.log["customer_id"]], int)
        chosen = s.log["firm"].to_numpy()
        L[rows] *= a
        L[rows, chosen] += 1.0
        E[rows, chosen] += gain
        # customers who left the category this step keep what they had
        stay = (s.after["status"][was] == ACTIVE)[:, None]
        keep = 1 - forget[s.before["segment"][was]][:, None] * ~s.after["contacted"][was] * stay
        close(s.after["habit"][was], L * keep, f"step {s.k}")
        close(s.after["engagement"][was], E * np.where(stay, decay, 1.0), f"step {s.k}")


def test_counts_with_an_engagement_programme_and_forgetting():
    """Contacts protect habit from forgetting only at the firm that made them; a well
    personalised contact (or a surprise, or thanks) is an interaction with the firm."""
    t = Trace(
        cfg(
            "firm/programme=engagement",
            "firm.programme.contacts_per_week=1",
            "competitor/programme=discount",
            seed=31,
            weeks=16,
        )
    )
    forget = np.array([sg.forget_rate for sg in t.config.customers.segments.ordered()])
    checked = 0
    for s in t.steps:
        check_counts(t, s)
        # non-buyers: habit changes by forgetting alone, and not where contacted
        was = s.before["status"] == ACTIVE
        was[s.log["customer_id"].to_numpy()] = False
        rows = np.flatnonzero(was)
        rate = forget[s.before["segment"][rows]][:, None]
        stay = (s.after["status"][rows] == ACTIVE)[:, None]
        keep = 1 - rate * ~s.after["contacted"][rows] * stay
        close(s.after["habit"][rows], s.before["habit"][rows] * keep)
        checked += (s.after["contacted"][rows] & (rate > 0)).sum()
    assert checked > 10
    last = t.steps[-1].m
    assert last["active_loyal"].sum() > 0 and last["passive_loyal"].sum() > 0


# ------------------------------------------------------------------------------- tiered
TIERED = (
    "firm/programme=tiered",
    "firm.programme.points_per_eur=1",
    "firm.programme.top_points_per_eur=3",
    "firm.programme.redemption_threshold=1e9",
    "firm.programme.breakage=0.1",
    "firm.programme.top_tier_spend_eur=25",
    "firm.programme.window_weeks=8",
    "firm.programme.review_weeks=4",
    "firm.programme.recognition_cost_eur=2",
    "firm.programme.signup_prob=0.5",
    "competitor/programme=none",
    "customers.referral.rate=0",
)


def test_tiered_top_members_earn_top_rate_and_promotions_cost_recognition():
    t = Trace(cfg(*TIERED, seed=41, weeks=20))
    p = t.config.firm.programme
    size = t.model.population.size
    spend = np.zeros((len(t.steps), size))  # member spend with the firm per step
    top = np.zeros(size, bool)
    promotions = top_buys = 0
    for i, s in enumerate(t.steps):
        expect_cost = 0.0
        if s.week > p.start_week and (s.week - p.start_week) % p.review_weeks == 0:
            lo = max(0, i - p.window_weeks)
            rolling = spend[lo:i].sum(axis=0)
            qualified = s.before["member"][:, 0] & (rolling >= p.top_tier_spend_eur)
            promoted = qualified & ~top
            # recognised, which is no interaction (the firm's act, not the member's)
            np.testing.assert_array_equal(
                s.after["last_interaction"][promoted], s.before["last_interaction"][promoted]
            )
            expect_cost = p.recognition_cost_eur * promoted.sum()
            promotions += promoted.sum()
            top = qualified
        close(s.m.loc[0, "programme_cost"], expect_cost, f"step {s.k}")
        focal = s.log[(s.log["firm"] == 0) & s.log["member"]]
        ids = focal["customer_id"].to_numpy()
        spend[i, ids] = focal["amount"].to_numpy()
        rate = np.where(top[ids], p.top_points_per_eur, p.points_per_eur)
        expect = s.before["points"][:, 0].copy()
        expect[ids] += focal["amount"].to_numpy() * rate * (1 - p.breakage)
        close(s.after["points"][:, 0], expect, f"step {s.k}")
        top_buys += top[ids].sum()
    assert promotions > 10 and top_buys > 10


# ---------------------------------------------------------------------- choice, interactions
def test_choice_recomputed_from_habit_taste_engagement_and_relative_price(poach_trace):
    """U_if = w_E g + w_H H_f/(sum_g H_g + k) + taste
    - beta_i (1 - relief max(g, 0)) (p_if - mean_f p_if),
    p_if = price_f (1 - depth x valid offer); the choice inverts the softmax CDF at the draw."""
    t = poach_trace
    ch = t.config.customers.choice
    depth = t.config.competitor.poaching.depth
    price = np.array([f.price for f in t.config.firm_params()])
    pop = t.model.population
    checked = offered = 0
    for s in t.steps:
        b = s.log["customer_id"].to_numpy()
        valid = s.before["offer_until"] >= s.week
        for f in (1, 2):
            valid[offer_recipients(s, f), f] = True
        gg = g(s.before["engagement"][b])
        H = s.before["habit"][b]
        p = price * (1 - depth * valid[b] * (np.arange(3) > 0))
        beta = pop.price_sensitivity[b, None] * (1 - ch.engagement_price_relief * np.maximum(gg, 0))
        L = H / (H.sum(axis=1, keepdims=True) + ch.habit_prior)
        u = ch.engagement_weight * gg + ch.loyalty_weight * L + pop.taste[b]
        u -= beta * (p - p.mean(axis=1, keepdims=True))
        e = np.exp(u - u.max(axis=1, keepdims=True))
        cdf = np.cumsum(e, axis=1) / e.sum(axis=1, keepdims=True)
        d = s.draws.choice[b]
        expect = (d[:, None] > cdf[:, :-1]).sum(axis=1)
        near = np.abs(d[:, None] - cdf).min(axis=1) < 1e-9
        np.testing.assert_array_equal(s.log["firm"].to_numpy()[~near], expect[~near])
        checked += (~near).sum()
        offered += valid[b].any(axis=1).sum()
    assert np.abs(pop.taste).max() > 0 and checked > 1000 and offered > 50


def test_interactions_recorded_for_referrals_contacts_thanks_and_surprises():
    """last_interaction[i, f] is the week of i's last recommendation of f, or of a response
    to a contact or surprise from f (always a contacted customer); nothing else changes it."""
    t = Trace(
        cfg(
            "firm/programme=engagement",
            "firm.programme.contacts_per_week=0.5",
            "firm.programme.personalisation=0.5",
            "firm.programme.surprise_rate=0.1",
            "firm.programme.audience=members",
            "firm.programme.signup_prob=0.5",
            "competitor/programme=none",
            "customers.referral.rate=0.5",
            seed=15,
            weeks=12,
        )
    )
    kinds = np.zeros(2, int)
    for s in t.steps:
        b, a = s.before["last_interaction"], s.after["last_interaction"]
        changed = a != b
        assert (a[changed] == s.week).all()
        referrer = s.after["referrals"] > s.before["referrals"]
        rec = np.zeros_like(changed)
        rec[np.flatnonzero(referrer), s.after["home"][referrer]] = True
        # recommendations of the main firm (at the time) and contacts, thanks, surprises
        assert (changed[rec] | (b[rec] == s.week)).all()
        other = changed & ~rec
        assert not other[:, 1:].any()  # rivals run no programme
        assert (s.after["contacted"][other[:, 0], 0]).all()
        kinds += [rec.sum(), other.sum()]
        # an active loyal customer of the firm is one who interacted within the window
    assert (kinds > 10).all(), kinds


# ------------------------------------------------------------------ warm-up and entrants
def test_warm_up_plays_without_programmes_offers_or_records():
    t = Trace(
        cfg(
            "firm/programme=engagement",
            "firm.programme.contacts_per_week=1",
            "firm.programme.audience=customers",
            "competitor/programme=discount",
            "competitor.poaching.rate=1.0",
            "customers.referral.rate=0",
            "market.warmup_weeks=12",
            seed=16,
            weeks=4,
        )
    )
    st = t.start
    assert not st["member"].any() and not st["points"].any() and not st["contacted"].any()
    assert (st["offer_until"] == NEVER).all() and (st["last_interaction"] == NEVER).all()
    assert t.start_profit == [0.0] * 3
    # the warm-up played: habits and histories of purchases before week 0, and leavers
    assert (st["recent_week"][st["status"] == ACTIVE] < 0).any()
    assert (st["left_week"][st["status"] == GONE] < 0).all() and (st["status"] == GONE).any()
    # counters start at week 0; only observed steps are recorded
    assert len(t.metrics) == 3 * 4 and list(t.metrics["step"].unique()) == [1, 2, 3, 4]
    pop = t.model.population
    assert pop.purchases.sum() == sum(s.log["trips"].sum() for s in t.steps)
    close(pop.spend.sum(), sum(s.log["amount"].sum() for s in t.steps))
    close([f.cumulative_profit for f in t.model.firms], t.metrics.groupby("f")["profit"].sum())
    table = t.model.customers()
    gone = table["status"] == "gone"
    assert (table.loc[gone, "left_week"] >= 0).all() and (table.loc[~gone, "left_week"] == -1).all()
    assert not np.isin(np.flatnonzero(st["status"] == GONE), table["customer_id"]).any()
    assert t.steps[0].m.loc[0, "programme_cost"] > 0  # the programme runs from week 0
    assert t.steps[0].m["offers_sent"].sum() > 0


def test_week_zero_customers_enter_with_one_purchase_of_habit_and_history():
    t = Trace(cfg("market.warmup_weeks=0", "firm/programme=none", seed=17, weeks=1))
    st = t.start
    act = np.flatnonzero(st["status"] == ACTIVE)
    one = np.zeros((act.size, 3))
    one[np.arange(act.size), st["home"][act]] = 1.0
    np.testing.assert_array_equal(st["habit"][act], one)
    np.testing.assert_array_equal(st["recent"][act], one)
    assert (st["recent_week"][act] == 0).all() and (st["challenger"][act] == -1).all()
    assert (st["last_firm"][act] == st["home"][act]).all() and act.size == N


def test_an_entrant_sells_and_acquires_nothing_before_its_entry_week():
    entry = 6
    t = Trace(
        cfg(
            # EUR 160 a week in this market of 400: at least 2 customers a week at EUR 60
            f"extra_firms=[{{name:newcomer,entry_week:{entry},price:4.6,"
            "acquisition:{weekly_budget_per_1000:400}}]",
            "firm/programme=none",
            "competitor/programme=none",
            seed=18,
            weeks=12,
        )
    )
    assert t.n_firms == 4
    assert not t.start["recent"][:, 3].any() and not t.start["habit"][:, 3].any()
    for s in t.steps:
        sales = (s.log["firm"] == 3).sum()
        if s.week < entry:
            assert sales == 0 and s.m.loc[3, "acquired"] == 0 and s.m.loc[3, "revenue"] == 0
        else:
            assert s.m.loc[3, "acquired"] > 0
    assert sum((s.log["firm"] == 3).sum() for s in t.steps) > 0


def test_defections_of_loyal_customers_are_counted_at_the_default_threshold():
    t = Trace(cfg(*[o for o in POACH if "loyal_threshold" not in o], seed=23, n=600, weeks=20))
    assert t.config.market.loyal_threshold > 0.5
    assert t.metrics["churn_to_competitor"].sum() > 20
    loyal = t.metrics["defected_active_loyal"] + t.metrics["defected_passive_loyal"]
    assert loyal.sum() > 0
