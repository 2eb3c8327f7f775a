"""The market model: a Mesa ``Model`` whose step only sets the order of the phases.

One step plays ``dt = step_weeks`` weeks from week ``w``, in this order:

1. programmes past their ``end_week`` are withdrawn (S1); adaptive firms review prices (S12);
2. each firm's terms for the step: price, member terms, poaching offers, service (firms);
3. programmes act on their audience: contacts, surprises, tier reviews (S3, S6, S7, S11);
4. poaching firms send offers to rivals' customers (S6; poaching);
5. customers buy, choose a firm, pay, remember and may leave the category (purchases);
6. programmes react to their firm's purchases: sign-ups (S13), spend, tiers;
7. engaged customers recommend their firm; referrers are thanked (S8); prospects join
   (referrals);
8. firms buy new customers with their acquisition budget (S5; firms);
9. engagement decays; quiet customers forget firms that did not contact them (S6; memory);
10. the step's flows and stocks are recorded and profit booked (metrics).

Customers play phases 5, 7 and 9 through ``self.engine``: the vectorised rules
(``engine=arrays``, the default) or one Mesa agent per customer (``engine=agents``:
:class:`~loyaltysim.engines.crowd.Crowd` of :class:`~loyaltysim.engines.agents.Customer`);
same results.

The clock is Mesa's ``steps``: inside step ``s`` the week is ``(s - 1) * step_weeks``, and
:attr:`Market.week` is the number of weeks simulated so far. Stepping past the horizon does
nothing and leaves the clock at the horizon.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from ..model.config import SimConfig
from ..model.customers import SegmentTable, assign_initial_firms, draw_population, draw_tastes
from ..model.firms import Firm, acquire, offer_terms, review_prices
from ..model.mesa_core import Model, forget_model
from ..model.metrics import Recorder, StepLedger, customer_table
from ..model.network import Network, small_world, to_networkx
from ..model.poaching import poach
from ..model.population import ACTIVE, Population
from ..model.programmes import StepContext, make_programme
from ..model.programmes.base import after_purchase_costs, referral_costs, weekly_costs, withdraw_due
from ..model.purchases import Draws, Outcome
from ..model.referrals import admit_referred
from ..model.status import StatusRules
from ..model.streams import Streams
from ..model.trades import DRAW_STREAMS
from . import engine
from .agents import CustomerAgent
from .crowd import Crowd
from .warmstart import WarmStart, warmup_key

TransactionSink = Callable[[int, Outcome], None]


class Market(Model):
    """One market: customers, the focal firm and its competitors, stepped weekly.

    Args:
        config: a validated :class:`~loyaltysim.model.config.SimConfig`.
        transaction_sink: called after each step with ``(week, outcome)`` when a
            transaction log is wanted.
    """

    def __init__(
        self,
        config: SimConfig,
        transaction_sink: TransactionSink | None = None,
        warm: WarmStart | None = None,
    ):
        if warm is not None and (config.engine != "arrays" or warm.key != warmup_key(config)):
            raise ValueError("this warm start is of a market whose warm-up differs")
        self.streams = Streams(config.seed) if warm is None else copy.deepcopy(warm.streams)
        mesa_stream = self.streams.get("mesa")
        if warm is not None:  # Mesa draws from it again below: from where it did then
            after = mesa_stream.bit_generator.state
            mesa_stream.bit_generator.state = warm.mesa_state
        self._mesa_state = mesa_stream.bit_generator.state
        super().__init__(rng=mesa_stream)
        if warm is not None and mesa_stream.bit_generator.state != after:
            raise ValueError("the warm-up drew from the Mesa stream: it cannot be shared")
        self.config = config
        m, c = config.market, config.customers
        self.dt = float(m.step_weeks)
        self.n_steps = m.horizon_weeks // m.step_weeks
        self.transaction_sink = transaction_sink

        params = config.firm_params()
        self.firms = [
            Firm(self, i, p, make_programme(p.programme, i)) for i, p in enumerate(params)
        ]
        self.firm_names = [f.name for f in self.firms]
        if warm is None:
            pop, initial = draw_population(c, len(self.firms), self.streams.get("population"))
            self.network: Network = small_world(
                pop.size, c.referral.network_degree, c.referral.rewiring,
                self.streams.get("network"),
            )  # fmt: skip
            draw_tastes(pop, c.choice.taste_sigma, self.streams)
        else:
            pop, self.network = copy.deepcopy(warm.population), warm.network
        self.population: Population = pop
        self.segments = SegmentTable.build(c.segments, pop.segment)
        self.engagement_decay = c.memory.decay_factor(self.dt)
        self.referral_boost = np.zeros(pop.size)
        if warm is None:
            prices = np.array([f.price for f in self.firms])
            assign_initial_firms(
                pop,
                initial,
                prices,
                self.streams.get("population"),
                np.array([f.in_market(0) for f in self.firms]),
                -m.warmup_weeks,
            )
            pop.trial_pending[initial] = c.bgnbd_cohort
        self.status_rules = StatusRules(
            loyal_threshold=m.loyal_threshold,
            active_window=m.active_window_weeks,
            main_decay=0.5 ** (1.0 / m.main_window_weeks),
            main_persistence=m.main_persistence_weeks,
            cohort=c.bgnbd_cohort,
        )
        # programmes allocate their own state here; they do not act before week 0, so a warm
        # start's population is theirs to start on as well
        for firm in self.firms:
            firm.programme.start(pop)
        # the focal firm and the identical rivals draw in turn from one stream; each extra
        # firm has its own, so adding one (an entrant) leaves everyone else's draws alone
        base = 1 + config.competitor.count
        self._acquisition_streams = [
            self.streams.get("acquisition") if i < base else self.streams.get("acquisition", i)
            for i in range(len(self.firms))
        ]
        # the customers' weekly draws: one key per stream (counters.py)
        self._draw_keys = {f: self.streams.key(m) for f, m in DRAW_STREAMS.items()}
        self.recorder = Recorder(self.n_steps, len(self.firms))
        self._customer_views: dict[int, CustomerAgent] = {}
        # the customer rules of phases 5, 7 and 9: one Mesa agent per person (engine=agents),
        # or the arrays, compiled for large pools (see engine)
        self.crowd = Crowd(self) if config.engine == "agents" else None
        self.engine = self.crowd or engine.array_engine(len(self.firms), pop.size)
        if warm is None:
            self._warm_up()

    @property
    def kernel(self) -> bool:
        """Whether the compiled loops play the customers (large pools, engine=arrays)."""
        return self.engine.compiled

    @property
    def week(self) -> int:
        """Weeks simulated so far."""
        return self.steps * self.config.market.step_weeks

    @property
    def programmes(self) -> list:
        return [f.programme for f in self.firms]

    # ----------------------------------------------------------------------------- step
    def step(self) -> None:
        """Advance the market by one step of ``step_weeks`` weeks (phases 1-10 above)."""
        if self.steps > self.n_steps:  # Mesa has counted this call: undo it
            self.steps = self.n_steps
            self.running = False
            return
        self._play((self.steps - 1) * self.config.market.step_weeks, observed=True)
        if self.steps >= self.n_steps:
            self.running = False

    def _warm_up(self) -> None:
        """Play ``warmup_weeks`` before week 0 without programmes, offers or price reviews,
        recording nothing, then start the observed period's counters at zero."""
        m = self.config.market
        for s in range(m.warmup_weeks // m.step_weeks):
            self._play(s * m.step_weeks - m.warmup_weeks, observed=False)
        self.population.reset_counters()

    def _play(self, week: int, observed: bool) -> None:
        cfg, pop, dt = self.config, self.population, self.dt
        mk, cu = cfg.market, cfg.customers
        firms, programmes = self.firms, self.programmes
        ledger = StepLedger.empty(len(firms))
        rules = self.status_rules

        if observed:
            withdraw_due(programmes, pop, week)  # 1
            review_prices(firms, week)
        terms = offer_terms(firms, week, programmes=observed)  # 2
        rows = pop.active_index()
        ctxs = self._contexts(week, rows)
        poachers = [f for f in firms if observed and f.poaching_active(week)]
        if observed:
            ledger.programme_cost += weekly_costs(programmes, ctxs)  # 3
            ledger.offers_sent = poach(  # 4
                [
                    (f.index, f.params.poaching, self.streams.get("poaching", f.index))
                    for f in poachers
                ],
                pop,
                rows,
                len(firms),
                week,
                dt,
                rules.loyal_threshold,
                rules.active_window,
            )
        unit_cost = np.array([f.params.unit_cost for f in firms])
        out, flows = self.engine.trade(  # 5
            pop, rows, terms, self.draws(week), week, dt, cu.choice, cu.memory, rules, unit_cost
        )
        ledger.programme_cost += flows.pop("member_discounts")
        if observed:
            sales = [out.for_firm(f.index) for f in firms]
            ledger.programme_cost += after_purchase_costs(programmes, ctxs, sales)  # 6

        still_active = rows[pop.status[rows] == ACTIVE]  # 7
        refs = self.engine.referral_step(
            pop,
            self.network,
            still_active,
            cu.referral,
            self.segments.word_of_mouth,
            self.referral_boost,
            dt,
            self.streams.get("referral"),
            week,
        )
        ledger.referrals = np.bincount(refs.firm, minlength=len(firms))
        if observed:
            referrers = [refs.made_for(f.index) for f in firms]
            ledger.programme_cost += referral_costs(programmes, ctxs, referrers)
        ledger.referred = admit_referred(pop, refs, len(firms), week)

        ledger.acquired, ledger.acquisition_cost = acquire(  # 8
            firms,
            pop,
            week,
            dt,
            len(poachers),
            mk.acquisition_crowding,
            self._acquisition_streams,
            cu.n,
        )
        ledger.acquisition_cost += flows.pop("offer_discounts")

        seg = self.segments  # 9 (and 10's stocks)
        stocks = self.engine.settle(
            pop,
            self.engagement_decay,
            seg.forget,
            seg.forget_rows,
            observed,
            rules.loyal_threshold,
            week,
            rules.active_window,
        )
        if observed:
            self._record(ledger, flows, stocks, terms.price)  # 10
            if self.transaction_sink is not None:
                self.transaction_sink(week, out)

    def _contexts(self, week: int, rows: np.ndarray) -> list[StepContext]:
        self.population.contacted[:] = False
        self.referral_boost[:] = 0.0
        return [
            StepContext(
                self.population,
                week,
                self.dt,
                self.streams.get("programme", f.index),
                rows,
                self.segments,
                self.referral_boost,
                self.config.customers.contact,
            )
            for f in self.firms
        ]

    def _record(self, ledger: StepLedger, flows: dict, stocks: dict, price) -> None:
        profit = ledger.profit(flows["gross_margin"])
        for firm in self.firms:
            firm.book_profit(float(profit[firm.index]))
        cumulative = np.array([f.cumulative_profit for f in self.firms])
        self.recorder.record(self.steps, ledger.row(flows, stocks, price, profit, cumulative))

    def draws(self, week: int | None = None) -> Draws:
        """The uniform draws of ``week`` (default: the week simulated so far) from the
        purchase, choice, service and churn streams, computed per person on demand
        (:mod:`~loyaltysim.model.counters`; common random numbers across arms)."""
        return Draws.for_week(self._draw_keys, self.week if week is None else int(week))

    # ------------------------------------------------------------------------- running
    def run(self, steps: int | None = None) -> Market:
        """Step to the horizon (or ``steps`` more steps)."""
        todo = self.n_steps - self.steps if steps is None else steps
        for _ in range(todo):
            if not self.running:
                break
            self.step()
        return self

    def metrics(self):
        """The tidy per-step, per-firm table so far (pandas DataFrame)."""
        m = self.config.market
        return self.recorder.frame(self.steps, self.firm_names, m.start_date, m.step_weeks)

    def customers(self):
        """Final (or current) customer table: everyone who was ever a customer."""
        return customer_table(self.population, self.firm_names, self.config.market.loyal_threshold)

    def customer(self, customer_id: int) -> CustomerAgent:
        """A Mesa agent view of one customer (made on demand, cached); with
        ``engine=agents``, the customer's own :class:`~loyaltysim.engines.agents.Customer` agent."""
        if not 0 <= customer_id < self.population.size:
            raise IndexError(f"customer_id {customer_id} outside 0..{self.population.size - 1}")
        if self.crowd is not None:
            return self.crowd[customer_id]
        if customer_id not in self._customer_views:
            self._customer_views[customer_id] = CustomerAgent(self, customer_id)
        return self._customer_views[customer_id]

    def social_graph(self):
        """The social network as a ``networkx.Graph``."""
        return to_networkx(self.network)

    def release(self) -> None:
        """Drop Mesa's class-level reference to this model (mesa 3.3 ``Agent._ids``) so a
        worker that runs many models does not grow."""
        forget_model(self)
        self._customer_views.clear()
