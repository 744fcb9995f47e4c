"""Printed values keep their type: numbers, ranges, bounds, lists, dates and statuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equipoise.evidence.values import (
    DateValue,
    Interval,
    Labelled,
    Listing,
    Number,
    Status,
    Unit,
    format_number,
    parse_measure,
    parse_value,
)


@pytest.mark.parametrize(("text", "unit", "bound"), [
    ("percent responders", Unit.PERCENT, None),
    ("hours (upper bound; 'within')", Unit.HOURS, "upper"),
    ("days (upper bound; 'up to')", Unit.DAYS, "upper"),
    ("percent of patients (reported as '<5%')", Unit.PERCENT, "upper"),
    ("percent (lower bound across visits)", Unit.PERCENT, "lower"),
    ("weeks (at least)", Unit.WEEKS, "lower"),
    ("OR", Unit.ODDS_RATIO, None),
    ("Hedges g", Unit.HEDGES_G, None),
    ("Cohen's d (within-group)", Unit.COHENS_D, None),
    ("week (range)", Unit.STUDY_WEEK, None),
    ("probability", Unit.PROBABILITY, None),
    ("mg/kg over 40 min", Unit.MG_PER_KG, None),
])
def test_measure_text_gives_unit_and_bound(text: str, unit: Unit, bound: str | None) -> None:
    m = parse_measure(text)
    assert (m.unit, m.bound) == (unit, bound)


def test_reported_as_less_than_is_a_strict_upper_bound() -> None:
    assert parse_measure("percent of patients (reported as '<5%')").strict
    assert not parse_measure("hours (upper bound; 'within')").strict


def test_approximate_values_are_marked() -> None:
    assert parse_measure("approximate percent reduction ('~50%')").approximate


def test_unknown_measure_is_an_error_that_names_it() -> None:
    with pytest.raises(ValueError, match="furlongs"):
        parse_measure("furlongs")


@pytest.mark.parametrize(("text", "kind"), [
    ("33.33", Number), ("-1.17", Number), ("42-46", Interval), ("0.75-0.86", Interval),
    ("1/3-1/2", Interval), ("0.25, 0.5, 1", Listing), ("20 or 40", Listing),
    ("start 5-10; usual 10-20", Labelled),
])
def test_numeric_texts_are_typed_not_dropped(text: str, kind: type) -> None:
    assert isinstance(parse_value(text, parse_measure("percent")), kind)


def test_fraction_range_keeps_exact_fractions() -> None:
    v = parse_value("1/3-1/2", parse_measure("fraction (range, as worded)"))
    assert isinstance(v, Interval)
    assert v.low == pytest.approx(1 / 3) and v.high == 0.5


def test_dates_and_statuses_need_their_own_measures() -> None:
    assert isinstance(parse_value("2019-03-05", parse_measure("date")), DateValue)
    assert isinstance(parse_value("yes", parse_measure("status")), Status)
    with pytest.raises(ValueError, match="date"):
        parse_value("March", parse_measure("date"))
    with pytest.raises(ValueError, match="yes or no"):
        parse_value("maybe", parse_measure("status"))


@pytest.mark.parametrize("text", ["about half", "n/a", "12 to 15", ""])
def test_non_numeric_text_in_a_numeric_measure_is_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=r"value is empty|not a number"):
        parse_value(text, parse_measure("percent"))


def test_backward_range_is_rejected() -> None:
    with pytest.raises(ValueError, match="backwards"):
        parse_value("46-42", parse_measure("percent"))


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 4)))
def test_printed_numbers_round_trip(x: float) -> None:
    text = format_number(x)
    v = parse_value(text, parse_measure("SMD"))
    assert isinstance(v, Number)
    assert v.value == pytest.approx(x, rel=1e-5, abs=1e-9)


@given(st.integers(0, 500), st.integers(0, 500))
def test_any_ordered_integer_range_parses_as_an_interval(a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    v = parse_value(f"{lo}-{hi}", parse_measure("percent (range)"))
    assert isinstance(v, Interval) and (v.low, v.high) == (lo, hi)
