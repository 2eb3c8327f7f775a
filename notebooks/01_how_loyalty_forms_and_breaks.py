# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # How loyalty forms and breaks
#
# A teaching notebook. A small market of customers who remember each firm: every good
# purchase, contact or thank-you raises their engagement, which fades with a half-life;
# rivals send poaching offers. Your firm runs an engagement programme (personal contacts,
# thank-yous, surprises), so in the first year loyalty forms (active loyal: engaged and
# repeat-buying); from week 52 rivals may poach, and heavy poaching breaks it. Move the
# sliders and watch both. (With a rebate above 0 your firm runs a discount programme
# instead: members get money off, nobody gets engaged, and active loyalty hardly forms.)
#
# Run it in Jupyter (`pip install -e '.[notebooks]'`, then open this file with Jupytext, or
# `jupytext --to ipynb notebooks/01_how_loyalty_forms_and_breaks.py`).

# %% tags=["parameters"]
# the live app's teaching presets (loyaltysim.app.LEVERS), so both tell the same story
CUSTOMERS = 400  # a small market: each run takes about a second
WEEKS = 104  # a year for loyalty to form, a year for rivals to break it
POACHING_START = 52  # the week rivals may start poaching
OFFER_DEPTH = 0.25  # rivals' poaching offer: a quarter off their list price
ENGINE = "arrays"  # or "agents": one Mesa agent per customer, same results, slower

# %%
import matplotlib.pyplot as plt

from loyaltysim import run


def simulate(half_life=12.0, personalisation=1.0, rebate=0.0, poaching=0.0, seed=0):
    """One run of your firm's market: rebate 0 means an engagement programme with the given
    personalisation (the share of contacts that are well personalised), a rebate above 0 a
    discount programme; poaching is the weekly chance a customer of another firm gets a
    rival's offer, from week POACHING_START."""
    programme = "discount" if rebate > 0 else "engagement"
    overrides = [f"firm/programme={programme}"]
    overrides.append(
        f"firm.programme.rebate_rate={rebate}"
        if programme == "discount"
        else f"firm.programme.personalisation={personalisation}"
    )
    result = run(
        overrides=overrides,
        customers__n=CUSTOMERS,
        market__horizon_weeks=WEEKS,
        market__warmup_weeks=26,  # short: a small market would spend its prospects in 104
        customers__memory__engagement_half_life_weeks=half_life,
        competitor__poaching__rate=poaching,
        competitor__poaching__depth=OFFER_DEPTH,
        competitor__poaching__start_week=POACHING_START,
        seed=seed,
        engine=ENGINE,
    )
    return result.metrics[result.metrics["firm"] == "focal"]


def draw(half_life=12.0, personalisation=1.0, rebate=0.0, poaching=0.0):
    m = simulate(half_life, personalisation, rebate, poaching)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    axes[0].plot(m["week"], m["active_loyal"], label="active loyal")
    axes[0].plot(m["week"], m["passive_loyal"], label="passive loyal")
    axes[0].set_title("Your firm's loyal customers")
    axes[0].set_ylabel("customers")
    axes[0].set_ylim(0, CUSTOMERS / 2)
    axes[0].legend()
    axes[1].plot(m["week"], 100 * m["share"].rolling(4, min_periods=1).mean())
    axes[1].set_title("Your firm's purchase share (4-week average)")
    axes[1].set_ylabel("share of purchases (%)")
    axes[1].set_ylim(0, 100)
    for ax in axes:
        ax.axvline(POACHING_START, color="grey", ls=":", label="rivals may poach")
        ax.set_xlabel("week")
        ax.set_xlim(0, WEEKS)
        ax.grid(alpha=0.3)
    plt.show()
    return m


# %% [markdown]
# ## Try it: sliders
# Engagement half-life (weeks), personalisation quality of contacts (the share well
# personalised; engagement programme, used when the rebate is 0), the member rebate (a
# fraction off the list price; above 0 your firm runs a discount programme instead), and
# the rivals' poaching rate (the weekly chance a customer gets an offer; at 1, everyone
# always holds one) from week 52.

# %%
import ipywidgets as widgets

controls = dict(
    half_life=widgets.FloatSlider(value=12, min=1, max=52, step=1, description="half-life"),
    personalisation=widgets.FloatSlider(value=1.0, min=0, max=1, step=0.05,
                                        description="personal."),
    rebate=widgets.FloatSlider(value=0.0, min=0, max=0.3, step=0.01, description="rebate"),
    poaching=widgets.FloatSlider(value=0.0, min=0, max=1, step=0.05, description="poaching"),
)
widgets.interactive(draw, **controls)

# %% [markdown]
# ## What the sliders show, in numbers
# Loyalty forms: by week 52 about 30 of the 400 customers are actively loyal to your firm
# (loyal, and answered a contact or recommended the firm in the last 13 weeks).
# Heavy poaching breaks it: at the slider's top a third or more of them are gone by the end.
# Badly personalised contacts (low personalisation) annoy instead of engage, and engagement
# that fades fast (a short half-life) leaves fewer active loyal customers.

# %%
calm = simulate(poaching=0.0)
raided = simulate(poaching=1.0)
formed = calm["active_loyal"].iloc[48:52].mean()
active_calm = calm["active_loyal"].tail(13).mean()
active_raided = raided["active_loyal"].tail(13).mean()
print(f"active loyal around week 52: {formed:.0f} of {CUSTOMERS} customers")
print(f"active loyal, last quarter: no poaching {active_calm:.0f}, heavy {active_raided:.0f}")
print(
    "customers lost to rivals: no poaching", int(calm["churn_to_competitor"].sum()),
    "| heavy poaching", int(raided["churn_to_competitor"].sum()),
)

careless = simulate(personalisation=0.2)
active_careless = careless["active_loyal"].tail(13).mean()
print(f"active loyal, last quarter: personal. 1.0 {active_calm:.0f}, 0.2 {active_careless:.0f}")

slow = simulate(half_life=40.0)
fast = simulate(half_life=2.0)
active_slow = slow["active_loyal"].tail(13).mean()
active_fast = fast["active_loyal"].tail(13).mean()
print(f"active loyal, last quarter: half-life 40 weeks {active_slow:.0f}, 2 {active_fast:.0f}")

# %% [markdown]
# ## One customer's week, as a Mesa agent
# With `engine="agents"` every customer is a Mesa agent, a `Customer`, activated in a fixed
# order each week; its `step` is the model's specification of the customer's week. Same
# config and seed, same random draws: the same results as the fast vectorised engine.

# %%
import inspect

from loyaltysim import build_model
from loyaltysim.engines.agents import Customer
from loyaltysim.engines.crowd import diary_frame

print(inspect.getsource(Customer.step))

# %%
small = dict(customers__n=200, market__horizon_weeks=26, market__warmup_weeks=26, seed=1)
model = build_model(engine="agents", **small)
someone = model.customer(int(model.population.active_index()[0]))
model.crowd.watch(someone.row)  # keep a diary of their memory of each firm
model.run()
print(someone, someone.memory())
print("why they would choose each firm (parts of the utility):", someone.reasons())

diary = diary_frame(someone)
fig, ax = plt.subplots(figsize=(7, 3))
for i, (firm, rows) in enumerate(diary.groupby("firm", sort=False)):
    ax.plot(rows["week"], rows["g"], color=f"C{i}", label=f"{firm}: engagement g(E)")
    ax.plot(rows["week"], rows["loyalty"], color=f"C{i}", ls="--", label=f"{firm}: loyalty")
ax.set_xlabel("week")
ax.set_title(f"Customer {someone.row}'s memory of each firm")
ax.legend(fontsize=7)
plt.show()

# the same market with the vectorised engine gives the same table, bit for bit
same = build_model(engine="arrays", **small).run().metrics().equals(model.metrics())
print("agents and arrays give the same metrics:", same)
