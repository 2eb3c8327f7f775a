"""loyaltysim's Hydra plugins. Hydra accepts plugins only from the ``hydra_plugins``
namespace package, so the classes are declared here; the code is in
:mod:`loyaltysim.runs.sweeper` and :mod:`loyaltysim.runs.launcher`."""
