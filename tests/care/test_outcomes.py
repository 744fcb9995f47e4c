"""The Wilson interval pinned to hand-computed and published values."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from equipoise.care.outcomes import (
    Expectation,
    PatientOutcome,
    by,
    group,
    modality,
    plan_expectation,
    quarter,
    summarise,
    wilson,
)
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


# --- one patient's course -------------------------------------------------------------------

START = dt.date(2026, 1, 5)


def _day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def test_baseline_is_the_latest_gad7_in_the_28_days_up_to_the_start() -> None:
    out = summarise(treatments=[(START, "ssri")], clinician="c",
                    gad7=[(_day(-29), 20), (_day(-28), 16), (_day(0), 14), (_day(84), 7)])
    assert out.baseline == 14 and out.week12 == 7 and out.response_week12 is True
    old = summarise(treatments=[(START, "ssri")], clinician="c",
                    gad7=[(_day(-29), 20), (_day(84), 7)])
    assert old.baseline is None and old.response_week12 is None      # not evaluable


def test_week12_is_the_score_nearest_day_84_within_days_70_to_98() -> None:
    def week12(days: list[int]) -> float | None:
        series = [(_day(0), 16.0)] + [(_day(d), d / 10) for d in days]    # score tells the day
        out = summarise(treatments=[(START, "cbt")], clinician="c", gad7=series).week12
        return None if out is None else round(out * 10)
    assert week12([69, 99]) is None                      # both outside the window
    assert week12([70]) == 70 and week12([98]) == 98     # the edges are inside
    assert week12([80, 90]) == 80                         # 4 days off beats 6
    assert week12([81, 87]) == 81                         # a tie goes to the earlier


def test_response_is_a_50_percent_reduction_and_relapse_follows_the_rule() -> None:
    # baseline 16: 8 is a 50% reduction (response), 9 is not.
    def at12(score: float) -> bool | None:
        return summarise(treatments=[(START, "ketamine")], clinician="c",
                         gad7=[(_day(0), 16), (_day(84), score)]).response_week12
    assert at12(8) is True and at12(9) is False
    out = summarise(treatments=[(START, "ketamine")], clinician="c", gad7=[
        (_day(0), 16), (_day(1), 12), (_day(7), 8), (_day(14), 10), (_day(21), 11),
        (_day(84), 6)])
    # first response on day 7; 10 and 11 on two measures in a row reach the relapse threshold
    assert out.days_to_response == 7 and out.relapsed is True and out.follow_up_days == 84
    # a response with fewer later measures than the rule needs is not judged for durability
    short = summarise(treatments=[(START, "ketamine")], clinician="c",
                      gad7=[(_day(0), 16), (_day(7), 8), (_day(14), 8)])
    assert short.days_to_response == 7 and short.relapsed is None
    never = summarise(treatments=[(START, "ketamine")], clinician="c",
                      gad7=[(_day(0), 16), (_day(84), 12)])
    assert never.days_to_response is None and never.relapsed is None


def test_modality_is_the_received_treatments_in_a_fixed_order() -> None:
    assert modality(["cbt", "ketamine"]) == "ketamine+cbt"
    assert modality(["ssri", "ssri"]) == "ssri" and modality([]) == ""
    with pytest.raises(MeasureError, match="unknown"):
        modality(["esketamine"])
    assert quarter(dt.date(2026, 3, 31)) == "2026-Q1" and quarter(dt.date(2026, 4, 1)) == \
        "2026-Q2"


def test_a_group_by_hand() -> None:
    def row(mod: str, resp: bool | None, days: int | None, relapsed: bool | None,
            week12: float | None, ae: int = 0, exp: Expectation | None = None
            ) -> PatientOutcome:
        return PatientOutcome(mod, "c", "2026-Q1", 16, week12, resp, days, relapsed, 90, ae,
                              exp)
    rows = [row("ketamine", True, 1, False, 4, 1, Expectation(0.5, 0.3, 0.7)),
            row("ketamine", True, 3, True, 7, 0, Expectation(0.3, 0.1, 0.5)),
            row("ketamine", False, None, None, 12, 2, Expectation(0.4, 0.2, 0.6)),
            row("ketamine", None, 2, False, None, 0, Expectation(0.9, 0.8, 1.0)),
            row("ssri", False, None, None, 14)]
    g = group("ketamine", rows[:4], remission_at_or_below=4)
    # evaluable: 3; in response at week 12: 2 of 3; remission (<= 4): 1 of 3
    assert (g.patients, g.evaluable) == (4, 3)
    assert g.response == wilson(2, 3) and g.remission == wilson(1, 3)
    # days to first response 1, 2, 3 -> median 2; durable: 2 of the 3 responders
    assert g.responders == 3 and g.median_days_to_response == 2
    assert g.durable == wilson(2, 3)
    assert g.adverse == wilson(2, 4)                        # patients with >= 1 event
    # expectation: the evaluable only (the fourth patient has no week-12 score)
    assert g.expected_n == 3 and g.expected is not None
    assert math.isclose(g.expected.share, 0.4) and math.isclose(g.expected.low or 0, 0.2)
    assert math.isclose(g.expected.high or 0, 0.6)
    assert group("x", rows[:2]).median_days_to_response == 2.0      # even count: mean of two
    ssri = group("ssri", rows[4:])
    assert ssri.adverse is None and ssri.remission is None and ssri.expected is None
    assert [x.label for x in by(rows, lambda r: r.modality)] == ["ketamine", "ssri"]


def test_the_modality_counts_treatments_begun_before_day_70() -> None:
    out = summarise(treatments=[(START, "ssri"), (_day(69), "cbt"), (_day(70), "ketamine")],
                    clinician="c", gad7=[(_day(0), 16), (_day(84), 7)])
    assert out.modality == "ssri+cbt" and out.start_quarter == "2026-Q1"
    assert summarise(treatments=[], clinician="c", gad7=[(_day(0), 16)]).modality == ""


def test_times_of_day_order_the_series_and_an_infusion_start_cuts_its_day() -> None:
    def at(day: int, hour: int) -> dt.datetime:
        return dt.datetime.combine(_day(day), dt.time(hour))
    # two scores on day 84: the week-12 score is the earlier, whatever the order given
    for series in ([(at(84, 9), 12.0), (at(84, 18), 6.0)],
                   [(at(84, 18), 6.0), (at(84, 9), 12.0)]):
        out = summarise(treatments=[(START, "ssri")], clinician="c",
                        gad7=[(at(-1, 9), 20.0), (at(-1, 18), 12.0), *series])
        assert out.baseline == 12 and out.week12 == 12 and out.response_week12 is False
    # an infusion at 11:00: the 09:00 score is the baseline, the 15:00 score is day 0 after it
    out = summarise(treatments=[(at(0, 11), "ketamine")], clinician="c",
                    gad7=[(at(0, 9), 16.0), (at(0, 15), 8.0), (at(84, 9), 7.0)])
    assert out.baseline == 16 and out.days_to_response == 0
    # a course started on a date: every score of that day is before it
    out = summarise(treatments=[(START, "ssri")], clinician="c",
                    gad7=[(at(0, 9), 16.0), (at(0, 21), 15.0), (at(84, 9), 7.0)])
    assert out.baseline == 15 and out.response_week12 is True


def test_a_plan_expectation_is_shares_with_the_share_inside_its_interval() -> None:
    key = "response_or_remission_week_12"
    assert plan_expectation({key: 0.5, f"{key}_low": 0.3, f"{key}_high": 0.7}, key) == \
        Expectation(0.5, 0.3, 0.7)
    assert plan_expectation({key: 0.5}, key) == Expectation(0.5)
    assert plan_expectation({}, key) is None
    for bad in ({key: 7.5}, {key: True}, {key: 0.5, f"{key}_low": 0.6, f"{key}_high": 0.7},
                ["not", "an", "object"]):
        with pytest.raises(MeasureError):
            plan_expectation(bad, key)
