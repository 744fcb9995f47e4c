"""FHIR R4B export and import: a round trip through an empty clinic comes back identical, and
an invalid bundle is refused whole, naming the resource and field."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from typing import Any

from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from equipoise.clinic.fhir.terminology import value_set_problems
from equipoise.clinic.infusions.models import Infusion
from equipoise.clinic.questionnaires.models import QuestionnaireResponse
from tests.clinic.conftest import PATIENT, Site
from tests.clinic.test_care_plans import PROFILE, START
from tests.clinic.test_infusions import PROTOCOL, READY

START_AT = dt.datetime.now(dt.UTC) - dt.timedelta(hours=4)


def _t(minutes: float) -> str:
    """A time ``minutes`` after an infusion start 4 hours ago."""
    return (START_AT + dt.timedelta(minutes=minutes)).isoformat()


def _infusions(site: Site, c: TestClient, pids: list[str]) -> None:
    """One infusion charted, rated, discharged and signed (with an out-of-limit reading and two
    adverse events), one only screened (blocked), one started and not yet ended."""
    assert site.signed_in("admin@A").put("/api/clinic/protocol",
                                         json=PROTOCOL).status_code == 200
    pre = {"phase": "pre", "at": _t(-5), "systolic": 128, "diastolic": 80, "heart_rate": 72,
           "spo2": 98}
    r = c.post(f"/api/patients/{pids[0]}/infusions", json={
        "scheduled_for": _t(-10), "checklist": READY, "pre_vitals": pre})
    assert r.status_code == 201, r.text
    done = r.json()["id"]
    for step, body in (
            ("start", {"at": _t(0)}),
            ("adverse-events", {"at": _t(20), "description": "nausea", "severity": "mild",
                                "action_taken": "antiemetic given"}),
            ("vitals", {"phase": "during", "at": _t(40), "systolic": 168, "diastolic": 96,
                        "heart_rate": 88, "spo2": 97}),
            ("end", {"at": _t(45)}),
            ("adverse-events", {"at": _t(50), "description": "fainted on standing",
                                "severity": "serious"}),
            ("cadss", {"answers": [1] * 10 + [0] * 13}),
            ("vitals", {"phase": "discharge", "at": _t(170), "systolic": 130, "diastolic": 82,
                        "spo2": 98}),
            ("discharge", {"at": _t(175), "blood_pressure_decreasing": True,
                           "clinically_stable": True, "escort_present": True}),
            ("sign", None)):
        r = c.post(f"/api/infusions/{done}/{step}", json=body)
        assert r.status_code in (200, 201), (step, r.text)
    assert r.json()["status"] == "signed"
    assert [v["action"] for v in r.json()["vitals"]] == ["continue", "hold", "continue"]
    blocked = c.post(f"/api/patients/{pids[1]}/infusions", json={
        "scheduled_for": _t(60 * 24), "conditions": ["abdominal aortic aneurysm"],
        "benzodiazepine_mg_diazepam_24h": 5, "checklist": {"consent_recorded": True},
        "pre_vitals": {"phase": "pre", "at": _t(-5), "systolic": 120, "diastolic": 78}})
    assert blocked.status_code == 201 and blocked.json()["screen_status"] == "blocked"
    running = c.post(f"/api/patients/{pids[2]}/infusions", json={
        "scheduled_for": _t(90), "weight_kg": 80, "checklist": READY, "pre_vitals": pre})
    assert running.status_code == 201, running.text
    r = c.post(f"/api/infusions/{running.json()['id']}/start", json={"at": _t(100)})
    assert r.status_code == 200 and r.json()["status"] == "in_progress", r.text
    for _ in range(2):           # the same event twice: content alone cannot tell them apart
        r = c.post(f"/api/infusions/{running.json()['id']}/adverse-events", json={
            "at": _t(110), "description": "headache", "severity": "mild"})
        assert r.status_code == 201, r.text


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
    _infusions(site, c, pids)
    for _ in range(2):                    # the second replaces the first
        plan = c.post(f"/api/patients/{pids[0]}/care-plans",
                      json={"profile": PROFILE, "start_date": START})
        assert plan.status_code == 201, plan.text
    return c


def _charts(c: TestClient) -> dict[str, Any]:
    """Each patient's infusions and care plans as the API reads them, without the clinic's
    ids (and without the clinic's protocol limits, which are the clinic's, not the record's)."""
    out = {}
    for p in c.get("/api/patients").json():
        infusions = c.get(f"/api/patients/{p['id']}/infusions").json()
        for inf in infusions:
            for key in ("id", "patient_id", "limits"):
                inf.pop(key)
            for row in inf["vitals"] + inf["adverse_events"]:
                row.pop("id")
        plans = [c.get(f"/api/care-plans/{x['id']}").json()
                 for x in c.get(f"/api/patients/{p['id']}/care-plans").json()]
        for plan in plans:
            for key in ("id", "patient_id", "created_by"):
                plan.pop(key)
        out[p["mrn"]] = {"infusions": infusions, "care_plans": plans}
    return out


def test_export_import_export_is_identical(site: Site) -> None:
    a = _fill(site)
    first = a.get("/api/fhir/export").json()
    Bundle.model_validate(first)
    kinds = [e["resource"]["resourceType"] for e in first["entry"]]
    assert kinds.count("Patient") == 3
    assert kinds.count("QuestionnaireResponse") == 4 + 1       # and a CADSS rating
    codes = [e["resource"]["code"]["coding"][0]["code"] for e in first["entry"]
             if e["resource"]["resourceType"] == "Observation"]
    assert len(codes) == 5 + 2 + 17            # scores, body weights, 5 readings' vital signs
    assert [codes.count(c) for c in ("85353-1", "85354-9", "8867-4", "2708-6")] == [5, 5, 3, 4]
    spo2 = [e["resource"]["code"]["coding"] for e in first["entry"]
            if e["resource"]["resourceType"] == "Observation"
            and e["resource"]["code"]["coding"][0]["code"] == "2708-6"]
    assert len(spo2) == 4
    # the R4B oxygen-saturation profile's code, then how it was measured
    assert all([c["code"] for c in coding] == ["2708-6", "59408-5"] for coding in spo2)
    assert kinds.count("Procedure") == 3                       # CBT sessions
    assert kinds.count("MedicationRequest") == 2               # antidepressant courses
    assert kinds.count("MedicationAdministration") == 3        # ketamine infusions
    assert kinds.count("AdverseEvent") == 2 + 2               # two the same: both kept
    assert kinds.count("CarePlan") == 2
    # the newest plan is the one in force; the one it replaced is revoked
    assert [e["resource"]["status"] for e in first["entry"]
            if e["resource"]["resourceType"] == "CarePlan"] == ["revoked", "active"]
    states = {e["resource"]["status"] for e in first["entry"]
              if e["resource"]["resourceType"] == "MedicationAdministration"}
    assert states == {"completed", "not-done", "in-progress"}
    assert all(value_set_problems(e["resource"], "x") == [] for e in first["entry"])
    b = site.signed_in("clinician@B")
    assert b.get("/api/fhir/export").json()["entry"] == []   # B starts empty
    r = b.post("/api/fhir/import", json=first)
    assert r.status_code == 201, r.text
    assert r.json() == {"patients": 3, "questionnaire_responses": 5}
    assert b.get("/api/fhir/export").json() == first
    charts = _charts(a)
    assert sorted(len(x["infusions"]) for x in charts.values()) == [1, 1, 1]
    assert sum(len(x["care_plans"]) for x in charts.values()) == 2
    assert _charts(b) == charts
    with site.session() as s:   # made and charted by the importing user; signed by no one named
        b_user = site.users["clinician@B"].id
        rows = s.scalars(select(Infusion).where(Infusion.clinic_id == site.clinics["B"].id))
        assert {(i.status, i.created_by, i.signed_by) for i in rows} == {
            ("signed", b_user, None), ("screening", b_user, None),
            ("in_progress", b_user, None)}
        signed = s.scalar(select(Infusion.id).where(Infusion.status == "signed",
                                                    Infusion.clinic_id == site.clinics["B"].id))
        cadss = s.scalars(select(QuestionnaireResponse.infusion_id).where(
            QuestionnaireResponse.clinic_id == site.clinics["B"].id,
            QuestionnaireResponse.instrument == "cadss")).all()
        assert cadss == [signed]


def _bad(bundle: dict[str, Any], kind: str, change: Any, code: str = "") -> dict[str, Any]:
    """``bundle`` with ``change`` made to its first ``kind`` (for Observation, the first with
    LOINC ``code``, or a score)."""
    out = copy.deepcopy(bundle)
    res = next(e["resource"] for e in out["entry"] if e["resource"]["resourceType"] == kind
               and (kind != "Observation" or (
                   e["resource"]["code"]["coding"][0]["code"] == code if code
                   else "derivedFrom" in e["resource"])))
    change(res)
    return out


def _newest_plan(bundle: dict[str, Any], status: str) -> dict[str, Any]:
    """``bundle`` with its last CarePlan (a patient's newest) given ``status``."""
    out = copy.deepcopy(bundle)
    [e for e in out["entry"] if e["resource"]["resourceType"] == "CarePlan"][-1][
        "resource"]["status"] = status
    return out


def _plan_share(value: float) -> Any:
    def change(r: dict[str, Any]) -> None:
        stored = json.loads(r["extension"][1]["valueString"])
        option = next(o for o in stored["options"] if o["expected"])
        option["expected"]["response_or_remission_week_12"] = value
        r["extension"][1]["valueString"] = json.dumps(stored)
    return change


def _signed(bundle: dict[str, Any], change: Any) -> dict[str, Any]:
    """``bundle`` with ``change(entries, signed infusion)`` made."""
    out = copy.deepcopy(bundle)
    entries = [e["resource"] for e in out["entry"]]
    ma = next(r for r in entries if r["resourceType"] == "MedicationAdministration"
              and r["status"] == "completed")
    change(entries, ma)
    return out


def _no_discharge_reading(entries: list[dict[str, Any]], ma: dict[str, Any]) -> None:
    for r in entries:                      # the pre-discharge reading becomes a "post" one
        for e in r.get("extension", []):
            if e["url"].endswith("vitals-phase") and e["valueCode"] == "discharge":
                e["valueCode"] = "post"


def _signed_before_start(entries: list[dict[str, Any]], ma: dict[str, Any]) -> None:
    signed = next(e for e in ma["extension"] if e["url"].endswith("signed-at"))
    signed["valueDateTime"] = ma["effectivePeriod"]["start"]


def _links_a_gad7(entries: list[dict[str, Any]], ma: dict[str, Any]) -> None:
    gad7 = next(r for r in entries if r["resourceType"] == "QuestionnaireResponse"
                and r["questionnaire"].endswith("gad7")
                and r["subject"] == ma["subject"])
    ma["supportingInformation"] = [{"reference": f"QuestionnaireResponse/{gad7['id']}"}]


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
        (_bad(good, "MedicationAdministration",
              lambda r: r.update(subject={"reference": "Patient/nobody"})),
         "MedicationAdministration/", "subject"),
        (_bad(good, "MedicationAdministration", lambda r: r.update(status="in-progress")),
         "MedicationAdministration/", "status"),
        (_bad(good, "MedicationAdministration",
              lambda r: r["dosage"]["dose"].update(value=340.0)),
         "MedicationAdministration/", "dosage"),
        (_bad(good, "Observation", lambda r: r["component"][0]["valueQuantity"].update(
            value=400), code="85354-9"), "Observation/", "component"),
        (_bad(good, "Observation", lambda r: r.update(partOf=[]), code="85353-1"),
         "Observation/", "partOf"),
        (_bad(good, "AdverseEvent",
              lambda r: r["severity"]["coding"][0].update(code="life-threatening")),
         "AdverseEvent/", "severity"),
        (_bad(good, "AdverseEvent", lambda r: r["suspectEntity"][0]["instance"].update(
            reference="MedicationAdministration/nowhere")), "AdverseEvent/", "suspectEntity"),
        (_bad(good, "CarePlan", lambda r: r.update(status="finished")), "CarePlan/", "status"),
        (_bad(good, "CarePlan", lambda r: r.update(status="active")), "CarePlan/", "status"),
        (_newest_plan(good, "revoked"), "CarePlan/", "status"),
        (_bad(good, "CarePlan", lambda r: r["extension"][1].update(valueString="{not json")),
         "CarePlan/", "extension"),
        (_bad(good, "CarePlan", lambda r: r["activity"].pop()), "CarePlan/", "activity"),
        (_bad(good, "CarePlan", _plan_share(7.5)), "CarePlan/", "extension"),
        (_signed(good, _no_discharge_reading), "MedicationAdministration/", "extension"),
        (_signed(good, _signed_before_start), "MedicationAdministration/", "effectivePeriod"),
        (_signed(good, _links_a_gad7), "MedicationAdministration/", "supportingInformation"),
    ]
    for bundle, resource, field in cases:
        r = b.post("/api/fhir/import", json=bundle)
        assert r.status_code == 422, (field, r.text)
        msg = r.json()["detail"][0]["msg"]
        assert "nothing was imported" in msg, msg
        assert re.search(rf"entry\[\d+\] {resource}[0-9a-f-]+: {field}", msg), msg
        assert b.get("/api/fhir/export").json()["entry"] == []          # nothing imported
    dup = b.post("/api/fhir/import", json=good)
    assert dup.status_code == 201
    again = b.post("/api/fhir/import", json=good)        # the record numbers now exist
    assert again.status_code == 422 and "exists in this clinic" in again.text


def test_only_roles_that_may_read_and_write_move_bundles(site: Site) -> None:
    good = _fill(site).get("/api/fhir/export").json()
    assert site.signed_in("researcher@A").get("/api/fhir/export").status_code == 403
    assert site.signed_in("nurse@B").post("/api/fhir/import", json=good).status_code == 403
    # every area the bundle carries: a user denied infusions cannot export them, one denied
    # writing care plans cannot import a bundle holding one
    for who, permission in (("clinician@A", "infusions:read"), ("clinician@B", "plans:write")):
        r = site.signed_in(f"admin@{who[-1]}").post(
            f"/api/users/{site.users[who].id}/grants",
            json={"permission": permission, "effect": "deny"})
        assert r.status_code == 201, r.text
    assert site.signed_in("clinician@A").get("/api/fhir/export").status_code == 403
    b = site.signed_in("clinician@B")
    r = b.post("/api/fhir/import", json=good)
    assert r.status_code == 403 and "plans:write" in r.text
    without_plans = copy.deepcopy(good)
    without_plans["entry"] = [e for e in good["entry"]
                              if e["resource"]["resourceType"] != "CarePlan"]
    assert b.post("/api/fhir/import", json=without_plans).status_code == 201
