"""Cases a review found: negated or plural wording, preferences, missing doses, esketamine-only
rules, FHIR completeness, age, dates and dose rounding."""

from __future__ import annotations

import datetime as dt

import pytest

from equipoise.care.dose import ketamine_dose
from equipoise.care.planner import make_plan
from equipoise.care.profile import parse_profile
from equipoise.errors import ModelFileError
from equipoise.report.plan_fhir import plan_bundle

BASE = "age: 40\nweight_kg: 70\nscores: {gad7: 15}\n"
START = dt.date(2026, 12, 1)


def _plan(extra: str) -> dict:  # type: ignore[type-arg]
    return make_plan(parse_profile(BASE + extra), start=START, draws=3, patients=50,
                     horizon_weeks=13).to_dict()


@pytest.mark.parametrize("text", ["aortic aneurysms", "AVMs", "arteriovenous malformations",
                                  "strokes", "post-stroke", "ketamine-allergy",
                                  "allergic to ketamine", "intracranial hemorrhage"])
def test_plural_and_hyphenated_wording_still_blocks_ketamine(text: str) -> None:
    status = {o["treatment"]: o["status"] for o in _plan(f"conditions: [\"{text}\"]\n")[
        "options"]}
    assert status["ketamine_iv"] == "blocked"


@pytest.mark.parametrize("text", ["no aneurysm", "denies stroke", "family history of aneurysm",
                                  "non-aneurysmal", "uncontrolled hypertension"])
def test_negated_or_unruled_mentions_are_flagged_for_review_not_dropped(text: str) -> None:
    plan = _plan(f"conditions: [\"{text}\"]\n")
    flags = [f for f in plan["flags"] if f["id"] == "unrecognised-condition"]
    assert len(flags) == 1 and text in flags[0]["text"]


def test_preferring_no_infusions_excludes_the_ketamine_options_and_their_dose() -> None:
    plan = _plan("preferences: [no_infusions]\n")
    status = {o["treatment"]: o["status"] for o in plan["options"]}
    assert status["ketamine_iv"] == status["ketamine+cbt"] == "excluded by preference"
    assert plan["recommended"] not in ("ketamine_iv", "ketamine-bridge", "ketamine+cbt")
    assert plan["dose"] is None


def test_a_medication_without_a_dose_says_its_dose_limits_were_not_checked() -> None:
    plan = _plan("medications: [{name: citalopram}]\n")
    assert any(f["id"] == "dose-not-given" and "CITALOPRAM-40" in f["text"]
               for f in plan["flags"])


def test_rules_for_options_the_planner_does_not_offer_become_review_flags() -> None:
    plan = _plan("conditions: [Child-Pugh class C]\n")
    assert any(f["id"] == "rule-KET-HEPATIC" for f in plan["flags"])


def test_the_fhir_bundle_carries_current_medication_findings_and_the_dose() -> None:
    plan = _plan("medications: [{name: citalopram, dose_mg_per_day: 60}]\n")
    bundle = plan_bundle(plan, created=START)
    texts = [e["resource"].get("code", {}).get("text", "") for e in bundle["entry"]]
    assert any(t.startswith("CITALOPRAM-40") for t in texts)
    notes = " ".join(n["text"] for n in bundle["entry"][1]["resource"]["note"])
    assert "Ketamine dose: 35 mg" in notes


def test_different_patients_get_different_fhir_ids() -> None:
    a = plan_bundle(_plan(""), created=START)
    b = plan_bundle(make_plan(parse_profile(BASE.replace("age: 40", "age: 41")), start=START,
                              draws=3, patients=50, horizon_weeks=13).to_dict(),
                    created=START)
    assert a["entry"][0]["fullUrl"] != b["entry"][0]["fullUrl"]


def test_children_are_not_planned_for() -> None:
    with pytest.raises(ModelFileError, match="age: is 5; equipoise's rules, doses and evidence "
                                             "are for adults"):
        parse_profile(BASE.replace("age: 40", "age: 5"))


def test_an_impossible_date_names_its_field() -> None:
    with pytest.raises(ModelFileError, match=r":4:start_date: cannot read '2026-13-01'"):
        parse_profile(BASE + "start_date: 2026-13-01\n")


@pytest.mark.parametrize(("weight", "per_kg", "mg"), [(10.2, 0.75, 7.7), (11.5, 0.3, 3.5),
                                                      (52.3, 0.5, 26.2), (70, 0.5, 35.0)])
def test_doses_round_half_up_in_exact_decimals(weight: float, per_kg: float, mg: float) -> None:
    assert ketamine_dose(weight, mg_per_kg=per_kg).mg == mg
