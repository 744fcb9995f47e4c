"""The worklist shows every alert type, urgent first; acknowledging one is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from equipoise.clinic.alerts.models import AlertRecord
from equipoise.clinic.audit.models import AuditEvent
from tests.clinic.conftest import PATIENT, Site

TODAY = dt.datetime.now(dt.UTC).date()


def _iso(days_ago: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days_ago)).replace(
        hour=9, minute=0, second=0, microsecond=0).isoformat()


def _patient(c: Any, mrn: str) -> str:
    pid: str = c.post("/api/patients", json=PATIENT | {"mrn": mrn}).json()["id"]
    return pid


def _plan(c: Any, pid: str, start_days_ago: int, gad7: int, phq9: int = 10) -> None:
    start = (TODAY - dt.timedelta(days=start_days_ago)).isoformat()
    r = c.post(f"/api/patients/{pid}/care-plans", json={
        "profile": {"scores": {"gad7": gad7, "phq9": phq9}}, "start_date": start})
    assert r.status_code == 201, r.text


def _gad7(c: Any, pid: str, total: int, days_ago: int, name: str = "gad7") -> None:
    n = 7 if name == "gad7" else 9
    answers = [min(3, max(0, total - 3 * k)) for k in range(n)]
    assert sum(answers) == total
    r = c.post(f"/api/patients/{pid}/questionnaires",
               json={"instrument": name, "answers": answers, "authored": _iso(days_ago)})
    assert r.status_code == 201, r.text


def test_the_worklist_covers_every_alert_type(site: Site) -> None:
    c = site.signed_in("clinician@A")
    # off-track: at week 2 the score is back at the top of the scale
    off = _patient(c, "OFF-1")
    _plan(c, off, 20, gad7=15)
    _gad7(c, off, 21, 6)
    # response, then relapse: 16 -> 8 (response) -> 12, 13 (two rises past 10)
    rel = _patient(c, "REL-1")
    _plan(c, rel, 40, gad7=16)
    for total, ago in ((8, 30), (12, 20), (13, 10)):
        _gad7(c, rel, total, ago)
    # remission on PHQ-9 (cut 4): 20 -> 4
    rem = _patient(c, "REM-1")
    _plan(c, rem, 30, gad7=12, phq9=20)
    _gad7(c, rem, 4, 3, "phq9")
    # overdue: a plan 30 days old and no questionnaire since
    late = _patient(c, "LATE-1")
    _plan(c, late, 30, gad7=14)
    # suicidality: PHQ-9 item 9 answered 1
    sui = _patient(c, "SUI-1")
    r = c.post(f"/api/patients/{sui}/questionnaires",
               json={"instrument": "phq9", "answers": [1, 1, 1, 1, 1, 1, 1, 1, 1]})
    assert r.status_code == 201
    # vitals: a reading above the clinic's hold limit
    site.signed_in("admin@A").put("/api/clinic/protocol", json={
        "hold_systolic_above": 160, "basis": "test protocol"})
    vit = _patient(c, "VIT-1")
    iid = c.post(f"/api/patients/{vit}/infusions", json={
        "scheduled_for": _iso(0), "checklist": {}}).json()["id"]
    c.post(f"/api/infusions/{iid}/vitals", json={"phase": "pre", "systolic": 170,
                                                 "diastolic": 90})
    items = c.get("/api/worklist").json()
    kinds = {(i["kind"], i["patient"].split("(")[1].rstrip(")")) for i in items}
    for expected in (("off-track", "OFF-1"), ("response", "REL-1"), ("relapse", "REL-1"),
                     ("remission", "REM-1"), ("overdue", "LATE-1"),
                     ("suicidality", "SUI-1"), ("vitals", "VIT-1")):
        assert expected in kinds, (expected, sorted(kinds))
    severities = [i["severity"] for i in items]
    assert severities == sorted(severities, key=["urgent", "action", "info"].index)
    # another clinic sees none of it
    assert site.signed_in("clinician@B").get("/api/worklist").json() == []


def test_acknowledging_an_alert_clears_it_and_is_audited(site: Site) -> None:
    c = site.signed_in("clinician@A")
    pid = _patient(c, "SUI-2")
    c.post(f"/api/patients/{pid}/questionnaires",
           json={"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 2]})
    [item] = [i for i in c.get("/api/worklist").json() if i["patient_id"] == pid]
    r = c.post(f"/api/alerts/{item['id']}/acknowledge")
    assert r.status_code == 200 and r.json()["acknowledged_at"]
    assert all(i["id"] != item["id"] for i in c.get("/api/worklist").json())
    with site.session() as s:
        row = s.scalars(select(AuditEvent).where(AuditEvent.action == "acknowledge")).one()
    assert (row.entity, row.entity_id, row.user_id) == ("alert", item["id"],
                                                       site.users["clinician@A"].id)
    assert site.signed_in("clinician@B").post(
        f"/api/alerts/{item['id']}/acknowledge").status_code == 404


def test_a_new_plan_refreshes_the_patients_alerts_at_once(site: Site) -> None:
    """A plan is one of the writes alerts are recomputed after (as for a questionnaire), not
    only when the worklist is next opened: a plan that began 60 days ago with no GAD-7 since
    makes the questionnaire overdue as soon as it is stored."""
    c = site.signed_in("clinician@A")
    pid = _patient(c, "PLAN-1")
    _plan(c, pid, 60, gad7=14)
    with site.session() as s:
        kinds = list(s.scalars(select(AlertRecord.kind).where(AlertRecord.patient_id == pid)))
    assert kinds == ["overdue"]
