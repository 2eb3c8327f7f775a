"""A log's file, read in batches: Parquet by row group (only the columns asked for), CSV
and its compressed forms streamed by pyarrow, blank-aligned text (CDNOW's) by pandas in
chunks. :mod:`.logs` checks what comes out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

READ = ("customer", "date", "amount", "units", "member", "firm")  # the roles a fit reads


class LogError(ValueError):
    """A problem with the input log, in one line."""


BATCH_ROWS = 1 << 20  # rows a batch: ~30 MiB of typed columns, a few batches in flight
SEPARATORS = ",;\t|"


def file_kind(path: Path) -> str:
    """'parquet', 'csv' (one of SEPARATORS) or 'blanks' (CDNOW's aligned text); LogError
    for a missing file or another format."""
    if not path.is_file():
        raise LogError(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith(tuple(e + z for e in (".csv", ".txt", ".tsv") for z in ("", ".gz"))):
        return "csv" if _separator(path) is not None else "blanks"
    raise LogError(f"{path}: not a CSV (.csv, .csv.gz) or Parquet (.parquet) file")


def _separator(path: Path) -> str | None:
    """The header's most frequent comma, semicolon, tab or bar (pyarrow does not sniff);
    None: runs of blanks, as CDNOW's text files align columns with several spaces."""
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", errors="replace") as f:
        header = f.readline()
    counts = [header.count(c) for c in SEPARATORS]
    return SEPARATORS[int(np.argmax(counts))] if max(counts) else None


def column_names(path: Path) -> list[str]:
    """The log's column names, from the Parquet schema or the CSV header alone."""
    path = Path(path)
    kind = file_kind(path)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return list(pq.ParquetFile(path).schema_arrow.names)
        if kind == "csv":
            return list(_open_csv(path, None).schema.names)
        return list(pd.read_csv(path, sep=r"\s+", nrows=0).columns)
    except LogError:
        raise
    except Exception as err:  # a corrupt file: say which and why, in one line
        raise LogError(f"{path}: cannot be read ({type(err).__name__}: {err})") from None


def _open_csv(path: Path, cols: dict[str, str] | None, text: bool = False):
    """A streaming pyarrow CSV reader of ``cols``' columns only: customer ids read as text
    (a type inferred from the first block could fail on a later one), amounts and units
    as float64; dates as pyarrow infers them (yyyymmdd integers, ISO dates, else text).
    ``text``: every column as text, for a file those types do not fit (its bad values are
    then counted and named as in any other log)."""
    from pyarrow import csv

    convert = csv.ConvertOptions()
    if cols is not None:
        types = {cols["customer"]: pa.string()}
        number = pa.string() if text else pa.float64()
        types |= {cols[r]: number for r in ("amount", "units") if r in cols}
        if text:
            types[cols["date"]] = pa.string()
        types |= {cols[r]: pa.string() for r in ("member", "firm") if r in cols}
        names = [cols[role] for role in READ if role in cols]
        convert = csv.ConvertOptions(include_columns=list(dict.fromkeys(names)),
                                     column_types=types)  # fmt: skip
    return csv.open_csv(
        path,
        # ~32 bytes a row of a typical log: blocks of about BATCH_ROWS rows
        read_options=csv.ReadOptions(block_size=max(BATCH_ROWS * 32, 1 << 16)),
        parse_options=csv.ParseOptions(delimiter=_separator(path)),
        convert_options=convert,
    )


def iter_batches(path: Path, cols: dict[str, str], text: bool = False) -> Iterator[pa.RecordBatch]:
    """The log's ``cols`` columns in record batches, never the whole file at once:
    Parquet by row groups, CSV by pyarrow's streaming reader, blank-separated text by
    pandas' C parser in chunks."""
    import pyarrow.parquet as pq

    names = list(dict.fromkeys(cols[role] for role in READ if role in cols))
    kind = file_kind(path)
    if kind == "parquet":
        yield from pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=names)
    elif kind == "csv":
        yield from _open_csv(path, cols, text)
    else:
        chunks = pd.read_csv(path, sep=r"\s+", usecols=names, chunksize=BATCH_ROWS)
        for chunk in chunks:
            yield pa.RecordBatch.from_pandas(chunk, preserve_index=False)
