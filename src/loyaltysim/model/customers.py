"""Who the customers are: heterogeneity, segments, and the draw of the population.

- *Heterogeneity* (buy-till-you-die; Fader & Hardie): price sensitivity is log-normal,
  category purchase rates are gamma, the per-purchase drop-out probability is beta, basket
  size is gamma.
- *Segments* (S10): digital, traditional (phone), hybrid and quiet customers differ in the
  channels that reach them, in how much a contact moves them, in how readily they recommend
  and in whether they forget firms that do not contact them (S6).
- Everyone in the pool (initial customers and prospects) is drawn at once, so the same seed
  gives the same people whatever happens later (common random numbers across arms).

The rules customers follow each week live in :mod:`~loyaltysim.model.purchases` (buying and
choosing), :mod:`~loyaltysim.model.memory` (remembering) and :mod:`~loyaltysim.model.referrals`
(recommending).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .contact import ContactParams
from .memory import MemoryParams
from .params import CONSTANT, UNCERTAINTY, ConfigError, Params, param
from .population import ACTIVE, NEVER, Population
from .purchases import ChoiceParams, choose
from .referrals import ReferralParams

SEGMENTS = ("digital", "traditional", "hybrid", "quiet")  # S10
CHANNELS = ("digital", "phone")


@dataclass(frozen=True)
class SegmentParams(Params):
    """A customer segment (S10): how it can be reached and how it responds to contact."""

    share: float = param(
        0.25,
        lo=0,
        hi=1,
        kind=UNCERTAINTY,
        unit="fraction",
        doc="share of the population",
        plausible=(0.1, 0.5),
        source="reason: S10's panel names four segments of comparable size; exact shares vary",
    )
    channels: tuple[str, ...] = param(
        ("digital",), choices=CHANNELS, kind=CONSTANT, doc="channels that reach the segment"
    )
    response: float = param(
        1.0,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="multiplier",
        doc="multiplier on engagement gained from a contact",
        plausible=(0.2, 1.5),
        source="S10: quiet, little-engaged customers respond least; no estimate of the size",
    )
    word_of_mouth: float = param(
        1.0,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="multiplier",
        doc="multiplier on the propensity to recommend (S8)",
        plausible=(0.1, 1.5),
        source="reason: relative propensity across segments; quiet customers recommend least",
    )
    forget_rate: float = param(
        0.0,
        lo=0,
        hi=1,
        kind=UNCERTAINTY,
        unit="per week",
        doc="weekly fraction of purchase loyalty lost to a firm that did not contact them (S6)",
        plausible=(0.0, 0.1),
        source="S6 claims passive customers forget uncontacted firms; size unknown",
    )


@dataclass(frozen=True)
class SegmentsParams(Params):
    """The four segments of S10; their shares sum to 1."""

    digital: SegmentParams = param(
        SegmentParams(share=0.35, channels=("digital",), response=1.0, word_of_mouth=1.2)
    )
    traditional: SegmentParams = param(
        SegmentParams(share=0.20, channels=("phone",), response=1.2, word_of_mouth=0.8)
    )
    hybrid: SegmentParams = param(
        SegmentParams(share=0.25, channels=("digital", "phone"), response=1.1, word_of_mouth=1.0)
    )
    quiet: SegmentParams = param(
        SegmentParams(
            share=0.20, channels=("digital",), response=0.4, word_of_mouth=0.2, forget_rate=0.03
        )
    )

    def check(self) -> None:
        total = sum(getattr(self, s).share for s in SEGMENTS)
        if abs(total - 1.0) > 1e-6:
            raise ConfigError("*.share", round(total, 6), "segment shares summing to 1")

    def ordered(self) -> list[SegmentParams]:
        return [getattr(self, s) for s in SEGMENTS]


@dataclass(frozen=True)
class CustomerParams(Params):
    """The customer population: heterogeneity distributions and behaviour (uncertainties)."""

    n: int = param(10_000, lo=1, hi=1e9, kind=CONSTANT, unit="customers", doc="customers at week 0")
    prospects_per_customer: float = param(
        1.0,
        lo=0,
        hi=1e3,
        kind=CONSTANT,
        unit="people",
        doc="people outside the category per customer",
    )
    price_sensitivity_median: float = param(
        0.815,
        lo=0,
        hi=1e3,
        lo_open=True,
        kind=UNCERTAINTY,
        unit="utility per EUR",
        doc="utility lost per euro of unit price (median across customers)",
        plausible=(0.3, 1.5),
        source="Bijmolt, van Heerde & Pieters (2005): mean brand price elasticity -2.6; the "
        "logit elasticity -beta*p*(1-s) at EUR 5 and s=1/3 gives -1 to -5 over this range",
    )
    price_sensitivity_sigma: float = param(
        0.661,
        lo=0,
        hi=10,
        kind=UNCERTAINTY,
        unit="log units",
        doc="log-normal sigma of price sensitivity",
        plausible=(0.2, 0.8),
        source="reason: random-coefficient logit studies find price coefficients varying "
        "by a factor of 2-3 across households",
    )
    purchase_rate_mean: float = param(
        0.508,
        lo=0,
        hi=100,
        lo_open=True,
        kind=UNCERTAINTY,
        unit="purchases per week",
        doc="mean category purchases per week",
        plausible=(0.2, 1.0),
        source="reason: frequently bought categories are bought weekly to monthly",
    )
    purchase_rate_shape: float = param(
        2.55,
        lo=0,
        hi=1e9,
        lo_open=True,
        kind=UNCERTAINTY,
        unit="gamma shape",
        doc="gamma shape r of purchase rates",
        plausible=(0.25, 3.0),
        source="NBD shape of category purchasing is typically below 3 (Ehrenberg); CDNOW "
        "r = 0.24 (Fader, Hardie & Lee 2005)",
    )
    dropout_a: float = param(
        1.0,
        lo=0,
        hi=1e6,
        lo_open=True,
        kind=UNCERTAINTY,
        unit="beta a",
        doc="beta a of per-purchase drop-out",
        plausible=(0.3, 3.0),
        source="BG/NBD a = 0.79 on CDNOW (Fader, Hardie & Lee 2005)",
    )
    dropout_b: float = param(
        165.0,
        lo=0,
        hi=1e6,
        lo_open=True,
        kind=UNCERTAINTY,
        unit="beta b",
        doc="beta b of per-purchase drop-out",
        plausible=(50.0, 800.0),
        source="reason: mean a/(a+b) of 0.1-2% a purchase, i.e. 3-40% of customers leaving "
        "the category a year at 0.5 purchases a week",
    )
    basket_mean: float = param(
        4.0,
        lo=0,
        hi=1e4,
        lo_open=True,
        kind=UNCERTAINTY,
        unit="units",
        doc="mean units bought per purchase",
        plausible=(2.0, 8.0),
        source="reason: sets the money scale; shares and % effects do not depend on it",
    )
    basket_shape: float = param(
        4.0,
        lo=0,
        hi=1e9,
        lo_open=True,
        kind=UNCERTAINTY,
        unit="gamma shape",
        doc="gamma shape of basket size",
        plausible=(1.0, 10.0),
        source="reason: basket sizes vary by a factor of about 2 between shoppers",
    )
    bgnbd_cohort: bool = param(
        False,
        kind=CONSTANT,
        doc="a BG/NBD cohort: every week-0 customer makes a trial purchase in week 0 and may "
        "drop out only after repeat purchases, exactly as in Fader, Hardie & Lee (2005)",
    )
    segments: SegmentsParams = param(SegmentsParams())
    memory: MemoryParams = param(MemoryParams())
    choice: ChoiceParams = param(ChoiceParams())
    referral: ReferralParams = param(ReferralParams())
    contact: ContactParams = param(ContactParams())

    @property
    def pool_size(self) -> int:
        """People in the market: initial customers plus prospects."""
        return self.n + int(round(self.n * self.prospects_per_customer))


@dataclass(frozen=True)
class SegmentTable:
    """Per-segment arrays the weekly rules index by ``pop.segment`` (S6, S10)."""

    reach: np.ndarray  # (segments, channels) bool: which channels reach each segment
    response: np.ndarray  # multiplier on engagement gained from contact
    word_of_mouth: np.ndarray  # multiplier on the propensity to recommend
    forget: np.ndarray  # weekly forget rate
    forget_rows: np.ndarray  # rows of people whose segment forgets

    @classmethod
    def build(cls, params: SegmentsParams, segment: np.ndarray) -> SegmentTable:
        segs = params.ordered()
        forget = np.array([s.forget_rate for s in segs])
        return cls(
            reach=np.array([[ch in s.channels for ch in CHANNELS] for s in segs]),
            response=np.array([s.response for s in segs]),
            word_of_mouth=np.array([s.word_of_mouth for s in segs]),
            forget=forget,
            forget_rows=np.flatnonzero(forget[segment] > 0),
        )


def draw_population(
    params: CustomerParams, n_firms: int, rng: np.random.Generator
) -> tuple[Population, np.ndarray]:
    """Draw everyone's traits; returns the population and the initial customers' rows.

    Initial customers are active from week 0 with no firm yet (see
    :func:`assign_initial_firms`). Traits of prospects are drawn now too, so that the same
    seed gives the same people whatever happens later (common random numbers across arms).
    """
    n = params.n
    size = params.pool_size
    sigma = params.price_sensitivity_sigma
    price_sens = params.price_sensitivity_median * np.exp(sigma * rng.standard_normal(size))
    r = params.purchase_rate_shape
    rate = rng.gamma(r, params.purchase_rate_mean / r, size)
    dropout = rng.beta(params.dropout_a, params.dropout_b, size)
    basket = rng.gamma(params.basket_shape, params.basket_mean / params.basket_shape, size)
    shares = np.array([s.share for s in params.segments.ordered()])
    segment = rng.choice(len(SEGMENTS), size=size, p=shares / shares.sum()).astype(np.int8)
    order = rng.permutation(size)
    initial = np.sort(order[:n])
    queue = order[n:]

    status = np.zeros(size, np.int8)
    status[initial] = ACTIVE
    joined = np.full(size, NEVER, np.int32)
    joined[initial] = 0
    shape = (size, n_firms)
    pop = Population(
        status=status,
        price_sensitivity=price_sens,
        purchase_rate=rate,
        dropout=dropout,
        basket=basket,
        segment=segment,
        taste=np.zeros(shape),
        engagement=np.zeros(shape),
        habit=np.zeros(shape),
        points=np.zeros(shape),
        member=np.zeros(shape, bool),
        offer_until=np.full(shape, NEVER, np.int32),
        contacted=np.zeros(shape, bool),
        last_interaction=np.full(shape, NEVER, np.int32),
        recent=np.zeros(shape),
        recent_week=np.zeros(size, np.int32),
        last_firm=np.full(size, -1, np.int32),
        home=np.full(size, -1, np.int32),
        challenger=np.full(size, -1, np.int32),
        challenge_since=np.full(size, NEVER, np.int32),
        trial_pending=np.zeros(size, bool),
        last_loyal_week=np.full(size, NEVER, np.int32),
        last_loyal_active=np.zeros(size, bool),
        joined_week=joined,
        left_week=np.full(size, NEVER, np.int32),
        origin=np.zeros(size, np.int8),
        purchases=np.zeros(size, np.int64),
        spend=np.zeros(size),
        firm_spend=np.zeros(shape),
        referrals=np.zeros(size, np.int64),
        prospect_queue=queue,
    )
    return pop, initial


def draw_tastes(pop: Population, sigma: float, streams) -> None:
    """Persistent tastes: utility of firm f to person i, N(0, sigma), drawn once; each
    firm's column from its own stream, so adding a firm changes nobody's taste for another.

    Tastes make buyers polygamous but stable (Ehrenberg's Dirichlet: fixed propensities,
    not habit) and stand for the heterogeneity that inflates estimates of purchase loyalty
    when ignored (Dube, Hitsch & Rossi 2010)."""
    for f in range(pop.n_firms):
        pop.taste[:, f] = sigma * streams.get("taste", f).standard_normal(pop.size)


def assign_initial_firms(
    pop: Population,
    rows: np.ndarray,
    prices: np.ndarray,
    rng: np.random.Generator,
    open_at_start: np.ndarray | None = None,
    week: int = 0,
) -> None:
    """The first customers are spread over the firms in the market at the start by a logit on
    list price alone, and enter as every later customer does (:meth:`Population.enter`)."""
    util = pop.taste[rows] - pop.price_sensitivity[rows, None] * prices
    if open_at_start is not None and not open_at_start.all():
        util[:, ~open_at_start] = -np.inf
    firm = choose(util, rng.random(rows.size))
    for f in np.unique(firm):
        pop.enter(rows[firm == f], int(f), week)
