"""``loyaltysim-validate``: run the validation suite and write ``results/validation/``.

    loyaltysim-validate                          # every check, full sizes
    loyaltysim-validate --quick                  # every check in minutes, small sizes
    loyaltysim-validate --only polygamy double_jeopardy --seeds 5
    loyaltysim-validate --quick customers.choice.loyalty_weight=2   # overrides for every run

Mistakes (an unknown check, a bad override) exit with status 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import REGISTRY
from .common import Context, fmt


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="loyaltysim-validate", description=__doc__.split("\n")[0])
    p.add_argument("overrides", nargs="*", help="config overrides for every run (key=value)")
    p.add_argument("--quick", action="store_true", help="small sizes: all checks in minutes")
    p.add_argument(
        "--only",
        nargs="+",
        action="extend",
        metavar="NAME",
        help="run only these checks (names, or one comma list: --only polygamy,double_jeopardy); "
        "key=value arguments after it are overrides, not names",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: results/validation for the full suite as shipped; "
        "outputs/validation for --quick, --only, --seeds or overrides, which never replace "
        "the curated report)",
    )
    p.add_argument("--seeds", type=int, default=None, help="seeds per check (quick 3, full 20)")
    p.add_argument(
        "--calibration",
        type=Path,
        default=Path("results/calibration"),
        help="calibration folder whose targets the report compares with (default "
        "results/calibration; skipped with a note where there is none)",
    )
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--list", action="store_true", help="list the checks and exit")
    args = p.parse_args(argv)
    # argparse gives --only every word that follows it, overrides included: the
    # README's `--only polygamy key=value` would lose its override to the check names
    if args.only is not None:
        words = [w for item in args.only for w in item.split(",") if w]
        args.overrides = [*args.overrides, *(w for w in words if "=" in w)]
        args.only = [w for w in words if "=" not in w] or None
    return args


CURATED, SCRATCH = Path("results/validation"), Path("outputs/validation")


def default_out(args: argparse.Namespace) -> Path:
    """Where a run writes without ``--out``: the curated report only for the full suite at
    full size with the shipped settings; any partial or changed run goes to a scratch
    folder, so that it cannot silently replace the report the README quotes."""
    full = not (args.quick or args.only or args.overrides or args.seeds is not None)
    return CURATED if full else SCRATCH


def fail(msg: str) -> int:
    print(f"loyaltysim-validate: {msg}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.list:
        for c in REGISTRY.values():
            print(f"{c.name:28} {c.family:12} {c.target}")
        return 0
    if args.out is None:
        args.out = default_out(args)
    names = args.only or list(REGISTRY)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        return fail(f"unknown check {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    bad = [o for o in args.overrides if "=" not in o]
    if bad:
        return fail(f"overrides must be key=value, got {' '.join(bad)}")
    seeds = args.seeds if args.seeds is not None else (3 if args.quick else 20)
    if seeds < 1 or args.workers < 1:
        return fail("--seeds and --workers must be at least 1")
    from ...model.params import ConfigError
    from ...runs.runner import load_config

    try:
        load_config(args.overrides)
    except (ConfigError, TypeError, ValueError) as err:
        return fail(f"invalid override: {str(err).splitlines()[0]}")
    except Exception as err:  # Hydra's composition errors name the key
        return fail(f"invalid override: {str(err).splitlines()[0]}")
    from ...runs.io import folder_problem

    problem = folder_problem(args.out)  # before the checks run, not after them
    if problem is not None:
        return fail(f"--out {args.out}: not a folder that can be created ({problem})")
    ctx = Context(list(range(seeds)), args.quick, tuple(args.overrides), args.workers)
    results, start = [], time.perf_counter()
    try:
        for name in names:
            result = REGISTRY[name].run(ctx)
            results.append(result)
            print(
                f"{name:28} {result.verdict:7} {result.headline} = "
                f"{fmt(result.measured[result.headline])}  ({result.seconds} s)",
                flush=True,
            )
    finally:
        ctx.close()
    from ...runs.io import git_commit
    from .report import write

    meta = {
        "argv": sys.argv[1:] if argv is None else list(argv),
        "size": "quick" if args.quick else "full",
        "seeds": seeds,
        "overrides": list(args.overrides),
        "git_commit": git_commit(),
        "seconds": round(time.perf_counter() - start, 1),
    }
    out = write(results, args.out, meta, args.calibration)
    print(
        f"wrote {out}/README.md, validation.json and {len(results)} figures in {meta['seconds']} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
