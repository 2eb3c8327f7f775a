"""The ``key=value`` command lines of ``loyaltysim-ask`` and ``loyaltysim-optimise``: one
parser, so both refuse a stray argument the same way and both print their help."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..runs.collect import UsageError


def parse_options(
    argv: Sequence[str],
    options: Sequence[str],
    doc: str | None,
    prefixes: Sequence[str] = (),
    is_option: Callable[[str], bool] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """Split ``argv`` into the tool's own options (``key=value`` with ``key`` in
    ``options`` or starting with one of ``prefixes``, such as ``lever.``), last one winning,
    and the rest, which are Hydra overrides for every run. ``-h``/``--help`` prints ``doc``
    and exits 0; a token without ``=`` (or a ``--flag``) is a one-line :class:`UsageError`
    that lists what is allowed."""
    own, extra = {}, []
    for token in argv:
        if token in ("-h", "--help"):
            print(doc or "")
            raise SystemExit(0)
        key, sep, value = token.partition("=")
        if not sep or token.startswith("-") or not key:
            allowed = ", ".join(
                [*(f"{o}=..." for o in options), *(f"{p}KEY=..." for p in prefixes)]
            )
            raise UsageError(f"argument {token!r}; allowed: {allowed} or overrides (key=value)")
        if (
            key in options
            or any(key.startswith(p) for p in prefixes)
            or (is_option is not None and is_option(key))
        ):
            own[key] = value
        else:
            extra.append(token)
    return own, extra


def is_file(text: str) -> bool:
    """Whether ``text`` names an existing file. False, not an error, for what cannot be a
    path: a comma-separated list of twelve world names is longer than a file name may be
    (``OSError: File name too long`` from ``Path.is_file``)."""
    try:
        return Path(text).expanduser().is_file()
    except (OSError, ValueError):
        return False


def sweep_lines(lines: Sequence[Sequence[str]]) -> tuple[list[list[str]], list[str]]:
    """Command lines for ``hydra.sweeper.jobs`` as the command line would give them: a
    world given by its file's path becomes ``world=NAME`` in the line and its folder joins
    ``hydra.searchpath``, which only the command itself can set (the second value: the
    ``hydra.searchpath`` argument, if any)."""
    from ..runs.io import world_by_path

    roots: list[str] = []
    out = []
    for line in lines:
        keep = []
        for item in world_by_path(list(line)):
            if item.startswith("hydra.searchpath="):
                listed = item.partition("=")[2].strip().strip("[]").split(",")
                roots += [r for r in listed if r and r not in roots]
            else:
                keep.append(item)
        out.append(keep)
    return out, [f"hydra.searchpath=[{','.join(roots)}]"] if roots else []


def jobs_command(
    lines: Sequence[Sequence[str]],
    listing: Path,
    runs_dir: Path,
    hydra: Sequence[str] = (),
    jobs: int | None = None,
) -> list[str]:
    """Write ``lines`` (after :func:`sweep_lines`) to ``listing`` and return the
    ``loyaltysim -m`` command that sweeps them as one sweep into ``runs_dir`` (``hydra``:
    more Hydra settings, such as the launcher; ``jobs``: runs at a time)."""
    import sys

    import yaml

    lines, search = sweep_lines(lines)
    listing.write_text(yaml.safe_dump(lines, default_flow_style=None, width=10**6))
    cmd = [sys.executable, "-m", "loyaltysim", "-m", f"hydra.sweeper.jobs={listing}", *search]
    cmd += [f"hydra.sweep.dir={runs_dir}", *hydra]
    return cmd + ([f"hydra.launcher.n_jobs={jobs}"] if jobs else [])
