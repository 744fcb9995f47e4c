"""CBT sessions: recorded by the signed-in therapist, listed in order, kept within a clinic."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from equipoise.clinic.audit.models import AuditEvent
from tests.clinic.conftest import PATIENT, Site, audit_rows

SESSION = {"on": "2026-01-07", "number": 1, "modality": "individual", "minutes": 50,
           "attended": "attended"}



def _patient(site: Site, who: str = "clinician@A") -> tuple[TestClient, str]:
    c = site.client(who)
    r = c.post("/api/patients", json=PATIENT)
    assert r.status_code == 201, r.text
    return c, r.json()["id"]



def test_sessions_recorded_are_listed_in_date_order_with_the_therapist(site: Site) -> None:
    c, pid = _patient(site)
    second = SESSION | {"on": "2026-01-14", "number": 2, "modality": "digital",
                        "attended": "no_show"}
    assert c.post(f"/api/patients/{pid}/therapy-sessions", json=second).status_code == 201
    r = c.post(f"/api/patients/{pid}/therapy-sessions", json=SESSION)
    assert r.status_code == 201, r.text
    assert r.json()["therapist_id"] == site.users["clinician@A"].id
    listed = c.get(f"/api/patients/{pid}/therapy-sessions").json()
    assert [(x["on"], x["number"], x["modality"], x["minutes"], x["attended"])
            for x in listed] == [("2026-01-07", 1, "individual", 50, "attended"),
                                 ("2026-01-14", 2, "digital", 50, "no_show")]


@pytest.mark.parametrize(("changes", "field"), [
    ({"number": 0}, "number"),
    ({"modality": "telephone"}, "modality"),
    ({"minutes": 0}, "minutes"),
    ({"minutes": 241}, "minutes"),
    ({"attended": "late"}, "attended"),
    ({"on": "not a date"}, "on"),
    ({"therapist_id": "someone"}, "therapist_id"),
])
def test_an_invalid_session_is_refused_naming_the_field(site: Site, changes: dict[str, Any],
                                                        field: str) -> None:
    c, pid = _patient(site)
    r = c.post(f"/api/patients/{pid}/therapy-sessions", json=SESSION | changes)
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["detail"]] == [["body", field]]
    assert c.get(f"/api/patients/{pid}/therapy-sessions").json() == []


def test_a_missing_field_is_refused_naming_it(site: Site) -> None:
    c, pid = _patient(site)
    body = {k: v for k, v in SESSION.items() if k != "minutes"}
    r = c.post(f"/api/patients/{pid}/therapy-sessions", json=body)
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "minutes"]]


def test_a_nurse_can_read_but_not_record_sessions(site: Site) -> None:
    _, pid = _patient(site)
    nurse = site.client("nurse@A")
    assert nurse.post(f"/api/patients/{pid}/therapy-sessions", json=SESSION).status_code == 403
    assert nurse.get(f"/api/patients/{pid}/therapy-sessions").status_code == 200
    assert site.client("researcher@A").get(
        f"/api/patients/{pid}/therapy-sessions").status_code == 403


def test_another_clinic_gets_404_on_every_endpoint(site: Site) -> None:
    c, pid = _patient(site)
    c.post(f"/api/patients/{pid}/therapy-sessions", json=SESSION)
    other = site.client("clinician@B")
    assert other.post(f"/api/patients/{pid}/therapy-sessions", json=SESSION).status_code == 404
    assert other.get(f"/api/patients/{pid}/therapy-sessions").status_code == 404
    assert len(c.get(f"/api/patients/{pid}/therapy-sessions").json()) == 1


def test_every_request_leaves_an_audit_row(site: Site) -> None:
    c, pid = _patient(site)
    before = audit_rows(site)
    created = c.post(f"/api/patients/{pid}/therapy-sessions", json=SESSION).json()
    middle = audit_rows(site)
    c.get(f"/api/patients/{pid}/therapy-sessions")
    assert before < middle < audit_rows(site)
    with site.session() as s:
        rows = s.execute(select(AuditEvent.action, AuditEvent.entity_id).where(
            AuditEvent.entity == "therapy-session", AuditEvent.patient_id == pid)).all()
    assert sorted(rows, key=str) == sorted([("create", created["id"]), ("read", None)], key=str)


def test_the_endpoints_are_in_the_openapi_document(site: Site) -> None:
    paths = site.client().get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/patients/{patient_id}/therapy-sessions"])
