"""The planner: statuses, preferences, dose, schedule, flags; a plan never hides a block."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from equipoise.care.dose import ketamine_dose
from equipoise.care.planner import make_plan
from equipoise.care.profile import parse_profile
from equipoise.errors import ModelError

BASE = """name: test
age: 40
sex: female
weight_kg: 80
diagnoses: [GAD]
scores: {gad7: 16, phq9: 12, phq9_item9: 0}
vitals: {systolic: 120, diastolic: 78, heart_rate: 72}
"""
START = dt.date(2026, 12, 1)


def _plan(extra: str = "", **kw: object) -> dict:  # type: ignore[type-arg]
    return make_plan(parse_profile(BASE + extra), start=START, draws=5, patients=100,
                     horizon_weeks=13, **kw).to_dict()  # type: ignore[arg-type]


def _status(plan: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {o["treatment"]: o["status"] for o in plan["options"]}


def test_every_plan_says_it_is_not_medical_advice_and_lists_all_six_options() -> None:
    plan = _plan()
    assert "not medical advice" in plan["disclaimer"]
    assert set(_status(plan)) == {"ssri", "cbt", "ssri+cbt", "ketamine_iv", "ketamine-bridge",
                                  "ketamine+cbt"}
    assert set(_status(plan).values()) == {"eligible"}


def test_a_contraindication_blocks_every_ketamine_option_and_is_listed_with_its_rule() -> None:
    plan = _plan("conditions: [intracranial aneurysm]\n")
    status = _status(plan)
    assert {status[k] for k in ("ketamine_iv", "ketamine-bridge", "ketamine+cbt")} == {
        "blocked"}
    blocked = next(o for o in plan["options"] if o["treatment"] == "ketamine_iv")
    assert [r["id"] for r in blocked["rules"]] == ["KET-CI-ANEURYSM"]
    assert blocked["rules"][0]["source"] and plan["options"][-1]["status"] == "blocked"
    assert plan["recommended"] not in ("ketamine_iv", "ketamine-bridge", "ketamine+cbt")


def test_preferring_no_medication_leaves_cbt_and_excludes_the_rest_by_preference() -> None:
    plan = _plan("preferences: [no_medication]\n")
    assert plan["recommended"] == "cbt"
    assert _status(plan)["ssri"] == "excluded by preference"


def test_an_maoi_blocks_ssri_options_and_cautions_ketamine() -> None:
    status = _status(_plan("medications: [{name: phenelzine, dose_mg_per_day: 45}]\n"))
    assert status["ssri"] == status["ssri+cbt"] == status["ketamine-bridge"] == "blocked"
    assert status["ketamine_iv"] == "caution" and status["cbt"] == "eligible"


def test_phq9_item_9_raises_an_urgent_flag_in_the_plan() -> None:
    assert _plan()["flags"] == []
    flagged = make_plan(parse_profile(BASE.replace("phq9_item9: 0", "phq9_item9: 2")),
                        start=START, draws=5, patients=100, horizon_weeks=13).to_dict()
    assert [f["severity"] for f in flagged["flags"]] == ["urgent"]


@pytest.mark.parametrize(("weight", "mg"), [(80, 40.0), (45.5, 22.8), (150, 75.0)])
def test_the_ketamine_dose_is_half_a_milligram_per_kilogram_of_actual_weight(
        weight: float, mg: float) -> None:
    dose = ketamine_dose(weight)
    assert (dose.mg, dose.mg_per_kg, dose.minutes) == (mg, 0.5, 40.0)
    assert "actual body weight" in dose.basis and not dose.capped


def test_a_clinic_cap_and_an_unusual_dose_are_marked() -> None:
    capped = ketamine_dose(150, cap_mg=60)
    assert capped.mg == 60 and capped.capped
    assert ketamine_dose(70, mg_per_kg=1.0).outside_usual_range
    with pytest.raises(ModelError, match="weight_kg must be a positive number"):
        ketamine_dose(0)


def test_an_infusion_plan_schedules_six_infusions_over_twelve_days_with_monitoring() -> None:
    kplan = make_plan(parse_profile(BASE), start=START, draws=5, patients=100,
                      horizon_weeks=13)
    from equipoise.care.planner import _schedule
    events = _schedule("ketamine_iv", START)
    infusions = [e for e in events if e.event.startswith("ketamine infusion")]
    assert len(infusions) == 6 and (infusions[-1].date - infusions[0].date).days == 11
    assert kplan.dose is not None and kplan.dose.mg == 40.0


def test_the_cli_prints_an_example_and_plans_it(tmp_path: object) -> None:
    example = subprocess.run([sys.executable, "-m", "equipoise.cli.main", "plan", "--example"],
                             capture_output=True, text=True, check=True).stdout
    assert "weight_kg:" in example
    path = f"{tmp_path}/p.yaml"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(example)
    out = subprocess.run([sys.executable, "-m", "equipoise.cli.main", "plan", path,
                          "--format", "json"], capture_output=True, text=True, check=True)
    plan = json.loads(out.stdout)
    assert {"options", "dose", "schedule", "monitoring", "measurements", "flags",
            "expected_trajectory", "disclaimer"} <= set(plan)


def test_the_cli_names_the_field_of_a_bad_patient_file(tmp_path: object) -> None:
    path = f"{tmp_path}/bad.yaml"
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(BASE.replace("weight_kg: 80", "weight_kg: 0"))
    out = subprocess.run([sys.executable, "-m", "equipoise.cli.main", "plan", path],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "bad.yaml:4:weight_kg: is 0" in out.stderr
    assert out.stdout == ""
