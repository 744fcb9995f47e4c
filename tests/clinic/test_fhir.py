"""FHIR R4B export and import: a round trip through an empty clinic comes back identical, and
an invalid bundle is refused whole, naming the resource and field."""

from __future__ import annotations

import copy
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from equipoise.clinic.fhir.terminology import value_set_problems
from tests.clinic.conftest import PATIENT, Site


def _fill(site: Site) -> Any:
    c = site.signed_in("clinician@A")
    pids = []
    for k, (given, sex) in enumerate((("Ada", "female"), ("Alan", "male"), ("Sam", "other"))):
        body = PATIENT | {"mrn": f"MRN-{k}", "given_name": given, "sex": sex}
        if k == 2:
            body.pop("weight_kg")
        pids.append(c.post("/api/patients", json=body).json()["id"])
    c.post(f"/api/patients/{pids[0]}/questionnaires", json={
        "instrument": "gad7", "answers": ["LA6571-9", "LA18938-3", 2, 1, 0, 3, 2],
        "authored": "2026-01-05T09:30:00Z"})
    c.post(f"/api/patients/{pids[0]}/questionnaires", json={
        "instrument": "phq9", "answers": [1] * 9, "authored": "2026-01-05T09:35:00Z"})
    c.post(f"/api/patients/{pids[1]}/questionnaires", json={
        "instrument": "ham-a", "answers": [2] * 14, "authored": "2026-01-06T10:00:00Z"})
    link = c.post(f"/api/patients/{pids[1]}/self-report-links",
                  json={"instrument": "gad7"}).json()["path"].removeprefix("/r/")
    site.client().post(f"/api/self-report/{link}", json={"answers": [0, 1, 0, 1, 0, 1, 0]})
    course = c.post(f"/api/patients/{pids[0]}/medication-courses", json={
        "drug": "sertraline", "started_on": "2026-01-05", "dose_mg_per_day": 50}).json()
    c.post(f"/api/medication-courses/{course['id']}/dose-steps",
           json={"from_date": "2026-01-19", "dose_mg_per_day": 100})
    c.post(f"/api/medication-courses/{course['id']}/stop",
           json={"stopped_on": "2026-03-01", "reason": "remission"})
    acked = c.post(f"/api/patients/{pids[1]}/medication-courses", json={
        "drug": "citalopram", "started_on": "2026-01-05", "dose_mg_per_day": 60,
        "acknowledge_rules": ["CITALOPRAM-40"]})
    assert acked.status_code == 201, acked.text
    for number, attended in ((1, "attended"), (2, "no_show"), (3, "cancelled")):
        r = c.post(f"/api/patients/{pids[0]}/therapy-sessions", json={
            "on": f"2026-01-{6 + number:02d}", "number": number, "modality": "group",
            "minutes": 90, "attended": attended})
        assert r.status_code == 201, r.text
    return c


def test_export_import_export_is_identical(site: Site) -> None:
    a = _fill(site)
    first = a.get("/api/fhir/export").json()
    Bundle.model_validate(first)
    kinds = [e["resource"]["resourceType"] for e in first["entry"]]
    assert kinds.count("Patient") == 3 and kinds.count("QuestionnaireResponse") == 4
    assert kinds.count("Observation") == 4 + 2               # scores + two body weights
    assert kinds.count("Procedure") == 3                       # CBT sessions
    assert kinds.count("MedicationRequest") == 2               # antidepressant courses
    assert all(value_set_problems(e["resource"], "x") == [] for e in first["entry"])
    b = site.signed_in("clinician@B")
    assert b.get("/api/fhir/export").json()["entry"] == []   # B starts empty
    r = b.post("/api/fhir/import", json=first)
    assert r.status_code == 201, r.text
    assert r.json() == {"patients": 3, "questionnaire_responses": 4}
    assert b.get("/api/fhir/export").json() == first


def _bad(bundle: dict[str, Any], kind: str, change: Any) -> dict[str, Any]:
    """``bundle`` with ``change`` made to its first ``kind`` (a score, for Observation)."""
    out = copy.deepcopy(bundle)
    res = next(e["resource"] for e in out["entry"] if e["resource"]["resourceType"] == kind
               and (kind != "Observation" or "derivedFrom" in e["resource"]))
    change(res)
    return out


def test_invalid_bundles_are_refused_whole_naming_resource_and_field(site: Site) -> None:
    good = _fill(site).get("/api/fhir/export").json()
    b = site.signed_in("clinician@B")
    cases = [
        (_bad(good, "Patient", lambda r: r.update(gender="woman")), "Patient/", "gender"),
        (_bad(good, "Patient", lambda r: r.update(birthDate=5)), "Patient/", "birthDate"),
        (_bad(good, "QuestionnaireResponse",
              lambda r: r["item"][0]["answer"][0].update(valueInteger=9)),
         "QuestionnaireResponse/", "item"),
        (_bad(good, "QuestionnaireResponse", lambda r: r.update(status="finished")),
         "QuestionnaireResponse/", "status"),
        (_bad(good, "QuestionnaireResponse",
              lambda r: r.update(subject={"reference": "Patient/nobody"})),
         "QuestionnaireResponse/", "subject"),
        (_bad(good, "Observation", lambda r: r["valueQuantity"].update(value=3)),
         "Observation/", "valueQuantity"),
        (_bad(good, "Procedure", lambda r: r.update(status="done")), "Procedure/", "status"),
        (_bad(good, "MedicationRequest",
              lambda r: r["medicationCodeableConcept"].update(text="aspirin")),
         "MedicationRequest/", "medicationCodeableConcept"),
        (_bad(good, "MedicationRequest", lambda r: r.update(status="finished")),
         "MedicationRequest/", "status"),
        (_bad(good, "Procedure", lambda r: r["extension"][2].update(valueInteger=999)),
         "Procedure/", "extension"),
    ]
    for bundle, resource, field in cases:
        r = b.post("/api/fhir/import", json=bundle)
        assert r.status_code == 422, (field, r.text)
        msg = r.json()["detail"][0]["msg"]
        assert resource in msg and f"{field}" in msg and "nothing was imported" in msg, msg
        assert b.get("/api/fhir/export").json()["entry"] == []          # nothing imported
    dup = b.post("/api/fhir/import", json=good)
    assert dup.status_code == 201
    again = b.post("/api/fhir/import", json=good)        # the record numbers now exist
    assert again.status_code == 422 and "exists in this clinic" in again.text


def test_only_roles_that_may_read_and_write_move_bundles(site: Site) -> None:
    good = _fill(site).get("/api/fhir/export").json()
    assert site.signed_in("researcher@A").get("/api/fhir/export").status_code == 403
    assert site.signed_in("nurse@B").post("/api/fhir/import", json=good).status_code == 403
