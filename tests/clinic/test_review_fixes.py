"""Defects a review found, each pinned: races, refusals, immutability, validation, display."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import select

from equipoise.clinic import db
from equipoise.clinic.accounts.models import LoginSession
from equipoise.clinic.accounts.service import complete_setup, ensure_setup
from equipoise.clinic.audit.models import AuditEvent
from equipoise.clinic.settings import Settings
from equipoise.errors import ClinicError
from tests.clinic.conftest import PASSWORD, PATIENT, Site, audit_rows, live_server, locs

READY = {"consent_recorded": True, "psychiatric_assessment_done": True, "escort_arranged": True}


def _burst(n: int, send: Callable[[int], int]) -> list[int]:
    """``n`` requests at once; their status codes."""
    codes: list[int] = [0] * n
    go = threading.Barrier(n)

    def run(k: int) -> None:
        go.wait()
        codes[k] = send(k)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return codes


def _cookie_client(url: str, c: Any) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=30, headers={
        "X-CSRF-Token": c.headers["X-CSRF-Token"],
        "Cookie": f"equipoise_session={c.cookies.get('equipoise_session')}"})


def test_a_self_report_link_submitted_at_once_by_many_is_stored_once(site: Site) -> None:
    c = site.signed_in("clinician@A")
    pid = c.post("/api/patients", json=PATIENT).json()["id"]
    token = c.post(f"/api/patients/{pid}/self-report-links",
                   json={"instrument": "gad7"}).json()["path"].removeprefix("/r/")
    with live_server(site.app) as url, httpx.Client(base_url=url, timeout=30) as h:
        codes = _burst(12, lambda k: h.post(f"/api/self-report/{token}",
                                            json={"answers": [1] * 7}).status_code)
    assert sorted(codes) == [201] + [404] * 11
    assert len(c.get(f"/api/patients/{pid}/questionnaires").json()) == 1


def test_a_burst_of_wrong_passwords_buys_no_more_guesses_than_the_limit(site: Site) -> None:
    with live_server(site.app) as url, httpx.Client(base_url=url, timeout=30) as h:
        codes = _burst(20, lambda k: h.post("/api/session", json={
            "username": "nurse.a", "password": f"wrong guess {k}"}).status_code)
    assert codes.count(401) <= 5 and set(codes) <= {401, 429}


def test_racing_duplicate_record_numbers_conflict_without_leaking_to_the_logs(
        site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    c = site.signed_in("clinician@A")
    body = PATIENT | {"mrn": "RACE-1", "family_name": "Secretname"}
    with live_server(site.app) as url, _cookie_client(url, c) as h:
        codes = _burst(8, lambda k: h.post("/api/patients", json=body).status_code)
    assert codes.count(201) == 1 and set(codes) <= {201, 409}
    text = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "Secretname" not in text and "RACE-1" not in text


def test_a_refusal_after_an_idle_minute_is_quick_and_audited(site: Site) -> None:
    r = site.signed_in("researcher@A")
    pid = site.signed_in("clinician@A").post("/api/patients", json=PATIENT).json()["id"]
    with site.session() as s, s.begin():
        for login in s.scalars(select(LoginSession)):
            login.last_seen = login.last_seen - dt.timedelta(minutes=2)
    before = audit_rows(site)
    assert r.get(f"/api/patients/{pid}").status_code == 403
    assert audit_rows(site) == before + 1


def test_refusals_by_pages_and_other_clinics_are_audited(site: Site) -> None:
    pid = site.signed_in("clinician@A").post("/api/patients", json=PATIENT).json()["id"]
    before = audit_rows(site)
    assert site.signed_in("researcher@A").get(f"/patients/{pid}").status_code == 403
    assert site.signed_in("clinician@B").get(f"/api/patients/{pid}").status_code == 404
    forged = site.client("clinician@A")
    forged.headers["X-CSRF-Token"] = "forged"
    assert forged.post("/patients/search", data={"text": "x"}).status_code == 403
    with site.session() as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.at.desc()).limit(3)).all()
    assert audit_rows(site) == before + 3
    assert {r.action for r in rows} == {"deny", "not-found"}
    assert all(r.outcome == "denied" and r.patient_id is None for r in rows)


def test_a_deny_on_reading_also_stops_writes_that_answer_with_the_record(site: Site) -> None:
    c = site.signed_in("clinician@A")
    pid = c.post("/api/patients", json=PATIENT).json()["id"]
    user = site.users["clinician@A"].id
    site.signed_in("admin@A").post(f"/api/users/{user}/grants",
                                   json={"permission": "patients:read", "effect": "deny"})
    r = c.patch(f"/api/patients/{pid}", json={"weight_kg": 70})
    assert r.status_code == 403 and "Lovelace" not in r.text


def test_the_protocol_page_checks_what_the_api_checks(site: Site) -> None:
    admin = site.signed_in("admin@A")
    r = admin.post("/admin/protocol", data={"mg_per_kg": "50", "basis": "typo"})
    assert r.status_code == 422 and "mg_per_kg" in r.text
    assert admin.get("/api/clinic/protocol").json() == {}
    for bad in ("-1", "nan", "inf"):
        assert admin.post("/admin/protocol", data={"mg_per_kg": bad,
                                                   "basis": "x"}).status_code == 422


def test_an_infusion_cannot_be_ended_again_after_discharge_or_leave_alone(site: Site) -> None:
    c = site.signed_in("clinician@A")
    pid = c.post("/api/patients", json=PATIENT).json()["id"]
    t0 = dt.datetime.now(dt.UTC) - dt.timedelta(hours=5)

    def at(minutes: int) -> str:
        return (t0 + dt.timedelta(minutes=minutes)).isoformat()

    iid = c.post(f"/api/patients/{pid}/infusions", json={
        "scheduled_for": at(0), "checklist": READY,
        "pre_vitals": {"phase": "pre", "at": at(0), "systolic": 120, "diastolic": 80,
                       "spo2": 98}}).json()["id"]
    c.post(f"/api/infusions/{iid}/start", json={"at": at(5)})
    assert c.put(f"/api/infusions/{iid}/checklist",
                 json={"checklist": {}}).status_code == 409       # closed once started
    c.post(f"/api/infusions/{iid}/vitals", json={"phase": "during", "at": at(45),
                                                 "systolic": 125, "diastolic": 80})
    c.post(f"/api/infusions/{iid}/end", json={"at": at(45)})
    assert c.post(f"/api/infusions/{iid}/end", json={"at": at(50)}).status_code == 409
    c.post(f"/api/infusions/{iid}/vitals", json={"phase": "discharge", "at": at(170),
                                                 "systolic": 120, "diastolic": 78})
    alone = c.post(f"/api/infusions/{iid}/discharge", json={
        "at": at(175), "blood_pressure_decreasing": True, "clinically_stable": True,
        "escort_present": False})
    assert locs(alone) == [["body", "escort_present"]]
    ok = c.post(f"/api/infusions/{iid}/discharge", json={
        "at": at(175), "blood_pressure_decreasing": True, "clinically_stable": True,
        "escort_present": True})
    assert ok.status_code == 200
    assert c.post(f"/api/infusions/{iid}/end", json={}).status_code == 409
    assert c.post(f"/api/infusions/{iid}/vitals", json={
        "phase": "post", "systolic": 120, "diastolic": 80}).status_code == 409
    c.post(f"/api/infusions/{iid}/cadss", json={"answers": [0] * 23})
    assert c.post(f"/api/infusions/{iid}/sign").status_code == 200
    late = c.post(f"/api/patients/{pid}/questionnaires", json={
        "instrument": "cadss", "answers": [0] * 23, "infusion_id": iid})
    assert late.status_code == 409                     # the signed form gains nothing


@pytest.mark.parametrize("path", ["questionnaires", "infusions"])
def test_times_before_1900_are_refused_naming_the_field(site: Site, path: str) -> None:
    c = site.signed_in("clinician@A")
    pid = c.post("/api/patients", json=PATIENT).json()["id"]
    when = "0001-01-01T00:00:00+09:00"
    body = ({"instrument": "gad7", "answers": [0] * 7, "authored": when}
            if path == "questionnaires" else {"scheduled_for": when})
    r = c.post(f"/api/patients/{pid}/{path}", json=body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] in ("authored", "scheduled_for")


def test_an_infusion_before_the_birth_date_names_scheduled_for(site: Site) -> None:
    c = site.signed_in("clinician@A")
    pid = c.post("/api/patients", json=PATIENT).json()["id"]
    r = c.post(f"/api/patients/{pid}/infusions", json={"scheduled_for": "1970-01-01T10:00:00Z"})
    assert locs(r) == [["body", "scheduled_for"]]


def test_page_forms_refuse_unusable_numbers_and_names(site: Site) -> None:
    c = site.signed_in("clinician@A")
    pid = c.post("/api/patients", json=PATIENT).json()["id"]
    for value in ("inf", "1e400", "nan"):
        r = c.post(f"/patients/{pid}/therapy", data={
            "on": "2026-12-02", "number": value, "modality": "individual",
            "minutes": "50", "attended": "attended"})
        assert r.status_code == 422, value
    admin = site.signed_in("admin@A")
    for name in ("", "<b>x y</b>" * 20):
        r = admin.post("/admin/users", data={"username": name, "password": PASSWORD * 2,
                                             "role": "nurse"})
        assert r.status_code == 422
    assert site.client().post("/login", data={"username": "x" * 500,
                                              "password": "y"}).status_code == 401


def test_the_admin_page_lists_users_only_for_user_administrators(site: Site) -> None:
    admin = site.signed_in("admin@A")
    assert "nurse.a" in admin.get("/admin").text
    site.signed_in("admin@A").post(f"/api/users/{site.users['admin@A'].id}/grants",
                                   json={"permission": "users:admin", "effect": "deny"})
    assert "nurse.a" not in admin.get("/admin").text


def test_an_earlier_set_up_link_cannot_reset_the_password(database_url: str) -> None:
    cfg = Settings(database_url=database_url)
    engine = db.make_engine(database_url)
    factory = db.session_factory(engine)
    with db.transaction(factory) as s:
        first = ensure_setup(s, cfg)
    with db.transaction(factory) as s:
        second = ensure_setup(s, cfg)
    assert first and second
    with db.transaction(factory) as s:
        complete_setup(s, second, "a long enough password")
    for token in (first, second):
        with pytest.raises(ClinicError, match="not valid"), db.transaction(factory) as s:
            complete_setup(s, token, "an attacker's new password")
    engine.dispose()


def test_pages_show_times_in_the_clinics_zone(database_url: str) -> None:
    from fastapi.testclient import TestClient

    from equipoise.clinic.accounts.models import Clinic, User
    from equipoise.clinic.app import create_app
    from tests.clinic.conftest import password_hash

    app = create_app(Settings(database_url=database_url, timezone="Asia/Tokyo"))
    with db.transaction(app.state.sessions) as s:
        clinic = Clinic(name="tz")
        s.add(clinic)
        s.flush()
        s.add(User(clinic_id=clinic.id, username="doc", password_hash=password_hash(),
                   role="clinician"))
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post("/api/session", json={"username": "doc", "password": PASSWORD})
        c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        pid = c.post("/api/patients", json=PATIENT).json()["id"]
        c.post(f"/api/patients/{pid}/questionnaires", json={
            "instrument": "gad7", "answers": [0] * 7, "authored": "2026-01-05T01:40:00Z"})
        assert "2026-01-05 10:40 Asia/Tokyo" in c.get(f"/patients/{pid}").text
    app.state.engine.dispose()
