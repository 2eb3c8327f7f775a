"""Reliability of sweeps, run folders, collect/compare, the API and limits (issue 9,
findings 1-8). Real sweeps run in a subprocess into a temporary folder."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from loyaltysim import build_model, load_config, run
from loyaltysim.model.params import ConfigError
from loyaltysim.runs.collect import collect
from loyaltysim.runs.io import RUN_FILES, config_dir
from loyaltysim.runs.limits import check_memory
from loyaltysim.runs.runner import compose
from loyaltysim.runs.runrecord import DONE, ERROR, classify, fingerprint
from loyaltysim.runs.sweep import run_id
from test_sweep import TINY, sweep

ENV = {**os.environ, "MPLBACKEND": "Agg"}


def cli(*args: str, cwd: Path | None = None, rc: int | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, timeout=300, env=ENV, cwd=cwd
    )
    if rc is not None:
        assert proc.returncode == rc, proc.stdout + proc.stderr
    return proc


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert "Traceback" not in proc.stderr, proc.stderr
    assert len(lines) == 1, proc.stderr
    return lines[0]


def mtimes(folder: Path) -> dict[Path, int]:
    return {f: f.stat().st_mtime_ns for f in folder.rglob("*")}


def runs_in(sweep_dir: Path) -> list[Path]:
    return sorted(p for p in sweep_dir.iterdir() if (p / DONE).exists() or (p / ERROR).exists())


# 1. stale results: a changed config reruns the run; the old folder is kept; refuse option
def test_changed_config_reruns_stale_runs_and_never_rewrites_finished_ones(tmp_path):
    conf = tmp_path / "conf"
    shutil.copytree(config_dir(), conf)
    out = tmp_path / "sweep"
    args = ["seed=0,1"]
    flags = ("--config-path", str(conf))
    sweep(out, *args, flags=flags)
    before = {p.name: mtimes(p) for p in runs_in(out)}
    records = {p.name: (p / DONE).read_text() for p in runs_in(out)}
    sweep(out, *args, flags=flags)  # unchanged: skipped, nothing touched, .hydra/ included
    assert {p.name: mtimes(p) for p in runs_in(out)} == before

    default = conf / "customers" / "default.yaml"  # defaults live in the code: add a value
    default.write_text(default.read_text() + "basket_mean: 5.0\n")
    proc = sweep(out, *args, "hydra.sweeper.on_stale=refuse", rc=2, flags=flags)
    msg = one_line_error(proc)
    assert "2 finished run(s)" in msg and "config changed" in msg and "seed=0" in msg
    assert {p.name: mtimes(p) for p in runs_in(out)} == before, "refuse touched a run"

    proc = sweep(out, *args, flags=flags)
    assert proc.stdout.count("stale (config changed)") == 2
    kept = sorted((out / "superseded").iterdir())
    assert len(kept) == 2 and all(".stale-" in p.name for p in kept)
    for old in kept:  # the old run, whole and unchanged
        assert (old / DONE).read_text() == records[old.name.split(".stale-")[0]]
    for new in runs_in(out):
        assert yaml.safe_load((new / "config.yaml").read_text())["customers"]["basket_mean"] == 5.0


def test_changed_code_makes_a_finished_run_stale(tmp_path):
    sweep(tmp_path, "seed=0")
    (run,) = runs_in(tmp_path)
    cfg = load_config([*TINY, "seed=0"])
    fp = fingerprint(compose([*TINY, "seed=0"]))
    assert cfg.seed == 0 and classify(run, fp).status == "done"
    assert classify(run, {**fp, "code": "0" * 16}).reason == "code changed"


# 2. single runs never overwrite another run's files; default folders are unique
def test_single_run_refuses_a_folder_holding_another_run(tmp_path):
    folder = tmp_path / "run"
    tiny = [*TINY, f"hydra.run.dir={folder}"]
    cli("loyaltysim", *tiny, "output.transactions=true", "output.figure=true", rc=0)
    files = [folder / name for name in RUN_FILES if (folder / name).exists()]
    before = {f: f.stat().st_mtime_ns for f in files}
    msg = one_line_error(cli("loyaltysim", *tiny, rc=2))
    assert "output.overwrite" in msg
    assert {f: f.stat().st_mtime_ns for f in files} == before
    cli("loyaltysim", *tiny, "output.overwrite=true", rc=0)
    assert not (folder / "transactions.parquet").exists(), "an older run's file left behind"
    assert not (folder / "figure.png").exists()


def test_default_single_run_folders_are_unique(tmp_path):
    cmd = [sys.executable, "-m", "loyaltysim", *TINY]
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=ENV) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    folders = list((tmp_path / "outputs" / "runs").glob("*/*"))
    assert len(folders) == 2 and all((f / DONE).is_file() for f in folders)


# 3. a killed worker is that run's failure; the sweep goes on and exits 1; a rerun repairs
def test_killed_worker_is_recorded_and_the_sweep_goes_on(tmp_path):
    victim = run_id([*TINY, "seed=1"])
    proc = sweep(tmp_path, "seed=0,1,2,3", rc=1, env={"LOYALTYSIM_TEST_HOOK": f"kill:{victim}"})
    assert "finished: 3 done, 1 failed" in proc.stdout
    err = json.loads((tmp_path / victim / ERROR).read_text())
    assert err["error"] == "WorkerKilled" and err["signal"] == "SIGKILL"
    assert victim in proc.stderr
    proc = sweep(tmp_path, "seed=0,1,2,3")
    assert "3 runs already finished" in proc.stdout and (tmp_path / victim / DONE).exists()


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
def test_no_worker_outlives_a_killed_sweep(tmp_path):
    hang = run_id([*TINY, "seed=0"])
    cmd = [
        sys.executable,
        "-m",
        "loyaltysim",
        "-m",
        *TINY,
        "seed=0,1",
        f"hydra.sweep.dir={tmp_path}",
    ]
    env = {**ENV, "LOYALTYSIM_TEST_HOOK": f"hang:{hang}", "PYTEST_CURRENT_TEST": "x"}
    main = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not (tmp_path / hang / ".hydra").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    workers = _children(main.pid)
    assert workers, "no worker process found"
    main.kill()
    main.wait()
    deadline = time.time() + 10
    while any(_alive(w) for w in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers), "a worker outlived its sweep"


def test_two_sweeps_into_one_folder_run_each_job_once(tmp_path):
    slower = ["customers.n=3000", "market.horizon_weeks=20"]
    cmd = [sys.executable, "-m", "loyaltysim", "-m", *TINY, *slower, "seed=0,1,2,3"]
    cmd += [f"hydra.sweep.dir={tmp_path}", "hydra.launcher.n_jobs=1"]
    procs = [subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    ran = sum(out.count("runs finished (") for out in outs)
    assert ran == 4, outs  # one progress line per job that ran
    assert not (tmp_path / "superseded").exists()


def test_a_sweep_waiting_on_another_holds_none_of_its_own_runs(tmp_path):
    # the other sweep, played here: it holds the locks of seeds 2 and 3 and, having run
    # them, wants seed 0 next; a sweep that kept its own locks while waiting deadlocked
    from loyaltysim.runs.runrecord import job_lock

    ids = [run_id([*TINY, f"seed={s}"]) for s in range(4)]
    theirs = [job_lock(tmp_path / i) for i in ids[2:]]
    for lock in theirs:
        lock.acquire(timeout=5)
    cmd = [sys.executable, "-m", "loyaltysim", "-m", *TINY, "seed=0,1,2,3"]
    cmd += [f"hydra.sweep.dir={tmp_path}", "hydra.launcher.n_jobs=1"]
    proc = subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not all((tmp_path / i / DONE).exists() for i in ids[:2]):
            assert proc.poll() is None and time.time() < deadline, "seeds 0 and 1 never ran"
            time.sleep(0.2)
        mine = job_lock(tmp_path / ids[0])
        mine.acquire(timeout=30)  # raises filelock.Timeout where the sweep still holds it
        mine.release()
    finally:
        for lock in theirs:
            lock.release()
    out = proc.communicate(timeout=120)[0]
    assert proc.returncode == 0, out
    assert "2 runs are being run by another sweep" in out
    assert all((tmp_path / i / DONE).exists() for i in ids)  # it ran what the other left


# 4. collect verifies runs; a rerun repairs truncated, corrupt and missing ones
def test_collect_lists_corrupt_runs_and_a_rerun_repairs_them(tmp_path):
    sweep(tmp_path, "seed=0,1,2,3")
    runs = {int(p.name.rsplit("seed=", 1)[1]): p for p in runs_in(tmp_path)}
    metrics = (runs[1] / "metrics.csv").read_text().splitlines()
    (runs[1] / "metrics.csv").write_text("\n".join(metrics[:7]) + "\n")  # truncated
    (runs[2] / DONE).write_text("{")  # corrupt record
    (runs[3] / "metrics.csv").unlink()  # missing
    col = collect(tmp_path)
    assert col.runs["run_id"].nunique() == 1
    failed = col.failures.set_index("run_id")["message"]
    assert set(failed.index) == {runs[1].name, runs[2].name, runs[3].name}
    assert "metrics.csv" in failed[runs[1].name] and "missing" in failed[runs[3].name]
    proc = cli("loyaltysim.runs.collect", str(tmp_path), rc=1)
    assert runs[2].name in proc.stderr and "Traceback" not in proc.stderr

    proc = sweep(tmp_path, "seed=0,1,2,3")
    assert proc.stdout.count(": corrupt (") == 3
    col = collect(tmp_path)
    assert col.runs["run_id"].nunique() == 4 and col.failures.empty


# 5. collect and compare: usage mistakes exit 2 in one line; one arm; all failed
def test_collect_and_compare_usage_errors_one_arm_and_all_failed(tmp_path):
    one_line_error(cli("loyaltysim.runs.collect", str(tmp_path / "nope"), rc=2))
    one_line_error(cli("loyaltysim.studies.compare", str(tmp_path / "nope"), rc=2))
    arm = tmp_path / "one"
    sweep(arm, "seed=0,1")
    for bad in (
        ["--baseline", "zz"],
        ["--firm", "nobody"],
        ["--by", "firm.price"],
        ["--payback-week", "-1"],
    ):
        msg = one_line_error(cli("loyaltysim.studies.compare", str(arm), *bad, rc=2))
        assert bad[0] in msg
    proc = cli("loyaltysim.studies.compare", str(arm), rc=0)  # seeds only: one arm
    assert "one arm only" in proc.stdout
    two = tmp_path / "two"
    sweep(two, "firm.price=5.0,5.5", "seed=0,1,2")
    assert "5.5 3 seeds" in cli("loyaltysim.studies.compare", str(two), rc=0).stdout

    bad = tmp_path / "failed"
    hook = "fail:" + ";".join(run_id([*TINY, f"seed={s}"]) for s in (0, 1))
    sweep(bad, "seed=0,1", rc=1, env={"LOYALTYSIM_TEST_HOOK": hook})
    col = collect(bad)
    assert col.runs.empty and len(col.failures) == 2
    assert (bad / "collected" / "failures.csv").is_file()
    one_line_error(cli("loyaltysim.studies.compare", str(bad), rc=2))


# 6. exit codes: failed runs give 1; misspelt keys give 2 in one line
def test_exit_codes(tmp_path):
    hook = {"LOYALTYSIM_TEST_HOOK": "fail:" + run_id([*TINY, "seed=0"])}
    sweep(tmp_path / "a", "seed=0", rc=1, env=hook)
    # an invalid value refuses the whole sweep before anything runs
    msg = one_line_error(sweep(tmp_path / "c", "customers.referral.rate=1.5", rc=2))
    assert "customers.referral.rate = 1.5" in msg
    for args in (["firm.prise=3"], ["-m", "firm.prise=3,4", f"hydra.sweep.dir={tmp_path}/b"]):
        msg = one_line_error(cli("loyaltysim", *args, rc=2))
        assert "firm.prise" in msg
    assert "firm/programme" in one_line_error(cli("loyaltysim", "firm/programme=nope", rc=2))


# 7. the Python API rejects ignored or unknown keywords and quotes values for Hydra
def test_api_rejects_ignored_and_unknown_keywords():
    cfg = load_config([*TINY])
    with pytest.raises(TypeError, match="seed=5 would be ignored"):
        run(cfg, seed=5)
    with pytest.raises(TypeError, match="customers__n=7 would be ignored"):
        build_model(cfg, customers__n=7)
    with pytest.raises(TypeError, match="customers__nn"):
        load_config(customers__nn=5)


@pytest.mark.parametrize(
    "value", ["a,b", "it's", 'say "hi"', "null", "1e3", "true", "x=y", "a\\", "${seed}", "", " a "]
)
def test_api_values_reach_hydra_as_given(value):
    assert compose(firm__name=value).firm.name == value


def test_api_values_keep_their_type():
    cfg = compose(seed=5, market__start_date="2025-01-06", firm__price=1e-3)
    assert cfg.seed == 5 and cfg.firm.price == 1e-3
    assert cfg.market.start_date == "2025-01-06"


# 8. limits: memory is estimated before allocating; money stays finite; run ids injective
def test_a_run_that_would_not_fit_is_refused_before_allocating(tmp_path):
    start = time.perf_counter()
    msg = one_line_error(cli("loyaltysim", "customers.n=1000000000", rc=2))
    assert "customers.n" in msg and "GiB" in msg and "available" in msg
    assert time.perf_counter() - start < 30
    with pytest.raises(ConfigError, match="fits in memory"):
        check_memory(load_config([*TINY]), available=1000)


def test_money_figures_stay_finite():
    # the parameters' own bounds refuse absurd money figures before anything is built ...
    with pytest.raises(ConfigError, match="weekly_budget_per_1000"):
        load_config([*TINY, "firm.acquisition.weekly_budget_per_1000=1e300"])
    with pytest.raises(ConfigError, match="cost_per_customer"):
        load_config([*TINY, "firm.acquisition.cost_per_customer=1e-300"])
    # ... and the run's own limit guards a config built around them
    from loyaltysim.runs.limits import check

    cfg = load_config(
        [
            *TINY,
            "firm.acquisition.weekly_budget_per_1000=1e7",
            "firm.acquisition.cost_per_customer=0.01",
        ]
    )
    check(cfg)  # 1e9 customers a week at most: the limit holds, no overflow
    with pytest.raises(ConfigError, match="cost_per_customer"):  # every construction path
        dataclasses.replace(cfg.firm.acquisition, cost_per_customer=0.005)


@pytest.mark.parametrize(
    "a, b",
    [
        (["a/b=1"], ["a.b=1"]),
        (["x='a b'"], ["x=a_b"]),
        (["a='x,b=1'"], ["a=x", "b=1"]),
        (["~a"], ["a"]),
        ([f"k{i}=1" for i in range(40)], [f"k{i}=1" for i in range(39)] + ["k39=2"]),
    ],
)
def test_run_ids_are_injective(a, b):
    assert run_id(a) != run_id(b)


def test_a_renamed_key_says_what_replaced_it():
    # budget_per_week became weekly_budget_per_1000: an old config must not fail silently
    # or with a bare "not in AcquisitionParams", but name the new key and its unit
    with pytest.raises(ConfigError, match="weekly_budget_per_1000.*per 1,000 customers"):
        load_config([*TINY, "firm.acquisition.budget_per_week=150"])
    # on the command line, set or appended with +: one line naming the full new key
    for item in ("firm.acquisition.budget_per_week=150", "+firm.acquisition.budget_per_week=150"):
        r = subprocess.run(
            [sys.executable, "-m", "loyaltysim", item], capture_output=True, text=True, timeout=120
        )
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.count("\n") == 1, r.stderr
        assert "use firm.acquisition.weekly_budget_per_1000 (EUR a week per 1,000" in r.stderr


def test_a_misspelt_key_on_the_command_line_is_one_line_that_says_what_to_do():
    r = subprocess.run(
        [sys.executable, "-m", "loyaltysim", "firm.prise=3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert "invalid config: firm.prise = 3; allowed: an existing key" in r.stderr
    assert "loyaltysim-describe firm" in r.stderr


def test_a_bad_engine_choice_is_refused_in_one_line_before_anything_runs(tmp_path, monkeypatch):
    # LOYALTYSIM_KERNEL is an input like any config value: a run, and every run of a
    # sweep, used to fail late with a traceback (or be recorded as failed, to be retried)
    env = {**os.environ, "LOYALTYSIM_KERNEL": "fortran"}
    for args in (["customers.n=300"], ["-m", "seed=0,1", f"hydra.sweep.dir={tmp_path}"]):
        r = subprocess.run(
            [sys.executable, "-m", "loyaltysim", *args],
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert "LOYALTYSIM_KERNEL (environment variable) = 'fortran'" in r.stderr
        assert "allowed: auto, numba, numpy" in r.stderr
    assert not any(tmp_path.iterdir())  # no run folder, no failure record
    monkeypatch.setenv("LOYALTYSIM_KERNEL", "fortran")
    with pytest.raises(ConfigError, match="LOYALTYSIM_KERNEL"):  # the API's check
        load_config(["customers.n=300"])


def test_the_code_hash_follows_the_code_that_plays_a_run_only(tmp_path):
    import shutil

    import loyaltysim
    from loyaltysim.runs.runrecord import code_hash, tree_hash

    pkg = tmp_path / "loyaltysim"
    shutil.copytree(Path(loyaltysim.__file__).parent, pkg)
    before = tree_hash(pkg)
    assert before == code_hash()
    for study in ("studies/compare.py", "app.py", "catalogue.py"):
        (pkg / study).write_text((pkg / study).read_text() + "\n# a comment\n")
    assert tree_hash(pkg) == before, "an edit to a study or the app made finished runs stale"
    for rule in ("model/purchases.py", "engines/kernel.py", "runs/io.py", "cli.py"):
        (pkg / rule).write_text((pkg / rule).read_text() + "\n# a comment\n")
        assert tree_hash(pkg) != before, f"an edit to {rule} left finished runs current"
        before = tree_hash(pkg)
