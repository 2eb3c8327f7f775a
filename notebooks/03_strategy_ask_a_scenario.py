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
# # Asking a question of the market
#
# A scenario (`conf/scenario/<name>.yaml`) is a question: arms, each a set of changes, and
# the baseline they are compared with. From the shell: `loyaltysim-ask scenario=withdraw_rebate`.
# Here the same from Python, with a small market so it runs in seconds (use the scenario's
# own size and seeds for an answer you would act on).

# %% tags=["parameters"]
SCENARIO = "withdraw_rebate"
SMALL = ["customers.n=400", "market.horizon_weeks=104", "market.warmup_weeks=26"]
SEEDS = [0, 1, 2]

# %%
import tempfile
from pathlib import Path

import pandas as pd

from loyaltysim.studies.ask import answer, check, load_scenario, run_arms

scenario = load_scenario(SCENARIO)
scenario.seeds = SEEDS
print(scenario.question)
for arm in scenario.arms:
    print(f"- {arm.name}: {arm.title}  {arm.overrides}")

# %%
out = Path(tempfile.mkdtemp()) / SCENARIO
customers = check(scenario, SMALL)  # every arm's config is checked before anything runs
runs = run_arms(scenario, out, SMALL, jobs=2)
sentences, head, folder = answer(scenario, out, runs, customers)
print("\n".join(sentences))

# %% [markdown]
# ## Reading the answer
# - **profit %**: the change in your firm's cumulative profit, as a share of the baseline's,
#   with its 95% confidence interval over seeds (paired: each seed is the same market).
# - **per 1,000 customers**: the same change in euros, per 1,000 customers of the market.
# - **share pp**: the change in purchase share, in percentage points.
# - **payback week**: from this week on the arm is ahead of the baseline on average.
# - **better in k of n seeds**: how often the arm beat the baseline, market by market.
# A confidence interval that spans zero means: this many seeds cannot tell.

# %%
head[["arm", "profit_pct", "profit_pct_ci_low", "profit_pct_ci_high", "profit_per_1000_eur",
      "share_pp", "payback_week", "better_seeds", "seeds"]].round(2)

# %%
report = folder / "report.html"
print("the full report (tables and figures in one file):", report)
table = pd.read_csv(folder / "comparison.csv")
table[table["metric"] == "cumulative_profit_eur"][["arm", "mean", "ci_low", "ci_high"]]
