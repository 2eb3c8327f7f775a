"""Benchmark: ``loyaltysim-fit`` on a generated BG/NBD log of N rows (issue 24, "Scale").

    .venv/bin/python benchmarks/bench_fit.py                       # 10,000,000 rows
    .venv/bin/python benchmarks/bench_fit.py --rows 200000 --formats csv parquet

The log is a BG/NBD cohort with gamma-gamma spend (:func:`generate`): customers make a
first purchase in the first 12 weeks, then repeat purchases until week 78 or drop-out;
one row per purchase occasion (customer_id, date, amount), about 10 rows a customer. It
is written as Parquet (row groups of 2^20 rows) and CSV under ``--dir`` (a temporary
folder by default, removed afterwards). Each format is fitted by ``loyaltysim-fit LOG
--calibration-end 39 --keep-duplicates --timings`` in a child process; its CPU seconds
(user + system, every thread) and peak RSS come from ``getrusage(RUSAGE_CHILDREN)``, its
phases (read, summarise, fit, holdout, write) from the ``--timings`` lines on its stderr.
The load average is printed first: the figures are only as good as the machine was idle.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from _common import parser

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from loyaltysim.studies.fit import models  # noqa: E402

BGNBD = (0.8, 2.0, 1.0, 8.0)  # r, alpha (weeks), a, b: ~0.4 purchases a week, ~1/9 drop out
GAMMA_GAMMA = (6.0, 4.0, 15.0)  # p, q, gamma: mean spend ~ p gamma / (q - 1) = 30
WEEKS, ENTRY_WEEKS = 78, 12
START = np.datetime64("2020-01-06")


def generate(rows: int, seed: int = 0) -> pa.Table:
    """About ``rows`` purchase occasions of a BG/NBD cohort, in date order: customer_id
    (int64), date (date32), amount (float64, cents). Vectorised: every customer's
    purchases are drawn at once by :func:`models.simulate_cohort`."""
    rng = np.random.default_rng(seed)
    pilot = models.simulate_cohort(BGNBD, 20_000, np.full(20_000, WEEKS - 6.0), rng)[0]
    n = max(100, int(rows / (1 + pilot.size / 20_000)))
    first = rng.integers(0, 7 * ENTRY_WEEKS, n)
    horizon = (7 * WEEKS - first - 0.5) / 7
    idx, after = models.simulate_cohort(BGNBD, n, horizon, rng)
    who = np.concatenate([np.arange(n), idx])
    day = np.concatenate([first, np.floor(first[idx] + 0.5 + 7 * after).astype(np.int64)])
    p, q, g = GAMMA_GAMMA
    nu = rng.gamma(q, 1.0 / g, n)
    amount = np.round(rng.gamma(p, 1.0 / nu[who]), 2) + 0.01
    order = np.lexsort((who, day))
    ids = rng.permutation(n) + 1_000_000  # ids not in first-purchase order
    return pa.table(
        {
            "customer_id": ids[who[order]],
            "date": (START + day[order].astype("timedelta64[D]")).astype("datetime64[D]"),
            "amount": amount[order],
        }
    )


def write(table: pa.Table, folder: Path, formats: list[str]) -> dict[str, Path]:
    """The log in each format, named log.<format>."""
    paths = {}
    for fmt in formats:
        path = folder / f"log.{fmt}"
        if fmt == "parquet":
            pq.write_table(table, path, row_group_size=1 << 20)
        else:
            pacsv.write_csv(table, path)
        paths[fmt] = path
    return paths


def fit(path: Path, out: Path) -> dict:
    """One ``loyaltysim-fit`` child: wall, CPU and peak RSS, and its phases."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "loyaltysim.studies.fit", str(path), "--out", str(out),
           "--calibration-end", "39", "--keep-duplicates", "--timings"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode:
        raise SystemExit(f"{path}: loyaltysim-fit failed: {r.stderr.strip()}")
    phases = {
        m["phase"]: {
            "cpu_s": float(m["cpu"]),
            "wall_s": float(m["wall"]),
            "peak_rss_gib": float(m["peak"]),
        }
        for m in re.finditer(
            r"timing (?P<phase>\w+): cpu (?P<cpu>[\d.]+) s, wall (?P<wall>[\d.]+) s, "
            r"peak RSS (?P<peak>[\d.]+) GiB",
            r.stderr,
        )
    }
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    result = json.loads((out / "fit.json").read_text())
    return {
        "rows": result["rows"],
        "customers": result["customers"],
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        # ru_maxrss of the children: the largest child so far (KiB on Linux)
        "peak_rss_gib": round(after.ru_maxrss / 2**20, 3),
        "phases": phases,
        "bgnbd": result["fits"]["BG/NBD"]["params"],
    }


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows of the log (about)")
    ap.add_argument("--formats", nargs="+", default=["parquet", "csv"],
                    choices=["parquet", "csv"], help="formats fitted, in this order")  # fmt: skip
    ap.add_argument("--dir", type=Path, default=None, help="folder for the logs (kept)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the generated log")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    a = ap.parse_args()
    if a.rows < 1000:
        print("bench_fit.py: error: --rows must be at least 1000", file=sys.stderr)
        raise SystemExit(2)
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"{os.cpu_count()} CPUs", flush=True)  # fmt: skip
    folder = a.dir or Path(tempfile.mkdtemp(prefix="bench_fit_"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.process_time()
        table = generate(a.rows, a.seed)
        paths = write(table, folder, a.formats)
        print(f"generated {table.num_rows} rows in {time.process_time() - t0:.1f} CPU s: "
              + ", ".join(f"{p.name} {p.stat().st_size / 2**20:.0f} MiB"
                          for p in paths.values()), flush=True)  # fmt: skip
        del table
        figures = {}
        for fmt, path in paths.items():
            out = Path(tempfile.mkdtemp(prefix=f"bench_fit_{fmt}_"))
            shutil.rmtree(out)
            try:
                figures[fmt] = fit(path, out)
            finally:
                shutil.rmtree(out, ignore_errors=True)
            f = figures[fmt]
            print(f"{fmt}: {f['rows']} rows, {f['customers']} customers: wall {f['wall_s']} s, "
                  f"CPU {f['cpu_s']} s, peak RSS {f['peak_rss_gib']} GiB; "
                  + ", ".join(f"{k} {v['cpu_s']:.1f}/{v['wall_s']:.1f}/{v['peak_rss_gib']:.2f}"
                              for k, v in f["phases"].items())
                  + " (CPU s/wall s/peak GiB so far)", flush=True)  # fmt: skip
        figures["load_average_after"] = os.getloadavg()
        print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
        if a.json:
            a.json.write_text(json.dumps(figures, indent=2) + "\n")
    finally:
        if a.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
