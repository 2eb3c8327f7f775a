"""Mesa's two core classes, ``Model`` and ``Agent``, without the rest of the package.

``import mesa`` runs the package's ``__init__``, which imports every part of Mesa (spaces,
continuous space, batch runner, data collector) and with them SciPy's spatial module,
networkx and pandas: about 0.5-0.7 CPU seconds, against 0.05 for ``mesa.model`` and
``mesa.agent``, all a market needs. So, where Mesa has not been imported yet, the package
is registered without running its ``__init__`` and only those two modules are loaded; the
``__init__`` runs on the first access to anything else of ``mesa`` (``mesa.DataCollector``,
``mesa.space``, ``mesa.__version__``), so code that imports Mesa itself sees the whole
package, with the same ``Model`` and ``Agent`` classes. Where Mesa is already imported, its
classes are used as they are.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading

_LOCK = threading.RLock()


def _complete(pkg, spec):
    """A module ``__getattr__`` for the registered package: run its ``__init__`` once, then
    answer from the complete package."""

    def __getattr__(name: str):
        with _LOCK:
            if pkg.__dict__.get("__getattr__") is __getattr__:
                del pkg.__getattr__
                spec.loader.exec_module(pkg)
        try:
            return pkg.__dict__[name]
        except KeyError:
            raise AttributeError(f"module 'mesa' has no attribute {name!r}") from None

    return __getattr__


def _load():
    with _LOCK:
        if "mesa" not in sys.modules:
            spec = importlib.util.find_spec("mesa")
            if spec is None or spec.loader is None or spec.submodule_search_locations is None:
                import mesa  # noqa: F401  (not an ordinary package: import it whole)
            else:
                pkg = importlib.util.module_from_spec(spec)
                pkg.__getattr__ = _complete(pkg, spec)
                sys.modules["mesa"] = pkg
        import mesa.agent
        import mesa.model

        return mesa.model.Model, mesa.agent.Agent


Model, Agent = _load()

# Mesa 3.3 logs "calling model.step for timestep N" at INFO on every step; under Hydra's
# job logging (INFO) that is 260 lines a run in every job's log and console. Quieten Mesa's
# model logger unless someone set a level on it.
_STEP_LOG = logging.getLogger("MESA.mesa.model")
if _STEP_LOG.level == logging.NOTSET:
    _STEP_LOG.setLevel(logging.WARNING)


def forget_model(model) -> None:
    """Drop Mesa's class-level reference to ``model`` (mesa 3.3 ``Agent._ids``) so a worker
    that runs many models does not grow."""
    ids = getattr(Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)
