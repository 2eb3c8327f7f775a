"""Sweeps through the cluster launchers, on this machine: Ray (``hydra/launcher=ray``, a local
Ray instance with 2 CPUs, no dashboard, its files in a temporary folder) and Slurm's
submitit launcher in its local mode (``hydra/launcher=submitit_local``). The sweeper's
bookkeeping must work there as with the default launcher: finished runs skipped on a
re-run, a killed job recorded as failed while the others finish, and retried on a re-run.
Skipped only where the extra (``ray``, ``slurm``) is not installed; scripts/test.sh
installs both."""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile

import pytest

from loyaltysim.runs.sweep import DONE, ERROR, run_id
from test_sweep import TINY, sweep

needs_ray = pytest.mark.skipif(
    importlib.util.find_spec("ray") is None
    or importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None,
    reason="the ray extra is not installed (pip install -e '.[ray]')",
)
needs_submitit = pytest.mark.skipif(
    importlib.util.find_spec("hydra_plugins.hydra_submitit_launcher") is None,
    reason="the slurm extra is not installed (pip install -e '.[slurm]')",
)


@pytest.fixture
def ray_tmp():
    # Ray's session folder holds Unix sockets, whose paths must stay short: not in tmp_path
    path = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@needs_ray
def test_ray_sweep_records_a_killed_job_and_reruns_only_it(tmp_path, ray_tmp):
    settings = (
        "hydra.launcher.ray.init.num_cpus=2",
        f"+hydra.launcher.ray.init._temp_dir={ray_tmp}",
    )
    killed = run_id([*TINY, "seed=1"])
    quiet = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}  # nothing leaves
    env = {"LOYALTYSIM_TEST_HOOK": f"kill:{killed}", **quiet}
    proc = sweep(tmp_path, "seed=0,1,2", *settings, launcher="ray", rc=1, env=env)
    assert "finished: 2 done, 1 failed" in proc.stdout, proc.stdout + proc.stderr
    error = json.loads((tmp_path / killed / ERROR).read_text())
    assert error["error"] == "WorkerDied" and "Ray" in error["message"]
    assert error["overrides"] and error["config"]["seed"] == 1
    done = sorted(p.name for p in tmp_path.iterdir() if (p / DONE).is_file())
    assert done == sorted(run_id([*TINY, f"seed={s}"]) for s in (0, 2))

    proc = sweep(tmp_path, "seed=0,1,2", *settings, launcher="ray", env=quiet)
    assert "2 runs already finished" in proc.stdout
    assert "finished: 3 done, 0 failed" in proc.stdout
    assert list((tmp_path / "superseded").glob(f"{killed}.failed-*"))


@needs_submitit
def test_submitit_local_sweep_and_rerun(tmp_path):
    proc = sweep(tmp_path, "seed=0,1", launcher="submitit_local")
    assert "finished: 2 done, 0 failed" in proc.stdout
    assert len([p for p in tmp_path.iterdir() if (p / DONE).is_file()]) == 2
    proc = sweep(tmp_path, "seed=0,1", launcher="submitit_local")
    assert "2 runs already finished" in proc.stdout
