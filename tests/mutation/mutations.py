"""Domain mutations: plausible bugs the fast suite must catch (see run.py).

Each entry: (file under src/loyaltysim/, exact original snippet occurring once, replacement,
one-line description of the domain bug).
"""

from __future__ import annotations

MUTATIONS: list[tuple[str, str, str, str]] = [
    # ----------------------------------------------------------------- costs not booked
    (
        "engines/market.py",
        'ledger.programme_cost += flows.pop("member_discounts")',
        'flows.pop("member_discounts")',
        "dropped cost: member rebates and redemptions never booked as programme cost",
    ),
    (
        "model/metrics.py",
        '"member_discounts": per_firm(out.rebate + out.redeemed)',
        '"member_discounts": per_firm(out.rebate)',
        "dropped cost: points redemptions not booked",
    ),
    (
        "model/programmes/base.py",
        "return p.joining_gift_eur * joiners.size",
        "return 0.0",
        "dropped cost: joining gifts never booked",
    ),
    (
        "model/programmes/engagement.py",
        "return p.thanks_cost_eur * referrers.size",
        "return 0.0",
        "dropped cost: referral thanks never booked",
    ),
    (
        "model/programmes/engagement.py",
        "return cost + p.surprise_cost_eur * int(lucky.sum())",
        "return cost",
        "dropped cost: surprises never booked",
    ),
    (
        "model/programmes/engagement.py",
        "cost = float(np.sum(n * seg_cost[seg]))",
        "cost = float(np.sum((n > 0) * seg_cost[seg]))",
        "wrong count: contact cost booked per contacted customer, not per contact",
    ),
    (
        "model/programmes/engagement.py",
        "np.where(reach[:, 0], p.cost_per_contact_digital, p.cost_per_contact_phone)",
        "np.where(reach[:, 0], p.cost_per_contact_phone, p.cost_per_contact_digital)",
        "wrong cost: digital and phone contact prices swapped",
    ),
    (
        "model/programmes/tiered.py",
        "return p.recognition_cost_eur * promoted.size",
        "return 0.0",
        "dropped cost: top-tier recognition never booked",
    ),
    (
        "engines/market.py",
        'ledger.acquisition_cost += flows.pop("offer_discounts")',
        'ledger.programme_cost += flows.pop("offer_discounts")',
        "wrong bucket: poaching discounts booked as programme cost, not acquisition cost",
    ),
    (
        "model/metrics.py",
        '"offer_discounts": per_firm(out.offer)',
        '"offer_discounts": np.bincount(out.prev_home, out.offer, minlength=n_firms)',
        "wrong firm: poaching discounts booked to the victim's home firm",
    ),
    (
        "model/firms.py",
        "return self.params.acquisition.cost_per_customer * (1.0 + crowding * n_poachers)",
        "return self.params.acquisition.cost_per_customer",
        "crowding ignored: acquisition cost does not rise with poaching firms",
    ),
    (
        "engines/market.py",
        "len(poachers),",
        "len(firms),",
        "wrong count: crowding counts every firm, not the poaching ones",
    ),
    (
        "model/firms.py",
        "cost[firm.index] = rows.size * unit",
        "cost[firm.index] = expected * unit",
        "wrong count: acquisition booked on the expected, not the acquired, customers",
    ),
    (
        "model/firms.py",
        "expected = firm.params.acquisition.weekly_budget(customers) * dt / unit",
        "expected = firm.params.acquisition.weekly_budget(1000) * dt / unit",
        "wrong scale: the acquisition budget ignores the market's size (per 1,000 customers)",
    ),
    (
        "model/firms.py",
        "n = int(expected) + int(u < expected - int(expected))",
        "n = int(expected)",
        "wrong count: paid acquisition always rounds down, the budget's remainder is lost",
    ),
    (
        "model/firms.py",
        "pop.activate(rows, firm.index, week, ORIGIN_PAID)",
        "pop.activate(rows, 0, week, ORIGIN_PAID)",
        "wrong firm: every firm's paid customers join the focal firm",
    ),
    # ---------------------------------------------------------------- wrong sign / rate
    (
        "model/purchases.py",
        "before_points = np.maximum(list_value - rebate - offer, 0.0)",
        "before_points = np.maximum(list_value - rebate + offer, 0.0)",
        "wrong sign: poaching offer added to the bill",
    ),
    (
        "model/metrics.py",
        "return gross_margin - self.programme_cost - self.acquisition_cost",
        "return gross_margin - self.programme_cost + self.acquisition_cost",
        "wrong sign: acquisition cost added to profit",
    ),
    (
        "model/programmes/engagement.py",
        "resp * p.contact_gain * good - p.bad_contact_penalty * (",
        "resp * p.contact_gain * good + p.bad_contact_penalty * (",
        "wrong sign: badly personalised contacts raise engagement",
    ),
    (
        "model/programmes/discount.py",
        "terms.rebate[f] = p.rebate_rate",
        "terms.rebate[f] = p.rebate_rate / 2",
        "wrong rate: members get half the configured rebate",
    ),
    (
        "model/purchases.py",
        "earned = paid * _at_choice(earn_rate, own, c) * terms.points_keep[c] * member_c",
        "earned = paid * _at_choice(earn_rate, own, c) * member_c",
        "breakage ignored at earning",
    ),
    (
        "model/programmes/_points.py",
        "terms.points_keep[firm] = 1.0 - p.breakage",
        "terms.points_keep[firm] = 1.0",
        "breakage ignored by the discount programme's terms",
    ),
    (
        "model/purchases.py",
        "points[cell] = balance - np.where(redeem, reward_pts, 0.0) + earned",
        "points[cell] = balance + earned",
        "redeemed points never deducted",
    ),
    (
        "model/purchases.py",
        "redeemed = np.where(redeem, np.minimum(terms.reward_eur()[c], before_points), 0.0)",
        "redeemed = np.where(redeem, before_points, 0.0)",
        "wrong value: a redemption pays the whole bill, not threshold x point value",
    ),
    (
        "model/programmes/tiered.py",
        "np.where(self.top[rows], p.top_points_per_eur, p.points_per_eur)",
        "np.where(self.top[rows], p.points_per_eur, p.top_points_per_eur)",
        "swapped: top-tier members earn the base rate and the rest the top rate",
    ),
    # ------------------------------------------------------------------ wrong audience
    (
        "model/purchases.py",
        "rebate = list_value * _at_choice(rebate_rate, own, c) * member_c",
        "rebate = list_value * _at_choice(rebate_rate, own, c) * ~member_c",
        "wrong audience: rebates go to non-members",
    ),
    (
        "model/purchases.py",
        "earned = paid * _at_choice(earn_rate, own, c) * terms.points_keep[c] * member_c",
        "earned = paid * _at_choice(earn_rate, own, c) * terms.points_keep[c]",
        "wrong audience: non-members earn points",
    ),
    (
        "model/programmes/base.py",
        "joiners = buyers[(u < min(prob, 1.0)) & ~col[buyers]]",
        "joiners = buyers[u < min(prob, 1.0)]",
        "wrong audience: existing members join again and get another gift",
    ),
    (
        "model/programmes/engagement.py",
        "return rows[ctx.pop.member[rows, self.firm]]",
        "return rows[~ctx.pop.member[rows, self.firm]]",
        "wrong audience: contacts go to non-members",
    ),
    (
        "model/programmes/engagement.py",
        "return rows[ctx.pop.home[rows] == self.firm]",
        "return rows[ctx.pop.home[rows] != self.firm]",
        "wrong audience: 'customers' contacts go to rivals' customers",
    ),
    (
        "model/programmes/engagement.py",
        '        if p.audience == "customers":\n            lucky &= pop.member[rows, f]\n',
        "",
        "wrong audience: surprises go to non-member customers",
    ),
    (
        "engines/market.py",
        "referrers = [refs.made_for(f.index) for f in firms]",
        "referrers = [refs.referrers for f in firms]",
        "wrong audience: every firm thanks every referrer, not its own",
    ),
    (
        "model/programmes/discount.py",
        "members = referrers[ctx.pop.member[referrers, self.firm]]",
        "members = referrers",
        "wrong audience: referral reward points credited to non-members",
    ),
    (
        "model/memory.py",
        "keep = 1.0 - rate[:, None] * ~np.take(pop.contacted, rows, axis=0)",
        "keep = 1.0 - rate[:, None] * np.take(pop.contacted, rows, axis=0)",
        "wrong audience: customers forget the firms that did contact them",
    ),
    (
        "model/programmes/tiered.py",
        "promoted = np.flatnonzero(qualified & ~self.top)",
        "promoted = np.flatnonzero(qualified)",
        "wrong count: every top member is recognised again at each review",
    ),
    # -------------------------------------------------------------------- wrong target
    (
        "model/poaching.py",
        "mask &= loyal & ~active",
        "mask &= loyal & active",
        "wrong target: 'passive' offers go to active loyal customers",
    ),
    (
        "model/poaching.py",
        "mask = pop.home[rows] != firm",
        "mask = pop.home[rows] >= 0",
        "wrong target: poaching offers also go to the firm's own customers",
    ),
    (
        "model/poaching.py",
        "loyal, active = loyalty_status(pop, rows, week, loyal_threshold, active_window)",
        "loyal, active = loyalty_status(pop, rows, week, 0.0, active_window)",
        "wrong target: passive offers also go to customers who are not loyal",
    ),
    (
        "model/population.py",
        "at_main = recent[np.arange(rows.size), self.home[rows]]",
        "at_main = recent.max(axis=1)",
        "wrong target: loyalty measured at the customer's top firm, not the main firm",
    ),
    # --------------------------------------------------------------- skipped withdrawal
    (
        "model/programmes/base.py",
        "        pop.member[:, self.firm] = False\n",
        "",
        "skipped withdrawal: membership does not lapse",
    ),
    (
        "model/programmes/base.py",
        "        pop.points[:, self.firm] = 0.0\n",
        "",
        "skipped withdrawal: unredeemed points do not lapse",
    ),
    (
        "model/programmes/base.py",
        "prog.withdraw(pop)",
        "pass",
        "skipped withdrawal: withdraw never called",
    ),
    (
        "model/programmes/engagement.py",
        "if not (p.thank_referrals and self.active(ctx.week)) or referrers.size == 0:",
        "if not p.thank_referrals or referrers.size == 0:",
        "skipped withdrawal: referrers still thanked after end_week",
    ),
    (
        "model/programmes/engagement.py",
        "        if not self.active(ctx.week):\n            return 0.0\n        p, f, pop",
        "        p, f, pop",
        "skipped withdrawal: contacts continue after end_week",
    ),
    # ----------------------------------------------------------------- swapped counters
    (
        "model/metrics.py",
        "active_loyal=np.bincount(home[active], minlength=n_firms),\n"
        "        passive_loyal=np.bincount(home[loyal_own & ~active], minlength=n_firms),",
        "passive_loyal=np.bincount(home[active], minlength=n_firms),\n"
        "        active_loyal=np.bincount(home[loyal_own & ~active], minlength=n_firms),",
        "swapped counters: active and passive loyal",
    ),
    (
        "model/metrics.py",
        "loyal_own = own_loyalty >= loyal_threshold",
        "loyal_own = own_loyalty >= 0.5",
        "wrong threshold: loyal counted from a share of 1/2, not loyal_threshold",
    ),
    (
        "model/status.py",
        "return loyal, loyal & pop.recently_interacted(rows, pop.home[rows], week, active_window)",
        "return loyal, loyal & ~pop.recently_interacted(rows, pop.home[rows], week, active_window)",
        "swapped counters: active and passive loyal (defections, poaching targets)",
    ),
    (
        "model/metrics.py",
        '"churn_to_competitor": np.bincount(out.prev_home[moved], minlength=n_firms)',
        '"churn_to_competitor": np.bincount(out.home[moved], minlength=n_firms)',
        "swapped counters: churn to competitor booked to the gaining firm",
    ),
    (
        "model/metrics.py",
        "stayed = per_firm(mask=had & (out.prev_firm == out.firm)).astype(np.int64)",
        "stayed = per_firm(mask=had).astype(np.int64)",
        "wrong count: repeat rate counts every returning buyer as a repeat",
    ),
    (
        "model/metrics.py",
        "members = column_counts(member)",
        "members = column_counts(np.take(pop.member, np.flatnonzero(pop.status > 0), axis=0))",
        "wrong count: members include customers who left the category",
    ),
    (
        "model/status.py",
        "top = top_firm(recent, main)",
        "top = c.astype(np.int32)",
        "wrong rule: the challenger is the last firm bought from, not the most bought recently",
    ),
    (
        "model/purchases.py",
        "habit.ravel()[own] += 1.0",
        "habit.ravel()[own] -= 1.0",
        "wrong sign: a purchase lowers the habit for the chosen firm",
    ),
    # ------------------------------------------------------------------ off-by-one week
    (
        "model/poaching.py",
        "return self.rate > 0 and week >= self.start_week",
        "return self.rate > 0 and week > self.start_week",
        "off-by-one week: poaching offers start a week late",
    ),
    (
        "model/poaching.py",
        "pop.offer_until[got, firm] = week + params.offer_weeks - 1",
        "pop.offer_until[got, firm] = week + params.offer_weeks",
        "off-by-one week: offers valid one week too long",
    ),
    (
        "model/purchases.py",
        "has_offer = np.take(pop.offer_until, rows, axis=0) >= week",
        "has_offer = np.take(pop.offer_until, rows, axis=0) > week",
        "off-by-one week: an offer is not honoured in its last valid week",
    ),
    (
        "model/programmes/base.py",
        "if end is not None and week >= end and not prog.withdrawn:",
        "if end is not None and week > end and not prog.withdrawn:",
        "off-by-one week: withdrawal a week late",
    ),
    (
        "model/programmes/base.py",
        "return p.start_week <= week and (p.end_week is None or week < p.end_week)",
        "return p.start_week <= week and (p.end_week is None or week <= p.end_week)",
        "off-by-one week: programme still signs up and pays in its end week",
    ),
    (
        "engines/market.py",
        "self._play((self.steps - 1) * self.config.market.step_weeks, observed=True)",
        "self._play(self.steps * self.config.market.step_weeks, observed=True)",
        "off-by-one week: every step plays the next week",
    ),
    (
        "model/programmes/tiered.py",
        "if (ctx.week - p.start_week) % p.review_weeks:",
        "if (ctx.week - p.start_week - 1) % p.review_weeks:",
        "off-by-one week: tier reviews a week late",
    ),
    (
        "model/poaching.py",
        "mask &= pop.offer_until[rows, firm] < week",
        "mask &= pop.offer_until[rows, firm] < week - 1",
        "off-by-one week: a customer whose offer just expired cannot get a new one",
    ),
    # -------------------------------------------------------------- counter-based draws
    (
        "engines/kernel_ops.py",
        "z = (z ^ (z >> _S[1])) * _M2",
        "z = (z ^ (z >> _S[0])) * _M2",
        "wrong hash (kernel): the compiled draws are not the NumPy rules' draws",
    ),
    (
        "model/counters.py",
        "    z += np.uint64(key_w)\n",
        "    z ^= np.uint64(key_w)\n",
        "wrong hash: the vectorised draws are not the scalar (agents') draws",
    ),
    # -------------------------------------------------------------------- memory rules
    (
        "model/memory.py",
        "np.multiply(pop.engagement, decay, out=pop.engagement, where=active)",
        "np.multiply(pop.engagement, decay**2, out=pop.engagement, where=active)",
        "wrong rate: engagement decays twice as fast as its half-life",
    ),
    (
        "model/memory.py",
        "np.multiply(pop.engagement, decay, out=pop.engagement, where=active)",
        "pop.engagement *= decay",
        "wrong people: a departed customer's engagement keeps decaying",
    ),
    (
        "engines/kernel.py",
        "            engagement[i, f] *= decay\n",
        "            engagement[i, f] *= decay * decay\n",
        "wrong rate (kernel): engagement decays twice as fast as its half-life",
    ),
    (
        "engines/kernel.py",
        "habit[i, f] *= 1.0 - rate * (0.0 if contacted[i, f] else 1.0)",
        "habit[i, f] *= 1.0 - rate",
        "wrong people (kernel): a forgetful customer forgets the firms that contacted them too",
    ),
    (
        "engines/kernel.py",
        "active = loyal & (last_interaction[i, h] > week - window)",
        "active = last_interaction[i, h] > week - window",
        "wrong status (kernel): a recent interaction makes anyone an active loyal customer",
    ),
    (
        "engines/kernel.py",
        "was_active = was_loyal & last_loyal_active[i]",
        "was_active = last_loyal_active[i]",
        "wrong status (kernel): a lapsed loyal customer still counts as active loyal",
    ),
    (
        "engines/kernel.py",
        "return (0,) * n_firms",
        "return (0,) * max(n_firms - 1, 1)",
        "wrong size (kernel): the compiled loops leave out the last firm",
    ),
    (
        "engines/kernel.py",
        "nb += 1 if (uniform(key, i) > no_trip[i]) | trial[i] else 0",
        "nb += 1 if uniform(key, i) > no_trip[i] else 0",
        "wrong people (kernel): a BG/NBD cohort's trial purchase is never made",
    ),
    (
        "model/purchases.py",
        "failed, -memory.failure_penalty, memory.experience_gain",
        "failed, -memory.failure_penalty, -memory.experience_gain",
        "wrong sign: a good purchase lowers engagement",
    ),
    # ------------------------------------------------- main firm, interactions, warm-up, entry
    (
        "model/status.py",
        "switch = contested & (week - since >= rules.main_persistence)",
        "switch = contested",
        "persistence ignored: any firm on top becomes the main firm at once",
    ),
    (
        "model/status.py",
        "(week - since >= rules.main_persistence)",
        "(week - since > rules.main_persistence)",
        "off by one: a challenger must stay on top one week longer than main_persistence",
    ),
    (
        "model/status.py",
        "pop.challenger[b] = np.where(contested & ~switch, top, -1)",
        "pop.challenger[b] = np.where(~switch, top, -1)",
        "challenger reset wrong: the main firm back on top is recorded as its own challenger",
    ),
    (
        "model/status.py",
        "since = np.where(contested & (challenger != top), week, since)",
        "since = np.where(contested & (challenger < 0), week, since)",
        "challenger reset wrong: a new challenger inherits the previous one's start week",
    ),
    (
        "model/status.py",
        "recent *= (rules.main_decay**elapsed)[:, None]",
        "recent *= rules.main_decay",
        "wrong decay: history decays one week per purchase, not per week elapsed",
    ),
    (
        "model/referrals.py",
        "pop.interacted(referrers, firm, week)  # a recommendation",
        "pass  # a recommendation",
        "interactions not recorded: recommending the firm",
    ),
    (
        "model/programmes/engagement.py",
        "pop.interacted(rows[good > 0], f, ctx.week)",
        "pop.interacted(rows[n > 0], f, ctx.week)",
        "wrong interaction: badly personalised contacts count as interactions",
    ),
    (
        "model/programmes/engagement.py",
        "pop.interacted(rows[lucky], f, ctx.week)",
        "pass",
        "interactions not recorded: surprises",
    ),
    (
        "model/programmes/tiered.py",
        "ctx.pop.interacted(promoted, self.firm, ctx.week)",
        "pass",
        "interactions not recorded: tier recognition",
    ),
    (
        "model/population.py",
        "self.last_interaction[rows, firm] = week",
        "self.last_interaction[rows, firm] = week - 1",
        "wrong week: interactions recorded a week early",
    ),
    (
        "model/population.py",
        "return self.last_interaction[rows, firms] > week - window",
        "return self.last_interaction[rows, firms] >= week - window",
        "off by one: the active window one week too long",
    ),
    (
        "model/metrics.py",
        "active = loyal_own & pop.recently_interacted(rows, home, week, active_window)",
        "active = loyal_own & ~pop.recently_interacted(rows, home, week, active_window)",
        "swapped: active and passive loyal customers counted the wrong way round",
    ),
    (
        "engines/market.py",
        "self._play(s * m.step_weeks - m.warmup_weeks, observed=False)",
        "self._play(s * m.step_weeks - m.warmup_weeks, observed=True)",
        "warm-up observed: records metrics, books profit, runs programmes before week 0",
    ),
    (
        "engines/market.py",
        "self.population.reset_counters()",
        "pass",
        "warm-up counted: purchases and spend of the warm-up carried into the observed period",
    ),
    # Not listed, because they are equivalent mutants: removing the warm-up's guards on member
    # terms, poaching and sign-ups changes nothing, since programmes and offers act only from
    # their start_week, which is >= 0, and the warm-up's weeks are < 0 (checked by hand).
    (
        "model/firms.py",
        "return max(week, 0) >= self.params.entry_week",
        "return True",
        "entrant sells before entry: entry week ignored",
    ),
    (
        "model/purchases.py",
        "u[:, ~terms.open] = -np.inf",
        "u[:, ~terms.open] -= 3.0",
        "entrant sells before entry: a firm not yet in the market can be chosen",
    ),
    (
        "model/firms.py",
        "        if not firm.in_market(week):\n            continue\n",
        "",
        "entrant acquires before entry",
    ),
    (
        "model/purchases.py",
        "u += np.take(pop.taste, rows, axis=0)",
        "u += 0.0",
        "taste ignored in utility",
    ),
    (
        "model/purchases.py",
        "unit_price -= in_market.mean(axis=1, keepdims=True)",
        "unit_price -= 0.0",
        "relief applied to the price level instead of differences",
    ),
    (
        "model/purchases.py",
        "habit.ravel()[own] += 1.0",
        "habit.ravel()[own] += 1.0 - memory.loyalty_smoothing",
        "wrong habit: the old normalised smoothing instead of H <- aH + 1",
    ),
    (
        "model/memory.py",
        "return habit / (habit.sum(axis=1, keepdims=True) + prior)",
        "return habit / (1.0 + habit)",
        "wrong loyalty: the old saturating H/(1+H) instead of the share of remembered buys",
    ),
    (
        "model/memory.py",
        "return habit / (habit.sum(axis=1, keepdims=True) + prior)",
        "return habit / (habit.sum(axis=1, keepdims=True) + 1.0)",
        "prior ignored: loyalty always shrunk by one purchase",
    ),
    (
        "model/population.py",
        "        self.habit[rows, firm] = 1.0\n",
        "",
        "wrong entry: newcomers start without habit for their firm",
    ),
    (
        "model/status.py",
        "    pop.last_loyal_week[b[loyal_now]] = week\n",
        "",
        "defection split: the last week a customer was loyal is never recorded",
    ),
    (
        "model/status.py",
        "    lookback = rules.main_persistence + rules.active_window\n",
        "    lookback = 0\n",
        "defection split: loyalty before the challenge is forgotten (no defector counts as loyal)",
    ),
    (
        "model/status.py",
        "    return was_loyal, was_loyal & pop.last_loyal_active[b]",
        "    return was_loyal, was_loyal & ~pop.last_loyal_active[b]",
        "defection split: active and passive loyal defectors swapped",
    ),
    # ----------------------------------------------------------- calibration's acceptance
    (
        "studies/calibration/accept.py",
        "    stats.loc[confirmed.index, confirmed.columns] = confirmed\n",
        "",
        "confirmation ignored: the screen's two replications still decide acceptance",
    ),
    (
        "studies/calibration/accept.py",
        'return list(cands.index[cands["implausibility"] <= cal.confirm_cutoff])',
        'return list(cands.index[cands["implausibility"] <= 0])',
        "confirmation: near misses of the screen are never confirmed (only its passes)",
    ),
    (
        "studies/calibration/accept.py",
        "        out[t.name] = (x >= lo - 1e-12) & (x <= hi + 1e-12)",
        "        out[t.name] = (x >= t.lo - 1e-12) & (x <= t.hi + 1e-12)",
        "acceptance: a target's tolerance ignored",
    ),
    (
        "studies/calibration/sample.py",
        'index = np.sort(np.argsort(-score, kind="stable")[: cal.wave_candidates])',
        'index = np.sort(np.argsort(score, kind="stable")[: cal.wave_candidates])',
        "emulated wave: the worlds least likely to meet the targets are run",
    ),
]
