"""Customers as Mesa agents: the model's customer rules, one customer at a time.

:class:`Customer` is the specification of what a customer does (``engine=agents``): its
:meth:`~Customer.step` is the customer's week at the shops, read top to bottom, and
:meth:`~Customer.recommend` and :meth:`~Customer.forget` are the two later moments of the
week (after the firms have reacted to the week's sales, and at its end). The vectorised
engine (``engine=arrays``, the default: :mod:`~loyaltysim.model.purchases`,
:mod:`~loyaltysim.model.referrals`, :mod:`~loyaltysim.model.memory`) must give the same
results on the same draws; the tests check it for every programme type.

A customer owns its state as attributes. Each attribute is the customer's own cell of the
population table (:mod:`~loyaltysim.model.population`): ``engagement``, ``habit``, ``member``,
``points``... are NumPy views of its row (one value per firm), and ``status``, ``home``,
``price_sensitivity``... read and write its entry. Firms, programmes, poaching and metrics,
the same objects in both engines, act on that table, so nothing needs synchronising.

:class:`CustomerAgent` is the read-only view the array engine makes on demand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.customers import SEGMENTS
from ..model.mesa_core import Agent, Model
from ..model.population import ACTIVE, GONE, NEVER


class Cell:
    """An attribute that is the customer's entry in one population array."""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, agent, owner=None):
        return self if agent is None else getattr(agent.pop, self.name)[agent.row].item()

    def __set__(self, agent, value) -> None:
        getattr(agent.pop, self.name)[agent.row] = value


ROWS = ("taste", "engagement", "habit", "points", "member", "offer_until", "contacted")
ROWS += ("last_interaction", "recent", "firm_spend")


@dataclass
class Week:
    """What a customer sees of the market this step (set by the market before purchases)."""

    week: int
    dt: float
    terms: object  # trades.Terms: the firms' prices and member terms
    draws: object  # trades.Draws: this step's uniform draws, one per person
    choice: object  # purchases.ChoiceParams
    memory: object  # memory.MemoryParams
    rules: object  # status.StatusRules


class Customer(Agent):
    """One person of the market: a prospect, a customer, or gone (left the category)."""

    status, segment, price_sensitivity = Cell(), Cell(), Cell()
    purchase_rate, dropout, basket = Cell(), Cell(), Cell()
    home, last_firm, challenger, challenge_since = Cell(), Cell(), Cell(), Cell()
    recent_week, trial_pending, last_loyal_week, last_loyal_active = Cell(), Cell(), Cell(), Cell()
    purchases, spend, left_week, referrals = Cell(), Cell(), Cell(), Cell()

    def __init__(self, model: Model, row: int) -> None:
        super().__init__(model)
        self.row, self.pop = row, model.population
        for name in ROWS:  # memory and terms of each firm: views of the row
            setattr(self, name, getattr(self.pop, name)[row])
        self.diary: list[dict] | None = None  # memory over time, once watched

    # --------------------------------------------------------------- the week at the shops
    def step(self) -> dict | None:
        """The customer's week: whether they buy, where and why, what they pay and remember,
        and whether they leave. Returns what happened (None: no purchase)."""
        if self.status != ACTIVE:
            return None
        w = self.model.this_week
        trips = self.shopping_trips(w)  # purchase occasions this week (Poisson)
        trial = self.trial_pending  # a BG/NBD cohort's first purchase
        if trips == 0 and not trial:
            return None
        utility = self.utilities(w)  # what each firm is worth to them now, and why
        firm = self.choose(utility, w.draws.choice[self.row])  # logit choice
        made, leaves = self.stay_or_leave(trips, trial, firm, w)  # purchases made; leaves?
        bought = self.pay(firm, made, w)  # price, rebate, offer, points
        bought["failed"] = self.experience(firm, w)  # service: good or a failure
        bought["prev_home"] = self.home
        bought["was_loyal"], bought["was_active"] = self.loyal_so_far(w)
        self.remember(firm, w.memory.loyalty_smoothing)  # habit: H <- a H + 1[firm]
        bought["home"] = self.update_main_firm(firm, made, w)
        bought["prev_firm"], self.last_firm = self.last_firm, firm
        self.purchases += made
        self.spend += bought["paid"]
        self.firm_spend[firm] += bought["paid"]
        if leaves:
            self.status, self.left_week = GONE, w.week
        return {**bought, "buyers": self.row, "firm": firm, "left": leaves}

    # ----------------------------------------------------------------------- the rules
    def shopping_trips(self, w: Week) -> int:
        """Purchase occasions ~ Poisson(rate * dt), by inverting the CDF at this week's draw."""
        lam, u = self.purchase_rate * w.dt, w.draws.trips[self.row]
        k, p = 0, np.exp(-lam)
        cdf = p
        while u > cdf and p > 0:
            k += 1
            p *= lam / k
            cdf += p
        return k

    def engaged(self) -> np.ndarray:
        """Engagement with each firm on (-1, 1): g(E) = E / (1 + |E|)."""
        return self.engagement / (1.0 + np.abs(self.engagement))

    def utilities(self, w: Week) -> np.ndarray:
        """U_f = w_E g_f + w_H L_f + taste_f - beta_f (p_f - mean p) + w_P beta_f pts_f/basket."""
        c, t = w.choice, w.terms
        g = self.engaged()
        rebate = self.member_terms(t)[0]
        offer = self.offer_until >= w.week  # a rival's poaching offer still valid
        price = t.price * (1.0 - (rebate * self.member + t.offer_depth * offer))
        price = np.maximum(price, 0.0)
        open_ = np.ones(price.size, bool) if t.open is None else t.open
        beta = (
            (1.0 - c.engagement_price_relief * np.maximum(g, 0.0))
            * (1.0 + c.dissatisfaction_price * np.maximum(-g, 0.0))
            * self.price_sensitivity
        )
        loyalty = self.habit / (self.habit.sum() + c.habit_prior)  # share of remembered buys
        points_eur = self.points * t.point_value * self.member
        u = c.engagement_weight * g + c.loyalty_weight * loyalty + self.taste
        u = u - beta * (price - price[open_].mean())
        if np.isfinite(t.threshold).any():  # unredeemed points are worth something (S13)
            u = u + c.points_weight * beta * points_eur / self.basket
        return np.where(open_, u, -np.inf)  # a firm not yet in the market is never chosen

    def member_terms(self, terms) -> tuple[np.ndarray, np.ndarray]:
        """This customer's rebate and points per EUR at each firm (tiers may set them)."""
        rebate, earn = terms.member_rates(np.array([self.row]))
        return np.atleast_2d(rebate)[0], np.atleast_2d(earn)[0]

    @staticmethod
    def choose(utility: np.ndarray, u: float) -> int:
        """Multinomial logit: the firm whose bracket of the cumulated weights holds ``u``."""
        cum = np.cumsum(np.exp(utility - utility.max()))
        return int(np.searchsorted(cum[:-1], u * cum[-1]))

    def stay_or_leave(self, trips: int, trial: bool, firm: int, w: Week) -> tuple[int, bool]:
        """Drop-out after a purchase, d (1 - relief max(g, 0)) (1 + dissatisfaction max(-g, 0))
        at the chosen firm (S4; capped at 1): purchases made, and left? In a BG/NBD cohort
        the trial purchase carries no drop-out and none follow leaving."""
        g, c = self.engaged()[firm], w.choice
        d = self.dropout * (1.0 - c.engagement_churn_relief * max(g, 0.0))
        d = min(d * (1.0 + c.dissatisfaction_churn * max(-g, 0.0)), 1.0)
        u = w.draws.churn[self.row]
        if not w.rules.cohort:
            return trips, u < 1.0 - np.power(1.0 - d, float(trips))
        self.trial_pending = False
        with np.errstate(divide="ignore", invalid="ignore"):  # BG/NBD: none after leaving
            j = np.floor(np.log1p(-u) / np.log1p(-d)) + 1  # first j: 1-(1-d)^j > u
        return (int(j) + trial, True) if j <= trips else (trips + trial, False)

    def pay(self, firm: int, k: int, w: Week) -> dict:
        """List price less rebate, offer and a points reward; members earn points."""
        t, g = w.terms, max(self.engaged()[firm], 0.0)
        rebate_rate, earn_rate = (x[firm] for x in self.member_terms(t))
        member, offer = bool(self.member[firm]), bool(self.offer_until[firm] >= w.week)
        units = self.basket * (1.0 + w.choice.engagement_basket_lift * g) * k
        list_value = t.price[firm] * units
        rebate = list_value * rebate_rate * member
        offer_eur = list_value * t.offer_depth[firm] * offer
        before = max(list_value - rebate - offer_eur, 0.0)
        redeemed = earned = 0.0
        if np.isfinite(t.threshold).any():  # some firm runs a points scheme this step
            balance, needed = self.points[firm], t.threshold[firm]
            redeem = member and balance >= needed
            redeemed = min(t.reward_eur()[firm], before) if redeem else 0.0
            earned = (before - redeemed) * earn_rate * t.points_keep[firm] * member
            self.points[firm] = balance - (needed if redeem else 0.0) + earned
        if offer:
            self.offer_until[firm] = NEVER  # an offer is used once
        paid, bill = before - redeemed, dict(trips=k, units=units, list_value=list_value)
        bill |= dict(rebate=rebate, offer=offer_eur, redeemed=redeemed, paid=paid)
        return bill | dict(points_earned=earned, member=member)

    def experience(self, firm: int, w: Week) -> bool:
        """A service failure (probability 1 - quality) costs engagement; else a little gain."""
        failed = bool(w.draws.failure[self.row] < w.terms.failure[firm])
        m = w.memory
        self.engagement[firm] += -m.failure_penalty if failed else m.experience_gain
        return failed

    def loyal_so_far(self, w: Week) -> tuple[bool, bool]:
        """Loyal (and active) to the main firm at a purchase lately? (S6; see status)"""
        r, home, total = w.rules, self.home, self.recent.sum()
        share = self.recent[home] / total if total > 0 else 0.0
        if share >= r.loyal_threshold:
            self.last_loyal_week = w.week
            self.last_loyal_active = self.last_interaction[home] > w.week - r.active_window
        loyal = self.last_loyal_week > w.week - (r.main_persistence + r.active_window)
        return loyal, loyal and self.last_loyal_active

    def remember(self, firm: int, a: float) -> None:
        """Habit: every past purchase keeps weight a; this one counts 1."""
        self.habit *= a
        self.habit[firm] += 1.0

    def update_main_firm(self, firm: int, k: int, w: Week) -> int:
        """The firm on top of the recent purchases becomes the main firm once it has stayed
        there ``main_persistence`` weeks (a defection); ties keep the main firm."""
        r = w.rules
        self.recent *= np.power(r.main_decay, w.week - self.recent_week)
        self.recent[firm] += k
        self.recent_week = w.week
        main = self.home
        top = main if self.recent[main] >= self.recent.max() else int(self.recent.argmax())
        if top == main:
            self.challenger = -1
            return main
        if self.challenger != top:
            self.challenger, self.challenge_since = top, w.week
        if w.week - self.challenge_since >= r.main_persistence:
            self.home, self.challenger = top, -1
        return self.home

    # ------------------------------------------------------------ later in the week
    def recommend(self, u: float, rate: float, wom: np.ndarray, boost: np.ndarray) -> int:
        """Whether they recommend their main firm this week (S8): with probability
        rate * dt * word_of_mouth[segment] * max(g, 0) * (1 + boost). Returns the firm or -1."""
        g = max(self.engaged()[self.home], 0.0)
        says = u < rate * wom[self.segment] * g * (1.0 + boost[self.row])
        return self.home if says else -1

    def hear(self, firm: int, gain: float) -> None:
        """A neighbour's recommendation of ``firm``: engagement with it, unless it is theirs."""
        if self.home != firm:
            self.engagement[firm] += gain

    def forget(self, decay: float, forget_rate: float) -> None:
        """End of the week: engagement fades; a forgetful customer loses habit toward firms
        that did not contact them (S6). Only customers: a departed customer's memory stays
        as it was when they left."""
        if self.status != ACTIVE:
            return
        self.engagement *= decay
        if forget_rate > 0:
            self.habit *= 1.0 - forget_rate * ~self.contacted

    # ------------------------------------------------------------------- inspection
    def reasons(self) -> dict[str, dict[str, float]]:
        """Why they would choose each firm at this step's terms: the parts of the utility
        (engagement, habit loyalty, taste, price against the mean, points), per firm."""
        w = self.model.this_week
        c, t = w.choice, w.terms
        g, open_ = self.engaged(), np.ones(len(t.price), bool) if t.open is None else t.open
        offer = self.offer_until >= w.week
        price = np.maximum(
            t.price * (1.0 - (self.member_terms(t)[0] * self.member + t.offer_depth * offer)), 0.0
        )
        beta = (
            (1.0 - c.engagement_price_relief * np.maximum(g, 0.0))
            * (1.0 + c.dissatisfaction_price * np.maximum(-g, 0.0))
            * self.price_sensitivity
        )
        points = c.points_weight * beta * self.points * t.point_value * self.member / self.basket
        parts = {
            "engagement": c.engagement_weight * g,
            "loyalty": c.loyalty_weight * self.habit / (self.habit.sum() + c.habit_prior),
            "taste": self.taste.copy(),
            "price": -beta * (price - price[open_].mean()),
            "points": points if np.isfinite(t.threshold).any() else np.zeros_like(g),
        }
        return {
            f.name: {k: float(v[f.index]) for k, v in parts.items()}
            for f in self.model.firms
            if open_[f.index]
        }

    def memory(self) -> dict[str, dict[str, float]]:
        """Engagement, g(E) and habit loyalty toward each firm, now."""
        loyalty = self.habit / (self.habit.sum() + self.model.config.customers.choice.habit_prior)
        return {
            f.name: {"engagement": e, "g": g, "loyalty": lo, "member": bool(m)}
            for f, e, g, lo, m in zip(
                self.model.firms, self.engagement, self.engaged(), loyalty, self.member,
                strict=True,
            )
        }  # fmt: skip

    def __repr__(self) -> str:
        status = ("prospect", "active", "gone")[self.status]
        main = self.model.firms[self.home].name if self.home >= 0 else None
        return f"Customer(id={self.row}, {status}, {SEGMENTS[self.segment]}, main={main})"


class CustomerAgent(Agent):
    """A read-only Mesa view of one customer, made on demand from the population arrays."""

    def __init__(self, model: Model, row: int) -> None:
        super().__init__(model)
        self.row = row

    def _firm_dict(self, array: np.ndarray) -> dict[str, float]:
        return {f.name: array[self.row, f.index].item() for f in self.model.firms}

    @property
    def status(self) -> str:
        return ("prospect", "active", "gone")[int(self.model.population.status[self.row])]

    @property
    def segment(self) -> str:
        return SEGMENTS[int(self.model.population.segment[self.row])]

    @property
    def price_sensitivity(self) -> float:
        return float(self.model.population.price_sensitivity[self.row])

    @property
    def engagement(self) -> dict[str, float]:
        return self._firm_dict(self.model.population.engagement)

    @property
    def loyalty(self) -> dict[str, float]:
        return self._firm_dict(self.model.population.habit)

    @property
    def member(self) -> dict[str, bool]:
        return self._firm_dict(self.model.population.member)

    @property
    def main_firm(self) -> str | None:
        f = int(self.model.population.home[self.row])
        return self.model.firms[f].name if f >= 0 else None

    def __repr__(self) -> str:
        return f"CustomerAgent(id={self.row}, {self.status}, {self.segment}, main={self.main_firm})"
