"""The Wilson interval pinned to hand-computed and published values."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equipoise.care.outcomes import wilson
from equipoise.errors import MeasureError


def test_seven_of_ten_by_hand() -> None:
    # p = 0.7, n = 10, z = 1.96: centre (0.7 + 0.19208) / 1.38415 = 0.64450,
    # half 1.41603 * sqrt(0.021 + 0.009604) = 0.24772 -> 0.3968 to 0.8922
    p = wilson(7, 10)
    assert (round(p.low, 4), round(p.high, 4)) == (0.3968, 0.8922)


def test_the_edges_stay_inside_zero_and_one() -> None:
    none, every = wilson(0, 20), wilson(20, 20)
    assert none.low == 0.0 and math.isclose(none.high, 0.1611, abs_tol=1e-4)
    assert every.high == 1.0 and math.isclose(every.low, 0.8389, abs_tol=1e-4)


def test_bad_counts_are_errors() -> None:
    for events, n in ((1, 0), (-1, 5), (6, 5)):
        with pytest.raises(MeasureError):
            wilson(events, n)


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_the_interval_holds_the_share_and_narrows_with_more_patients(case: tuple[int, int]) -> None:
    events, n = case
    p = wilson(events, n)
    assert 0 <= p.low <= p.share <= p.high <= 1
    bigger = wilson(events * 4, n * 4)
    assert bigger.high - bigger.low <= p.high - p.low + 1e-12
