"""Run the claims in every accepted world, without rerunning the default experiments.

    python scripts/across_worlds.py                       # every world -> results/ensemble
    python scripts/across_worlds.py --worlds <id> <id>    # some (a partial table goes under
                                                          # <runs>/worlds/ensemble, not results/)
    python scripts/across_worlds.py --only head_to_head --runs /tmp/wruns --out /tmp/res

A thin caller of ``experiments/run_all.py``'s ``across_worlds`` step (the library is
:mod:`loyaltysim.studies.worlds.claims`; ``run_all.py`` runs it after the default
experiments): every experiment with a claim runs in each world (``world=<id>``; a rerun
skips finished runs), then ``<out>/ensemble/claims.csv``, ``claims.md`` and the README's
across-worlds section are written. It takes ``run_all.py``'s options.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _driver():
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "experiments" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    run_all = _driver()
    args = run_all.parse_args(list(sys.argv[1:] if argv is None else argv))
    if not args.worlds:
        print("across_worlds: --worlds none leaves nothing to run", file=sys.stderr)
        return 2
    run_all.across_worlds(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
