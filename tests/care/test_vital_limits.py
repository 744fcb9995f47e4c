"""In-infusion limits: the clinic sets them (no published numbers), and stop beats hold."""

from __future__ import annotations

import pytest

from equipoise.care.safety import VitalLimits, infusion_action, load_rules
from equipoise.errors import ModelError

CLINIC = VitalLimits(hold_systolic_above=160, hold_diastolic_above=100,
                     stop_systolic_above=180, stop_diastolic_above=110,
                     stop_heart_rate_above=130, stop_spo2_below=92)


def test_without_clinic_limits_there_is_no_default() -> None:
    got = infusion_action(VitalLimits(), systolic=230, diastolic=130)
    assert got.action == "no limits set"
    assert "no published in-infusion limits" in got.basis
    assert "no label or guideline" in load_rules().monitoring["hold_stop"]["note"].lower()


@pytest.mark.parametrize(("reading", "action"), [
    ({"systolic": 150, "diastolic": 90}, "continue"),
    ({"systolic": 160, "diastolic": 100}, "continue"),          # at the limit: not above
    ({"systolic": 161, "diastolic": 90}, "hold"),
    ({"systolic": 150, "diastolic": 101}, "hold"),
    ({"systolic": 181, "diastolic": 90}, "stop"),
    ({"systolic": 170, "diastolic": 111}, "stop"),
    ({"systolic": 150, "diastolic": 90, "heart_rate": 131}, "stop"),
    ({"systolic": 165, "diastolic": 90, "spo2": 91}, "stop"),   # stop beats hold
])
def test_a_reading_is_judged_against_the_clinics_limits(reading: dict[str, float],
                                                        action: str) -> None:
    assert infusion_action(CLINIC, **reading).action == action


def test_inconsistent_limits_are_refused() -> None:
    with pytest.raises(ModelError, match="stop_systolic_above"):
        VitalLimits(hold_systolic_above=180, stop_systolic_above=160)
    with pytest.raises(ModelError, match="must be a positive number"):
        VitalLimits(stop_spo2_below=0)
