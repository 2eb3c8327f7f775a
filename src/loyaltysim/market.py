"""The market model: a Mesa ``Model`` whose step only sets the order of events.

Order of one step (``dt = step_weeks`` weeks, starting at week ``w``):

1. programmes past their ``end_week`` are withdrawn (S1); adaptive firms review prices (S12);
2. each firm's terms for the step: price, member rebates or points, poaching offers, service;
3. programmes act on their audience (contacts, surprises; S3, S6, S7, S11);
4. poaching firms send offers to rivals' customers (S6);
5. customers buy, choose a firm, pay, remember and may leave the category (customers.py);
6. buyers may join the programme of the firm they bought from (S13);
7. engaged customers recommend their firm; referrers are thanked (S8); prospects join;
8. firms buy new customers with their acquisition budget (S5);
9. engagement decays; quiet customers forget firms that did not contact them (S6);
10. metrics are recorded and profit booked.

The rules live in their own modules; this file only wires them together.
"""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np

from .competitors import send_offers
from .config import SimConfig
from .customers import Draws, Outcome, Terms, choose, decay_memory, purchase_step
from .firms import Firm
from .metrics import Recorder, customer_table, population_metrics
from .network import Network, small_world, to_networkx
from .params import CHANNELS, SEGMENTS
from .population import (
    ACTIVE,
    ORIGIN_PAID,
    ORIGIN_REFERRAL,
    Population,
    draw_population,
)
from .programmes import StepContext, make_programme
from .referrals import referral_step
from .streams import Streams

TransactionSink = Callable[[int, Outcome], None]


class CustomerAgent(mesa.Agent):
    """A read-only Mesa view of one customer, made on demand from the population arrays."""

    def __init__(self, model: Market, row: int) -> None:
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
        return self._firm_dict(self.model.population.loyalty)

    @property
    def member(self) -> dict[str, bool]:
        return self._firm_dict(self.model.population.member)

    @property
    def home_firm(self) -> str | None:
        f = int(self.model.population.home[self.row])
        return self.model.firms[f].name if f >= 0 else None

    def __repr__(self) -> str:
        return f"CustomerAgent(id={self.row}, {self.status}, {self.segment}, home={self.home_firm})"


class Market(mesa.Model):
    """One market: customers, the focal firm and its competitors, stepped weekly.

    Args:
        config: a validated :class:`~loyaltysim.config.SimConfig`.
        transaction_sink: called after each step with ``(week, outcome)`` when a
            transaction log is wanted.
    """

    def __init__(self, config: SimConfig, transaction_sink: TransactionSink | None = None):
        self.streams = Streams(config.seed)
        super().__init__(rng=self.streams.get("mesa"))
        self.config = config
        m, c = config.market, config.customers
        self.dt = float(m.step_weeks)
        self.n_steps = m.horizon_weeks // m.step_weeks
        self.week = 0
        self.transaction_sink = transaction_sink

        params = config.firm_params()
        self.firms = [
            Firm(self, i, p, make_programme(p.programme, i)) for i, p in enumerate(params)
        ]
        self.firm_names = [f.name for f in self.firms]
        n_firms = len(self.firms)

        pop, initial = draw_population(c, n_firms, self.streams.get("population"))
        self.population: Population = pop
        self.network: Network = small_world(
            pop.size, c.referral.network_degree, c.referral.rewiring, self.streams.get("network")
        )
        segs = c.segments.ordered()
        self._reach = np.array([[ch in s.channels for ch in CHANNELS] for s in segs])
        self._response = np.array([s.response for s in segs])
        self._wom = np.array([s.word_of_mouth for s in segs])
        self._forget = np.array([s.forget_rate for s in segs])
        self._forget_rows = np.flatnonzero(self._forget[pop.segment] > 0)
        self._decay = 0.5 ** (self.dt / c.memory.engagement_half_life_weeks)
        self._boost = np.zeros(pop.size)
        self._assign_initial_firms(initial)

        self.recorder = Recorder(self.n_steps, n_firms)
        self._customer_views: dict[int, CustomerAgent] = {}

    def _assign_initial_firms(self, rows: np.ndarray) -> None:
        """Week-0 customers are spread over firms by a logit on list price alone."""
        pop = self.population
        prices = np.array([f.price for f in self.firms])
        util = -pop.price_sensitivity[rows, None] * prices
        u = self.streams.get("population").random(rows.size)
        firm = choose(util, u)
        pop.last_firm[rows] = firm
        pop.home[rows] = firm
        pop.loyalty[rows, firm] = self.config.customers.initial_loyalty

    # ----------------------------------------------------------------------------- step
    def step(self) -> None:
        """Advance the market by one step of ``step_weeks`` weeks."""
        if self.recorder.steps >= self.n_steps:
            self.running = False
            return
        cfg, pop, dt, week = self.config, self.population, self.dt, self.week
        n_firms = len(self.firms)
        mk, cu = cfg.market, cfg.customers

        for firm in self.firms:
            prog = firm.programme
            end = prog.params.end_week
            if end is not None and week >= end and not prog.withdrawn:
                prog.withdraw(pop)
            firm.review_price(week)

        terms = Terms.plain(
            np.array([f.price for f in self.firms]), np.array([f.failure_rate for f in self.firms])
        )
        poachers = [f for f in self.firms if f.poaching_active(week)]
        for firm in self.firms:
            firm.programme.set_terms(terms, week)
        for firm in poachers:
            terms.offer_depth[firm.index] = firm.params.poaching.depth

        rows = pop.active_index()
        pop.contacted[:] = False
        self._boost[:] = 0.0
        programme_cost = np.zeros(n_firms)
        ctxs = [
            StepContext(
                pop,
                week,
                dt,
                self.streams.get("programme", f.index),
                rows,
                self._reach,
                self._response,
                self._boost,
            )
            for f in self.firms
        ]
        for firm, ctx in zip(self.firms, ctxs, strict=True):
            programme_cost[firm.index] += firm.programme.weekly(ctx)

        offers_sent = np.zeros(n_firms, np.int64)
        for firm in poachers:
            offers_sent[firm.index] = send_offers(
                pop,
                rows,
                firm.index,
                firm.params.poaching,
                week,
                dt,
                self.streams.get("poaching", firm.index),
                mk.loyal_threshold,
                mk.active_threshold,
            )

        draws = self._draws()
        out = purchase_step(
            pop,
            rows,
            terms,
            draws,
            week,
            dt,
            cu.choice,
            cu.memory,
            mk.loyal_threshold,
            mk.active_threshold,
        )
        flows = self._purchase_flows(out, n_firms)
        programme_cost += flows.pop("member_discounts")

        for firm, ctx in zip(self.firms, ctxs, strict=True):
            programme_cost[firm.index] += firm.programme.after_purchase(
                ctx, out.buyers[out.firm == firm.index]
            )

        still = rows[pop.status[rows] == ACTIVE]
        refs = referral_step(
            pop,
            self.network,
            still,
            cu.referral,
            self._wom,
            self._boost,
            dt,
            self.streams.get("referral"),
        )
        referrals = np.bincount(refs.firm, minlength=n_firms)
        for firm, ctx in zip(self.firms, ctxs, strict=True):
            programme_cost[firm.index] += firm.programme.on_referrals(
                ctx, refs.referrers[refs.firm == firm.index]
            )
        loyalty0 = 1.0 - cu.memory.loyalty_smoothing
        for f in range(n_firms):
            pop.activate(refs.joined[refs.joined_firm == f], f, week, ORIGIN_REFERRAL, loyalty0)
        referred = np.bincount(refs.joined_firm, minlength=n_firms)

        acquired, acquisition_cost = self._acquire(week, len(poachers), loyalty0)
        acquisition_cost += flows.pop("offer_discounts")

        decay_memory(pop, self._decay, self._forget, self._forget_rows)

        stocks = population_metrics(pop, n_firms, mk.loyal_threshold, mk.active_threshold)
        profit = flows["gross_margin"] - programme_cost - acquisition_cost
        for firm in self.firms:
            firm.book_profit(float(profit[firm.index]))
        total = flows["purchases"].sum()
        self.recorder.record(
            {
                **flows,
                **stocks,
                "price": terms.price,
                "share": flows["purchases"] / total if total else np.full(n_firms, np.nan),
                "programme_cost": programme_cost,
                "acquisition_cost": acquisition_cost,
                "profit": profit,
                "cumulative_profit": np.array([f.cumulative_profit for f in self.firms]),
                "acquired": acquired,
                "referred": referred,
                "referrals": referrals,
                "offers_sent": offers_sent,
            }
        )
        if self.transaction_sink is not None:
            self.transaction_sink(week, out)
        self.week += cfg.market.step_weeks
        if self.recorder.steps >= self.n_steps:
            self.running = False

    def _draws(self) -> Draws:
        size = self.population.size
        s = self.streams
        return Draws(
            trips=s.get("purchase").random(size),
            choice=s.get("choice").random(size),
            failure=s.get("service").random(size),
            churn=s.get("churn").random(size),
        )

    def _purchase_flows(self, out: Outcome, n_firms: int) -> dict[str, np.ndarray]:
        def per_firm(weights: np.ndarray | None = None, mask: np.ndarray | None = None):
            firms = out.firm if mask is None else out.firm[mask]
            w = weights if weights is None or mask is None else weights[mask]
            return np.bincount(firms, w, minlength=n_firms)

        units = per_firm(out.units)
        revenue = per_firm(out.list_value)
        cogs = units * np.array([f.params.unit_cost for f in self.firms])
        had = out.prev_firm >= 0
        returning = np.bincount(out.prev_firm[had], minlength=n_firms)
        stayed = per_firm(mask=had & (out.prev_firm == out.firm)).astype(np.int64)
        moved = out.home != out.prev_home
        with np.errstate(invalid="ignore", divide="ignore"):
            repeat = stayed / returning
        return {
            "purchases": per_firm(out.trips).astype(np.int64),
            "units": units,
            "revenue": revenue,
            "cogs": cogs,
            "gross_margin": revenue - cogs,
            "member_discounts": per_firm(out.rebate + out.redeemed),
            "offer_discounts": per_firm(out.offer),
            "repeat_rate": repeat,
            "churn_to_competitor": np.bincount(out.prev_home[moved], minlength=n_firms),
            "defected_active_loyal": np.bincount(
                out.prev_home[moved & out.was_active], minlength=n_firms
            ),
            "defected_passive_loyal": np.bincount(
                out.prev_home[moved & out.was_loyal & ~out.was_active], minlength=n_firms
            ),
            "switched_in": np.bincount(out.home[moved], minlength=n_firms),
            "churn_out": np.bincount(out.home[out.left], minlength=n_firms),
        }

    def _acquire(
        self, week: int, n_poachers: int, loyalty0: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Paid acquisition: budget / cost per customer new customers (stochastic rounding)."""
        pop, rng = self.population, self.streams.get("acquisition")
        acquired = np.zeros(len(self.firms), np.int64)
        cost = np.zeros(len(self.firms))
        crowding = self.config.market.acquisition_crowding
        for firm in self.firms:
            unit = firm.acquisition_cost(n_poachers, crowding)
            expected = firm.params.acquisition.budget_per_week * self.dt / unit
            n = int(expected) + int(rng.random() < expected - int(expected))
            rows = pop.take_prospects(n)
            pop.activate(rows, firm.index, week, ORIGIN_PAID, loyalty0)
            acquired[firm.index] = rows.size
            cost[firm.index] = rows.size * unit
        return acquired, cost

    # ------------------------------------------------------------------------- running
    def run(self, steps: int | None = None) -> Market:
        """Step to the horizon (or ``steps`` more steps)."""
        todo = self.n_steps - self.recorder.steps if steps is None else steps
        for _ in range(todo):
            if not self.running:
                break
            self.step()
        return self

    def metrics(self):
        """The tidy per-step, per-firm table so far (pandas DataFrame)."""
        m = self.config.market
        return self.recorder.frame(self.firm_names, m.start_date, m.step_weeks)

    def customers(self):
        """Final (or current) customer table: everyone who was ever a customer."""
        return customer_table(self.population, self.firm_names, self.config.market.loyal_threshold)

    def customer(self, customer_id: int) -> CustomerAgent:
        """A Mesa agent view of one customer (made on demand, cached)."""
        if not 0 <= customer_id < self.population.size:
            raise IndexError(f"customer_id {customer_id} outside 0..{self.population.size - 1}")
        if customer_id not in self._customer_views:
            self._customer_views[customer_id] = CustomerAgent(self, customer_id)
        return self._customer_views[customer_id]

    def social_graph(self):
        """The social network as a ``networkx.Graph``."""
        return to_networkx(self.network)

    def release(self) -> None:
        """Drop Mesa's class-level reference to this model (mesa 3.3 ``Agent._ids``) so a
        worker that runs many models does not grow."""
        ids = getattr(mesa.Agent, "_ids", None)
        if isinstance(ids, dict):
            ids.pop(self, None)
        self._customer_views.clear()
