"""A re-run of a finished sweep judges its runs from their ``done.json`` recipe, without
composing their configs (runs/runrecord.recipe, runs/sweeper.SafeSweeper._finished), and
still never mistakes a changed config or a changed file for a finished run.

The changed-config case through a whole sweep is test_reliability's
``test_changed_config_reruns_stale_runs_and_never_rewrites_finished_ones`` (a conf file
edited: the recipe differs, the config is composed, the run is stale)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from loyaltysim.runs import runrecord
from loyaltysim.runs.io import config_dir
from loyaltysim.runs.sweep import DONE
from test_sweep import TINY, sweep


def _conf(tmp_path: Path) -> Path:
    conf = tmp_path / "conf"
    shutil.copytree(config_dir(), conf)
    return conf


def test_recipe_follows_every_input(tmp_path):
    conf = _conf(tmp_path)
    src = [f"file://{conf}", "pkg://hydra.conf"]
    base = runrecord.recipe(["seed=1", "customers.n=300"], ["hydra.mode=MULTIRUN"], "config", src)
    assert base is not None
    same = runrecord.recipe(["seed=1", "customers.n=300"], ["hydra.mode=MULTIRUN"], "config", src)
    assert same == base
    # where the sweep goes and how it launches cannot reach a job's config
    moved = ["hydra.mode=MULTIRUN", "hydra.sweep.dir=/x", "hydra.launcher.n_jobs=3"]
    assert runrecord.recipe(["seed=1", "customers.n=300"], moved, "config", src) == base
    others = [
        (["seed=2", "customers.n=300"], ["hydra.mode=MULTIRUN"], "config", src),
        (["customers.n=300", "seed=1"], ["hydra.mode=MULTIRUN"], "config", src),  # order
        (
            ["seed=1", "customers.n=300"],
            ["hydra.mode=MULTIRUN", "hydra.job.chdir=true"],
            "config",
            src,
        ),
        (["seed=1", "customers.n=300"], ["hydra.mode=MULTIRUN"], "other", src),
        (["seed=1", "customers.n=300"], ["hydra.mode=MULTIRUN"], "config", src[:1]),
    ]
    assert len({runrecord.recipe(*o) for o in others} | {base}) == len(others) + 1
    # an interpolation in an override may read anything: no recipe
    assert runrecord.recipe(["seed=${oc.env:SEED}"], [], "config", src) is None

    default = conf / "customers" / "default.yaml"
    default.write_text(default.read_text() + "basket_mean: 5.0\n")
    runrecord._sources_hash.cache_clear()
    edited = runrecord.recipe(["seed=1", "customers.n=300"], ["hydra.mode=MULTIRUN"], "config", src)
    assert edited not in (None, base), "an edited config file kept the recipe"
    default.write_text(default.read_text() + "n: ${oc.env:CUSTOMERS}\n")
    runrecord._sources_hash.cache_clear()
    assert runrecord.recipe(["seed=1"], [], "config", src) is None


def test_rerun_skips_by_recipe_and_rechecks_a_changed_file(tmp_path):
    out = tmp_path / "sweep"
    sweep(out, "seed=0,1")
    runs = sorted(p for p in out.iterdir() if (p / DONE).is_file())
    assert len(runs) == 2
    done = json.loads((runs[0] / DONE).read_text())
    fp = done["fingerprint"]
    assert fp["recipe"] and runrecord.quick_state(runs[0], fp["recipe"]).status == "done"
    assert runrecord.quick_state(runs[0], "0" * 16) is None
    assert runrecord.quick_state(runs[0], None) is None

    before = {f: f.stat().st_mtime_ns for r in runs for f in r.rglob("*")}
    proc = sweep(out, "seed=0,1")
    assert "2 runs already finished" in proc.stdout
    assert {f: f.stat().st_mtime_ns for r in runs for f in r.rglob("*")} == before

    # the same size, another digit: caught by its modification time, then its checksum
    summary = runs[0] / "summary.csv"
    text = summary.read_text()
    digit = re.search(r"[1-8]", text.splitlines()[1])
    assert digit is not None
    at = len(text.splitlines()[0]) + 1 + digit.start()
    summary.write_text(text[:at] + str(int(text[at]) + 1) + text[at + 1 :])
    assert runrecord.quick_state(runs[0], fp["recipe"]) is None
    proc = sweep(out, "seed=0,1")
    assert proc.stdout.count(": corrupt (") == 1 and "1 runs already finished" in proc.stdout


def test_hydra_mode_override_still_decides_the_mode(tmp_path):
    """The CLI skips Hydra's composition made only to read ``hydra.mode``, unless an
    override names it: ``hydra.mode=MULTIRUN`` without ``-m`` is still a sweep."""
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "loyaltysim", *TINY, "seed=0,1", "hydra.mode=MULTIRUN",
           f"hydra.sweep.dir={out}"]  # fmt: skip
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len([p for p in out.iterdir() if (p / DONE).is_file()]) == 2
