"""Mutation harness: inject each domain bug of mutations.py, one at a time, into a copy of
``src/`` and run the fast suite against it. Not part of CI (about 10 s per mutation).

    .venv/bin/python tests/mutation/run.py            # all mutations
    .venv/bin/python tests/mutation/run.py -k points  # those whose description matches
    .venv/bin/python tests/mutation/run.py --jobs 2   # two at a time
    .venv/bin/python tests/mutation/run.py -k stream --tests tests/test_rules.py  # own tests

The working tree is never modified: each mutation patches its own temporary copy of
``src/`` and the fast suite imports it first (``PYTHONPATH``). Prints a table and the kill
rate; exits 1 if any mutation survives or any snippet does not occur exactly once.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutations import MUTATIONS  # noqa: E402

# the rules on hand-made inputs first: quick, and with -x a mutant they catch stops there
FAST = ["tests/test_rules.py", "tests/test_domain.py", "tests/test_accounting.py"]
# the compiled loops are checked against the NumPy rules, which the fast suite uses
SUITES = {
    "engines/kernel.py": [*FAST, "tests/test_kernel.py"],
    "engines/kernel_ops.py": [*FAST, "tests/test_kernel.py"],
    "model/counters.py": [*FAST, "tests/test_counters.py"],
    "studies/calibration/accept.py": [
        "tests/test_calibration.py",
        "tests/test_confirm_rule.py",
        "-k",
        "confirm and not tiny_calibration",
    ],
    "studies/validation/channels.py": ["tests/test_channels.py"],
    "studies/calibration/sample.py": ["tests/test_calibration.py", "-k", "emulated"],
}
PYTEST = ["-x", "-q", "-p", "no:cacheprovider", "-o", "addopts="]


def check_snippets() -> list[str]:
    errors = []
    for path, old, _new, desc in MUTATIONS:
        text = (ROOT / "src" / "loyaltysim" / path).read_text()
        count = text.count(old)
        if count != 1:
            errors.append(f"{path}: snippet for {desc!r} occurs {count} times")
    return errors


def copy_tree(tmp: str) -> tuple[Path, dict[str, str]]:
    """A copy of src/ (with conf/ beside it, as in a checkout) and the environment that
    makes Python import it before the installed package."""
    src = Path(tmp) / "src"
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__"))
    (Path(tmp) / "conf").symlink_to(ROOT / "conf")
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"}
    return src, env


def run_one(
    index: int, timeout: float, tests: list[str] | None = None
) -> tuple[int, str, float, str]:
    path, old, new, _desc = MUTATIONS[index]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="loyaltysim-mut-") as tmp:
        src, env = copy_tree(tmp)
        target = src / "loyaltysim" / path
        text = target.read_text()
        target.write_text(text.replace(old, new, 1))
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", *(tests or SUITES.get(path, FAST)), *PYTEST],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            killed = proc.returncode != 0
            tail = (proc.stdout + proc.stderr).strip().splitlines()
            # the first failing test, else pytest's last count line
            first = (ln.split(" ")[1] for ln in tail if ln.startswith(("FAILED ", "ERROR ")))
            count = (ln for ln in reversed(tail) if "failed" in ln or "error" in ln)
            note = next(first, "") or next(count, "")
            status = "killed" if killed else "SURVIVED"
        except subprocess.TimeoutExpired:
            status, note = "killed", "timeout"
    return index, status, time.perf_counter() - start, note


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", default="", help="only mutations whose description contains this")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--tests", nargs="+", help="run these tests instead of each file's suite")
    ap.add_argument("--notes", action="store_true", help="show the first failing test")
    ap.add_argument("--numbers", nargs="+", type=int, help="only these (as the table numbers)")
    args = ap.parse_args(argv)

    errors = check_snippets()
    if errors:
        print("\n".join(errors))
        return 1
    # the copy must be what the tests import, and the unmutated copy must pass the fast
    # suite, or every mutant would look killed
    with tempfile.TemporaryDirectory(prefix="loyaltysim-mut-") as tmp:
        src, env = copy_tree(tmp)
        where = subprocess.run(
            [sys.executable, "-c", "import loyaltysim; print(loyaltysim.__file__)"],
            env=env,
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not where.startswith(str(src)):
            print(f"the copy is not imported first: loyaltysim comes from {where!r}")
            return 1
        base = subprocess.run(
            [sys.executable, "-m", "pytest", *FAST, *PYTEST],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
    if base.returncode != 0:
        print("the fast suite fails on the unmutated code:\n" + base.stdout[-3000:])
        return 1
    chosen = [i for i, m in enumerate(MUTATIONS) if args.k.lower() in m[3].lower()]
    if args.numbers:
        chosen = [i for i in chosen if i + 1 in args.numbers]
    start = time.perf_counter()
    with ThreadPoolExecutor(args.jobs) as pool:
        results = sorted(pool.map(lambda i: run_one(i, args.timeout, args.tests), chosen))
    width = max(len(MUTATIONS[i][3]) for i in chosen)
    print(f"{'#':>3}  {'status':8}  {'s':>5}  {'file':26}  description")
    for i, status, secs, note in results:
        path, _, _, desc = MUTATIONS[i]
        line = f"{i + 1:>3}  {status:8}  {secs:5.1f}  {path:26}  {desc:{width}}"
        print(f"{line}  {note}" if args.notes else line)
    killed = sum(r[1] == "killed" for r in results)
    total = len(results)
    print(
        f"\nkilled {killed}/{total} ({100 * killed / max(total, 1):.0f}%), "
        f"{time.perf_counter() - start:.0f} s; tests: {' '.join(args.tests or FAST)}"
    )
    return 0 if killed == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
