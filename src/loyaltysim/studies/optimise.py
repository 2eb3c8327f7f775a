"""The command line of ``loyaltysim-optimise``: ``key=value`` arguments, one-line errors with
exit status 2; the search itself is :mod:`.optimise_search` (whose docstring is the help)."""

from __future__ import annotations

import sys
from typing import Any

import yaml

from ..runs.collect import UsageError
from .optimise_eval import Evaluation, Evaluator
from .optimise_levers import DEFAULT_LEVERS, Lever
from .optimise_search import Result, optimise
from .optimise_search import __doc__ as DOC
from .options import parse_options

__all__ = ["DEFAULT_LEVERS", "Evaluation", "Evaluator", "Lever", "Result", "main", "optimise"]

OPTIONS = (
    "programme", "worlds", "seeds", "customers", "weeks", "trials", "risk", "out", "seed",
    "launcher", "jobs", "batch",
)  # fmt: skip
INTS = ("customers", "weeks", "trials", "seed", "jobs", "batch")


def _number(text: str) -> Any:
    value = yaml.safe_load(text)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(text)
    return value


def lever_spec(key: str, text: str) -> tuple | list:
    """``LO:HI`` as a range, ``A,B,C`` (or one value) as choices."""
    try:
        if ":" in text:
            lo, hi = text.split(":")
            return (_number(lo), _number(hi))
        return [yaml.safe_load(v) for v in text.split(",")]
    except (ValueError, yaml.YAMLError):
        raise UsageError(
            f"lever.{key} = {text!r}; allowed: LO:HI (numbers) or values separated by ,"
        ) from None


def parse(argv: list[str]) -> dict[str, Any]:
    """The keyword arguments of :func:`optimise` from ``key=value`` arguments (the parser
    ``loyaltysim-ask`` shares: :func:`.options.parse_options`)."""
    own, extra = parse_options(argv, OPTIONS, DOC, prefixes=("lever.",))
    kwargs: dict[str, Any] = {"levers": {}, "overrides": extra}
    for key, value in own.items():
        if key.startswith("lever."):
            kwargs["levers"][key[6:]] = lever_spec(key[6:], value)
        elif key in INTS:
            if not value.isdigit() or int(value) < 1:
                raise UsageError(f"{key} = {value!r}; allowed: an integer >= 1")
            kwargs["sampler_seed" if key == "seed" else key] = int(value)
        elif key == "seeds":
            seeds = yaml.safe_load(value) if value else None
            if not (isinstance(seeds, int) and seeds >= 1) and not (
                isinstance(seeds, list) and seeds and all(isinstance(s, int) for s in seeds)
            ):
                raise UsageError(f"seeds = {value!r}; allowed: a count >= 1 or [0,5,9]")
            kwargs["seeds"] = seeds
        else:
            kwargs[key] = value
    if "programme" not in kwargs:
        raise UsageError("programme missing; allowed: programme=engagement, discount or tiered")
    kwargs.setdefault("out", f"outputs/optimise/{kwargs['programme']}")
    return kwargs


def main(argv: list[str] | None = None) -> None:
    try:
        kwargs = parse(list(sys.argv[1:] if argv is None else argv))
        result = optimise(**kwargs)
    except UsageError as err:
        print(f"loyaltysim-optimise: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    print((result.out / "summary.md").read_text())
    print(f"written: {result.out}/summary.md, designs.csv, trials.csv, pareto.csv, pareto.png")


if __name__ == "__main__":
    main()
