"""The parameter objects of a market run, one frozen dataclass per concern.

Defaults are the calibration described in the README ("How the model works"); claim ids
(S1-S13) refer to ``shared/domain-brief.md``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, fields
from typing import Any

from .params import CHANNELS, CONSTANT, LEVER, SEGMENTS, UNCERTAINTY, ConfigError, build, param
from .programmes.base import ProgrammeParams
from .programmes.discount import DiscountParams


@dataclass(frozen=True)
class SegmentParams:
    """A customer segment (S10): how it can be reached and how it responds to contact."""

    share: float = param(0.25, lo=0, hi=1, kind=UNCERTAINTY, doc="share of the population")
    channels: tuple[str, ...] = param(
        ("digital",), choices=CHANNELS, kind=UNCERTAINTY, doc="channels that reach the segment"
    )
    response: float = param(
        1.0, lo=0, kind=UNCERTAINTY, doc="multiplier on engagement gained from a contact"
    )
    word_of_mouth: float = param(
        1.0, lo=0, kind=UNCERTAINTY, doc="multiplier on the propensity to recommend (S8)"
    )
    forget_rate: float = param(
        0.0,
        lo=0,
        hi=1,
        kind=UNCERTAINTY,
        doc="weekly fraction of purchase loyalty lost to a firm that did not contact them (S6)",
    )


@dataclass(frozen=True)
class SegmentsParams:
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

    def check(self, path: str) -> None:
        total = sum(getattr(self, s).share for s in SEGMENTS)
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(f"{path}.*.share", round(total, 6), "segment shares summing to 1")

    def ordered(self) -> list[SegmentParams]:
        return [getattr(self, s) for s in SEGMENTS]


@dataclass(frozen=True)
class MemoryParams:
    """How customers remember firms (S3, S4, S6)."""

    engagement_half_life_weeks: float = param(
        12.0, lo=0, lo_open=True, kind=UNCERTAINTY, doc="half-life of the engagement stock"
    )
    loyalty_smoothing: float = param(
        0.8,
        lo=0,
        hi=1,
        hi_open=True,
        kind=UNCERTAINTY,
        doc="Guadagni-Little smoothing constant of purchase loyalty",
    )
    experience_gain: float = param(
        0.08, lo=0, kind=UNCERTAINTY, doc="engagement added by a purchase without failure (S3)"
    )
    failure_penalty: float = param(
        1.0, lo=0, kind=UNCERTAINTY, doc="engagement removed by a service failure"
    )


@dataclass(frozen=True)
class ChoiceParams:
    """Weights of the multinomial-logit firm choice (utility units)."""

    engagement_weight: float = param(
        1.5, lo=0, kind=UNCERTAINTY, doc="utility of full engagement g(E)=1 (S3)"
    )
    loyalty_weight: float = param(
        4.0, lo=0, kind=UNCERTAINTY, doc="utility of purchase loyalty L=1 (Guadagni-Little ~3.9)"
    )
    points_weight: float = param(
        1.0, lo=0, kind=UNCERTAINTY, doc="euros of utility per euro of unredeemed points"
    )
    engagement_price_relief: float = param(
        0.5,
        lo=0,
        hi=1,
        kind=UNCERTAINTY,
        doc="fraction by which full engagement lowers price sensitivity (S4)",
    )
    engagement_churn_relief: float = param(
        0.5,
        lo=0,
        hi=1,
        kind=UNCERTAINTY,
        doc="fraction by which full engagement lowers the category drop-out probability (S4)",
    )
    engagement_basket_lift: float = param(
        0.2, lo=0, kind=UNCERTAINTY, doc="relative basket increase at full engagement (S4)"
    )


@dataclass(frozen=True)
class ReferralParams:
    """Word of mouth on the social network (S8, S11)."""

    rate: float = param(
        0.01, lo=0, hi=1, kind=UNCERTAINTY, doc="weekly recommendation probability at g(E)=1"
    )
    conversion: float = param(
        0.3, lo=0, hi=1, kind=UNCERTAINTY, doc="probability a recommended prospect joins"
    )
    wom_gain: float = param(
        0.5, lo=0, kind=UNCERTAINTY, doc="engagement a recommendation gives an existing customer"
    )
    network_degree: int = param(8, lo=2, kind=CONSTANT, doc="mean number of neighbours")
    rewiring: float = param(
        0.1, lo=0, hi=1, kind=CONSTANT, doc="Watts-Strogatz rewiring probability"
    )

    def check(self, path: str) -> None:
        if self.network_degree % 2:
            raise ConfigError(f"{path}.network_degree", self.network_degree, "an even integer")


@dataclass(frozen=True)
class CustomerParams:
    """The customer population: heterogeneity distributions and behaviour (uncertainties)."""

    n: int = param(10_000, lo=1, kind=CONSTANT, doc="customers in the category at week 0")
    prospects_per_customer: float = param(
        1.0, lo=0, kind=CONSTANT, doc="people outside the category per initial customer"
    )
    price_sensitivity_median: float = param(
        1.0, lo=0, lo_open=True, kind=UNCERTAINTY, doc="utility lost per euro of unit price"
    )
    price_sensitivity_sigma: float = param(
        0.4, lo=0, kind=UNCERTAINTY, doc="log-normal sigma of price sensitivity"
    )
    purchase_rate_mean: float = param(
        0.5, lo=0, lo_open=True, kind=UNCERTAINTY, doc="mean category purchases per week"
    )
    purchase_rate_shape: float = param(
        2.0, lo=0, lo_open=True, kind=UNCERTAINTY, doc="gamma shape r of purchase rates"
    )
    dropout_a: float = param(
        1.0, lo=0, lo_open=True, kind=UNCERTAINTY, doc="beta a of per-purchase drop-out"
    )
    dropout_b: float = param(
        199.0, lo=0, lo_open=True, kind=UNCERTAINTY, doc="beta b of per-purchase drop-out"
    )
    basket_mean: float = param(
        4.0, lo=0, lo_open=True, kind=UNCERTAINTY, doc="mean units bought per purchase"
    )
    basket_shape: float = param(
        4.0, lo=0, lo_open=True, kind=UNCERTAINTY, doc="gamma shape of basket size"
    )
    initial_loyalty: float = param(
        0.5, lo=0, hi=1, kind=UNCERTAINTY, doc="purchase loyalty to their firm at week 0"
    )
    segments: SegmentsParams = param(SegmentsParams())
    memory: MemoryParams = param(MemoryParams())
    choice: ChoiceParams = param(ChoiceParams())
    referral: ReferralParams = param(ReferralParams())


@dataclass(frozen=True)
class PricingParams:
    """Pricing policy (S12): fixed, or adaptive hill-climbing on profit."""

    policy: str = param("fixed", choices=("fixed", "adaptive"), kind=LEVER)
    interval_weeks: int = param(4, lo=1, kind=LEVER, doc="weeks between price reviews")
    step_eur: float = param(0.1, lo=0, lo_open=True, kind=LEVER, doc="price move per review")
    min_price: float = param(0.0, lo=0, kind=LEVER, doc="lowest price allowed (EUR/unit)")
    max_price: float = param(1e9, lo=0, kind=LEVER, doc="highest price allowed (EUR/unit)")

    def check(self, path: str) -> None:
        if self.max_price < self.min_price:
            raise ConfigError(f"{path}.max_price", self.max_price, f">= min_price {self.min_price}")


@dataclass(frozen=True)
class AcquisitionParams:
    """Paid acquisition (S5)."""

    budget_per_week: float = param(150.0, lo=0, kind=LEVER, doc="EUR spent per week at most")
    cost_per_customer: float = param(
        60.0, lo=0, lo_open=True, kind=UNCERTAINTY, doc="EUR per acquired customer"
    )


@dataclass(frozen=True)
class PoachingParams:
    """Discount offers to customers of other firms (S6)."""

    rate: float = param(0.0, lo=0, hi=1, kind=LEVER, doc="weekly probability a target gets one")
    depth: float = param(
        0.15, lo=0, hi=1, hi_open=True, kind=LEVER, doc="offer as a fraction of list price"
    )
    target: str = param("all", choices=("all", "passive", "high_value"), kind=LEVER)
    start_week: int = param(0, lo=0, kind=LEVER, doc="week the offers start (market entry)")
    offer_weeks: int = param(4, lo=1, kind=LEVER, doc="weeks an offer stays valid")


@dataclass(frozen=True)
class FirmParams:
    """A firm: its price, costs, service, acquisition, pricing policy and programme."""

    name: str = param("focal")
    price: float = param(5.0, lo=0, lo_open=True, kind=LEVER, doc="list price, EUR per unit")
    unit_cost: float = param(3.5, lo=0, kind=UNCERTAINTY, doc="EUR per unit sold")
    service_quality: float = param(
        0.97, lo=0, hi=1, kind=LEVER, doc="1 - probability a purchase meets a service failure"
    )
    pricing: PricingParams = param(PricingParams())
    acquisition: AcquisitionParams = param(AcquisitionParams())
    programme: ProgrammeParams = param(ProgrammeParams())
    poaching: PoachingParams = param(PoachingParams())

    def check(self, path: str) -> None:
        p = self.pricing
        if p.policy == "adaptive" and not p.min_price <= self.price <= p.max_price:
            raise ConfigError(
                f"{path}.price", self.price, f"between pricing bounds {p.min_price}..{p.max_price}"
            )


@dataclass(frozen=True)
class CompetitorParams(FirmParams):
    """Rival firms: ``count`` identical rivals, each with its own price, programme and offers."""

    name: str = param("rival")
    count: int = param(2, lo=0, kind=UNCERTAINTY, doc="number of rival firms")


@dataclass(frozen=True)
class MarketParams:
    """Time frame and measurement conventions of the market."""

    horizon_weeks: int = param(156, lo=1, doc="simulated weeks (default three years)")
    step_weeks: int = param(1, lo=1, doc="weeks per model step")
    start_date: str = param("2025-01-06", doc="calendar date of week 0 (ISO)")
    loyal_threshold: float = param(
        0.6, lo=0, hi=1, lo_open=True, doc="purchase loyalty from which a customer counts as loyal"
    )
    active_threshold: float = param(
        0.3,
        lo=0,
        hi=1,
        lo_open=True,
        doc="engagement g(E) from which a loyal customer counts as active, not passive (S6)",
    )
    acquisition_crowding: float = param(
        0.25,
        lo=0,
        kind=UNCERTAINTY,
        doc="relative rise in acquisition cost per firm making poaching offers (S5)",
    )

    def check(self, path: str) -> None:
        if self.horizon_weeks % self.step_weeks:
            raise ConfigError(
                f"{path}.horizon_weeks",
                self.horizon_weeks,
                f"a multiple of step_weeks ({self.step_weeks})",
            )
        try:
            _dt.date.fromisoformat(self.start_date)
        except ValueError:
            raise ConfigError(
                f"{path}.start_date", self.start_date, "an ISO date YYYY-MM-DD"
            ) from None


@dataclass(frozen=True)
class OutputParams:
    """What a run writes to its folder."""

    overwrite: bool = param(False, doc="a run may replace another run's files in its folder")
    transactions: bool = param(False, doc="write the transaction log (Parquet, in chunks)")
    transactions_chunk_rows: int = param(500_000, lo=1, doc="rows buffered per Parquet write")
    customer_table: bool = param(True, doc="write the final customer table")
    figure: bool = param(True, doc="draw the run's figure (PNG)")
    summary: bool = param(True, doc="print the summary table at the end")


@dataclass(frozen=True)
class SimConfig:
    """A complete, validated run configuration."""

    seed: int = param(0, lo=0, doc="root seed; every random stream is spawned from it")
    design: int = param(
        0, lo=0, doc="design number in experiments that draw random designs (loyaltysim.designs)"
    )
    market: MarketParams = param(MarketParams())
    customers: CustomerParams = param(CustomerParams())
    firm: FirmParams = param(FirmParams(programme=DiscountParams()))
    competitor: CompetitorParams = param(CompetitorParams())
    output: OutputParams = param(OutputParams())

    def check(self, path: str) -> None:
        names = [f.name for f in self.firm_params()]
        if len(set(names)) != len(names):
            raise ConfigError(
                "competitor.name",
                self.competitor.name,
                f"a name other than the focal firm's ({self.firm.name!r})",
            )
        horizon = self.market.horizon_weeks
        for key, firm in (("firm", self.firm), ("competitor", self.competitor)):
            prog = firm.programme
            if prog.start_week > horizon:
                raise ConfigError(
                    f"{key}.programme.start_week", prog.start_week, f"<= horizon_weeks ({horizon})"
                )

    def firm_params(self) -> list[FirmParams]:
        """The focal firm followed by each rival, rivals named ``rival1``, ``rival2``..."""
        rivals = []
        values = {f.name: getattr(self.competitor, f.name) for f in fields(FirmParams)}
        for i in range(self.competitor.count):
            name = (
                self.competitor.name
                if self.competitor.count == 1
                else f"{self.competitor.name}{i + 1}"
            )
            rivals.append(FirmParams(**{**values, "name": name}))
        return [self.firm, *rivals]


def make_config(data: Any = None) -> SimConfig:
    """Validate a mapping (or DictConfig) into a :class:`SimConfig`; ``None`` gives defaults."""
    if data is None:
        return SimConfig()
    try:
        from omegaconf import DictConfig, OmegaConf

        if isinstance(data, DictConfig):
            data = OmegaConf.to_container(data, resolve=True)
    except ImportError:  # pragma: no cover - omegaconf comes with hydra-core
        pass
    data = {k: v for k, v in dict(data).items() if k != "hydra"}
    return build(SimConfig, data)
