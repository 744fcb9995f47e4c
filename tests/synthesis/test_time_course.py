"""Time course: onset and fade from effects measured at several times."""

from __future__ import annotations

import numpy as np
import pytest

from equipoise.errors import ModelError
from equipoise.synthesis.time_course import TimePoint, fit_time_course


def _hartland() -> list[TimePoint]:
    # KET-HART23-01..03: SMD -1.17 (-1.89 to -0.44) <12 h; -0.44 (-0.65 to -0.22) 24 h;
    # -0.40 (-0.63 to -0.17) 7-14 days (taken at the upper end of each window).
    z = 1.959963984540054
    return [TimePoint(12, -1.17, (-0.44 + 1.89) / (2 * z), "KET-HART23-01"),
            TimePoint(24, -0.44, (-0.22 + 0.65) / (2 * z), "KET-HART23-02"),
            TimePoint(336, -0.40, (-0.17 + 0.63) / (2 * z), "KET-HART23-03")]


def test_a_line_through_two_points_reproduces_them_exactly() -> None:
    pts = [TimePoint(1, -1.0, 0.2, "a"), TimePoint(100, -0.2, 0.1, "b")]
    tc = fit_time_course(pts)
    assert tc.predict(1)[0] == pytest.approx(-1.0) and tc.predict(100)[0] == pytest.approx(-0.2)
    assert tc.df is None and "no check of fit" in tc.to_dict()["note"]


def test_three_points_use_t_with_one_df_so_the_band_is_wide() -> None:
    tc = fit_time_course(_hartland())
    est, lo, hi = tc.predict(24)
    assert tc.df == 1
    assert hi - lo > 2 * 1.96 * 0.11  # wider than the printed 24 h interval alone
    assert lo < est < hi


def test_thin_data_never_narrow_the_band_below_sampling_error() -> None:
    tight = [TimePoint(h, -0.5, 0.1, str(h)) for h in (1, 10, 100, 1000)]
    tc = fit_time_course(tight)  # perfectly flat: no residual scatter
    _, lo, hi = tc.predict(10)
    assert hi - lo >= 2 * 0.1 / 2  # at least the (pooled) sampling error, never zero


def test_predictions_outside_the_observed_times_are_refused() -> None:
    tc = fit_time_course(_hartland())
    with pytest.raises(ModelError, match="not extrapolated"):
        tc.predict(2000)


def test_onset_and_duration_stay_inside_the_span() -> None:
    strong = [TimePoint(h, -1.0, 0.05, str(h)) for h in (2, 20, 200)]
    tc = fit_time_course(strong)
    assert tc.onset == 2 and tc.lasts_until == 200


def test_a_fading_effect_loses_benefit_before_the_last_time() -> None:
    pts = [TimePoint(1, -1.0, 0.1, "a"), TimePoint(24, -0.6, 0.1, "b"),
           TimePoint(168, -0.1, 0.1, "c"), TimePoint(672, 0.2, 0.1, "d")]
    tc = fit_time_course(pts)
    assert tc.onset == 1 and tc.lasts_until is not None and tc.lasts_until < 672
    assert tc.slope > 0  # towards no effect


@pytest.mark.parametrize("hours", [[5, 5], [0, 10]])
def test_bad_times_are_rejected(hours: list[float]) -> None:
    with pytest.raises(ModelError):
        fit_time_course([TimePoint(h, -0.5, 0.1, str(i)) for i, h in enumerate(hours)])


def test_time_course_results_are_plain_data() -> None:
    d = fit_time_course(_hartland()).to_dict()
    assert d["rows"] == ["KET-HART23-01", "KET-HART23-02", "KET-HART23-03"]
    assert all(np.isfinite(p["estimate"]) for p in d["predictions"])


def test_draws_follow_the_fit_and_refuse_extrapolation() -> None:
    tc = fit_time_course(_hartland())
    draws = tc.draw(np.random.default_rng(2), 20_000, [24.0])
    assert draws.shape == (20_000, 1)
    assert draws.mean() == pytest.approx(tc.predict(24)[0], abs=0.02)
    with pytest.raises(ModelError):
        tc.draw(np.random.default_rng(2), 10, [5000.0])
    assert len(tc.to_frame()) == len(tc.grid())
