"""Each alert rule pinned to its definition, band edges included."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from equipoise.care.alerts import (
    ExpectedBand,
    Schedule,
    milestones,
    off_track,
    overdue,
    relapse,
    suicidality,
    vitals,
)
from equipoise.care.measures import RelapseRule
from equipoise.errors import MeasureError

START = dt.date(2026, 1, 5)
BAND = ExpectedBand(weeks=(0, 1, 2, 4), low=(10, 8, 6, 4), high=(18, 16, 14, 10))


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


def test_off_track_means_above_the_upper_edge_not_on_it() -> None:
    assert off_track([(day(7), 16.0)], BAND, START) == []          # on the edge
    [alert] = off_track([(day(7), 16.5)], BAND, START)
    assert (alert.kind, alert.at) == ("off-track", day(7))


def test_the_band_is_interpolated_between_weeks_and_ends_where_it_ends() -> None:
    # week 3 lies halfway between 14 (week 2) and 10 (week 4): edge 12
    assert off_track([(day(21), 12.0)], BAND, START) == []
    assert len(off_track([(day(21), 12.01)], BAND, START)) == 1
    assert off_track([(day(0), 21.0), (day(35), 21.0)], BAND, START) == []  # baseline, beyond


def test_a_band_must_make_sense() -> None:
    with pytest.raises(MeasureError, match="low edge lies above"):
        ExpectedBand((0, 1), (5, 9), (6, 8))
    with pytest.raises(MeasureError, match="must increase"):
        ExpectedBand((1, 0), (1, 1), (2, 2))


def test_response_is_the_first_halving_and_remission_needs_a_cut() -> None:
    series = [(day(7), 12.0), (day(14), 8.0), (day(21), 7.0), (day(28), 4.0)]
    alerts = milestones("gad7", 16, series)
    assert [(a.kind, a.at) for a in alerts] == [("response", day(14))]   # 8 is half of 16
    with_cut = milestones("gad7", 16, series, remission_at_or_below=4)
    assert [(a.kind, a.at) for a in with_cut] == [("response", day(14)),
                                                   ("remission", day(28))]


def test_phq9_remission_uses_its_cited_cut() -> None:
    alerts = milestones("phq9", 20, [(day(7), 5.0), (day(14), 4.0)])
    assert [(a.kind, a.at) for a in alerts] == [("response", day(7)), ("remission", day(14))]


def test_relapse_after_response_needs_two_rises_in_a_row() -> None:
    base = [(day(7), 8.0), (day(14), 6.0)]                 # response at 8 (half of 16)
    assert relapse("gad7", 16, [*base, (day(21), 10.0)]) is None       # one rise only
    alert = relapse("gad7", 16, [*base, (day(21), 10.0), (day(28), 11.0)])
    assert alert is not None and alert.at == day(28) and alert.kind == "relapse"
    assert relapse("gad7", 16, [(day(7), 12.0), (day(14), 15.0), (day(21), 16.0)]) is None
    strict = RelapseRule(rise=2, threshold=None, consecutive=1)
    assert relapse("gad7", 16, [*base, (day(21), 8.0)], strict) is not None


def test_item_9_above_zero_is_always_urgent() -> None:
    assert suicidality(day(1), 0) is None
    for answer in (1, 2, 3):
        alert = suicidality(day(1), answer)
        assert alert is not None and alert.severity == "urgent"


def test_vitals_alert_on_hold_and_stop_only() -> None:
    assert vitals(day(1), "continue", [], "protocol") is None
    assert vitals(day(1), "unset", [], "protocol") is None
    hold = vitals(day(1), "hold", ["systolic 170 above 160"], "protocol v1")
    stop = vitals(day(1), "stop", ["SpO2 88 below 92"], "protocol v1")
    assert hold is not None and hold.severity == "action" and "protocol v1" in hold.basis
    assert stop is not None and stop.severity == "urgent"


def test_overdue_edges_follow_the_schedule_and_the_grace() -> None:
    # weekly in the first 8 weeks: last on day 10, due day 17, overdue after day 20
    assert overdue(day(10), START, day(20)) is None
    late = overdue(day(10), START, day(21))
    assert late is not None and late.at == day(17)            # dated by its due day
    assert late == overdue(day(10), START, day(40))           # one alert while overdue
    # every 4 weeks after week 8: last on day 60, due day 88, overdue after day 91
    assert overdue(day(60), START, day(91)) is None
    assert overdue(day(60), START, day(92)) is not None
    # nothing yet: due at the start
    assert overdue(None, START, day(3)) is None and overdue(None, START, day(4)) is not None
    assert overdue(day(10), START, day(13), Schedule(early_days=2, grace_days=0)) is not None


@given(st.lists(st.floats(0, 21), min_size=1, max_size=8))
def test_off_track_alerts_are_exactly_the_scores_above_the_edge(scores: list[float]) -> None:
    series = [(day(4 * k + 3), s) for k, s in enumerate(scores)]      # distinct days
    expected = []
    for d, s in series:
        week = (d - START).days / 7
        # an independent oracle: numpy's linear interpolation inside the band's weeks
        if 0 < week <= BAND.weeks[-1] and s > np.interp(week, BAND.weeks, BAND.high):
            expected.append(d)
    assert [a.at for a in off_track(series, BAND, START)] == expected
