"""Regenerate every figure the documentation shows (docs/*.png) from small runs.

    python scripts/figures.py             # the Matplotlib figures: about 25 s on 2 cores
    python scripts/figures.py --browser   # also the screenshots (scripts/screenshots.sh:
                                          # the live app and a scenario report, in chromium)
    python scripts/figures.py --list      # the figures and how each is made, run nothing

The runs are small markets (a figure shows what the plots look like, not a finding), go
to ``outputs/figures/`` (ignored by git) and are seeded, so a rerun draws the same figures;
a rerun of the sweep skips its finished runs. ``tests/test_docs.py`` checks that every image
the pages show is one this script makes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
RUNS = ROOT / "outputs" / "figures"
# small enough for half a minute on two cores, large enough that the bands are readable
CUSTOMERS = "customers.n=2000"
H2H_SEEDS = "seed=range(0,5)"

# docs image -> what it shows and how it is made; the screenshots need a browser
FIGURES = {
    "run_figure.png": "figure.png of one run: loyaltysim seed=1 " + CUSTOMERS,
    "timeseries.png": "loyaltysim-compare of the head-to-head experiment, "
    f"{CUSTOMERS}, {H2H_SEEDS}: arms over time with 95% bands",
    "differences.png": "the same comparison: differences from no programme, with error bars",
    "cdnow_tracking.png": "tracking.png of loyaltysim-fit on the CDNOW master log, "
    "--calibration-end 39 --keep-duplicates (seed 0)",
}
SCREENSHOTS = {
    "app.png": "the live app in headless chromium (tests/test_app.py -k browser)",
    "report.png": "loyaltysim-ask scenario=replace_rebate_with_thanks, report.html in chromium",
}


def loyaltysim(*args: str) -> None:
    """Run ``python -m loyaltysim ARGS`` with this interpreter; stop on failure."""
    subprocess.run([sys.executable, "-m", "loyaltysim", *args], check=True, cwd=ROOT)


def run_figure() -> None:
    """docs/run_figure.png: the figure a single run draws."""
    out = RUNS / "run"
    loyaltysim("seed=1", CUSTOMERS, f"hydra.run.dir={out}", "output.overwrite=true")
    shutil.copyfile(out / "figure.png", DOCS / "run_figure.png")


def comparison_figures() -> None:
    """docs/timeseries.png and docs/differences.png: a small head-to-head comparison."""
    sweep = RUNS / "head_to_head"
    loyaltysim("-m", "experiment=head_to_head", CUSTOMERS, H2H_SEEDS, f"hydra.sweep.dir={sweep}")
    compare = [sys.executable, "-m", "loyaltysim.studies.compare", str(sweep)]
    subprocess.run([*compare, "--baseline", "none"], check=True, cwd=ROOT)
    for name in ("timeseries.png", "differences.png"):
        shutil.copyfile(sweep / "comparison" / name, DOCS / name)


def cdnow_tracking() -> None:
    """docs/cdnow_tracking.png: the worked example of docs/guide/your-market.md."""
    out = RUNS / "cdnow_fit"
    shutil.rmtree(out, ignore_errors=True)  # loyaltysim-fit writes only into an empty folder
    from loyaltysim.studies.fit import CDNOW_MASTER

    fit = [sys.executable, "-m", "loyaltysim.studies.fit", str(CDNOW_MASTER), "--out", str(out)]
    subprocess.run([*fit, "--calibration-end", "39", "--keep-duplicates"], check=True, cwd=ROOT)
    shutil.copyfile(out / "tracking.png", DOCS / "cdnow_tracking.png")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--browser",
        action="store_true",
        help="also retake the screenshots (bash scripts/screenshots.sh; needs chromium)",
    )
    ap.add_argument("--list", action="store_true", help="list the figures, run nothing")
    args = ap.parse_args(argv)
    if args.list:
        for name, how in {**FIGURES, **SCREENSHOTS}.items():
            print(f"docs/{name}: {how}")
        return
    run_figure()
    comparison_figures()
    cdnow_tracking()
    if args.browser:
        subprocess.run(["bash", str(ROOT / "scripts" / "screenshots.sh")], check=True, cwd=ROOT)
    made = [*FIGURES, *SCREENSHOTS] if args.browser else list(FIGURES)
    print("written: " + ", ".join(f"docs/{name}" for name in made))


if __name__ == "__main__":
    main()
