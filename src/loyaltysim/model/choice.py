"""The weights of the customers' firm choice and the effects of engagement on price
sensitivity, drop-out and basket (S4), and of dissatisfaction (engagement below zero) on the
first two: the parameters of :mod:`~loyaltysim.model.purchases`."""

from __future__ import annotations

from dataclasses import dataclass

from .params import UNCERTAINTY, Params, param

__all__ = ["ChoiceParams"]


@dataclass(frozen=True)
class ChoiceParams(Params):
    """Weights of the multinomial-logit firm choice (utility units) and S4's effects."""

    engagement_weight: float = param(
        0.484,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="utility",
        doc="utility of full engagement g(E)=1 (S3)",
        plausible=(0.0, 2.0),
        source="no published estimate: from no effect to half the loyalty weight",
    )
    loyalty_weight: float = param(
        1.16,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="utility",
        doc="state dependence: utility of a firm that holds all of a customer's remembered "
        "purchases (habit loyalty L = H / (sum H + k) -> 1)",
        plausible=(0.5, 4.5),
        source="Guadagni & Little (1983) 3.9 for coffee without controls for heterogeneity, "
        "which take much of it (Dube, Hitsch & Rossi 2010); with three identical firms and no "
        "taste spread, lock-in sets in between 2.5 and 3 (validation: polygamy)",
    )
    habit_prior: float = param(
        1.0,
        lo=0,
        hi=1e6,
        lo_open=True,
        kind=UNCERTAINTY,
        unit="purchases",
        doc="pseudo-purchases, spread evenly over the firms, that shrink the habit loyalty of "
        "a short purchase memory toward indifference",
        plausible=(0.5, 3.0),
        source="reason: a share estimated from a few remembered purchases is uncertain "
        "(Laplace/Dirichlet smoothing with about one pseudo-purchase); no direct estimate",
    )
    taste_sigma: float = param(
        1.44,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="utility",
        doc="spread of persistent tastes for each firm across customers (heterogeneity)",
        plausible=(0.0, 1.5),
        source="reason: random-coefficient brand-choice models find brand intercepts varying "
        "across households by about the utility of a 10-30% price difference",
    )
    points_weight: float = param(
        0.235,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="utility per utility of EUR",
        doc="weight of unredeemed points, as a share of their euro value",
        plausible=(0.0, 1.0),
        source="reason: points are valued from not at all to their face value (Klemperer)",
    )
    engagement_price_relief: float = param(
        0.151,
        lo=0,
        hi=1,
        kind=UNCERTAINTY,
        unit="fraction",
        doc="fraction by which full engagement lowers price sensitivity (S4)",
        plausible=(0.0, 0.5),
        source="reason: S4 states the direction, not the size; from none to half",
    )
    engagement_churn_relief: float = param(
        0.673,
        lo=0,
        hi=1,
        kind=UNCERTAINTY,
        unit="fraction",
        doc="fraction by which full engagement lowers the category drop-out probability (S4)",
        plausible=(0.0, 0.8),
        source="Gopalakrishnan et al. (2021): programme value came mostly through lower "
        "attrition; size per unit of engagement unknown",
    )
    engagement_basket_lift: float = param(
        0.0921,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="fraction",
        doc="relative basket increase at full engagement (S4)",
        plausible=(0.0, 0.3),
        source="Belli et al. (2022): programme effects on behaviour are positive but modest",
    )
    dissatisfaction_price: float = param(
        0.553,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="fraction",
        doc="relative rise in price sensitivity toward a firm at full dissatisfaction "
        "(g -> -1): beta is multiplied by 1 + dissatisfaction_price * max(-g, 0)",
        plausible=(0.0, 0.6),
        source="Anderson (1996) and Homburg, Koschate & Hoyer (2005): less satisfied "
        "customers tolerate smaller price differences and pay less; Bolton (1998): bad "
        "experiences weigh more than good ones. reason: the size is a judgement, from none "
        "to about three times the relief of full engagement",
    )
    dissatisfaction_churn: float = param(
        0.18,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="fraction",
        doc="relative rise in the drop-out probability after buying at a firm the customer "
        "is fully dissatisfied with (g -> -1): d is multiplied by "
        "1 + dissatisfaction_churn * max(-g, 0) (capped at 1)",
        plausible=(0.0, 2.0),
        source="Keaveney (1995): service failures were the most cited reason for leaving a "
        "provider (core failures by about 44% of switchers); Bolton (1998): lower cumulative "
        "satisfaction shortens relationships, losses weighing more than gains. reason: the "
        "size is a judgement, from none to tripling drop-out",
    )
