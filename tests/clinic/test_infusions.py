"""An infusion day through the API: screen, dose, chart with limits, observe, discharge, sign."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.clinic.conftest import PATIENT, Site

# The test clinic's own limits (a clinic sets these; equipoise has no default numbers).
PROTOCOL = {"hold_systolic_above": 160, "hold_diastolic_above": 100,
            "stop_systolic_above": 180, "stop_diastolic_above": 110,
            "stop_heart_rate_above": 130, "stop_spo2_below": 92,
            "basis": "test clinic protocol v1"}
READY = {"consent_recorded": True, "psychiatric_assessment_done": True, "escort_arranged": True}


def _t(minutes: float) -> str:
    """A time ``minutes`` after a start 4 hours ago."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=4)
    return (start + dt.timedelta(minutes=minutes)).isoformat()


def _setup(site: Site, protocol: bool = True, **extra: Any) -> tuple[Any, str]:
    if protocol:
        r = site.client("admin@A").put("/api/clinic/protocol", json=PROTOCOL)
        assert r.status_code == 200, r.text
    c = site.client("clinician@A")
    pid = c.post("/api/patients", json=PATIENT).json()["id"]
    body = {"scheduled_for": _t(-10), "checklist": READY,
            "pre_vitals": {"phase": "pre", "at": _t(-5), "systolic": 128, "diastolic": 80,
                           "heart_rate": 72, "spo2": 98}} | extra
    r = c.post(f"/api/patients/{pid}/infusions", json=body)
    assert r.status_code == 201, r.text
    return c, r.json()["id"]


def test_the_dose_is_half_a_milligram_per_kilogram_over_40_minutes(site: Site) -> None:
    c, iid = _setup(site)
    inf = c.get(f"/api/infusions/{iid}").json()
    assert (inf["dose_mg"], inf["mg_per_kg"], inf["minutes"]) == (34.0, 0.5, 40)   # 68 kg
    assert inf["screen_status"] == "eligible"


def test_a_full_infusion_day_is_charted_and_signed(site: Site) -> None:
    c, iid = _setup(site)
    assert c.post(f"/api/infusions/{iid}/start", json={"at": _t(0)}).status_code == 200
    high = c.post(f"/api/infusions/{iid}/vitals", json={
        "phase": "during", "at": _t(40), "systolic": 168, "diastolic": 96, "heart_rate": 88,
        "spo2": 97})
    assert high.json()["action"] == "hold"
    assert high.json()["reasons"] == ["systolic 168 above 160"]
    assert c.post(f"/api/infusions/{iid}/end", json={"at": _t(45)}).status_code == 200
    r = c.post(f"/api/infusions/{iid}/cadss", json={"answers": [1] * 10 + [0] * 13})
    assert r.json()["cadss_total"] == 10
    c.post(f"/api/infusions/{iid}/vitals", json={
        "phase": "discharge", "at": _t(170), "systolic": 130, "diastolic": 82, "spo2": 98})
    r = c.post(f"/api/infusions/{iid}/discharge", json={
        "at": _t(175), "blood_pressure_decreasing": True, "clinically_stable": True,
        "escort_present": True})
    assert r.status_code == 200, r.text
    assert r.json()["missing_for_signature"] == []
    signed = c.post(f"/api/infusions/{iid}/sign")
    assert signed.status_code == 200 and signed.json()["status"] == "signed"
    # a signed form is final
    late = c.post(f"/api/infusions/{iid}/vitals", json={
        "phase": "post", "systolic": 120, "diastolic": 80})
    assert late.status_code == 409


def test_the_form_cannot_be_signed_while_required_fields_are_empty(site: Site) -> None:
    c, iid = _setup(site)
    r = c.post(f"/api/infusions/{iid}/sign")
    assert r.status_code == 409
    msg = r.json()["detail"][0]["msg"]
    for needed in ("infusion start time", "about 40 minutes after the start",
                   "dissociation rating (CADSS)", "pre-discharge vitals",
                   "discharge time and criteria"):
        assert needed in msg


def test_discharge_before_two_hours_of_observation_is_refused(site: Site) -> None:
    c, iid = _setup(site)
    c.post(f"/api/infusions/{iid}/start", json={"at": _t(0)})
    c.post(f"/api/infusions/{iid}/end", json={"at": _t(40)})
    c.post(f"/api/infusions/{iid}/vitals", json={
        "phase": "discharge", "at": _t(100), "systolic": 125, "diastolic": 80})
    r = c.post(f"/api/infusions/{iid}/discharge", json={
        "at": _t(120), "blood_pressure_decreasing": True, "clinically_stable": True,
        "escort_present": True})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "at"]
    assert "at least 2 hours" in r.json()["detail"][0]["msg"]


def test_an_absolute_contraindication_blocks_the_start_and_is_listed(site: Site) -> None:
    c, iid = _setup(site, conditions=["abdominal aortic aneurysm"])
    inf = c.get(f"/api/infusions/{iid}").json()
    assert inf["screen_status"] == "blocked"
    assert "KET-CI-ANEURYSM" in {f["id"] for f in inf["screen"]}
    r = c.post(f"/api/infusions/{iid}/start", json={"at": _t(0)})
    assert r.status_code == 409 and "KET-CI-ANEURYSM" in r.json()["detail"]


def test_unrecognised_conditions_are_kept_for_review(site: Site) -> None:
    c, iid = _setup(site, conditions=["wobbly knees"])
    inf = c.get(f"/api/infusions/{iid}").json()
    assert inf["screen_status"] == "review"
    assert any(f["id"] == "UNSCREENED-CONDITION" for f in inf["screen"])


def test_without_clinic_limits_a_reading_is_not_judged(site: Site) -> None:
    c, iid = _setup(site, protocol=False)
    v = c.post(f"/api/infusions/{iid}/vitals", json={
        "phase": "during", "systolic": 200, "diastolic": 120})
    assert v.json()["action"] == "unset"
    assert c.get(f"/api/infusions/{iid}").json()["limits"]["configured"] is False


def test_the_checklist_must_be_complete_to_start(site: Site) -> None:
    c, iid = _setup(site, checklist={"consent_recorded": True})
    r = c.post(f"/api/infusions/{iid}/start", json={"at": _t(0)})
    assert r.status_code == 409 and "escort_arranged" in r.json()["detail"][0]["msg"]


def test_a_nurse_charts_and_signs_but_a_researcher_cannot_read(site: Site) -> None:
    _, iid = _setup(site)
    nurse = site.client("nurse@A")
    assert nurse.post(f"/api/infusions/{iid}/vitals", json={
        "phase": "pre", "systolic": 120, "diastolic": 80}).status_code == 201
    assert site.client("researcher@A").get(f"/api/infusions/{iid}").status_code == 403
    assert site.client("clinician@B").get(f"/api/infusions/{iid}").status_code == 404
