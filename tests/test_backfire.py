"""Engagement can backfire (issue 22 item 4).

Dissatisfaction: engagement below zero (``g = E / (1 + |E|) < 0``) raises price sensitivity,
``beta = beta_i (1 - relief max(g, 0)) (1 + dissatisfaction_price max(-g, 0))``, and the
drop-out after a purchase, ``d = min(1, d_i (1 - churn_relief max(g, 0))
(1 + dissatisfaction_churn max(-g, 0)))``. Contact fatigue: a member's recent contacts ``n``
(each weighted ``0.5 ** (age / half_life)``) scale the response probability and a good
contact's engagement by ``exp(-contact_fatigue n)``; each contact opts the member out with
probability ``optout_prob (1 + optout_fatigue n)``, and an opted-out member gets no more.

Every expectation is recomputed here from these formulas, not through the model's code; the
three engines (NumPy rules, compiled kernel, Mesa agents) are checked to agree bit for bit
on states with negative engagement and a drop-out pushed to its cap.
"""

from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyaltysim import Market, load_config
from loyaltysim.model.choice import ChoiceParams
from loyaltysim.model.memory import MemoryParams
from loyaltysim.model.population import NEVER
from loyaltysim.model.programmes import StepContext
from loyaltysim.model.programmes.engagement import recent_contacts
from loyaltysim.model.purchases import Draws, Terms, purchase_step, utilities
from loyaltysim.model.status import StatusRules
from test_agents import STATE, scrambled_market, terms_for
from test_rules import hand_pop

FAST = settings(max_examples=40, deadline=None)


def g_of(e: float) -> float:
    return e / (1 + abs(e))


# ============================================================ 1. dissatisfaction: price
@FAST
@given(
    e=st.floats(-20, 20),
    relief=st.floats(0, 1),
    dis=st.floats(0, 3),
    sens=st.floats(0.1, 3),
)
def test_price_sensitivity_follows_the_hand_formula(e, relief, dis, sens):
    """With only price in the utility (no engagement, habit, taste weight), U_f = -beta_f
    (p_f - mean p): beta of the firm the customer feels ``e`` toward is read back from U."""
    pop = hand_pop(1, 2)
    pop.engagement[0] = [e, 0.0]
    pop.price_sensitivity[:] = sens
    choice = ChoiceParams(
        engagement_weight=0.0,
        loyalty_weight=0.0,
        engagement_price_relief=relief,
        dissatisfaction_price=dis,
    )
    terms = Terms.plain(np.array([6.0, 4.0]), np.zeros(2))
    u = utilities(pop, np.array([0]), terms, 0, choice)[0][0]
    g = g_of(e)
    expected = sens * (1 - relief * max(g, 0)) * (1 + dis * max(-g, 0))
    assert -u[0] / (6.0 - 5.0) == pytest.approx(expected, rel=1e-12)
    assert -u[1] / (4.0 - 5.0) == pytest.approx(sens, rel=1e-12)  # g = 0: beta_i itself


def test_dissatisfied_customers_weigh_price_more():
    pop = hand_pop(3, 2)
    pop.engagement[:, 0] = [-3.0, 0.0, 3.0]
    terms = Terms.plain(np.array([6.0, 4.0]), np.zeros(2))
    choice = ChoiceParams(engagement_weight=0.0, loyalty_weight=0.0)
    u = utilities(pop, np.arange(3), terms, 0, choice)[0][:, 0]
    assert u[0] < u[1] < u[2]  # the dearer firm loses most with the dissatisfied


# ============================================================ 2. dissatisfaction: drop-out
def one_purchase_each(engagement: np.ndarray, dropout: float, churn_u: np.ndarray):
    """Customers of one firm who each make exactly one purchase this step, with no service
    failure; ``churn_u``: their churn draws. Returns the outcome."""
    n = engagement.size
    pop = hand_pop(n, 1)
    pop.engagement[:, 0] = engagement
    pop.dropout[:] = dropout
    # Poisson(1) inverted at 0.5: exp(-1) = 0.37 < 0.5 < 0.74 = exp(-1) (1 + 1): one trip
    draws = Draws(trips=np.full(n, 0.5), choice=np.full(n, 0.5), failure=np.ones(n),
                  churn=churn_u)  # fmt: skip
    choice = ChoiceParams(engagement_churn_relief=0.3, dissatisfaction_churn=1.5)
    terms = Terms.plain(np.array([5.0]), np.zeros(1))
    out = purchase_step(pop, np.arange(n), terms, draws, 0, 1.0, choice,
                        MemoryParams(experience_gain=0.0), StatusRules())  # fmt: skip
    assert (out.trips == 1).all()
    return out


@pytest.mark.parametrize("dropout", [0.02, 0.3])
def test_dropout_follows_the_hand_formula(dropout):
    """With one purchase, a customer leaves iff their churn draw is below d: draws just
    below and just above the hand-computed d pin it to a relative 1e-9."""
    e = np.array([-50.0, -4.0, -1.0, -0.2, 0.0, 0.5, 3.0])
    g = e / (1 + np.abs(e))
    d = np.minimum(dropout * (1 - 0.3 * np.maximum(g, 0)) * (1 + 1.5 * np.maximum(-g, 0)), 1)
    below = one_purchase_each(e, dropout, d * (1 - 1e-9))
    above = one_purchase_each(e, dropout, np.minimum(d * (1 + 1e-9), 1 - 1e-12))
    assert below.left.all()
    assert not above.left[d < 1].any()
    # dissatisfied customers leave more: the most dissatisfied about 2.5x the neutral one
    assert d[0] > d[4] > d[6] and d[0] == pytest.approx(min(dropout * (1 + 1.5 * 50 / 51), 1))


# ============================================================ 3. three engines agree
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("cohort", [False, True])
def test_engines_agree_on_dissatisfied_customers(seed, cohort):
    """Strong dissatisfaction on scrambled states (engagement N(0, 2): about 40% of cells
    below zero) with drop-out high enough that the cap at 1 binds: the NumPy rule, the
    compiled kernel and the agents give the same outcome and state, bit for bit."""
    pytest.importorskip("numba")
    from loyaltysim.engines import engine

    model = scrambled_market(seed, 300)
    pop = model.population
    pop.dropout[:] = np.random.default_rng(seed).uniform(0.05, 0.4, pop.size)
    terms = terms_for(model, np.random.default_rng(seed + 1))
    cfg = model.config.customers
    choice = dataclasses.replace(cfg.choice, dissatisfaction_price=2.0, dissatisfaction_churn=5.0)
    rules = StatusRules(main_persistence=3, cohort=cohort)
    rows = pop.active_index()
    args = (rows, terms, model.draws(), 2, 1.0, choice, cfg.memory, rules)
    pop_np, pop_k = copy.deepcopy(pop), copy.deepcopy(pop)
    out_np = purchase_step(pop_np, *args)
    out_k, _ = engine.trade(pop_k, *args, np.array([1.5, 2.0, 2.5]))
    out_a = model.crowd.purchase_step(pop, *args)
    assert out_np.left.sum() > 5  # the drop-out rule is exercised
    for field in out_np.__dataclass_fields__:
        a = getattr(out_np, field)
        np.testing.assert_array_equal(a, getattr(out_k, field), err_msg=field, strict=True)
        np.testing.assert_array_equal(a, getattr(out_a, field), err_msg=field)
    for name in STATE:
        np.testing.assert_array_equal(getattr(pop_np, name), getattr(pop_k, name), name)
        np.testing.assert_array_equal(getattr(pop_np, name), getattr(pop, name), name)


# ============================================================ 4. contact fatigue
FATIGUE_BASE = (
    "customers.n=2000",
    "customers.segments.digital.share=1.0",
    "customers.segments.traditional.share=0",
    "customers.segments.hybrid.share=0",
    "customers.segments.quiet.share=0",
    "firm/programme=engagement",
    "firm.programme.channels=[digital]",
    "firm.programme.surprise_rate=0",
    "firm.programme.personalisation=1",
    "customers.contact.response_engagement=0",
    "competitor/programme=none",
    "output.figure=false",
)
LAM = 0.8  # contacts per member per call


def programme_calls(*extra, fatigue=(0.0, 10.0), calls=10, seed=5, reset=True):
    """Call the focal programme's weekly step ``calls`` times on every active customer (all
    members, engagement 0), half with recent-contact fatigue at each level (set before each
    call when ``reset``). Yields per call (rows, half, recent before, the population)."""
    cfg = load_config(
        [*FATIGUE_BASE, "market.horizon_weeks=4", f"firm.programme.contacts_per_week={LAM}",
         *extra], seed=seed,
    )  # fmt: skip
    model = Market(cfg)
    pop, prog = model.population, model.programmes[0]
    rows = pop.active_index()
    pop.member[rows, 0] = True
    half = np.arange(rows.size) % 2
    rng = np.random.default_rng(seed)
    for k in range(calls):
        week = prog.params.start_week + k
        pop.engagement[rows, 0] = 0.0
        pop.contacted[:] = False
        pop.last_interaction[:] = NEVER
        if reset:
            pop.fatigue[rows, 0] = np.asarray(fatigue)[half]
            pop.fatigue_week[rows, 0] = week
            pop.opted_out[:] = False
        half_life = cfg.customers.contact.fatigue_half_life_weeks  # the world's, not a copy
        before = pop.fatigue[rows, 0] * 0.5 ** ((week - pop.fatigue_week[rows, 0]) / half_life)
        ctx = StepContext(
            pop,
            week,
            model.dt,
            rng,
            rows,
            model.segments,
            np.zeros(pop.size),
            model.config.customers.contact,
        )
        prog.weekly(ctx)
        yield rows, half, before, pop, week


def test_recent_contacts_decay_with_the_half_life():
    pop = hand_pop(4, 2)
    pop.fatigue[:, 1] = [0.0, 1.0, 3.0, 8.0]
    pop.fatigue_week[:, 1] = [0, 10, 6, 2]
    cells = np.arange(4) * 2 + 1
    got = recent_contacts(pop, cells, 10, 4.0)
    np.testing.assert_allclose(got, [0.0, 1.0, 3.0 * 0.5, 8.0 * 0.25], rtol=1e-15)


@pytest.mark.parametrize("c", [0.0, 0.1, 0.25])
def test_fatigue_lowers_the_response_rate_as_the_closed_form(c):
    """Contacts ~ Poisson(LAM), each answered with p exp(-c n): P(responds | contacted) =
    (1 - exp(-LAM p exp(-c n))) / (1 - exp(-LAM)), for n = 0 and n = 10 recent contacts."""
    p = 0.3
    counts = np.zeros((2, 2))
    for rows, half, _, pop, week in programme_calls(
        f"customers.contact.response_prob={p}", f"customers.contact.contact_fatigue={c}",
        "customers.contact.optout_prob=0",
    ):  # fmt: skip
        contacted = pop.contacted[rows, 0]
        answered = pop.last_interaction[rows, 0] == week
        for h in (0, 1):
            counts[h] += [contacted[half == h].sum(), answered[half == h].sum()]
    shares = []
    for (contacted, answered), n in zip(counts, (0.0, 10.0), strict=True):
        q = (1 - math.exp(-LAM * p * math.exp(-c * n))) / (1 - math.exp(-LAM))
        sd = math.sqrt(q * (1 - q) / contacted)
        assert abs(answered / contacted - q) < 4.5 * sd, (n, answered / contacted, q)
        shares.append(answered / contacted)
    if c > 0:
        assert shares[1] < shares[0] - 0.05  # the fatigued answer less


def test_a_good_contact_adds_engagement_worn_by_fatigue_and_fatigue_accumulates():
    """Each member's engagement rises by response * gain * exp(-c n) per contact (digital
    response 1 per contact, all well personalised), and after the week the fatigue holds
    the recent contacts plus this week's."""
    c, gain = 0.2, 0.6
    for rows, _, before, pop, week in programme_calls(
        f"customers.contact.contact_fatigue={c}", f"customers.contact.contact_gain={gain}",
        "customers.contact.optout_prob=0", calls=6, reset=False,
    ):  # fmt: skip
        n = pop.fatigue[rows, 0] - before  # this week's contacts
        assert (pop.fatigue_week[rows, 0] == week).all()
        np.testing.assert_allclose(n, np.round(n), atol=1e-9)
        resp = pop.engagement[rows, 0]  # was reset to 0 before the call
        np.testing.assert_allclose(resp, gain * np.exp(-c * before) * np.round(n), rtol=1e-12)
    assert before.mean() > 1.0  # the fatigue did build up over the calls


def test_opt_outs_follow_the_formula_and_stop_contacts():
    """A member contacted N ~ Poisson(LAM) times opts out with probability 1 - E[(1 - q)^N]
    = 1 - exp(-LAM q), q = optout_prob (1 + optout_fatigue n); opted-out members get no more
    contacts (no contact, no fatigue, no engagement)."""
    q0, slope = 0.05, 0.5
    counts = np.zeros((2, 2))
    for rows, half, _, pop, _ in programme_calls(
        f"customers.contact.optout_prob={q0}", f"customers.contact.optout_fatigue={slope}",
        fatigue=(0.0, 4.0),
    ):  # fmt: skip
        out = pop.opted_out[rows, 0]
        assert not (out & ~pop.contacted[rows, 0]).any()  # only a contact opts out
        for h in (0, 1):
            counts[h] += [(half == h).sum(), out[half == h].sum()]
    for (members, quits), n in zip(counts, (0.0, 4.0), strict=True):
        q = 1 - math.exp(-LAM * q0 * (1 + slope * n))
        sd = math.sqrt(q * (1 - q) / members)
        assert abs(quits / members - q) < 4.5 * sd, (n, quits / members, q)

    # opted out: the programme skips them from then on
    calls = programme_calls("customers.contact.optout_prob=0", fatigue=(0.0, 0.0), calls=3,
                            reset=False)  # fmt: skip
    rows, half, _, pop, _ = next(calls)
    pop.opted_out[rows[half == 1], 0] = True
    fatigue = pop.fatigue[rows, 0].copy()
    for rows, half, _, pop, _ in calls:
        gone = half == 1
        assert not pop.contacted[rows[gone], 0].any() and pop.contacted[rows[~gone], 0].any()
        assert (pop.engagement[rows[gone], 0] == 0).all()
        np.testing.assert_array_equal(pop.fatigue[rows[gone], 0], fatigue[gone])


def test_more_contact_has_an_interior_optimum():
    """With contacts free and always well personalised, the members' engagement after a
    year rises from a quarter of the fatigue's optimal rate to that rate and falls from it to
    four times it (fatigue and opt-outs); with no fatigue and no opt-outs it keeps rising."""

    def engagement_at(rate: float, *extra: str) -> float:
        cfg = load_config(
            ["customers.n=1500", "market.horizon_weeks=52", "firm/programme=engagement",
             "firm.programme.personalisation=1", "firm.programme.surprise_rate=0",
             f"firm.programme.contacts_per_week={rate}", "output.figure=false", *extra],
            seed=3,
        )  # fmt: skip
        model = Market(cfg).run()
        pop = model.population
        rows = pop.active_index()
        return float(np.mean(pop.engagement[rows, 0][pop.member[rows, 0]]))

    # where the optimum lies follows from the world's fatigue: at r contacts a week a member
    # carries about n = r h / ln 2 recent contacts (half-life h), each contact is worth
    # exp(-c n), so r exp(-c r h / ln 2) peaks at r* = ln 2 / (c h); a quarter and four times
    # it must both do worse (opt-outs only lower the high rate further)
    contact = load_config([]).customers.contact
    best = math.log(2) / (contact.contact_fatigue * contact.fatigue_half_life_weeks)
    low, mid, high = (engagement_at(r) for r in (best / 4, best, 4 * best))
    assert mid > low and mid > high, (best, low, mid, high)
    off = ("customers.contact.contact_fatigue=0", "customers.contact.optout_prob=0")
    assert engagement_at(4 * best, *off) > engagement_at(best, *off)
