"""Counter-based draws (loyaltysim.model.counters): the same number wherever it is computed, and
uniform and independent across people, weeks and streams."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from loyaltysim.model.counters import Stream, uniform, uniforms, week_key
from loyaltysim.model.streams import Streams

KEYS = st.integers(0, 2**64 - 1)


@settings(max_examples=200, deadline=None)
@given(KEYS, st.lists(st.integers(0, 2**40), min_size=1, max_size=20))
def test_vectorised_and_scalar_draws_agree_bit_for_bit(key, rows):
    got = uniforms(key, np.array(rows, np.int64))
    want = np.array([uniform(key, r) for r in rows])
    np.testing.assert_array_equal(got, want)
    assert ((got >= 0) & (got < 1)).all()


def test_the_compiled_draw_is_the_same_number():
    pytest.importorskip("numba")
    from numba import njit

    from loyaltysim.engines.kernel_ops import uniform as compiled

    @njit
    def many(key, rows):
        out = np.empty(rows.size)
        for j in range(rows.size):
            out[j] = compiled(key, rows[j])
        return out

    rng = np.random.default_rng(1)
    rows = rng.integers(0, 10**7, 5000)
    for key in (0, 1, 2**63 + 12345, 2**64 - 1, *rng.integers(0, 2**63, 5).tolist()):
        np.testing.assert_array_equal(many(np.uint64(key), rows), uniforms(key, rows))


def test_a_draw_depends_only_on_stream_week_and_person():
    s = Stream(week_key(Streams(5).key("choice"), 17))
    rows = np.arange(1000)
    np.testing.assert_array_equal(s[rows[::-1]], s[rows][::-1])  # order of asking
    np.testing.assert_array_equal(s[rows[500:]], s[rows][500:])  # who else draws
    assert s[42] == s[rows][42]


def test_draws_are_uniform_and_independent_across_people_weeks_and_streams():
    # 200,000 draws: KS distance and correlations well inside what chance allows
    # (|r| < 0.01 is about 4.5 standard errors at n = 200,000)
    streams = Streams(11)
    rows = np.arange(200_000)
    week = {w: Stream(week_key(streams.key("purchase"), w))[rows] for w in (-3, 0, 1)}
    other = Stream(week_key(streams.key("churn"), 0))[rows]
    assert stats.kstest(week[0], "uniform").pvalue > 1e-4
    for a, b in ((week[0], week[1]), (week[-3], week[0]), (week[0], other)):
        assert abs(np.corrcoef(a, b)[0, 1]) < 0.01
    assert abs(np.corrcoef(week[0][:-1], week[0][1:])[0, 1]) < 0.01  # neighbours
    # another seed gives other draws
    again = Stream(week_key(Streams(12).key("purchase"), 0))[rows]
    assert abs(np.corrcoef(week[0], again)[0, 1]) < 0.01
