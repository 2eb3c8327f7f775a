"""loyaltysim: agent-based simulation of customer loyalty, loyalty programmes, churn and profit.

Quick start::

    from loyaltysim import run
    result = run(overrides=["firm/programme=engagement"], customers__n=5000, seed=1)
    result.summary
"""

from .engines.agents import CustomerAgent
from .engines.market import Market
from .model.config import SimConfig, describe, make_config
from .model.params import ConfigError
from .model.programmes import REGISTRY as PROGRAMMES
from .model.programmes import register as register_programme
from .runs import designs, sweep  # noqa: F401  (registers the config resolvers)
from .runs.ensemble import run_arms
from .runs.runner import (
    RunResult,
    build_model,
    compose,
    load_config,
    run,
    run_one,
    summarise,
)
from .studies.checks import check_programme

__version__ = "0.1.0"

# imported on first use (PEP 562): the analysis package loads every experiment's analysis,
# which ``import loyaltysim`` alone should not pay for
_LAZY = {
    "rfm_summary": "loyaltysim.studies.analysis.clv",
    "transactions": "loyaltysim.studies.analysis.clv",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'loyaltysim' has no attribute {name!r}")


__all__ = [
    "PROGRAMMES",
    "ConfigError",
    "CustomerAgent",
    "Market",
    "RunResult",
    "SimConfig",
    "build_model",
    "check_programme",
    "compose",
    "describe",
    "load_config",
    "make_config",
    "register_programme",
    "rfm_summary",
    "run",
    "run_arms",
    "run_one",
    "summarise",
    "transactions",
]
