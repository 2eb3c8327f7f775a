"""Rule-level tests on hand-made inputs whose answers are worked out by hand (issue 25).

Four rules that only a fixed-seed regression value used to guard:

1. the adaptive price rule's direction (S12, :meth:`Firm.review_price`);
2. the validation statistics (polygamy, share of requirements, switching, double jeopardy's
   penetration and frequency) on small transaction logs;
3. whom each poaching target reaches (:func:`~loyaltysim.model.poaching.target_mask`) in a
   population with known loyal, active and home states;
4. engagement's half-life recomputed from a trace, and the independence of the random
   streams: a programme that changes nothing for customers but draws leaves every other
   mechanism's stream and outputs exactly as they were.

Every expected value is computed here, by hand or by a plain-Python reference, never by the
code under test.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import mesa
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltysim import Market, load_config
from loyaltysim.model.firms import Firm, FirmParams, PricingParams
from loyaltysim.model.memory import MemoryParams, decay_memory
from loyaltysim.model.poaching import PoachingParams, send_offers, target_mask
from loyaltysim.model.population import ACTIVE, GONE, NEVER, Population
from loyaltysim.model.programmes import make_programme
from loyaltysim.model.programmes.base import ProgrammeParams
from loyaltysim.model.streams import MECHANISMS
from loyaltysim.studies.validation import ehrenberg

FAST = settings(max_examples=40, deadline=None)


def hand_pop(n: int, n_firms: int) -> Population:
    """A population of ``n`` active customers with neutral state everywhere."""
    shape = (n, n_firms)
    return Population(
        status=np.full(n, ACTIVE, np.int8),
        price_sensitivity=np.ones(n),
        purchase_rate=np.ones(n),
        dropout=np.zeros(n),
        basket=np.ones(n),
        segment=np.zeros(n, np.int8),
        taste=np.zeros(shape),
        engagement=np.zeros(shape),
        habit=np.zeros(shape),
        points=np.zeros(shape),
        member=np.zeros(shape, bool),
        offer_until=np.full(shape, NEVER, np.int32),
        contacted=np.zeros(shape, bool),
        last_interaction=np.full(shape, NEVER, np.int32),
        recent=np.zeros(shape),
        recent_week=np.zeros(n, np.int32),
        last_firm=np.full(n, -1, np.int32),
        home=np.zeros(n, np.int32),
        challenger=np.full(n, -1, np.int32),
        challenge_since=np.full(n, NEVER, np.int32),
        trial_pending=np.zeros(n, bool),
        last_loyal_week=np.full(n, NEVER, np.int32),
        last_loyal_active=np.zeros(n, bool),
        joined_week=np.zeros(n, np.int32),
        left_week=np.full(n, NEVER, np.int32),
        origin=np.zeros(n, np.int8),
        purchases=np.zeros(n, np.int64),
        spend=np.zeros(n),
        firm_spend=np.zeros(shape),
        referrals=np.zeros(n, np.int64),
        prospect_queue=np.empty(0, np.int64),
    )


# =========================================================== 1. adaptive price direction
def adaptive_firm(price=5.0, interval=4, step=0.25, lo=4.5, hi=5.5, entry=0) -> Firm:
    pricing = PricingParams(
        policy="adaptive", interval_weeks=interval, step_eur=step, min_price=lo, max_price=hi
    )
    params = FirmParams(price=price, pricing=pricing, entry_week=entry)
    return Firm(mesa.Model(), 0, params, make_programme(ProgrammeParams(), 0))


def play_prices(firm: Firm, weekly_profit: list[float]) -> list[float]:
    """As the market does: review at the start of each week, then book its profit; the
    price in force in each week."""
    prices = []
    for week, profit in enumerate(weekly_profit):
        firm.review_price(week)
        prices.append(firm.price)
        firm.book_profit(profit)
    return prices


def test_adaptive_price_keeps_its_direction_after_a_rise_and_turns_after_a_fall():
    """The rule (Firm.review_price): every interval_weeks, keep moving the price in the
    direction that raised profit over the last window, else turn back; clip to the bounds.
    With no previous window (the first review) the price rises one step. A window whose
    profit equals the previous one's did not fall: the direction is kept."""
    firm = adaptive_firm()  # 5.00, step 0.25, bounds 4.50..5.50, reviews at weeks 4, 8, ...
    # profit per 4-week window (each week a quarter of it)
    windows = [10, 12, 11, 13, 13, 14, 15, 9, 8]
    weekly = [w / 4 for w in windows for _ in range(4)] + [0.0]
    prices = play_prices(firm, weekly)
    # price in force in window k (weeks 4k..4k+3), worked out by hand:
    expect = [
        5.00,  # weeks 0-3: no review at week 0
        5.25,  # week 4: first review, up one step
        5.50,  # week 8: profit 12 > 10, keep going up
        5.25,  # week 12: 11 < 12, turn: down
        5.00,  # week 16: 13 > 11, keep going down
        4.75,  # week 20: 13 == 13, did not fall, keep going down
        4.50,  # week 24: 14 > 13, down to the floor
        4.50,  # week 28: 15 > 14, down, but clipped at min_price
        4.75,  # week 32: 9 < 15, turn: up
        4.50,  # week 36: 8 < 9, turn: down
    ]
    for k, price in enumerate(expect):
        in_window = prices[4 * k : 4 * k + 4]
        assert in_window == pytest.approx([price] * len(in_window)), k


def test_adaptive_price_respects_the_ceiling_and_waits_for_entry():
    firm = adaptive_firm(price=5.4, step=0.25)
    assert play_prices(firm, [1.0] * 9)[-1] == pytest.approx(5.5)  # 5.65 clipped
    # an entrant at week 6 first reviews at week 8 (reviews fall on multiples of interval)
    entrant = adaptive_firm(entry=6)
    prices = play_prices(entrant, [1.0] * 13)
    assert prices[:8] == [5.0] * 8 and prices[8] == pytest.approx(5.25)
    # a fixed-price firm never moves
    fixed = Firm(mesa.Model(), 0, FirmParams(price=5.0), make_programme(ProgrammeParams(), 0))
    assert set(play_prices(fixed, [float(w % 3) for w in range(30)])) == {5.0}


def reference_prices(start, interval, step, lo, hi, profits) -> list[float]:
    """An independent reading of the rule: the price in force in each week, given each
    week's profit: at weeks 4, 8, ... (for interval 4) the direction flips iff the last
    window's profit is strictly below the one before; the first review goes up."""
    price, direction, window, previous = start, 1, 0.0, None
    out = []
    for week, profit in enumerate(profits):
        if week > 0 and week % interval == 0:
            if previous is not None and window < previous:
                direction = -direction
            previous, window = window, 0.0
            price = min(max(price + direction * step, lo), hi)
        out.append(price)
        window += profit
    return out


@FAST
@given(
    interval=st.integers(1, 5),
    step=st.sampled_from([0.1, 0.25, 0.5]),
    profits=st.lists(st.integers(-5, 5), min_size=1, max_size=40),
)
def test_adaptive_price_follows_the_rule_stated_in_its_docstring(interval, step, profits):
    lo, hi, start = 4.0, 6.0, 5.0
    firm = adaptive_firm(price=start, interval=interval, step=step, lo=lo, hi=hi)
    prices = play_prices(firm, [float(p) for p in profits])
    expect = reference_prices(start, interval, step, lo, hi, profits)
    assert prices == pytest.approx(expect)
    moves = np.abs(np.diff([start, *prices]))
    assert (moves <= step + 1e-12).all()
    assert all(lo <= p <= hi for p in prices)


def test_adaptive_prices_in_a_market_follow_the_profit_in_its_table():
    """The market feeds the rule each week's profit: every firm's price path in the metrics
    table is the rule applied to the profit column of the same table."""
    config = load_config(
        [
            "customers.n=300",
            "market.horizon_weeks=40",
            "market.warmup_weeks=4",
            "output.figure=false",
            "firm.pricing.policy=adaptive",
            "firm.pricing.interval_weeks=3",
            "firm.pricing.step_eur=0.3",
            "firm.pricing.min_price=4.0",
            "firm.pricing.max_price=6.0",
        ],
        seed=8,
    )
    m = Market(config).run().metrics()
    focal = m[m["firm"] == "focal"].sort_values("week")  # row week w: in-step week w - 1
    p = config.firm.pricing
    expect = reference_prices(
        config.firm.price, p.interval_weeks, p.step_eur, p.min_price, p.max_price,
        focal["profit"].tolist(),
    )  # fmt: skip
    np.testing.assert_allclose(focal["price"], expect, rtol=0, atol=1e-12)
    assert len(set(np.sign(np.diff(focal["price"])[np.diff(focal["price"]) != 0]))) == 2
    rivals = m[m["firm"] != "focal"]
    assert (rivals["price"] == config.competitor.price).all()  # fixed pricing


# ================================================================ 2. validation statistics
FIRMS = ["A", "B", "C"]


def make_log(rows: list[tuple[int, int, str]]) -> pd.DataFrame:
    """A transaction log (customer_id, week, firm) as the validation checks read it."""
    c, w, f = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "customer_id": np.array(c, np.int32),
            "week": np.array(w, np.int16),
            "firm": pd.Categorical(f, categories=FIRMS),
        }
    )


def buys(customer: int, firm: str, weeks) -> list[tuple[int, int, str]]:
    return [(customer, w, firm) for w in weeks]


# last 52 weeks of 104: weeks 52..103
POLY_LOG = make_log(
    buys(0, "A", [60, 61, 62, 63, 64])  # 5 buys, all A: share 1
    + buys(1, "A", range(60, 69))
    + buys(1, "B", [70])  # 9 A of 10: share 0.9 (not over 0.9)
    + buys(2, "A", range(60, 70))
    + buys(2, "B", [71])  # 10 A of 11: over 0.9
    + buys(3, "A", [52, 53])
    + buys(3, "B", [54, 55])  # 2 + 2: share 0.5; two of them in the window's first week
    + buys(4, "A", [51, 70, 71, 72, 104])  # 3 in the window (week 51 and 104 are outside)
    + buys(5, "A", [80])
    + buys(5, "B", [81, 82])
    + buys(5, "C", [83])  # 1 + 2 + 1: share 1/2 at B
    + buys(6, "B", [10, 20, 30, 40, 50])  # only before the window
)


def test_share_of_requirements_and_sole_buyers_on_a_hand_made_log():
    top = ehrenberg.main_share(POLY_LOG, 104)
    # customers with 4+ purchases in weeks 52..103: 0, 1, 2, 3, 5 (4 has 3, 6 none)
    np.testing.assert_allclose(np.sort(top), np.sort([1.0, 0.9, 10 / 11, 0.5, 0.5]))
    values = ehrenberg.polygamy_values([SimpleNamespace(log=POLY_LOG)], 104)
    assert values["sole_over_90_pct"] == pytest.approx([100 * 2 / 5])  # customers 0 and 2
    assert values["sole_100_pct"] == pytest.approx([100 * 1 / 5])  # customer 0
    assert values["scr_main_pct"] == pytest.approx([100 * (1 + 0.9 + 10 / 11 + 0.5 + 0.5) / 5])


def test_penetration_and_frequency_on_a_hand_made_log():
    table = ehrenberg.counts(POLY_LOG, 52, 104)
    assert sorted(table.index) == [0, 1, 2, 3, 4, 5]  # buyers in the window
    assert table.loc[4, "A"] == 3  # weeks 51 and 104 not counted
    active, buyers, pen, freq = ehrenberg.firm_stats(table)
    # 6 category buyers; A bought by all six, B by 1, 2, 3, 5, C by 5
    assert dict(buyers) == {"A": 6, "B": 4, "C": 1}
    assert dict(pen) == pytest.approx({"A": 1.0, "B": 4 / 6, "C": 1 / 6})
    # purchases per buyer of the firm: A 5+9+10+2+3+1 = 30 by 6; B 1+1+2+2 = 6 by 4; C 1
    assert dict(freq) == pytest.approx({"A": 5.0, "B": 1.5, "C": 1.0})
    # the check reports them in percent, per firm and span; last 13 weeks (91..103): nobody
    # but customer 4's week-104 purchase, which is outside: add one buyer there
    log = pd.concat([POLY_LOG, make_log(buys(7, "C", [95, 96]) + buys(8, "A", [103]))])
    values, _ = ehrenberg.jeopardy_values([SimpleNamespace(log=log)], 104)
    assert values["penetration_pct_52w_A"] == pytest.approx([100 * 7 / 8])
    assert values["frequency_52w_C"] == pytest.approx([3 / 2])  # customer 5 once, 7 twice
    assert values["penetration_pct_13w_C"] == pytest.approx([50.0])
    assert values["frequency_13w_C"] == pytest.approx([2.0])
    assert values["penetration_pct_13w_B"] == pytest.approx([0.0])


@FAST
@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 30), st.sampled_from(FIRMS)),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 15),
    st.integers(1, 16),
)
def test_penetration_and_frequency_match_a_plain_count(rows, first, span):
    last = first + span
    inside = [(c, f) for c, w, f in rows if first <= w < last]
    if not inside:
        return
    table = ehrenberg.counts(make_log(rows), first, last)
    _, buyers, pen, freq = ehrenberg.firm_stats(table)
    category = {c for c, _ in inside}
    for firm in FIRMS:
        who = {c for c, f in inside if f == firm}
        n = sum(f == firm for _, f in inside)
        assert buyers[firm] == len(who)
        assert pen[firm] == pytest.approx(len(who) / len(category))
        assert freq[firm] == pytest.approx(n / len(who) if who else 0.0)


# halves of the last 52 of 104 weeks: 52..77 and 78..103
# fmt: off
SWITCH_LOG = make_log(
    buys(0, "A", [55, 56]) + buys(0, "B", [90])  # A then B: switch
    + buys(1, "A", [55]) + buys(1, "A", [90]) + buys(1, "B", [91])  # A; A = B tie: stays
    + buys(2, "A", [55]) + buys(2, "B", [56]) + buys(2, "B", [90])  # A = B tie; B: stays
    + buys(3, "A", [55, 56])  # first half only: not counted
    + buys(4, "A", [77]) + buys(4, "B", [78])  # last week of one half, first of the next
    + buys(5, "A", [60, 61, 62]) + buys(5, "A", [80, 81, 82])  # 3 + 3 at A: stays
    + buys(6, "B", [60, 61, 62]) + buys(6, "C", [80, 81, 82])  # 3 at B, 3 at C: switch
    + buys(7, "A", [60, 61, 62]) + buys(7, "A", [80, 81]) + buys(7, "B", [82])  # stays
    + buys(8, "A", [51]) + buys(8, "B", [90])  # the first purchase is before the window
    + buys(9, "B", [60]) + buys(9, "A", [80]) + buys(9, "B", [81])  # B; A = B tie: stays
)
# fmt: on


def test_main_firm_switching_on_a_hand_made_log():
    # in both halves: 0, 1, 2, 4, 5, 6, 7, 9; switchers 0, 4, 6 (ties are no switch)
    assert ehrenberg.switching_share(SWITCH_LOG, 104) == pytest.approx(100 * 3 / 8)
    # 3+ purchases in each half: 5, 6, 7; switcher 6
    assert ehrenberg.switching_share(SWITCH_LOG, 104, 3) == pytest.approx(100 / 3)
    # the firms' names do not matter
    renamed = SWITCH_LOG.assign(
        firm=SWITCH_LOG["firm"].map({"A": "C", "B": "A", "C": "B"}).astype(SWITCH_LOG["firm"].dtype)
    )
    assert ehrenberg.switching_share(renamed, 104) == pytest.approx(100 * 3 / 8)


# ===================================================================== 3. poaching targets
WEEK, THRESHOLD, WINDOW = 20, 0.6, 4  # active: interacted with the main firm after week 16


def target_pop() -> Population:
    """Eight customers of three firms with hand-set history, price sensitivity and contacts.

    ===  ====  ==============  =================  ===========
    row  home  recent buys     interacted (main)  price sens.
    ===  ====  ==============  =================  ===========
    0    0     5, 0, 0         week 19: active    1
    1    0     4, 1, 0         never: passive     2
    2    0     3, 2, 0         week 16: passive   4
    3    0     1, 1, 1         never              4
    4    1     0, 5, 0         never: passive     4
    5    2     1, 0, 2         week 17: active    5
    6    2     0, 1, 3         firm 1 only: pass. 6
    7    2     0, 0, 0         never              0.5
    ===  ====  ==============  =================  ===========

    Price sensitivity's median of the eight is 4 (ties at the median count). No target may
    read the interaction column: it is there to show that they do not.
    """
    pop = hand_pop(8, 3)
    pop.home[:] = [0, 0, 0, 0, 1, 2, 2, 2]
    pop.recent[:] = [[5, 0, 0], [4, 1, 0], [3, 2, 0], [1, 1, 1], [0, 5, 0], [1, 0, 2], [0, 1, 3],
                     [0, 0, 0]]  # fmt: skip
    pop.last_interaction[0, 0] = 19
    pop.last_interaction[2, 0] = 16
    pop.last_interaction[5, 2] = 17
    pop.last_interaction[6, 1] = 19  # with a firm that is not its main one
    pop.price_sensitivity[:] = [1.0, 2.0, 4.0, 4.0, 4.0, 5.0, 6.0, 0.5]
    return pop


# who each firm's offers aim at, by hand from the table above
TARGETS = {
    ("all", 0): [4, 5, 6, 7],
    ("all", 1): [0, 1, 2, 3, 5, 6, 7],
    ("all", 2): [0, 1, 2, 3, 4],
    ("deal_prone", 0): [4, 5, 6],
    ("deal_prone", 1): [2, 3, 5, 6],
    ("deal_prone", 2): [2, 3, 4],
    ("own_buyers", 0): [5],
    ("own_buyers", 1): [1, 2, 3, 6],
    ("own_buyers", 2): [3],
}
ALL_TARGETS = ["all", "deal_prone", "own_buyers"]


@pytest.mark.parametrize(("target", "firm"), sorted(TARGETS))
def test_each_poaching_target_reaches_exactly_whom_it_says(target, firm):
    pop = target_pop()
    rows = np.arange(8)
    mask = target_mask(pop, rows, firm, target, THRESHOLD, WEEK, WINDOW)
    assert np.flatnonzero(mask).tolist() == TARGETS[target, firm]


@pytest.mark.parametrize("target", ALL_TARGETS)
@pytest.mark.parametrize("firm", [0, 1, 2])
def test_no_target_reads_the_other_firms_contact_log(target, firm):
    """Issue 22: a rival cannot see whom another firm contacted or engaged, so the targets
    are the same whatever the contact log, engagement and membership say."""
    pop = target_pop()
    rows = np.arange(8)
    before = target_mask(pop, rows, firm, target, THRESHOLD, WEEK, WINDOW)
    for flip in range(3):
        other = target_pop()
        if flip == 0:  # everyone interacted with every firm this week: all active
            other.last_interaction[:] = WEEK
            other.contacted[:] = True
        elif flip == 1:  # nobody ever did: all passive
            other.last_interaction[:] = NEVER
        else:  # and engaged members of every programme
            other.last_interaction[:] = WEEK - 1
            other.engagement[:] = 5.0
            other.member[:] = True
        after = target_mask(other, rows, firm, target, THRESHOLD, WEEK, WINDOW)
        assert after.tolist() == before.tolist(), (flip, target, firm)


@FAST
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),  # home
            st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4)),  # recent
            st.integers(10, 20),  # last interaction with the home firm
            st.sampled_from([0.5, 1.0, 2.0, 4.0]),  # price sensitivity
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(0, 2),
    st.sampled_from(ALL_TARGETS),
)
def test_poaching_targets_match_a_customer_by_customer_reading(people, firm, target):
    pop = hand_pop(len(people), 3)
    for i, (home, recent, seen, sensitivity) in enumerate(people):
        pop.home[i], pop.recent[i], pop.price_sensitivity[i] = home, recent, sensitivity
        pop.last_interaction[i, home] = seen
    mask = target_mask(pop, np.arange(len(people)), firm, target, THRESHOLD, WEEK, WINDOW)
    values = sorted(v for *_, v in people)
    k = len(values)
    median = (values[(k - 1) // 2] + values[k // 2]) / 2
    for i, (home, recent, _seen, sensitivity) in enumerate(people):
        want = (
            home != firm
            and {
                "all": True,
                "deal_prone": sensitivity >= median,
                "own_buyers": recent[firm] > 0,
            }[target]
        )
        assert mask[i] == want, (i, people[i])


def test_targets_are_judged_among_the_rows_given():
    """The rows passed are the active customers; the deal-prone median is theirs."""
    pop = target_pop()
    rows = np.array([4, 5, 6, 7])  # sensitivities 4, 5, 6, 0.5: median 4.5
    mask = target_mask(pop, rows, 0, "deal_prone", THRESHOLD, WEEK, WINDOW)
    assert rows[mask].tolist() == [5, 6]
    assert not target_mask(pop, rows[:0], 0, "deal_prone", THRESHOLD, WEEK, WINDOW).size


@pytest.mark.parametrize("target", ALL_TARGETS)
def test_at_rate_one_every_target_without_a_valid_offer_gets_one(target):
    pop = target_pop()
    pop.offer_until[1, 1] = WEEK  # still valid this week: no new one
    pop.offer_until[2, 1] = WEEK - 1  # expired last week: a new one
    pop.offer_until[5, 1] = WEEK + 2  # valid: none
    params = PoachingParams(rate=1.0, target=target, offer_weeks=3)
    rng = np.random.default_rng(0)
    sent = send_offers(pop, np.arange(8), 1, params, WEEK, 1.0, rng, THRESHOLD, WINDOW)
    expect = [r for r in TARGETS[target, 1] if r not in (1, 5)]
    got = np.flatnonzero(pop.offer_until[:, 1] == WEEK + 2).tolist()
    assert sent == len(expect)
    assert sorted(set(got) - {5}) == expect


# ======================================================== 4a. engagement decay: half-life
def half_life_from(trace: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    """Half-life recomputed from a trace of a stock E(t) = E0 * 2**(-t / h): the weeks it
    takes to halve, h = t * ln 2 / ln(E0 / E(t)), per column, from the second row on
    (``weeks``: the week of each row, the first 0)."""
    return weeks[1:, None] * math.log(2) / np.log(trace[0] / trace[1:])


@FAST
@given(half_life=st.sampled_from([2.0, 4.0, 6.5, 12.0, 52.0]), dt=st.sampled_from([1, 2, 4]))
def test_engagement_halves_in_half_life_weeks_without_interactions(half_life, dt):
    pop = hand_pop(3, 2)
    pop.engagement[:] = [[2.0, -1.0], [0.5, 3.0], [4.0, 1.0]]
    pop.status[2] = GONE  # a departed customer's memory stays as it was
    decay = MemoryParams(engagement_half_life_weeks=half_life).decay_factor(dt)
    steps = 10
    trace = [pop.engagement.copy()]
    for _ in range(steps):
        decay_memory(pop, decay, np.zeros(4), np.empty(0, np.int64))
        trace.append(pop.engagement.copy())
    trace = np.array(trace)
    weeks = dt * np.arange(1, steps + 1)
    live = trace[:, :2].reshape(steps + 1, -1)
    np.testing.assert_allclose(half_life_from(live, np.r_[0, weeks]), half_life, rtol=1e-9)
    assert (np.sign(live) == np.sign(live[0])).all()  # decays toward 0, never past it
    np.testing.assert_array_equal(trace[:, 2], np.repeat(trace[:1, 2], steps + 1, axis=0))


@pytest.mark.parametrize("step_weeks", [1, 2])
def test_engagement_halves_in_half_life_weeks_in_a_market(step_weeks):
    """A market whose purchases, service and recommendations add no engagement: set the
    stocks by hand and the market's own end of step must halve them every half-life."""
    half_life = 6.0
    config = load_config(
        [
            "customers.n=200",
            "market.horizon_weeks=12",
            "market.warmup_weeks=0",
            f"market.step_weeks={step_weeks}",
            "output.figure=false",
            "firm/programme=none",
            "customers.memory.experience_gain=0",
            f"customers.memory.engagement_half_life_weeks={half_life}",
            "customers.referral.wom_gain=0",
            "firm.service_quality=1.0",
            "competitor.service_quality=1.0",
        ],
        seed=3,
    )
    model = Market(config)
    pop = model.population
    stay = np.flatnonzero(pop.status == ACTIVE)
    pop.engagement[:] = 0.0
    pop.engagement[stay, 0] = 2.0
    pop.engagement[stay, 1] = -0.5
    trace = [pop.engagement[stay].copy()]
    while model.running and model.steps < model.n_steps:
        model.step()
        trace.append(pop.engagement[stay].copy())
    stay_mask = pop.status[stay] == ACTIVE  # those who stayed all along
    assert stay_mask.sum() > 50
    trace = np.array(trace)[:, stay_mask][:, :, :2].reshape(len(trace), -1)
    weeks = step_weeks * np.arange(len(trace))
    np.testing.assert_allclose(half_life_from(trace, weeks), half_life, rtol=1e-9)
    assert trace[weeks == 6][0] == pytest.approx(trace[0] / 2)


# =================================================== 4b. independence of the random streams
INERT = (  # a programme that contacts, surprises and signs up, with no effect on anyone
    "firm/programme=engagement",
    "customers.contact.contact_gain=0",
    "customers.contact.bad_contact_penalty=0",
    "customers.contact.surprise_gain=0",
    "customers.contact.surprise_referral_boost=0",
    "firm.programme.surprise_rate=0.3",
    "customers.contact.thanks_gain=0",
    "firm.programme.signup_prob=0.5",
)
STREAMS_BASE = (
    "customers.n=300",
    "market.horizon_weeks=12",
    "market.warmup_weeks=4",
    "output.figure=false",
    "customers.segments.quiet.forget_rate=0",  # contacts would spare them forgetting
    "firm.poaching.rate=0.3",  # every mechanism with a stream draws from it
    "competitor.poaching.rate=0.3",
    "customers.referral.rate=0.3",
)


def stream_states(model: Market) -> dict[str, dict]:
    """The state of every named generator the market made (name -> bit generator state)."""
    names = {v: k for k, v in MECHANISMS.items()}
    out = {}
    for name, key in model.streams.spawn_keys.items():
        if name in ("purchase", "choice", "service", "churn", "timing"):
            continue  # counter-based: a key, no generator state
        gen = model.streams.get(names[key[0]], *key[1:])
        out[name] = gen.bit_generator.state
    return out


@pytest.mark.parametrize("seed", [4, 5])
def test_a_programme_draws_only_from_its_own_stream(seed):
    """Common random numbers: the focal firm's (inert) programme draws sign-ups, contacts
    and surprises, all from its own stream. After every step every other stream is in the
    same state as without the programme, and what the other mechanisms do (purchases,
    offers sent, recommendations, acquisitions) is identical; a programme drawing from any
    other mechanism's stream would shift that stream and fail this."""
    arms = {}
    for arm, extra in (("none", ("firm/programme=none",)), ("inert", INERT)):
        model = Market(load_config([*STREAMS_BASE, *extra], seed=seed))
        states = []
        while model.running and model.steps < model.n_steps:
            model.step()
            states.append(stream_states(model))
        arms[arm] = SimpleNamespace(model=model, metrics=model.metrics(), states=states)
    plain, inert = arms["none"], arms["inert"]
    focal = inert.metrics[inert.metrics["firm"] == "focal"]
    assert focal["members"].iloc[-1] > 0 and focal["programme_cost"].sum() > 0  # it acted
    last = inert.states[-1]
    assert plain.states[-1]["programme[0]"] != last["programme[0]"]  # and drew
    others = sorted(k for k in last if not k.startswith("programme"))
    assert {"poaching[0]", "poaching[1]", "referral", "acquisition", "population"} <= set(others)
    for step, (a, b) in enumerate(zip(plain.states, inert.states, strict=True), 1):
        for name in others:
            assert a[name] == b[name], f"step {step}: the programme changed the {name} stream"
    cols = ["purchases", "units", "revenue", "offers_sent", "referrals", "referred", "acquired"]
    pick = ["week", "firm", *cols]
    pd.testing.assert_frame_equal(plain.metrics[pick], inert.metrics[pick])
    assert plain.metrics["offers_sent"].sum() > 0 and plain.metrics["referrals"].sum() > 0
    np.testing.assert_array_equal(plain.model.population.status, inert.model.population.status)
