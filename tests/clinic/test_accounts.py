"""Sign-in, sessions, CSRF, rate limiting, roles and grants (deny beats allow)."""

from __future__ import annotations

from sqlalchemy import select

from equipoise.clinic.accounts.models import LoginSession
from tests.clinic.conftest import PASSWORD, PATIENT, Site


def test_a_signed_out_request_for_patient_data_is_refused(site: Site) -> None:
    r = site.client().get("/api/patients")
    assert r.status_code == 401


def test_sign_in_sets_a_secure_http_only_strict_cookie(site: Site) -> None:
    c = site.client()
    r = c.post("/api/session", json={"username": "clinician.a", "password": PASSWORD})
    assert r.status_code == 201
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie
    assert r.json()["role"] == "clinician"


def test_wrong_password_and_unknown_user_get_the_same_answer(site: Site) -> None:
    c = site.client()
    a = c.post("/api/session", json={"username": "clinician.a", "password": "wrong password"})
    b = c.post("/api/session", json={"username": "nobody", "password": "wrong password"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_repeated_failures_lock_the_user_name_out(site: Site) -> None:
    c = site.client()
    for _ in range(5):
        assert c.post("/api/session", json={"username": "nurse.a",
                                            "password": "not it at all"}).status_code == 401
    r = c.post("/api/session", json={"username": "nurse.a", "password": PASSWORD})
    assert r.status_code == 429          # even the right password is refused for now


def test_writes_without_the_csrf_token_are_refused(site: Site) -> None:
    c = site.client("clinician@A")
    token = c.headers.pop("X-CSRF-Token")
    assert c.post("/api/patients", json=PATIENT).status_code == 403
    c.headers["X-CSRF-Token"] = "forged"
    assert c.post("/api/patients", json=PATIENT).status_code == 403
    c.headers["X-CSRF-Token"] = token
    assert c.post("/api/patients", json=PATIENT).status_code == 201


def test_sign_out_ends_the_session(site: Site) -> None:
    c = site.client("clinician@A")
    cookie = c.cookies.get("equipoise_session")
    assert c.delete("/api/session").status_code == 204
    replay = site.client()
    replay.cookies.set("equipoise_session", cookie or "")
    assert replay.get("/api/patients").status_code == 401


def test_an_idle_session_expires(site: Site) -> None:
    import datetime as dt

    c = site.client("clinician@A")
    with site.session() as s, s.begin():
        for login in s.scalars(select(LoginSession)):
            login.last_seen = login.last_seen - dt.timedelta(minutes=31)
    assert c.get("/api/patients").status_code == 401


def test_an_explicit_deny_beats_the_role_allow(site: Site) -> None:
    admin = site.client("admin@A")
    clinician = site.users["clinician@A"]
    c = site.client("clinician@A")
    assert c.get("/api/patients").status_code == 200
    r = admin.post(f"/api/users/{clinician.id}/grants",
                   json={"permission": "patients:read", "effect": "deny"})
    assert r.status_code == 201
    # an allow of the same permission does not undo the deny
    admin.post(f"/api/users/{clinician.id}/grants",
               json={"permission": "patients:read", "effect": "allow"})
    assert c.get("/api/patients").status_code == 403


def test_an_allow_grant_adds_a_permission_the_role_lacks(site: Site) -> None:
    nurse = site.users["nurse@A"]
    c = site.client("nurse@A")
    assert c.post("/api/patients", json=PATIENT).status_code == 403
    site.client("admin@A").post(f"/api/users/{nurse.id}/grants",
                                json={"permission": "patients:write", "effect": "allow"})
    assert c.post("/api/patients", json=PATIENT).status_code == 201


def test_an_admin_cannot_grant_to_a_user_of_another_clinic(site: Site) -> None:
    other = site.users["clinician@B"]
    r = site.client("admin@A").post(f"/api/users/{other.id}/grants",
                                    json={"permission": "patients:read", "effect": "deny"})
    assert r.status_code == 404


def test_weak_passwords_are_refused_with_the_field_named(site: Site) -> None:
    r = site.client("admin@A").post("/api/users", json={
        "username": "newnurse", "password": "short", "role": "nurse"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "password"]
