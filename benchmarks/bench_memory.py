"""Peak memory (RSS) of whole command-line runs, and the bytes each customer costs.

    .venv/bin/python benchmarks/bench_memory.py                      # 1,000,000 customers
    .venv/bin/python benchmarks/bench_memory.py --sizes 10000000 --weeks 4   # ~7 GiB, ~2 minutes

Each run is ``loyaltysim customers.n=N`` in its own process, with everything a run writes
(customer table, figure, unless ``--lean``), into a temporary folder; its peak resident set
size is read with ``getrusage`` from a wrapper process that runs only it. The fixed cost
(interpreter, NumPy, pandas, Mesa, Hydra) is the peak of a tiny run (``debug=default``);
bytes per customer = (peak - fixed cost) / N. The pool holds ``N`` customers plus
``customers.prospects_per_customer`` x N prospects (1 by default), so a customer's bytes
include its prospect's. ``--weeks`` shortens the horizon (the 104-week warm-up still runs):
memory does not grow with the horizon, time does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import parser

ROOT = Path(__file__).resolve().parents[1]
# runs the command given and prints the peak RSS of it (KiB on Linux) on its last line
WRAPPER = (
    "import resource, subprocess, sys; "
    "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
    "print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_rss(overrides: list[str], folder: Path) -> tuple[int, float]:
    """(peak RSS in bytes, wall s) of one ``loyaltysim`` run with these overrides."""
    cmd = [sys.executable, "-m", "loyaltysim", *overrides, f"hydra.run.dir={folder}"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, *cmd], capture_output=True, text=True, env=env, cwd=ROOT
    )
    wall = time.perf_counter() - start
    rc, kib = proc.stdout.split()[-2:]
    if int(rc):
        raise SystemExit(f"run failed ({rc}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return int(kib) * 1024, wall


def main() -> None:
    ap = parser(__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000], help="customers")
    ap.add_argument(
        "--weeks",
        type=int,
        default=None,
        help="market.horizon_weeks; if not given (%(default)s), the config's",
    )
    ap.add_argument("--lean", action="store_true", help="no customer table, no figure")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args()

    base = Path(tempfile.mkdtemp(prefix="bench_memory_"))
    extra = [f"market.horizon_weeks={args.weeks}"] if args.weeks else []
    if args.lean:
        extra += ["output.customer_table=false", "output.figure=false"]
    rows = []
    try:
        fixed, _ = peak_rss(["debug=default"], base / "tiny")
        for n in args.sizes:
            peak, wall = peak_rss([f"customers.n={n}", *extra], base / f"n{n}")
            rows.append(
                {
                    "customers": n,
                    "peak_rss_bytes": peak,
                    "wall_s": wall,
                    "bytes_per_customer": (peak - fixed) / n,
                }
            )
            shutil.rmtree(base / f"n{n}", ignore_errors=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    print(f"fixed cost (tiny run): {fixed / 2**20:,.0f} MiB")
    print(f"{'customers':>12} {'peak RSS':>12} {'bytes/customer':>15} {'wall s':>8}")
    for r in rows:
        print(
            f"{r['customers']:>12,} {r['peak_rss_bytes'] / 2**30:>8.2f} GiB "
            f"{r['bytes_per_customer']:>15,.0f} {r['wall_s']:>8.0f}"
        )
    if args.json:
        out = {"fixed_bytes": fixed, "weeks": args.weeks, "lean": args.lean, "runs": rows}
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
