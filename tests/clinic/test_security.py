"""Security, endpoint by endpoint: another clinic's records do not exist for you, researchers
never see identifiers, every patient-data request is audited, and nothing is logged or put in
a URL that identifies a patient."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from equipoise.clinic.audit.models import AuditEvent
from tests.clinic.conftest import PATIENT, Site, audit_rows

T0 = "2026-01-05T10:00:00Z"


@dataclass(frozen=True)
class Call:
    method: str
    path: str                                   # template, as in the OpenAPI document
    body: Callable[[dict[str, str]], Any] | None = None
    role: str = "clinician"
    patient_data: bool = True


def _none(_ids: dict[str, str]) -> None:
    return None


CALLS = [
    Call("GET", "/api/patients"),
    Call("POST", "/api/patients", lambda i: PATIENT | {"mrn": "MRN-NEW", "given_name": "Charles",
                                                       "family_name": "Babbage"}),
    Call("POST", "/api/patients/search", lambda i: {"text": "Love"}),
    Call("GET", "/api/patients/{patient_id}"),
    Call("PATCH", "/api/patients/{patient_id}", lambda i: {"weight_kg": 70}),
    Call("GET", "/api/research/patients", role="researcher"),
    Call("GET", "/api/outcomes", role="researcher"),
    Call("GET", "/api/research/outcomes.csv", role="researcher"),
    Call("GET", "/api/research/outcomes.parquet", role="researcher"),
    Call("POST", "/api/patients/{patient_id}/care-plans",
         lambda i: {"profile": {"scores": {"gad7": 15}}, "start_date": "2026-01-05"}),
    Call("GET", "/api/patients/{patient_id}/care-plans"),
    Call("GET", "/api/care-plans/{plan_id}"),
    Call("POST", "/api/patients/{patient_id}/infusions",
         lambda i: {"scheduled_for": T0, "checklist": {}}),
    Call("GET", "/api/patients/{patient_id}/infusions"),
    Call("GET", "/api/infusions/{infusion_id}"),
    Call("PUT", "/api/infusions/{infusion_id}/checklist",
         lambda i: {"checklist": {"consent_recorded": True,
                                  "psychiatric_assessment_done": True,
                                  "escort_arranged": True}}),
    Call("POST", "/api/infusions/{infusion_id}/vitals",
         lambda i: {"phase": "pre", "at": T0, "systolic": 120, "diastolic": 80, "spo2": 98}),
    Call("POST", "/api/infusions/{infusion_id}/start", lambda i: {"at": "2026-01-05T10:05:00Z"}),
    Call("POST", "/api/infusions/{infusion_id}/vitals",
         lambda i: {"phase": "during", "at": "2026-01-05T10:45:00Z", "systolic": 130,
                    "diastolic": 84}),
    Call("POST", "/api/infusions/{infusion_id}/end", lambda i: {"at": "2026-01-05T10:45:00Z"}),
    Call("POST", "/api/infusions/{infusion_id}/vitals",
         lambda i: {"phase": "discharge", "at": "2026-01-05T12:55:00Z", "systolic": 122,
                    "diastolic": 80}),
    Call("POST", "/api/infusions/{infusion_id}/cadss", lambda i: {"answers": [0] * 23}),
    Call("POST", "/api/infusions/{infusion_id}/adverse-events",
         lambda i: {"at": "2026-01-05T10:30:00Z", "description": "nausea",
                    "severity": "mild"}),
    Call("POST", "/api/infusions/{infusion_id}/discharge",
         lambda i: {"at": "2026-01-05T13:00:00Z", "blood_pressure_decreasing": True,
                    "clinically_stable": True, "escort_present": True}),
    Call("POST", "/api/infusions/{infusion_id}/sign"),
    Call("POST", "/api/patients/{patient_id}/medication-courses",
         lambda i: {"drug": "sertraline", "started_on": "2026-01-05", "dose_mg_per_day": 50}),
    Call("GET", "/api/patients/{patient_id}/medication-courses"),
    Call("POST", "/api/medication-courses/{course_id}/dose-steps",
         lambda i: {"from_date": "2026-01-20", "dose_mg_per_day": 20}),
    Call("POST", "/api/medication-courses/{course_id}/stop",
         lambda i: {"stopped_on": "2026-03-01", "reason": "response"}),
    Call("POST", "/api/patients/{patient_id}/therapy-sessions",
         lambda i: {"on": "2026-01-06", "number": 1, "modality": "individual", "minutes": 50,
                    "attended": "attended"}),
    Call("GET", "/api/patients/{patient_id}/therapy-sessions"),
    Call("POST", "/api/patients/{patient_id}/questionnaires",
         lambda i: {"instrument": "gad7", "answers": [1] * 7}),
    Call("GET", "/api/patients/{patient_id}/questionnaires"),
    Call("GET", "/api/patients/{patient_id}/observations"),
    Call("POST", "/api/patients/{patient_id}/self-report-links",
         lambda i: {"instrument": "phq9"}),
    Call("GET", "/api/worklist"),
    Call("GET", "/api/fhir/export"),
    Call("POST", "/api/fhir/import",
         lambda i: {"resourceType": "Bundle", "type": "collection", "entry": []}),
    Call("GET", "/api/patients/{patient_id}/alerts"),
    Call("POST", "/api/alerts/{alert_id}/acknowledge"),
    Call("GET", "/api/users", role="admin", patient_data=False),
    Call("POST", "/api/users/{user_id}/grants",
         lambda i: {"permission": "plans:write", "effect": "allow"}, role="admin",
         patient_data=False),
    Call("GET", "/api/clinic/protocol", patient_data=False),
    Call("PUT", "/api/clinic/protocol", lambda i: {"basis": "protocol v2"}, role="admin",
         patient_data=False),
    Call("GET", "/api/audit", role="admin", patient_data=False),
]
# Not clinic-scoped by a user: sign-in and sign-out, creating users, and the patient's own
# token-keyed self-report form (tested in test_questionnaires).
EXEMPT = {("GET", "/api/session"), ("POST", "/api/session"), ("DELETE", "/api/session"),
          ("POST", "/api/users"), ("GET", "/api/self-report/{token}"),
          ("POST", "/api/self-report/{token}")}


def _world(site: Site) -> dict[str, str]:
    """Clinic A's records: a patient, an infusion, a course and a plan."""
    c = site.client("clinician@A")
    pid = c.post("/api/patients", json=PATIENT).json()["id"]
    ids = {"patient_id": pid, "user_id": site.users["nurse@A"].id}
    ids["infusion_id"] = c.post(f"/api/patients/{pid}/infusions",
                                json={"scheduled_for": T0, "checklist": {}}).json()["id"]
    ids["course_id"] = c.post(f"/api/patients/{pid}/medication-courses", json={
        "drug": "escitalopram", "started_on": "2026-01-05", "dose_mg_per_day": 10}).json()["id"]
    r = c.post(f"/api/patients/{pid}/care-plans",
               json={"profile": {"scores": {"gad7": 15}}, "start_date": "2026-01-05"})
    assert r.status_code == 201, r.text
    ids["plan_id"] = r.json()["id"]
    c.post(f"/api/patients/{pid}/questionnaires",
           json={"instrument": "phq9", "answers": [0] * 8 + [1]})       # an urgent alert
    ids["alert_id"] = c.get(f"/api/patients/{pid}/alerts").json()[0]["id"]
    return ids


def _send(site: Site, who: str, call: Call, ids: dict[str, str]) -> Any:
    c = site.signed_in(who)
    body = call.body(ids) if call.body else None
    return c.request(call.method, call.path.format(**ids), json=body)



def test_the_table_covers_every_operation_of_the_api(site: Site) -> None:
    spec = site.app.openapi()
    ops = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    assert {(c.method, c.path) for c in CALLS} | EXEMPT == ops


def test_every_call_in_the_table_works_for_its_own_clinic(site: Site) -> None:
    ids = _world(site)
    for call in CALLS:
        r = _send(site, f"{call.role}@A", call, ids)
        assert r.status_code < 300, f"{call.method} {call.path}: {r.status_code} {r.text}"


def test_another_clinic_gets_nothing_from_any_endpoint(site: Site) -> None:
    ids = _world(site)
    secrets_of_a = {ids["patient_id"], PATIENT["family_name"], PATIENT["mrn"],
                    ids["infusion_id"], ids["course_id"], ids["plan_id"]}
    for call in CALLS:
        before = audit_rows(site)
        r = _send(site, f"{call.role}@B", call, ids)
        where = f"{call.method} {call.path}"
        if "{" in call.path:
            assert r.status_code in (403, 404), f"{where}: {r.status_code}"
        else:
            assert r.status_code < 300 or r.status_code == 403, f"{where}: {r.status_code}"
            # B's audit log names the ids B itself asked for, and nothing else of A's
            shown = secrets_of_a if call.path != "/api/audit" else {
                PATIENT["family_name"], PATIENT["mrn"]}
            assert not any(s in r.text for s in shown), where
        assert audit_rows(site) >= before          # nothing of A's is written or erased
    # and A's records are unchanged by B's attempts
    c = site.client("clinician@A")
    assert c.get(f"/api/patients/{ids['patient_id']}").json()["weight_kg"] == 68.0
    assert c.get(f"/api/infusions/{ids['infusion_id']}").json()["status"] == "screening"


def test_the_researcher_role_never_sees_an_identifier(site: Site) -> None:
    ids = _world(site)
    identifiers = {PATIENT["given_name"], PATIENT["family_name"], PATIENT["mrn"],
                   PATIENT["birth_date"], ids["patient_id"]}
    seen_research = False
    for call in CALLS:
        r = _send(site, "researcher@A", call, ids)
        if call.role == "researcher":            # de-identified or aggregated
            assert r.status_code == 200
            seen_research = seen_research or (
                bool(r.json()) if "json" in r.headers["content-type"] else bool(r.content))
        elif call.patient_data:
            assert r.status_code == 403, f"{call.method} {call.path}: {r.status_code}"
        leaked = [s for s in identifiers if s in r.text]
        assert leaked == [], f"{call.method} {call.path} shows {leaked}"
    assert seen_research
    for page in ("/patients", f"/patients/{ids['patient_id']}",
                 f"/infusions/{ids['infusion_id']}"):
        r = site.client("researcher@A").get(page)
        assert r.status_code == 403 and not any(s in r.text for s in identifiers), page


def test_every_patient_data_request_leaves_an_audit_record(site: Site) -> None:
    ids = _world(site)
    for call in CALLS:
        if not call.patient_data:
            continue
        before = audit_rows(site)
        r = _send(site, f"{call.role}@A", call, ids)
        assert r.status_code < 300
        with site.session() as s:
            rows = s.scalars(select(AuditEvent).order_by(AuditEvent.at.desc())
                             .limit(audit_rows(site) - before)).all()
        assert rows, f"{call.method} {call.path} left no audit record"
        user = site.users[f"{call.role}@A"].id
        assert all(e.user_id == user and e.route.startswith("/api") for e in rows)
        if "{patient_id}" in call.path:
            assert ids["patient_id"] in {e.patient_id for e in rows}, call.path


def test_a_denied_request_is_refused_and_audited(site: Site) -> None:
    ids = _world(site)
    for call in CALLS:
        if not call.patient_data or call.role != "clinician":
            continue
        before = audit_rows(site)
        r = _send(site, "researcher@A", call, ids)
        assert r.status_code == 403, f"{call.method} {call.path}"
        with site.session() as s:
            last = s.scalars(select(AuditEvent).order_by(AuditEvent.at.desc()).limit(1)).one()
        assert audit_rows(site) == before + 1, f"{call.method} {call.path}"
        assert (last.outcome, last.user_id) == ("denied", site.users["researcher@A"].id)


def test_no_identifier_reaches_the_logs_or_a_url(site: Site,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ids = _world(site)
    for call in CALLS:
        r = _send(site, f"{call.role}@A", call, ids)
        assert not any(s in str(r.request.url) for s in (PATIENT["family_name"],
                                                         PATIENT["mrn"]))
    text = "\n".join(rec.getMessage() for rec in caplog.records)
    for s in (PATIENT["given_name"], PATIENT["family_name"], PATIENT["mrn"]):
        assert s not in text
