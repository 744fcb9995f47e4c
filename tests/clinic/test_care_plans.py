"""Care plans: the planner run on the patient's record and the clinic's protocol, stored."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from equipoise.care.planner import DISCLAIMER
from equipoise.clinic.accounts.models import Clinic
from equipoise.clinic.audit.models import AuditEvent
from tests.clinic.conftest import PATIENT, Site, audit_rows, locs

PROFILE = {"diagnoses": ["GAD"], "scores": {"gad7": 15, "phq9": 8},
           "conditions": ["aortic aneurysm"]}
START = "2026-01-05"



def _patient(site: Site, who: str = "clinician@A", **changes: Any) -> tuple[TestClient, str]:
    c = site.client(who)
    r = c.post("/api/patients", json=PATIENT | changes)
    assert r.status_code == 201, r.text
    return c, r.json()["id"]


def _plan(c: TestClient, pid: str, profile: dict[str, Any] | None = None,
          start: str = START) -> Any:
    return c.post(f"/api/patients/{pid}/care-plans",
                  json={"profile": PROFILE if profile is None else profile, "start_date": start})




def test_an_aneurysm_blocks_every_ketamine_option_citing_the_rule(site: Site) -> None:
    c, pid = _patient(site)
    r = _plan(c, pid)
    assert r.status_code == 201, r.text
    plan = r.json()["plan"]
    ketamine = [o for o in plan["options"] if "ketamine" in o["treatment"]]
    assert len(ketamine) == 3
    for option in ketamine:
        assert option["status"] == "blocked"
        assert "KET-CI-ANEURYSM" in [rule["id"] for rule in option["rules"]]
    assert plan["recommended"] not in {o["treatment"] for o in ketamine}
    assert r.json()["recommended"] == plan["recommended"]


def test_the_stored_plan_is_read_back_in_full_with_its_disclaimer(site: Site) -> None:
    c, pid = _patient(site)
    made = _plan(c, pid).json()
    r = c.get(f"/api/care-plans/{made['id']}")
    assert r.status_code == 200
    assert r.json() == made
    assert r.json()["plan"]["disclaimer"] == DISCLAIMER


def test_age_and_sex_come_from_the_record_and_weight_when_not_given(site: Site) -> None:
    c, pid = _patient(site)                     # born 1980-12-10, 68 kg, female
    stored = _plan(c, pid).json()
    assert (stored["profile"]["age"], stored["profile"]["sex"],
            stored["profile"]["weight_kg"]) == (45, "female", 68.0)
    assert stored["plan"]["profile"]["age"] == 45
    assert _plan(c, pid, start="2026-12-10").json()["profile"]["age"] == 46
    given = _plan(c, pid, PROFILE | {"weight_kg": 80}).json()
    assert given["profile"]["weight_kg"] == 80


def test_plans_are_listed_newest_first_as_summaries(site: Site) -> None:
    c, pid = _patient(site)
    first = _plan(c, pid).json()
    second = _plan(c, pid, {"diagnoses": ["GAD"]}, start="2026-02-01").json()
    listed = c.get(f"/api/patients/{pid}/care-plans").json()
    assert [x["id"] for x in listed] == [second["id"], first["id"]]
    assert set(listed[0]) == {"id", "start_date", "recommended", "created_at"}
    assert listed[0]["start_date"] == "2026-02-01"


@pytest.mark.parametrize(("profile", "loc"), [
    (PROFILE | {"scores": {"gad7": 30}}, ["body", "profile", "scores.gad7"]),
    (PROFILE | {"medications": [{"name": "notadrug"}]},
     ["body", "profile", "medications[0].name"]),
    (PROFILE | {"diagnoses": ["FLU"]}, ["body", "profile", "diagnoses[0]"]),
    (PROFILE | {"age": 30}, ["body", "profile", "age"]),
    (PROFILE | {"sex": "male"}, ["body", "profile", "sex"]),
    (PROFILE | {"hobby": "chess"}, ["body", "profile", "hobby"]),
    (PROFILE | {"weight_kg": 0}, ["body", "profile", "weight_kg"]),
])
def test_a_profile_problem_is_refused_naming_its_field(site: Site, profile: dict[str, Any],
                                                       loc: list[str]) -> None:
    c, pid = _patient(site)
    assert locs(_plan(c, pid, profile)) == [loc]
    assert c.get(f"/api/patients/{pid}/care-plans").json() == []


@pytest.mark.parametrize(("body", "loc"), [
    ({"profile": PROFILE}, ["body", "start_date"]),
    ({"profile": PROFILE, "start_date": "soon"}, ["body", "start_date"]),
    ({"profile": ["GAD"], "start_date": START}, ["body", "profile"]),
    ({"start_date": START}, ["body", "profile"]),
    ({"profile": PROFILE, "start_date": START, "seed": 1}, ["body", "seed"]),
])
def test_an_invalid_body_is_refused_naming_the_field(site: Site, body: dict[str, Any],
                                                     loc: list[str]) -> None:
    c, pid = _patient(site)
    assert locs(c.post(f"/api/patients/{pid}/care-plans", json=body)) == [loc]


def test_without_a_weight_on_record_or_in_the_profile_weight_is_asked_for(site: Site) -> None:
    c, pid = _patient(site, weight_kg=None)
    assert locs(_plan(c, pid)) == [["body", "profile", "weight_kg"]]
    assert _plan(c, pid, PROFILE | {"weight_kg": 70}).status_code == 201


def test_a_patient_under_18_on_the_start_date_is_not_planned_for(site: Site) -> None:
    c, pid = _patient(site, birth_date="2010-06-01")
    r = _plan(c, pid)
    assert locs(r) == [["body", "profile", "age"]]
    assert "adults" in r.json()["detail"][0]["msg"]


def test_the_clinics_protocol_sets_the_ketamine_dose_cap(site: Site) -> None:
    with site.session() as s, s.begin():
        clinic = s.get(Clinic, site.clinics["A"].id)
        clinic.protocol = {"mg_per_kg": 0.5, "cap_mg": 30, "hold_systolic_above": 160,
                           "stop_systolic_above": 180}
    c, pid = _patient(site)                     # 68 kg: 34 mg uncapped
    dose = _plan(c, pid, {"diagnoses": ["GAD"]}).json()["plan"]["dose"]
    assert (dose["mg"], dose["cap_mg"], dose["capped"]) == (30, 30, True)


def test_a_protocol_the_planner_cannot_use_is_a_conflict_not_a_crash(site: Site) -> None:
    with site.session() as s, s.begin():
        clinic = s.get(Clinic, site.clinics["A"].id)
        clinic.protocol = {"hold_systolic_above": 180, "stop_systolic_above": 160}
    c, pid = _patient(site)
    r = _plan(c, pid)
    assert r.status_code == 409
    assert "stop_systolic_above" in r.json()["detail"]


def test_a_nurse_can_read_but_not_make_plans(site: Site) -> None:
    c, pid = _patient(site)
    made = _plan(c, pid).json()
    nurse = site.client("nurse@A")
    assert _plan(nurse, pid).status_code == 403
    assert nurse.get(f"/api/patients/{pid}/care-plans").status_code == 200
    assert nurse.get(f"/api/care-plans/{made['id']}").status_code == 200


def test_another_clinic_gets_404_on_every_endpoint(site: Site) -> None:
    c, pid = _patient(site)
    made = _plan(c, pid).json()
    other = site.client("clinician@B")
    assert _plan(other, pid).status_code == 404
    assert other.get(f"/api/patients/{pid}/care-plans").status_code == 404
    assert other.get(f"/api/care-plans/{made['id']}").status_code == 404
    assert len(c.get(f"/api/patients/{pid}/care-plans").json()) == 1


def test_every_request_leaves_an_audit_row(site: Site) -> None:
    c, pid = _patient(site)
    counts = [audit_rows(site)]
    made = _plan(c, pid).json()
    counts.append(audit_rows(site))
    c.get(f"/api/patients/{pid}/care-plans")
    counts.append(audit_rows(site))
    c.get(f"/api/care-plans/{made['id']}")
    counts.append(audit_rows(site))
    assert counts == sorted(set(counts))            # strictly increasing
    with site.session() as s:
        rows = s.execute(select(AuditEvent.action, AuditEvent.entity_id).where(
            AuditEvent.entity == "care-plan", AuditEvent.patient_id == pid)).all()
    assert sorted(rows, key=str) == sorted([("create", made["id"]), ("read", None),
                                            ("read", made["id"])], key=str)


def test_the_endpoints_are_in_the_openapi_document(site: Site) -> None:
    paths = site.client().get("/openapi.json").json()["paths"]
    assert {"/api/patients/{patient_id}/care-plans", "/api/care-plans/{plan_id}"} <= set(paths)
