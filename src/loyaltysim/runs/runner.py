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

import math
import re
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from ..engines.market import Market
from ..engines.warmstart import WarmStart
from ..model.config import SimConfig, config_error_from, make_config
from ..model.params import ConfigWarning
from ..model.streams import Streams
from . import hydrajob, warmpool
from .io import (
    TransactionLog,
    clear_run_folder,
    config_dir,
    world_by_path,
    write_customer_table,
    write_json,
)
from .limits import check, check_metrics
from .runrecord import provenance
from .summary import summarise

_MISSING = object()


def hydra_value(value: Any) -> str:
    """A Python value as a Hydra override value that Hydra reads back as the same value
    and type: strings always quoted (so ``'a,b'``, ``'null'``, ``'1e3'`` stay strings),
    None as ``null``, lists and dicts element by element."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        # Hydra's quoted strings: backslashes are escaped only where they precede a quote
        # (or end the string); a quote is escaped with a backslash; `\${` keeps a literal
        # `${` from being read as an interpolation
        text = re.sub(r"(\\*)'", lambda m: m.group(1) * 2 + "\\'", value)
        text = re.sub(r"(\\+)$", lambda m: m.group(1) * 2, text)
        text = text.replace("${", "\\${")
        return f"'{text}'"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(hydra_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{hydra_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot pass a {type(value).__name__} as a config value: {value!r}")


def _overrides(overrides: Sequence[str], values: Mapping[str, Any]) -> list[str]:
    out = list(overrides)
    for key, value in values.items():
        out.append(f"{key.replace('__', '.')}={hydra_value(value)}")
    return out


def _reject_extra(func: str, overrides: Sequence[str], values: Mapping[str, Any]) -> None:
    extra = [*overrides, *(f"{k}={v!r}" for k, v in values.items())]
    if extra:
        raise TypeError(
            f"{func}(): a config was given, so {', '.join(extra)} would be ignored; pass them "
            "to load_config(...) instead, or pass no config"
        )


def compose(overrides: Sequence[str] = (), **values: Any) -> DictConfig:
    """Compose the Hydra config with command-line style overrides (no validation)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import ConfigCompositionException

    if GlobalHydra.instance().is_initialized():
        GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(config_dir())):
        items = world_by_path(_overrides(overrides, values))
        try:
            return hydra_compose("config", overrides=items)
        except ConfigCompositionException as err:
            # a misspelt keyword is the caller's mistake: say so by its Python name
            if values:
                known = hydra_compose("config", overrides=list(overrides))
                for key in values:
                    dotted = key.replace("__", ".")
                    if OmegaConf.select(known, dotted, default=_MISSING) is _MISSING:
                        raise TypeError(
                            f"unknown keyword argument {key!r}: the config has no key {dotted}"
                        ) from None
            # a misspelt key or a value of the wrong type: the one-line config error
            converted = config_error_from(err, items)
            if converted is err:
                raise
            raise converted from None


def check_overrides(overrides: Any) -> None:
    """Raise TypeError unless ``overrides`` is a list (or tuple) of strings: a bare string
    would otherwise be read character by character."""
    if isinstance(overrides, (str, bytes)) or not isinstance(overrides, Sequence):
        raise TypeError(
            f"overrides must be a list of strings such as ['customers.n=500'], got "
            f"{type(overrides).__name__} {overrides!r}"
            + (f"; wrap it in a list: [{overrides!r}]" if isinstance(overrides, str) else "")
        )
    for item in overrides:
        if not isinstance(item, str):
            raise TypeError(
                f"overrides must be strings such as 'customers.n=500', got "
                f"{type(item).__name__} {item!r}; keyword values (customers__n=500) take "
                "any type"
            )


def _check_config(func: str, config: Any) -> None:
    """Raise TypeError unless ``config`` is a :class:`SimConfig` or None."""
    if config is not None and not isinstance(config, SimConfig):
        hint = (
            f"; for overrides use {func}(overrides=[{config!r}])" if isinstance(config, str) else ""
        )
        raise TypeError(
            f"{func}(): config must be a SimConfig (from load_config) or None, got "
            f"{type(config).__name__} {config!r}{hint}"
        )


def load_config(overrides: Sequence[str] = (), **values: Any) -> SimConfig:
    """A validated config from the project's Hydra configs plus overrides.

    ``overrides`` are Hydra strings (``"firm/programme=engagement"``,
    ``"customers.n=5000"``); keyword values use ``__`` for dots (``customers__n=5000``).
    The engine the environment selects (``LOYALTYSIM_KERNEL``, ``LOYALTYSIM_THREADS``) is
    checked too, so that a bad value is reported before anything runs.
    """
    from ..engines.engine import selected, threads

    check_overrides(overrides)
    config = make_config(compose(overrides, **values))
    selected()
    threads()
    return config


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


def run_one(
    config: SimConfig | Mapping[str, Any] | DictConfig,
    out_dir: str | Path | None = None,
    keep_model: bool = False,
    overwrite: bool | None = None,
    keep_customers: bool = True,
    warm: WarmStart | None = None,
) -> RunResult:
    """Run one market from a config; write the run folder if ``out_dir`` is given.

    With ``keep_customers=False`` the customer table is not returned
    (``RunResult.customers`` is None) and, in the run folder, is written in row chunks
    straight from the population, never whole in memory (the command line does this).
    ``warm``: the market's state after its warm-up, shared with other arms
    (:func:`run_arms`); the results are the same as without it, the warm-up is not played
    again (and not in ``wall_time_s``).

    Raises :class:`~loyaltysim.model.params.ConfigError` before anything runs if the config is
    invalid, if its money figures could overflow, if it would not fit in memory, or if
    ``out_dir`` holds another run's files and ``overwrite`` (default:
    ``output.overwrite``) is false. With overwrite, the other run's files are removed
    first, so none of them is left beside the new ones. Raises
    :class:`~loyaltysim.runs.limits.NonFiniteMetrics` after the run if a metric overflowed
    (before the tables are written, so the folder never looks like a finished run).
    """
    cfg = config if isinstance(config, SimConfig) else make_config(config)
    check(cfg)
    if warm is None:  # a sweep's job forked after its sweep played the shared warm-up
        warm = warmpool.inherited(cfg)
    for note in cfg.cautions():
        warnings.warn(note, ConfigWarning, stacklevel=2)
    path = Path(out_dir) if out_dir is not None else None
    log = None
    if path is not None:
        overwrite = cfg.output.overwrite if overwrite is None else overwrite
        clear_run_folder(path, overwrite)
        path.mkdir(parents=True, exist_ok=True)
        # asdict straight to YAML: the same file as config_dict(cfg) saved by OmegaConf
        hydrajob.save_plain(asdict(cfg), path / "config.yaml")
        if cfg.output.transactions:
            firms = cfg.firm_params()
            log = TransactionLog(
                path / "transactions.parquet",
                [f.name for f in firms],
                [f.programme.type for f in firms],
                cfg.market.start_date,
                cfg.output.transactions_chunk_rows,
                rng=Streams(cfg.seed).get("timing"),
                step_weeks=cfg.market.step_weeks,
            )
    start = time.perf_counter()
    model = Market(cfg, transaction_sink=log, warm=warm)
    truth = None
    if path is not None and cfg.output.truth:
        from .truth import TruthRecorder

        truth = TruthRecorder(model)
    try:
        if truth is None:
            model.run()
        else:  # the same steps as Market.run, the recorder reading the state after each
            while model.running and model.steps < model.n_steps:
                model.step()
                truth.observe()
    finally:
        if log is not None:
            log.close()
    wall = time.perf_counter() - start
    metrics = model.metrics()
    # before any table is written: a run whose figures overflowed must not look finished
    check_metrics(metrics)
    customers = model.customers() if cfg.output.customer_table and keep_customers else None
    summary = summarise(metrics)
    manifest = {
        "seed": cfg.seed,
        "spawn_keys": {k: list(v) for k, v in model.streams.spawn_keys.items()},
        "versions": dict(provenance()[0]),  # looked up once a process
        "git_commit": provenance()[1],
        "wall_time_s": round(wall, 3),
        "steps": model.steps,
        "customer_steps": int(metrics.groupby("step")["customers"].sum().sum()),
        "people": model.population.size,
        "shared_warmup": warm is not None,  # started from a warm-up played once for many runs
    }
    if path is not None:
        metrics.to_csv(path / "metrics.csv", index=False)
        summary.to_csv(path / "summary.csv", index=False)
        if customers is not None:
            customers.to_parquet(path / "customers.parquet", index=False)
        elif cfg.output.customer_table:
            if not keep_model:
                # the table does not read the social network: free it first (4 bytes a
                # neighbour, 16 neighbours a person by default), so that the table's chunks
                # fit under the run's own peak memory
                model.network = None
            write_customer_table(model, path / "customers.parquet")
        if cfg.output.figure is not False:  # None: yes (the CLI turns it off in sweeps)
            from .plotting import run_figure

            run_figure(metrics, path / "figure.png", title=f"seed {cfg.seed}")
        if log is not None:
            manifest["transactions"] = log.rows
        if truth is not None:
            manifest["truth"] = truth.write(path / "truth.parquet")
        write_json(path / "manifest.json", manifest)
    if not keep_model:
        model.release()
        model = None
    return RunResult(cfg, metrics, customers, summary, manifest, path, model)


def build_model(
    config: SimConfig | None = None, overrides: Sequence[str] = (), **values: Any
) -> Market:
    """A ready-to-step :class:`Market` (for notebooks: ``model.step()``, ``model.metrics()``)."""
    _check_config("build_model", config)
    if config is not None:
        _reject_extra("build_model", overrides, values)
    cfg = config if config is not None else load_config(overrides, **values)
    check(cfg)
    return Market(cfg)


def run(
    config: SimConfig | None = None,
    overrides: Sequence[str] = (),
    out_dir: str | Path | None = None,
    **values: Any,
) -> RunResult:
    """Compose (unless ``config`` is given), validate and run one market.

    With a ``config``, overrides or keyword values are an error (they would be ignored).
    """
    _check_config("run", config)
    if config is not None:
        _reject_extra("run", overrides, values)
    cfg = config if config is not None else load_config(overrides, **values)
    return run_one(cfg, out_dir)
