"""Reading configs and writing a run folder.

A run folder holds ``config.yaml`` (resolved), ``manifest.json`` (seed and stream keys,
package versions, git commit, wall time), ``metrics.csv`` (tidy per-step, per-firm table),
``customers.parquet`` (final customer table), ``summary.csv``, ``figure.png`` (single runs;
in a sweep only with ``output.figure=true``) and, when asked for, ``transactions.parquet``
(one row per purchase, written in chunks).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..model.config import OutputParams, config_dir  # noqa: F401  (re-exported)
from ..model.trades import Outcome

PACKAGES = ("loyaltysim", "mesa", "numpy", "scipy", "pandas", "hydra-core", "pyarrow", "networkx")


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(path: Path | None = None) -> str | None:
    """The commit of the checkout holding the package, with ``-dirty`` if it has changes."""
    cwd = path or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5
        )
        if sha.returncode:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


# what a run writes (and its sweep markers); Hydra's .hydra/ and job log are not a run's
RUN_FILES = (
    "config.yaml",
    "manifest.json",
    "metrics.csv",
    "summary.csv",
    "customers.parquet",
    "transactions.parquet",
    "truth.parquet",
    "figure.png",
    "done.json",
    "error.json",
)


def clear_run_folder(path: Path, overwrite: bool) -> None:
    """Make ``path`` ready for a new run: refuse (ConfigError) if it holds another run's
    files, unless ``overwrite``; then remove them all, so no old file sits beside new ones."""
    from ..model.params import ConfigError

    path = Path(path)
    if not path.is_dir():
        return
    held = [path / name for name in RUN_FILES if (path / name).exists()]
    if held and not overwrite:
        raise ConfigError(
            "output.overwrite",
            False,
            f"true to replace the run already in {path} ({', '.join(p.name for p in held)}), "
            "or another folder (hydra.run.dir=...)",
        )
    for file in held:
        file.unlink()


def folder_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be an output folder (a regular file; a parent that cannot be
    created or written, as under ``/proc``), else None. Creates the folder if need be:
    trying is the only test that holds for root, whom permission bits do not stop."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        return "it is a file, not a folder"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".loyaltysim-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as err:
        return err.strerror or type(err).__name__
    return None


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON atomically: a reader (a sweep's progress count) never sees half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    tmp.replace(path)


def purchase_days(trips: np.ndarray, days: int, rng: np.random.Generator) -> np.ndarray:
    """Days (0..days-1) within a step for each of ``trips[i]`` purchases of buyer i, in row
    order of ``np.repeat(arange(n), trips)``: sorted per buyer, distinct where
    ``trips[i] <= days`` (a uniformly random subset), the surplus uniform with replacement."""
    trips = np.asarray(trips, np.int64)
    n, total = trips.size, int(trips.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    owner = np.repeat(np.arange(n), trips)
    pos = np.arange(total) - np.repeat(np.cumsum(trips) - trips, trips)
    if days == 1:
        return np.zeros(total, np.int64)
    perm = np.argsort(rng.random((n, days)), axis=1)  # a random order of the days per buyer
    inside = pos < days
    day = np.empty(total, np.int64)
    day[inside] = perm[owner[inside], pos[inside]]
    day[~inside] = rng.integers(0, days, int((~inside).sum()))
    return day[np.lexsort((day, owner))]


class TransactionLog:
    """Transaction log in the long format CLV libraries read (pymc-marketing ``rfm_summary``):
    customer_id, date, week, firm, amount (EUR paid), discount (EUR off list), units,
    programme, member.

    One row per purchase occasion: a buyer with k occasions in a step gets k rows, each on
    its own day within the step (distinct days, sorted; drawn uniformly from the ``rng``
    given, the ``timing`` stream, so the model's other draws are untouched), with the step's
    amount, discount and units split equally across them. ``week`` is the step's first week.
    Rows are buffered and written to Parquet every ``chunk_rows`` rows, so memory stays
    bounded on long, large runs.
    """

    SCHEMA = pa.schema(
        [
            ("customer_id", pa.int64()),
            ("date", pa.date32()),
            ("week", pa.int32()),
            ("firm", pa.string()),
            ("amount", pa.float64()),
            ("discount", pa.float64()),
            ("units", pa.float64()),
            ("programme", pa.string()),
            ("member", pa.bool_()),
        ]
    )

    def __init__(
        self,
        path: Path,
        firm_names: list[str],
        programmes: list[str],
        start_date: str,
        chunk_rows: int = 500_000,
        rng: np.random.Generator | None = None,
        step_weeks: int = 1,
    ) -> None:
        if rng is None:
            raise ValueError("TransactionLog needs the timing stream: Streams(seed).get('timing')")
        self.path = Path(path)
        self.firm_names = np.array(firm_names, dtype=object)
        self.programmes = np.array(programmes, dtype=object)
        self.start = np.datetime64(_dt.date.fromisoformat(start_date), "D")
        self.chunk_rows = chunk_rows
        self.rng = rng
        self.days = 7 * int(step_weeks)
        self._buffer: list[dict[str, np.ndarray]] = []
        self._buffered = 0
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0

    def __call__(self, week: int, out: Outcome) -> None:
        if out.buyers.size == 0:
            return
        k = np.maximum(np.asarray(out.trips, np.int64), 1)
        day = purchase_days(k, self.days, self.rng)
        n = day.size

        def each(values: np.ndarray) -> np.ndarray:
            return np.repeat(np.asarray(values), k)

        self._buffer.append(
            {
                "customer_id": each(out.buyers.astype(np.int64)),
                "date": self.start + (7 * week + day).astype("timedelta64[D]"),
                "week": np.full(n, week, np.int32),
                "firm": each(self.firm_names[out.firm]),
                "amount": each(out.paid / k),
                "discount": each((out.rebate + out.offer + out.redeemed) / k),
                "units": each(out.units / k),
                "programme": each(self.programmes[out.firm]),
                "member": each(out.member),
            }
        )
        self._buffered += n
        if self._buffered >= self.chunk_rows:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        cols = {k: np.concatenate([b[k] for b in self._buffer]) for k in self._buffer[0]}
        table = pa.Table.from_pydict(cols, schema=self.SCHEMA)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self.SCHEMA)
        self._writer.write_table(table)
        self.rows += table.num_rows
        self._buffer, self._buffered = [], 0

    def close(self) -> None:
        self.flush()
        if self._writer is None:
            pq.write_table(self.SCHEMA.empty_table(), self.path)
        else:
            self._writer.close()


# population rows per Parquet row group of the customer table: about 8 MB of table a chunk
CUSTOMER_CHUNK_ROWS = 1 << 15


class _Rows:
    """Rows ``[start, stop)`` of a population, as :func:`loyaltysim.model.metrics.customer_table`
    reads a population: every per-person array sliced (views, no copies), ``main_share``
    shifted to the slice's rows."""

    def __init__(self, pop: Any, start: int, stop: int) -> None:
        self._pop, self._start, self._stop = pop, start, stop
        self.size = stop - start

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._pop, name)
        if isinstance(value, np.ndarray) and value.ndim and value.shape[0] == self._pop.size:
            return value[self._start : self._stop]
        raise AttributeError(f"the customer table read {name!r}, which _Rows does not slice")

    def main_share(self, rows: np.ndarray, recent: np.ndarray | None = None) -> np.ndarray:
        return self._pop.main_share(rows + self._start, recent)


def write_customer_table(model: Any, path: Path, chunk_rows: int = CUSTOMER_CHUNK_ROWS) -> int:
    """Write a market's customer table (the rows of ``Market.customers()``, same columns,
    types and order) to Parquet, ``chunk_rows`` people of the population at a time, so the
    whole table never sits in memory (a million-customer run would hold ~200 MB of it
    twice: as a DataFrame and as Arrow). Returns the number of rows written."""
    from ..model.metrics import customer_table

    pop = model.population
    threshold = model.config.market.loyal_threshold
    writer: pq.ParquetWriter | None = None
    rows = 0
    try:
        for start in range(0, pop.size, chunk_rows):
            part = customer_table(
                _Rows(pop, start, min(pop.size, start + chunk_rows)), model.firm_names, threshold
            )
            if part.empty:
                continue
            part["customer_id"] += start
            table = pa.Table.from_pandas(part, preserve_index=False)
            del part
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            elif not table.schema.equals(writer.schema, check_metadata=False):
                table = table.cast(writer.schema)
            writer.write_table(table)
            rows += table.num_rows
        if writer is None:  # nobody was a customer: the empty table, as pandas writes it
            model.customers().to_parquet(path, index=False)
    finally:
        if writer is not None:
            writer.close()
    return rows


def _global_package(path: Path) -> bool:
    """Whether the file's header says ``# @package _global_`` where Hydra reads it: among
    the ``# @key value`` lines before any other non-empty line (Hydra's own rule)."""
    for line in path.read_text().splitlines():
        text = line.strip()
        if not text:
            continue
        if not re.match(r"#\s*@", text):
            return False
        if text.lstrip("#").split() == ["@package", "_global_"]:
            return True
    return False


def world_by_path(overrides: list[str]) -> list[str]:
    """``world=PATH`` (a world file given by its path, as ``loyaltysim-fit`` writes
    ``DIR/world/NAME.yaml``) as Hydra can compose it: ``world=NAME`` with ``DIR`` added to
    ``hydra.searchpath``. A world given by name (conf/world) is left as it is. A path that
    is not a file, or a file outside a folder named ``world``, is a
    :class:`~loyaltysim.model.params.ConfigError`."""
    import yaml

    from ..model.params import ConfigError

    out, roots = [], []
    for item in overrides:
        key, sep, value = item.partition("=")
        if key != "world" or not sep or not (value.endswith((".yaml", ".yml")) or "/" in value):
            out.append(item)
            continue
        path = Path(value).expanduser()
        if not path.is_file():
            raise ConfigError("world", value, "a world's name (conf/world) or a world file")
        if path.parent.name != "world":
            # Hydra finds a group's files in <root>/world/: the file's own folder must be it
            raise ConfigError(
                "world",
                value,
                "a world file in a folder named world/ (as loyaltysim-fit "
                "writes DIR/world/NAME.yaml)",
            )
        try:  # Hydra would show a broken file as a traceback: say it in one line
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            where = getattr(exc, "problem_mark", None)
            at = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
            raise ConfigError("world", value, f"a readable YAML world file{at}") from None
        if data is not None and not isinstance(data, dict):
            raise ConfigError("world", value, "a YAML mapping of config keys")
        if not _global_package(path):
            # without it Hydra nests the keys under `world.`, then refuses them as unknown
            head = "'# @package _global_' (as loyaltysim-fit and loyaltysim-calibrate write)"
            raise ConfigError("world", value, f"a world file whose first line is {head}")
        roots.append(f"file://{path.resolve().parent.parent}")
        out.append(f"world={path.stem}")
    if not roots:
        return out
    for i, item in enumerate(out):
        if item.startswith("hydra.searchpath="):
            listed = item.partition("=")[2].strip().strip("[]")
            out[i] = "hydra.searchpath=[" + ",".join([p for p in [listed] if p] + roots) + "]"
            return out
    return [*out, "hydra.searchpath=[" + ",".join(roots) + "]"]
