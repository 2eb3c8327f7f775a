"""What the benchmark scripts share: their command-line parser."""

from __future__ import annotations

import argparse


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The script's docstring as written, and each option's default."""


def parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser whose ``--help`` shows the whole docstring ``doc`` and every default."""
    return argparse.ArgumentParser(description=doc, formatter_class=_Formatter)
