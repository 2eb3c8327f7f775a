"""The structure newcomers rely on: an acyclic package, parameters validated on every path,
a programme registry whose members are all checked, extension in one module plus one YAML,
one clock, and generated parameter docs that match the code."""

from __future__ import annotations

import ast
import dataclasses
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import loyaltysim
from conftest import small_config
from loyaltysim import (
    PROGRAMMES,
    ConfigError,
    Market,
    check_programme,
    describe,
    load_config,
    make_config,
)
from loyaltysim.catalogue import markdown
from loyaltysim.model.customers import CustomerParams
from loyaltysim.model.firms import FirmParams

PACKAGE = Path(loyaltysim.__file__).parent
ROOT = PACKAGE.parents[1]


def _imports(path: Path, module: str) -> set[str]:
    """Modules of the package that ``path`` imports (TYPE_CHECKING imports included)."""
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            target, names = "", [a.name for a in node.names]
        else:
            continue
        for name in [target, *names]:
            if name.startswith("loyaltysim"):
                found.add(name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    graph = {}
    for name, path in modules.items():
        deps = set()
        for target in _imports(path, name):
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                deps.add(target)
        graph[name] = deps
    return graph


def test_the_package_import_graph_is_acyclic():
    graph = import_graph()
    # a package's __init__ may gather its modules; a module importing its own package's
    # __init__ is a cycle only through that __init__'s other imports, which we do count
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == 1:
            cycle = trail[trail.index(node) :] + [node]
            pytest.fail("import cycle: " + " -> ".join(cycle))
        if state.get(node) == 2:
            return
        state[node] = 1
        for dep in sorted(graph[node]):
            if dep == "loyaltysim" or (node.startswith(dep + ".") and dep != node):
                continue  # a module importing its parent package's namespace
            visit(dep, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        visit(node, [])
    assert len(graph) > 20


# The rooms, lowest first: a module may import its own room and the rooms below it, never one
# above. The top level (the interfaces: cli, app, catalogue and the public API) may import all.
ROOMS = ("model", "engines", "runs", "studies")


def room_of(module: str) -> int:
    """The rank of a module's room; the top level (interfaces) ranks above every room."""
    parts = module.split(".")
    return ROOMS.index(parts[1]) if len(parts) > 1 and parts[1] in ROOMS else len(ROOMS)


def violations(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} imports {dep}"
        for module, deps in graph.items()
        for dep in deps
        if dep != "loyaltysim" and room_of(dep) > room_of(module)
    )


def test_rooms_import_only_downwards():
    """The model never imports the engines, runs, studies or interfaces; the engines never
    the runs, studies or interfaces; runs never the studies or interfaces; studies never the
    interfaces."""
    graph = import_graph()
    assert violations(graph) == []
    assert {room_of(m) for m in graph} == set(range(len(ROOMS) + 1))  # every room is used


def test_the_room_check_catches_an_upward_import():
    graph = import_graph()
    graph["loyaltysim.model.customers"] = {"loyaltysim.studies.compare"}
    graph["loyaltysim.engines.engine"] = {"loyaltysim.runs.io"}
    assert violations(graph) == [
        "loyaltysim.engines.engine imports loyaltysim.runs.io",
        "loyaltysim.model.customers imports loyaltysim.studies.compare",
    ]


def test_every_room_says_what_it_holds_and_may_import():
    for room in ROOMS:
        doc = (PACKAGE / room / "__init__.py").read_text()
        assert doc.startswith('"""') and "May import" in doc, room


def test_the_top_level_is_seen_at_a_glance():
    modules = [p for p in PACKAGE.glob("*.py")]
    packages = [p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()]
    assert len(modules) <= 12 and sorted(packages) == sorted(ROOMS)


def test_modules_stay_small():
    for path in PACKAGE.rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 360, (
            f"{path.name} is over ~300 lines: split it"
        )


@pytest.mark.parametrize(
    "make",
    [
        lambda: make_config({"firm": {"price": -1}}),  # the mapping path (YAML files)
        lambda: load_config(["firm.price=-1"]),  # command-line overrides
        lambda: load_config(firm__price=-1),  # keyword values
        lambda: FirmParams(price=-1),  # direct construction
        lambda: dataclasses.replace(FirmParams(), price=-1),  # dataclasses.replace
        lambda: dataclasses.replace(load_config(), firm=FirmParams(price=-1)),
    ],
    ids=["mapping", "override", "keyword", "dataclass", "replace", "nested-replace"],
)
def test_out_of_range_values_are_rejected_by_every_path(make):
    with pytest.raises(ConfigError) as err:
        make()
    assert err.value.key.endswith("price") and err.value.value == -1
    assert "allowed: a number > 0" in str(err.value)


def test_construction_paths_name_keys_and_normalise_values():
    with pytest.raises(ConfigError, match="price_sensitivity_median = -2"):
        CustomerParams(price_sensitivity_median=-2)
    with pytest.raises(ConfigError) as err:
        make_config({"customers": {"choice": {"loyalty_weight": "high"}}})
    assert err.value.key == "customers.choice.loyalty_weight"
    assert FirmParams(price=5).price == 5.0 and isinstance(FirmParams(price=5).price, float)
    prog = FirmParams(programme={"type": "engagement", "contacts_per_week": 1}).programme
    assert type(prog) is PROGRAMMES["engagement"].Params and prog.contacts_per_week == 1.0
    with pytest.raises(ConfigError) as err:
        FirmParams(programme={"type": "magic"})
    assert err.value.key == "programme.type"


@pytest.mark.parametrize("key", sorted(PROGRAMMES))
def test_every_registered_programme_passes_the_programme_checks(key):
    check_programme(key)


def test_the_programme_checks_can_fail(monkeypatch):
    """A programme that books no cost for its gifts breaks the checks."""
    from loyaltysim.model.programmes.base import Programme

    def leaky(self, ctx, sales):
        Programme.after_purchase(self, ctx, sales)
        ctx.pop.engagement[sales.buyers, self.firm] += 5.0  # a big gift never booked...
        return -1.0  # ... and a negative cost

    monkeypatch.setattr(PROGRAMMES["discount"], "after_purchase", leaky)
    with pytest.raises(AssertionError, match="discount"):
        check_programme("discount")


THROWAWAY = '''
"""A throwaway programme: members get a fixed euro voucher at each purchase."""
from dataclasses import dataclass

from ..params import LEVER, param
from .base import Programme, ProgrammeParams, register


@dataclass(frozen=True)
class VoucherParams(ProgrammeParams):
    type: str = param("voucher", kind=LEVER, doc="registry key")
    signup_prob: float = param(0.5, lo=0, hi=1, kind=LEVER, doc="sign-up probability")
    voucher_eur: float = param(0.5, lo=0, kind=LEVER, unit="EUR", doc="voucher per purchase")


@register("voucher")
class VoucherProgramme(Programme):
    Params = VoucherParams

    def after_purchase(self, ctx, sales):
        cost = super().after_purchase(ctx, sales)
        if self.active(ctx.week):
            cost += self.params.voucher_eur * int(sales.member.sum())
        return cost
'''


def test_a_new_programme_is_one_module_plus_one_yaml(tmp_path):
    """Copy the package, add exactly one module and one YAML, touch nothing else: the new
    programme runs from the CLI and the registry-wide checks cover it."""
    shutil.copytree(PACKAGE, tmp_path / "src" / "loyaltysim")
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    shutil.copytree(ROOT / "tests", tmp_path / "tests")
    (tmp_path / "src" / "loyaltysim" / "model" / "programmes" / "voucher.py").write_text(THROWAWAY)
    (tmp_path / "conf" / "programme" / "voucher.yaml").write_text("# a fixed voucher\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "src"), "MPLBACKEND": "Agg"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "loyaltysim",
            "firm/programme=voucher",
            "debug=default",
            f"hydra.run.dir={tmp_path}/run",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "programme_cost_eur" in run.stdout
    checks = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(tmp_path / "tests" / "test_architecture.py"),
            "-k",
            "every_registered_programme and voucher",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert "1 passed" in checks.stdout, checks.stdout + checks.stderr


def test_one_clock_even_past_the_horizon():
    model = Market(small_config("market.horizon_weeks=6", "market.step_weeks=2", seed=1))
    model.run()
    assert (model.steps, model.week, len(model.metrics())) == (3, 6, 9)
    model.step()  # past the horizon: nothing happens, the clock stays
    assert (model.steps, model.week, len(model.metrics())) == (3, 6, 9)
    assert not model.running


def test_parameters_md_is_generated_from_the_code():
    assert (ROOT / "PARAMETERS.md").read_text() == markdown(describe()), (
        "regenerate with: loyaltysim-describe --markdown > PARAMETERS.md"
    )
