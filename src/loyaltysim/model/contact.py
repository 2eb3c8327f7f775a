"""How customers respond to a firm's contacts: response, engagement gained, fatigue, opt-outs.

These are facts about the customers, not settings of a programme: the same people answer
(or ignore) the engagement programme's contacts, its thanks and surprises, and the tiered
programme's recognitions, of whichever firm sends them. So they live under
``customers.contact`` (uncertainties with plausible ranges and sources), where a calibrated
world (``conf/world``) can set them and a calibration can sample them, while the
programme files hold only what a firm decides (levers: how often, how well personalised,
through which channels, at what cost). The rules that use them are in
:mod:`~loyaltysim.model.programmes.engagement` and :mod:`~loyaltysim.model.programmes.tiered`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .params import UNCERTAINTY, Params, param


@dataclass(frozen=True)
class ContactParams(Params):
    """Customers' response to contact (S6, S7, S8, S10, S11): the same for every firm."""

    response_prob: float = param(
        0.0997,
        lo=0,
        hi=1,
        kind=UNCERTAINTY,
        unit="probability",
        doc="probability a customer of average engagement (g = 0) responds to one "
        "well-personalised contact (S6, S10: only a response is an interaction)",
        plausible=(0.02, 0.3),
        source="Mailchimp e-mail benchmarks: click rate about 2-3% per campaign e-mail; "
        "DMA (ANA) Response Rate Reports 2012-2018: direct mail to a house list about 4-9%, "
        "telephone about 8-10%. reason: a well-personalised contact to a member is at the upper "
        "end, about 10%",
    )

    response_engagement: float = param(
        0.606,
        lo=0,
        hi=20,
        kind=UNCERTAINTY,
        unit="logit per g",
        doc="rise in the log-odds of responding per unit of engagement g = E/(1+|E|) "
        "(g in (-1, 1))",
        plausible=(0.0, 2.0),
        source="reason: engaged customers respond more (S10); up to about e^2 = 7x the odds "
        "between the least and the most engaged; size unknown",
    )

    bad_response_ratio: float = param(
        0.265,
        lo=0,
        hi=1,
        kind=UNCERTAINTY,
        unit="ratio",
        doc="response probability of a badly personalised contact relative to a "
        "well-personalised one (personalisation raises response)",
        plausible=(0.0, 0.8),
        source="Experian (2013): personalised promotional e-mails had about 41% higher "
        "click rates than generic ones (ratio about 0.7); reason: a badly personalised "
        "contact (wrong content, time or channel, S7) does worse than a generic one",
    )

    contact_gain: float = param(
        0.6,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="engagement",
        doc="engagement from a good contact",
        plausible=(0.1, 1.0),
        source="reason: one personal, relevant contact; at most about a thank-you",
    )

    bad_contact_penalty: float = param(
        1.0,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="engagement",
        doc="engagement lost to a badly personalised contact (S7)",
        plausible=(0.2, 2.0),
        source="reason: an irrelevant or ill-timed contact annoys; size unknown (S7 is the "
        "claim under test, not a source)",
    )

    contact_fatigue: float = param(
        0.272,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="per recent contact",
        doc="contact fatigue: the response probability and the engagement of a "
        "well-personalised contact are multiplied by exp(-contact_fatigue * n), n the "
        "member's recent contacts from the firm (each weighted by its age, half-life "
        "fatigue_half_life_weeks)",
        plausible=(0.0, 0.3),
        source="Dreze & Bonfrer (2008): more frequent e-mails bring fewer responses per "
        "e-mail and earlier unsubscribing, so customer equity peaks at an interior contact "
        "frequency; van Diepen, Donkers & Franses (2009): frequent direct mailings irritate. "
        "reason: the size is a judgement (0.1 is a tenth less per recent contact); the "
        "default is the central calibrated world's",
    )

    fatigue_half_life_weeks: float = param(
        8.06,
        lo=0,
        hi=1e4,
        lo_open=True,
        kind=UNCERTAINTY,
        unit="weeks",
        doc="half-life of a contact in the member's contact fatigue",
        plausible=(1.0, 13.0),
        source="reason: irritation from frequent mailings wears off (van Diepen, Donkers & "
        "Franses 2009); from a week to a quarter, a judgement",
    )

    optout_prob: float = param(
        0.00341,
        lo=0,
        hi=1,
        kind=UNCERTAINTY,
        unit="probability",
        doc="probability that a contact to a member with no recent contacts makes them opt "
        "out: an opted-out member gets no more contacts or surprises from the firm",
        plausible=(0.001, 0.005),
        source="Mailchimp e-mail benchmarks: unsubscribe rate about 0.1-0.5% per campaign "
        "e-mail by industry (about 0.2-0.3% on average)",
    )

    optout_fatigue: float = param(
        0.506,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="per recent contact",
        doc="relative rise in the opt-out probability per recent contact: a contact opts "
        "the member out with probability optout_prob * (1 + optout_fatigue * n)",
        plausible=(0.0, 1.0),
        source="Dreze & Bonfrer (2008): unsubscribing rises with contact frequency. reason: "
        "the slope is a judgement (0.25: four recent contacts double it)",
    )

    thanks_gain: float = param(
        1.0,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="engagement",
        doc="engagement from a thank-you",
        plausible=(0.2, 2.0),
        source="reason: personal recognition of an act of loyalty; size unknown",
    )

    surprise_gain: float = param(
        2.0,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="engagement",
        doc="engagement from a surprise (S11)",
        plausible=(0.5, 3.0),
        source="reason: a rare, personal gift; larger than a routine contact",
    )

    surprise_referral_boost: float = param(
        3.0,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="multiplier",
        doc="relative rise in referral propensity in the week of a surprise (S11)",
        plausible=(0.0, 5.0),
        source="reason: S11 claims surprised customers tell friends; from none to a few-fold",
    )

    recognition_gain: float = param(
        1.0,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="engagement",
        doc="engagement from being recognised as a top member",
        plausible=(0.0, 2.0),
        source="reason: status recognition is a personal touchpoint, about a thank-you",
    )
