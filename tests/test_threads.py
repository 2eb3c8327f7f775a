"""The compiled loops on threads over chunks of customers: the same results bit for bit at
1, 2 and 3 threads as the one-thread loops and the NumPy rules."""

from __future__ import annotations

import pytest

from conftest import small_config
from loyaltysim import Market
from loyaltysim.engines import engine, threaded
from loyaltysim.model.params import ConfigError

pytest.importorskip("numba")

RIVALS = ("competitor.poaching.rate=0.05", "competitor/programme=discount")


def played(monkeypatch, cfg, choice: str, threads: int):
    monkeypatch.setenv(engine.KERNEL_ENV, choice)
    monkeypatch.setenv(engine.THREADS_ENV, str(threads))
    model = Market(cfg).run()
    assert model.kernel == (choice == "numba")
    return model.metrics(), model.customers()


@pytest.mark.parametrize("programme", ["engagement", "tiered", "discount"])
def test_one_two_and_three_threads_give_identical_results(monkeypatch, programme):
    monkeypatch.setattr(threaded, "MIN_CHUNK", 1)  # chunks of any size: 3 threads of 400
    calls = []
    original = threaded._map
    monkeypatch.setattr(
        threaded, "_map", lambda fn, parts: calls.append(len(parts)) or original(fn, parts)
    )
    cfg = small_config(f"firm/programme={programme}", *RIVALS, seed=8)
    reference = played(monkeypatch, cfg, "numpy", 1)
    for threads in (1, 2, 3):
        calls.clear()
        metrics, customers = played(monkeypatch, cfg, "numba", threads)
        assert metrics.equals(reference[0]), threads
        assert customers.equals(reference[1]), threads
        assert set(calls) == ({threads} if threads > 1 else set())


def test_small_steps_stay_on_one_thread_and_the_setting_is_checked(monkeypatch):
    monkeypatch.setenv(engine.THREADS_ENV, "4")
    n = 10 * threaded.MIN_CHUNK
    parts = threaded.chunks(n)
    assert len(parts) == 4 and parts[0][0] == 0 and parts[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(parts[:-1], parts[1:], strict=True))
    assert len(threaded.chunks(2 * threaded.MIN_CHUNK - 1)) == 1
    assert threaded.chunks(10, size=3) == [(0, 3), (3, 6), (6, 10)]
    monkeypatch.setenv(engine.THREADS_ENV, "0")
    with pytest.raises(ConfigError):
        engine.threads()
    monkeypatch.delenv(engine.THREADS_ENV)
    assert engine.threads() >= 1


def test_a_bad_thread_setting_is_reported_before_anything_runs(monkeypatch):
    monkeypatch.setenv(engine.THREADS_ENV, "two")
    with pytest.raises(ConfigError, match="LOYALTYSIM_THREADS"):
        small_config(seed=1)
