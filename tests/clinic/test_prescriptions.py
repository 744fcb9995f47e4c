"""SSRI/SNRI courses: start, titrate, stop; cited dose limits refuse a dose unless acknowledged."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from equipoise.clinic.audit.models import AuditEvent
from tests.clinic.conftest import PATIENT, Site, audit_rows, locs

SERTRALINE = {"drug": "sertraline", "started_on": "2026-01-05", "dose_mg_per_day": 50}



def _patient(site: Site, who: str = "clinician@A", **changes: Any) -> tuple[TestClient, str]:
    c = site.client(who)
    r = c.post("/api/patients", json=PATIENT | changes)
    assert r.status_code == 201, r.text
    return c, r.json()["id"]


def _course(c: TestClient, pid: str, **changes: Any) -> dict[str, Any]:
    r = c.post(f"/api/patients/{pid}/medication-courses", json=SERTRALINE | changes)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body




def test_a_course_started_and_titrated_is_listed_with_its_dose_steps(site: Site) -> None:
    c, pid = _patient(site)
    course = _course(c, pid)
    assert (course["drug"], course["drug_class"]) == ("sertraline", "ssri")
    r = c.post(f"/api/medication-courses/{course['id']}/dose-steps",
               json={"from_date": "2026-01-19", "dose_mg_per_day": 100})
    assert r.status_code == 201, r.text
    _course(c, pid, drug="Venlafaxine", started_on="2026-03-01", dose_mg_per_day=75)
    listed = c.get(f"/api/patients/{pid}/medication-courses").json()
    assert [(x["drug"], x["drug_class"]) for x in listed] == [("sertraline", "ssri"),
                                                              ("venlafaxine", "snri")]
    assert [(s["from_date"], s["dose_mg_per_day"], s["acknowledged_rules"])
            for s in listed[0]["dose_steps"]] == [("2026-01-05", 50.0, []),
                                                  ("2026-01-19", 100.0, [])]


def test_stopping_a_course_keeps_the_date_and_reason_and_ends_titration(site: Site) -> None:
    c, pid = _patient(site)
    course = _course(c, pid)
    stop = {"stopped_on": "2026-02-01", "reason": "nausea"}
    r = c.post(f"/api/medication-courses/{course['id']}/stop", json=stop)
    assert r.status_code == 200, r.text
    assert (r.json()["stopped_on"], r.json()["stop_reason"]) == ("2026-02-01", "nausea")
    again = c.post(f"/api/medication-courses/{course['id']}/stop", json=stop)
    assert again.status_code == 409
    late = c.post(f"/api/medication-courses/{course['id']}/dose-steps",
                  json={"from_date": "2026-02-10", "dose_mg_per_day": 100})
    assert late.status_code == 409
    assert locs(c.post(f"/api/medication-courses/{_course(c, pid)['id']}/stop",
                        json={"stopped_on": "2025-12-31", "reason": "x"})) == [
        ["body", "stopped_on"]]


@pytest.mark.parametrize("drug", ["lithium", "ketamine", "aspirin", ""])
def test_a_drug_that_is_not_a_catalogued_ssri_or_snri_is_refused_naming_drug(
        site: Site, drug: str) -> None:
    c, pid = _patient(site)
    r = c.post(f"/api/patients/{pid}/medication-courses", json=SERTRALINE | {"drug": drug})
    assert locs(r) == [["body", "drug"]]


@pytest.mark.parametrize(("changes", "field"), [
    ({"dose_mg_per_day": 0}, "dose_mg_per_day"),
    ({"dose_mg_per_day": -10}, "dose_mg_per_day"),
    ({"dose_mg_per_day": "lots"}, "dose_mg_per_day"),
    ({"started_on": "2026-02-30"}, "started_on"),
    ({"started_on": "1890-01-01"}, "started_on"),
    ({"route": "oral"}, "route"),
])
def test_an_invalid_course_is_refused_naming_the_field(site: Site, changes: dict[str, Any],
                                                       field: str) -> None:
    c, pid = _patient(site)
    r = c.post(f"/api/patients/{pid}/medication-courses", json=SERTRALINE | changes)
    assert locs(r) == [["body", field]]
    assert c.get(f"/api/patients/{pid}/medication-courses").json() == []


@pytest.mark.parametrize(("step", "field"), [
    ({"from_date": "2026-01-01", "dose_mg_per_day": 100}, "from_date"),    # before the start
    ({"from_date": "2026-01-19", "dose_mg_per_day": 100}, "from_date"),    # same as previous
    ({"from_date": "2026-01-10", "dose_mg_per_day": 100}, "from_date"),    # before previous
    ({"from_date": "2026-02-01", "dose_mg_per_day": 0}, "dose_mg_per_day"),
    ({"from_date": "2026-02-01"}, "dose_mg_per_day"),
    ({"dose_mg_per_day": 100}, "from_date"),
])
def test_a_dose_step_out_of_order_or_without_a_dose_is_refused_naming_the_field(
        site: Site, step: dict[str, Any], field: str) -> None:
    c, pid = _patient(site)
    course = _course(c, pid)
    assert c.post(f"/api/medication-courses/{course['id']}/dose-steps",
                  json={"from_date": "2026-01-19", "dose_mg_per_day": 100}).status_code == 201
    r = c.post(f"/api/medication-courses/{course['id']}/dose-steps", json=step)
    assert locs(r) == [["body", field]]


def test_citalopram_60_mg_is_refused_naming_the_dose_and_the_rule(site: Site) -> None:
    c, pid = _patient(site)
    r = c.post(f"/api/patients/{pid}/medication-courses",
               json={"drug": "citalopram", "started_on": "2026-01-05", "dose_mg_per_day": 60})
    assert locs(r) == [["body", "dose_mg_per_day"]]
    message = r.json()["detail"][0]["msg"]
    assert "CITALOPRAM-40" in message and "acknowledge_rules" in message
    assert c.get(f"/api/patients/{pid}/medication-courses").json() == []


def test_a_titration_above_the_citalopram_limit_is_refused(site: Site) -> None:
    c, pid = _patient(site)
    course = _course(c, pid, drug="citalopram", dose_mg_per_day=20)
    r = c.post(f"/api/medication-courses/{course['id']}/dose-steps",
               json={"from_date": "2026-02-01", "dose_mg_per_day": 60})
    assert locs(r) == [["body", "dose_mg_per_day"]]
    assert "CITALOPRAM-40" in r.json()["detail"][0]["msg"]
    ok = c.post(f"/api/medication-courses/{course['id']}/dose-steps",
                json={"from_date": "2026-02-01", "dose_mg_per_day": 40})
    assert ok.status_code == 201, ok.text


def test_an_acknowledged_rule_is_accepted_stored_and_listed_with_its_step(site: Site) -> None:
    c, pid = _patient(site)
    course = _course(c, pid, drug="citalopram", dose_mg_per_day=60,
                     acknowledge_rules=["citalopram-40"])
    assert course["dose_steps"][0]["acknowledged_rules"] == ["CITALOPRAM-40"]
    listed = c.get(f"/api/patients/{pid}/medication-courses").json()
    assert listed[0]["dose_steps"][0]["acknowledged_rules"] == ["CITALOPRAM-40"]
    with site.session() as s:
        row = s.scalars(select(AuditEvent).where(AuditEvent.entity == "dose-step")).one()
    assert (row.entity_id, row.patient_id, row.user_id) == (
        course["dose_steps"][0]["id"], pid, site.users["clinician@A"].id)


def test_acknowledging_a_rule_that_did_not_fire_is_refused(site: Site) -> None:
    c, pid = _patient(site)
    r = c.post(f"/api/patients/{pid}/medication-courses",
               json=SERTRALINE | {"acknowledge_rules": ["CITALOPRAM-40"]})
    assert locs(r) == [["body", "acknowledge_rules"]]


def test_the_over_60_citalopram_limit_uses_the_patients_age_on_the_day(site: Site) -> None:
    c, pid = _patient(site, birth_date="1960-06-01")
    body = {"drug": "citalopram", "dose_mg_per_day": 30}
    young = c.post(f"/api/patients/{pid}/medication-courses",
                   json=body | {"started_on": "2020-05-31"})     # aged 59
    assert young.status_code == 201, young.text
    old = c.post(f"/api/patients/{pid}/medication-courses",
                 json=body | {"started_on": "2026-01-05"})      # aged 65
    message = old.json()["detail"][0]["msg"]
    assert locs(old) == [["body", "dose_mg_per_day"]]
    assert "CITALOPRAM-20-OVER-60" in message and "CITALOPRAM-40 " not in message


def test_escitalopram_titration_follows_its_label(site: Site) -> None:
    c, pid = _patient(site)
    course = _course(c, pid, drug="escitalopram", dose_mg_per_day=10)
    steps = f"/api/medication-courses/{course['id']}/dose-steps"
    soon = c.post(steps, json={"from_date": "2026-01-08", "dose_mg_per_day": 20})
    assert "ESCITALOPRAM-STEP-7-DAYS" in soon.json()["detail"][0]["msg"]
    assert c.post(steps, json={"from_date": "2026-01-12", "dose_mg_per_day": 20}).status_code \
        == 201
    high = c.post(steps, json={"from_date": "2026-02-01", "dose_mg_per_day": 30})
    assert locs(high) == [["body", "dose_mg_per_day"]]
    assert "ESCITALOPRAM-MAX-20" in high.json()["detail"][0]["msg"]
    down = c.post(steps, json={"from_date": "2026-01-13", "dose_mg_per_day": 10})
    assert down.status_code == 201, down.text       # a reduction needs no waiting


def test_a_nurse_can_read_but_not_write_medication_courses(site: Site) -> None:
    c, pid = _patient(site)
    course = _course(c, pid)
    nurse = site.client("nurse@A")
    assert nurse.get(f"/api/patients/{pid}/medication-courses").status_code == 200
    assert nurse.post(f"/api/patients/{pid}/medication-courses",
                      json=SERTRALINE).status_code == 403
    assert nurse.post(f"/api/medication-courses/{course['id']}/dose-steps",
                      json={"from_date": "2026-02-01", "dose_mg_per_day": 100}).status_code == 403
    assert nurse.post(f"/api/medication-courses/{course['id']}/stop",
                      json={"stopped_on": "2026-02-01", "reason": "x"}).status_code == 403
    with site.session() as s:
        denied = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.outcome == "denied", AuditEvent.entity == "medication-course"))
    assert denied == 3


def test_another_clinic_gets_404_on_every_endpoint_and_changes_nothing(site: Site) -> None:
    c, pid = _patient(site)
    course = _course(c, pid)
    other = site.client("clinician@B")
    answers = [
        other.post(f"/api/patients/{pid}/medication-courses", json=SERTRALINE),
        other.get(f"/api/patients/{pid}/medication-courses"),
        other.post(f"/api/medication-courses/{course['id']}/dose-steps",
                   json={"from_date": "2026-02-01", "dose_mg_per_day": 100}),
        other.post(f"/api/medication-courses/{course['id']}/stop",
                   json={"stopped_on": "2026-02-01", "reason": "x"}),
    ]
    assert [r.status_code for r in answers] == [404] * 4
    assert c.get(f"/api/patients/{pid}/medication-courses").json() == [course]


def test_every_request_leaves_an_audit_row(site: Site) -> None:
    c, pid = _patient(site)
    before = audit_rows(site)
    course = _course(c, pid)
    created = audit_rows(site)
    assert created > before
    c.get(f"/api/patients/{pid}/medication-courses")
    listed = audit_rows(site)
    assert listed > created
    c.post(f"/api/medication-courses/{course['id']}/dose-steps",
           json={"from_date": "2026-02-01", "dose_mg_per_day": 100})
    stepped = audit_rows(site)
    assert stepped > listed
    c.post(f"/api/medication-courses/{course['id']}/stop",
           json={"stopped_on": "2026-03-01", "reason": "remission"})
    assert audit_rows(site) > stepped
    with site.session() as s:
        rows = s.execute(select(AuditEvent.action, AuditEvent.entity).where(
            AuditEvent.patient_id == pid, AuditEvent.entity != "patient")
            .order_by(AuditEvent.at)).all()
    assert sorted(rows) == sorted([
        ("create", "medication-course"), ("create", "dose-step"),
        ("read", "medication-course"), ("create", "dose-step"),
        ("update", "medication-course")])


def test_the_endpoints_are_in_the_openapi_document(site: Site) -> None:
    paths = site.client().get("/openapi.json").json()["paths"]
    assert {"/api/patients/{patient_id}/medication-courses",
            "/api/medication-courses/{course_id}/dose-steps",
            "/api/medication-courses/{course_id}/stop"} <= set(paths)
