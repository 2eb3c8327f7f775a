"""Only a response to a contact is an interaction (S6, S10; issue 22 item 2).

The engagement programme marks a customer as having interacted with the firm (what makes a
loyal customer *active*) only when they respond to a contact or a surprise. These tests
recompute what should happen from the formulas, not through the programme's code path:

- with ``response_prob = 0`` (and no thanks, no referrals) nobody ever interacts;
- the share of contacted customers who interact matches the closed form: with ``N`` contacts
  ~ Poisson(lam) per customer, each good with probability ``pi`` and answered with
  ``p(g)`` (good) or ``r p(g)`` (bad), ``P(no response) = exp(-lam p(g) (pi + (1 - pi) r))``,
  so ``P(interacts | N > 0) = (1 - exp(-lam p_eff)) / (1 - exp(-lam))``, with
  ``logit p(g) = logit(response_prob) + response_engagement * g``, ``g = E / (1 + |E|)``;
- higher engagement and higher personalisation raise it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from loyaltysim import Market, load_config
from loyaltysim.model.population import NEVER
from loyaltysim.model.programmes import StepContext

BASE = (
    "customers.n=2000",
    "customers.segments.digital.share=1.0",
    "customers.segments.traditional.share=0",
    "customers.segments.hybrid.share=0",
    "customers.segments.quiet.share=0",
    "customers.referral.rate=0",
    "firm/programme=engagement",
    "firm.programme.channels=[digital]",
    "customers.contact.contact_gain=0",  # engagement stays where the test puts it
    "customers.contact.bad_contact_penalty=0",
    "firm.programme.surprise_rate=0",
    "competitor/programme=none",
    "output.figure=false",
)
LAM = 0.5  # contacts per customer per call


def contact_rounds(*extra, calls=20, engagement=(0.0, 3.0), seed=7):
    """Call the focal programme's weekly step ``calls`` times on every active customer (all
    made members), half at each engagement level; returns, per level, (contacted, interacted)
    counts summed over the calls."""
    cfg = load_config(
        [*BASE, "market.horizon_weeks=4", f"firm.programme.contacts_per_week={LAM}", *extra],
        seed=seed,
    )
    model = Market(cfg)
    pop, prog = model.population, model.programmes[0]
    rows = pop.active_index()
    pop.member[rows, 0] = True
    half = np.arange(rows.size) % 2
    level = np.asarray(engagement)[half]
    rng = np.random.default_rng(seed)
    out = np.zeros((2, 2), int)
    for k in range(calls):
        week = prog.params.start_week + k
        pop.engagement[rows, 0] = level
        pop.contacted[:] = False
        pop.last_interaction[:] = NEVER
        pop.fatigue[:] = 0.0  # no contact fatigue, no opt-outs: the formula's setting
        pop.opted_out[:] = False
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
        contacted = pop.contacted[rows, 0]
        interacted = pop.last_interaction[rows, 0] == week
        assert not (interacted & ~contacted).any()
        for h in (0, 1):
            out[h] += [contacted[half == h].sum(), interacted[half == h].sum()]
    assert model.dt == 1.0
    return out


def expected_share(e, base, slope, pi, ratio, lam=LAM):
    g = e / (1 + abs(e))
    p = 1 / (1 + math.exp(-(math.log(base / (1 - base)) + slope * g)))
    p_eff = p * (pi + (1 - pi) * ratio)
    return (1 - math.exp(-lam * p_eff)) / (1 - math.exp(-lam))


@pytest.mark.parametrize(
    "base,slope,pi,ratio", [(0.2, 1.5, 0.6, 0.5), (0.1, 1.0, 0.8, 0.0), (0.3, 0.5, 0.3, 0.8)]
)
def test_share_of_contacted_who_respond_matches_the_logistic_formula(base, slope, pi, ratio):
    engagement = (0.0, 3.0)
    counts = contact_rounds(
        f"customers.contact.response_prob={base}",
        f"customers.contact.response_engagement={slope}",
        f"firm.programme.personalisation={pi}",
        f"customers.contact.bad_response_ratio={ratio}",
        engagement=engagement,
    )
    for (contacted, interacted), e in zip(counts, engagement, strict=True):
        assert contacted > 5000
        q = expected_share(e, base, slope, pi, ratio)
        sd = math.sqrt(q * (1 - q) / contacted)
        # 4.5 standard errors: a false alarm about once in 150,000 per check
        assert abs(interacted / contacted - q) < 4.5 * sd, (e, interacted / contacted, q)


def test_engagement_and_personalisation_raise_response():
    common = ("customers.contact.response_prob=0.15", "customers.contact.response_engagement=1.0")
    low, high = (
        contact_rounds(
            *common,
            "customers.contact.bad_response_ratio=0.3",
            f"firm.programme.personalisation={pi}",
            engagement=(-2.0, 2.0),
        )
        for pi in (0.2, 1.0)
    )
    share = lambda c: c[:, 1] / c[:, 0]  # noqa: E731
    sd = 0.01  # every share here is about 0.05-0.2 over > 5000 contacted: s.e. < 0.006
    for s in (share(low), share(high)):
        assert s[1] > s[0] + 3 * sd  # engaged (g = 2/3) above disengaged (g = -2/3)
    assert (share(high) > share(low) + 3 * sd).all()  # well personalised above badly


def test_always_and_never_respond():
    # response_prob 1 and personalisation 1: every contacted customer interacts
    for contacted, interacted in contact_rounds(
        "customers.contact.response_prob=1", "firm.programme.personalisation=1", calls=3
    ):
        assert contacted > 500 and interacted == contacted
    for contacted, interacted in contact_rounds("customers.contact.response_prob=0", calls=3):
        assert contacted > 500 and interacted == 0


def test_no_response_no_active_loyal_from_contacts_or_surprises():
    """A whole run with response_prob 0, thanks off and no referrals: contacts and surprises
    reach people, yet no one ever interacts with any firm, so no loyal customer is active."""
    cfg = load_config(
        [
            *BASE,
            "customers.n=400",
            "market.horizon_weeks=20",
            "customers.contact.response_prob=0",
            "firm.programme.contacts_per_week=1",
            "firm.programme.surprise_rate=0.3",
            "firm.programme.thank_referrals=false",
            "firm.programme.audience=customers",
        ],
        seed=3,
    )
    model = Market(cfg)
    contacted = 0
    while model.running and model.steps < model.n_steps:
        model.step()
        contacted += int(model.population.contacted[:, 0].sum())
    assert contacted > 200
    assert (model.population.last_interaction == NEVER).all()
    m = model.metrics()
    assert m["active_loyal"].sum() == 0 and m["passive_loyal"].sum() > 0
