"""The configuration of a run: one field per concern, each owned by its rule module.

:class:`SimConfig` composes :class:`~loyaltysim.model.customers.CustomerParams`,
:class:`~loyaltysim.model.firms.FirmParams` (the focal firm, with its programme),
:class:`~loyaltysim.model.competitors.CompetitorParams`, :class:`MarketParams` (time frame and
measurement conventions) and :class:`~loyaltysim.runs.io.OutputParams`. Defaults are written
once, in those dataclasses: :func:`register_configs` stores them in Hydra's ConfigStore as
structured configs (the schema every YAML file in ``conf/`` is merged onto, so a YAML key
the code does not know fails at compose time and no default is written twice), and
stores each registered programme type as an option of ``firm/programme`` and
``competitor/programme`` from its one ``conf/programme/<key>.yaml``. Claim ids (S1-S13)
refer to ``docs/claims.md``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import errors
from .competitors import CompetitorParams
from .customers import CustomerParams
from .errors import RENAMED, renamed_hint, renamed_message  # noqa: F401  (re-exported)
from .firms import FirmParams
from .params import CONSTANT, UNCERTAINTY, ConfigError, Params, build, param
from .params import describe as describe_params
from .programmes import REGISTRY


@dataclass(frozen=True)
class OutputParams(Params):
    """What a run writes to its folder, and what it prints."""

    overwrite: bool = param(
        False, kind=CONSTANT, doc="a run may replace another run's files in its folder"
    )
    transactions: bool = param(False, kind=CONSTANT, doc="write the transaction log (Parquet)")
    truth: bool = param(False, kind=CONSTANT, doc="truth.parquet: each customer's hidden traits")
    transactions_chunk_rows: int = param(
        500_000, lo=1, kind=CONSTANT, unit="rows", doc="rows buffered per Parquet write"
    )
    customer_table: bool = param(True, kind=CONSTANT, doc="write the final customer table")
    figure: bool | None = param(
        None,
        kind=CONSTANT,
        doc="draw the run's figure (PNG); null: in a single run yes, in a sweep (-m) no "
        "(0.3 s a run); true: always",
    )
    print_summary: bool = param(True, kind=CONSTANT, doc="print the summary table at the end")


def config_dir() -> Path:
    """The ``conf/`` directory: packaged with a wheel, or the repository's in a checkout."""
    package = Path(__file__).resolve().parents[1]  # src/loyaltysim, or site-packages/loyaltysim
    for candidate in (package / "conf", package.parents[1] / "conf"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise FileNotFoundError("loyaltysim's conf/ directory was not found")


@dataclass(frozen=True)
class MarketParams(Params):
    """Time frame and measurement conventions of the market."""

    horizon_weeks: int = param(
        156, lo=1, hi=5200, kind=CONSTANT, unit="weeks", doc="simulated weeks (three years)"
    )
    step_weeks: int = param(1, lo=1, hi=52, kind=CONSTANT, unit="weeks", doc="weeks per step")
    start_date: str = param("2025-01-06", kind=CONSTANT, doc="calendar date of week 0 (ISO)")
    warmup_weeks: int = param(
        104,
        lo=0,
        hi=5200,
        kind=CONSTANT,
        unit="weeks",
        doc="weeks simulated before week 0 with no programme, no offers and fixed prices, "
        "outside every output, so that week 0 starts from a settled market",
    )
    loyal_threshold: float = param(
        0.6,
        lo=0,
        hi=1,
        lo_open=True,
        kind=CONSTANT,
        unit="loyalty (0-1)",
        doc="purchase loyalty from which a customer counts as loyal",
    )
    active_window_weeks: int = param(
        13,
        lo=1,
        kind=CONSTANT,
        unit="weeks",
        doc="a loyal customer who interacted with the firm (recommended it, responded to a "
        "contact or a surprise) within this many weeks is active, else passive "
        "(S6, S10: count interactions)",
    )
    main_window_weeks: float = param(
        26.0,
        lo=0,
        lo_open=True,
        kind=CONSTANT,
        unit="weeks",
        doc="half-life of the purchase history that decides a customer's main firm",
    )
    main_persistence_weeks: int = param(
        13,
        lo=0,
        kind=CONSTANT,
        unit="weeks",
        doc="weeks another firm must stay on top of the purchase history before it becomes "
        "the main firm: a defection is a lasting change of main firm",
    )
    acquisition_crowding: float = param(
        0.25,
        lo=0,
        hi=100,
        kind=UNCERTAINTY,
        unit="fraction per poaching firm",
        doc="relative rise in acquisition cost per firm making poaching offers (S5)",
        plausible=(0.0, 0.5),
        source="S5 claims acquisition gets dearer as competitors appear; size unknown",
    )

    def check(self) -> None:
        if self.horizon_weeks % self.step_weeks:
            raise ConfigError(
                "horizon_weeks", self.horizon_weeks, f"a multiple of step_weeks ({self.step_weeks})"
            )
        try:
            _dt.date.fromisoformat(self.start_date)
        except ValueError:
            raise ConfigError("start_date", self.start_date, "an ISO date YYYY-MM-DD") from None


@dataclass(frozen=True)
class SimConfig(Params):
    """A complete, validated run configuration."""

    seed: int = param(
        0, lo=0, hi=2**63 - 1, doc="root seed; every random stream is spawned from it"
    )
    design: int = param(
        0,
        lo=0,
        doc="design number in experiments that draw random designs (loyaltysim.runs.designs)",
    )
    engine: str = param(
        "arrays",
        choices=("arrays", "agents"),
        doc="how customers are simulated: arrays (vectorised, fast) or agents (one Mesa agent "
        "per customer, for teaching and testing small markets); same draws, same results",
    )
    market: MarketParams = param(MarketParams())
    customers: CustomerParams = param(CustomerParams())
    firm: FirmParams = param(FirmParams(programme=REGISTRY["discount"].Params()))
    competitor: CompetitorParams = param(CompetitorParams())
    extra_firms: tuple[FirmParams, ...] = param(
        (),
        doc="further firms after the focal firm and the identical rivals, each with its own "
        "settings (unequal markets; entrants with entry_week)",
    )
    output: OutputParams = param(OutputParams())

    def check(self) -> None:
        keys = ["firm.name"] + ["competitor.name"] * self.competitor.count
        keys += [f"extra_firms.{i}.name" for i in range(len(self.extra_firms))]
        seen: dict[str, str] = {}
        for key, firm in zip(keys, self.firm_params(), strict=True):
            if firm.name in seen:
                raise ConfigError(key, firm.name, f"a name no other firm has ({seen[firm.name]})")
            seen[firm.name] = key
        horizon = self.market.horizon_weeks
        sides = [("firm", self.firm), ("competitor", self.competitor)]
        sides += [(f"extra_firms.{i}", f) for i, f in enumerate(self.extra_firms)]
        for key, firm in sides:
            if firm.programme.start_week > horizon:
                raise ConfigError(
                    f"{key}.programme.start_week",
                    firm.programme.start_week,
                    f"<= horizon_weeks ({horizon})",
                )
            if firm.entry_week >= horizon:
                raise ConfigError(
                    f"{key}.entry_week", firm.entry_week, f"< horizon_weeks ({horizon})"
                )
        if self.customers.bgnbd_cohort and self.market.warmup_weeks:
            raise ConfigError(
                "market.warmup_weeks",
                self.market.warmup_weeks,
                "0 when customers.bgnbd_cohort is true (a cohort starts fresh at week 0)",
            )
        if all(f.entry_week > 0 for f in self.firm_params()):
            raise ConfigError("firm.entry_week", self.firm.entry_week, "0 for at least one firm")

    def cautions(self) -> list[str]:
        """What this valid config does that a user may not expect (:mod:`.cautions`)."""
        from .cautions import cautions

        return cautions(self)

    def firm_params(self) -> list[FirmParams]:
        """The market's firms: the focal firm, each identical rival (``rival1``,
        ``rival2``, ...), then the extra firms."""
        return [self.firm, *self.competitor.rivals(), *self.extra_firms]


def make_config(data: Any = None) -> SimConfig:
    """Validate a mapping (or DictConfig) into a :class:`SimConfig`; ``None`` gives defaults."""
    if data is None:
        return SimConfig()
    from collections.abc import Mapping

    from omegaconf import DictConfig, OmegaConf

    if not isinstance(data, (Mapping, DictConfig)):
        raise TypeError(
            f"a config must be a mapping (a dict or DictConfig of config keys) or a SimConfig, "
            f"got {type(data).__name__} {data!r}"
        )
    if isinstance(data, DictConfig):
        try:
            data = OmegaConf.to_container(data, resolve=True)
        except Exception as err:
            raise config_error_from(err) from None
    data = {k: v for k, v in dict(data).items() if k != "hydra"}
    return build(SimConfig, data)


def config_error_from(err: BaseException, overrides: Any = ()) -> ConfigError | BaseException:
    """:func:`.errors.config_error_from`, saying what each key allows."""
    return errors.config_error_from(err, overrides, allowed_for)


def allowed_for(key: str) -> str:
    """What the config key ``key`` accepts, in words (for error messages)."""
    for row in describe():
        if row["key"] == key:
            return row["allowed"]
    return "a key of the config (loyaltysim --cfg job lists them)"


def _node(obj: Any):
    """A typed OmegaConf node of a params object, writable (frozen dataclasses give read-only
    nodes, which Hydra could not merge overrides into)."""
    from omegaconf import AnyNode, BooleanNode, DictConfig, OmegaConf

    def writable(node: DictConfig) -> None:
        OmegaConf.set_readonly(node, None)
        for key in node:
            child = node._get_node(key)
            if isinstance(child, DictConfig):
                writable(child)
            elif isinstance(child, BooleanNode):
                # OmegaConf's boolean nodes take 2 or "yes" as true: leave the value untyped,
                # so build() refuses anything but true or false, naming the key
                node.__dict__["_content"][key] = AnyNode(child._value(), key=key, parent=node)

    node = OmegaConf.structured(obj)
    writable(node)
    return node


def programme_yaml(key: str) -> Path:
    """The one config file of programme type ``key``."""
    return config_dir() / "programme" / f"{key}.yaml"


def register_configs() -> None:
    """Store the schema and every programme option in Hydra's ConfigStore (idempotent)."""
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    store = ConfigStore.instance()
    schema = _node(SimConfig())
    # the programme slots hold the common base, so any registered type can be merged in;
    # conf/firm/default.yaml and conf/competitor/default.yaml choose the default type
    for side in ("firm", "competitor"):
        schema[side].programme = _node(REGISTRY["none"].Params())
    # extra firms are a free list: each entry may carry any programme type's settings, so
    # OmegaConf does not type its items; build() validates them, naming the full key
    extra = schema._get_node("extra_firms")
    extra._metadata.element_type = Any
    extra._metadata.ref_type = Any
    store.store(name="loyaltysim_schema", node=schema)
    for key, cls in REGISTRY.items():
        node = _node(cls.Params())
        path = programme_yaml(key)
        if path.is_file():
            node = OmegaConf.merge(node, OmegaConf.load(path) or {})
        for group in ("firm/programme", "competitor/programme"):
            store.store(group=group, name=key, node=node)


def describe(obj: Any = None) -> list[dict[str, Any]]:
    """Every parameter: of ``obj`` (a params object or class), or, by default, of a whole run
    with its true defaults followed by every other registered programme type's parameters
    (their ``when`` names the option that selects them; they apply under
    ``competitor.programme`` too). Each row gives key, default, kind (lever, uncertainty,
    constant), unit, allowed range, plausible range with its source, and meaning;
    sensitivity and calibration tools sample the uncertainties' plausible ranges."""
    if obj is not None:
        return describe_params(obj)
    cfg = SimConfig()
    rows = describe_params(cfg)
    shown = {cfg.firm.programme.type}
    for key, cls in sorted(REGISTRY.items()):
        if key not in shown:
            rows += describe_params(cls.Params(), "firm.programme.", f"firm/programme={key}")
    return rows


register_configs()
