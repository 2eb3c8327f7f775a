"""The Python API: compose a config, build a model, run it, get the tables.

>>> from loyaltysim import load_config, run
>>> cfg = load_config(["firm/programme=engagement"], customers__n=2000, seed=7)
>>> result = run(cfg)                         # doctest: +SKIP
>>> result.metrics.query("firm == 'focal'")   # doctest: +SKIP

``run_one`` is the unit of work that the CLI, sweeps and notebooks all call: a pure
function of a config mapping that returns a :class:`RunResult` and, given a folder,
writes the run's files there.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from .config import SimConfig, config_error_from, make_config
from .io import TransactionLog, config_dir, git_commit, package_versions, write_json
from .market import Market


def _overrides(overrides: Sequence[str], values: Mapping[str, Any]) -> list[str]:
    out = list(overrides)
    for key, value in values.items():
        dotted = key.replace("__", ".")
        out.append(f"{dotted}={'null' if value is None else value}")
    return out


def compose(overrides: Sequence[str] = (), **values: Any) -> DictConfig:
    """Compose the Hydra config with command-line style overrides (no validation)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        items = _overrides(overrides, values)
        try:
            return hydra_compose("config", overrides=items)
        except Exception as err:  # a misspelt key or a value of the wrong type
            converted = config_error_from(err, items)
            if converted is err:
                raise
            raise converted from None


def load_config(overrides: Sequence[str] = (), **values: Any) -> SimConfig:
    """A validated config from the project's Hydra configs plus overrides.

    ``overrides`` are Hydra strings (``"firm/programme=engagement"``,
    ``"customers.n=5000"``); keyword values use ``__`` for dots (``customers__n=5000``).
    """
    return make_config(compose(overrides, **values))


def config_dict(config: SimConfig) -> dict[str, Any]:
    """A plain, YAML-ready mapping of a validated config (tuples as lists)."""
    return OmegaConf.to_container(OmegaConf.create(asdict(config)))


@dataclass
class RunResult:
    """Everything one run produced."""

    config: SimConfig
    metrics: pd.DataFrame
    customers: pd.DataFrame | None
    summary: pd.DataFrame
    manifest: dict[str, Any]
    path: Path | None = None
    model: Market | None = field(default=None, repr=False)


def summarise(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per firm: the headline outcomes of a run, in EUR and percent.

    Final-period figures average the last 13 weeks, so one noisy week does not decide them.
    Churn rates are events per 100 customer-years of the firm's own customer base.
    """
    last = metrics["week"] > metrics["week"].max() - 13
    rows = []
    for firm, df in metrics.groupby("firm", sort=False):
        tail = df[last.loc[df.index]]
        # rates per customer-year: exits over the firm's average customer base, so a firm
        # that keeps more customers is not charged with more churn for it
        base = max(df["customers"].mean(), 1.0)
        years = df["week"].iloc[-1] / 52.0
        rows.append(
            {
                "firm": firm,
                "customers_end": int(df["customers"].iloc[-1]),
                "share_end_pct": 100 * tail["share"].mean(),
                "cumulative_profit_eur": df["cumulative_profit"].iloc[-1],
                "programme_cost_eur": df["programme_cost"].sum(),
                "repeat_rate_pct": 100 * tail["repeat_rate"].mean(),
                "churn_to_competitor_per_year_pct": 100
                * df["churn_to_competitor"].sum()
                / base
                / years,
                "churn_out_per_year_pct": 100 * df["churn_out"].sum() / base / years,
                "members_end": int(df["members"].iloc[-1]),
                "active_loyal_end": int(df["active_loyal"].iloc[-1]),
                "passive_loyal_end": int(df["passive_loyal"].iloc[-1]),
            }
        )
    return pd.DataFrame(rows)


def run_one(
    config: SimConfig | Mapping[str, Any] | DictConfig,
    out_dir: str | Path | None = None,
    keep_model: bool = False,
) -> RunResult:
    """Run one market from a config; write the run folder if ``out_dir`` is given.

    Raises :class:`~loyaltysim.params.ConfigError` before anything runs if the config is
    invalid.
    """
    cfg = config if isinstance(config, SimConfig) else make_config(config)
    path = Path(out_dir) if out_dir is not None else None
    log = None
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(OmegaConf.create(config_dict(cfg)), path / "config.yaml")
        if cfg.output.transactions:
            firms = cfg.firm_params()
            log = TransactionLog(
                path / "transactions.parquet",
                [f.name for f in firms],
                [f.programme.type for f in firms],
                cfg.market.start_date,
                cfg.output.transactions_chunk_rows,
            )
    start = time.perf_counter()
    model = Market(cfg, transaction_sink=log)
    try:
        model.run()
    finally:
        if log is not None:
            log.close()
    wall = time.perf_counter() - start
    metrics = model.metrics()
    customers = model.customers() if cfg.output.customer_table else None
    summary = summarise(metrics)
    manifest = {
        "seed": cfg.seed,
        "spawn_keys": {k: list(v) for k, v in model.streams.spawn_keys.items()},
        "versions": package_versions(),
        "git_commit": git_commit(),
        "wall_time_s": round(wall, 3),
        "steps": model.steps,
        "customer_steps": int(metrics.groupby("step")["customers"].sum().sum()),
        "people": model.population.size,
    }
    if path is not None:
        metrics.to_csv(path / "metrics.csv", index=False)
        summary.to_csv(path / "summary.csv", index=False)
        if customers is not None:
            customers.to_parquet(path / "customers.parquet", index=False)
        if cfg.output.figure:
            from .plotting import run_figure

            run_figure(metrics, path / "figure.png", title=f"seed {cfg.seed}")
        if log is not None:
            manifest["transactions"] = log.rows
        write_json(path / "manifest.json", manifest)
    if not keep_model:
        model.release()
        model = None
    return RunResult(cfg, metrics, customers, summary, manifest, path, model)


def build_model(
    config: SimConfig | None = None, overrides: Sequence[str] = (), **values: Any
) -> Market:
    """A ready-to-step :class:`Market` (for notebooks: ``model.step()``, ``model.metrics()``)."""
    cfg = config if config is not None else load_config(overrides, **values)
    return Market(cfg)


def run(
    config: SimConfig | None = None,
    overrides: Sequence[str] = (),
    out_dir: str | Path | None = None,
    **values: Any,
) -> RunResult:
    """Compose (unless ``config`` is given), validate and run one market."""
    cfg = config if config is not None else load_config(overrides, **values)
    return run_one(cfg, out_dir)
