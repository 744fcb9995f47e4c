"""The clinicians' pages: forms post to the same services as the API; errors are shown on the
page, never put in a URL; the first administrator sets a password through a one-time link."""

from __future__ import annotations

from equipoise.clinic import db
from equipoise.clinic.accounts.service import ensure_setup
from tests.clinic.conftest import PATIENT, Site


def _patient(site: Site) -> tuple[object, str]:
    c = site.signed_in("clinician@A")
    pid = c.post("/api/patients", json=PATIENT).json()["id"]
    c.post(f"/api/patients/{pid}/questionnaires", json={"instrument": "gad7",
                                                        "answers": [2] * 7})
    return c, pid


def test_signed_out_pages_send_the_browser_to_sign_in(site: Site) -> None:
    r = site.client().get("/patients", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"


def test_a_form_without_the_csrf_token_is_refused(site: Site) -> None:
    c = site.client("clinician@A")
    del c.headers["X-CSRF-Token"]
    r = c.post("/patients/new", data={"mrn": "X1", "given_name": "A", "family_name": "B",
                                      "birth_date": "1980-01-01", "sex": "female"})
    assert r.status_code == 403


def test_a_plan_made_from_the_page_uses_the_latest_scores_and_is_printable(site: Site) -> None:
    c, pid = _patient(site)
    r = c.post(f"/patients/{pid}/plans", data={
        "start_date": "2026-12-01", "diagnoses": "GAD", "conditions": "aortic aneurysm",
        "medications": "", "pref_infrequent_visits": "on"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/plans/")
    page = c.get(r.headers["location"])
    assert page.status_code == 200
    assert "KET-CI-ANEURYSM" in page.text and "not medical advice" in page.text
    plan = c.get(f"/api/patients/{pid}/care-plans").json()[0]
    stored = c.get(f"/api/care-plans/{plan['id']}").json()
    assert stored["profile"]["scores"] == {"gad7": 14}


def test_a_dose_limit_is_shown_on_the_page_until_acknowledged(site: Site) -> None:
    c, pid = _patient(site)
    body = {"drug": "citalopram", "started_on": "2026-12-01", "dose_mg_per_day": "60"}
    refused = c.post(f"/patients/{pid}/courses", data=body)
    assert refused.status_code == 422 and "CITALOPRAM-40" in refused.text
    assert refused.url.query == b"" and refused.url.path == f"/patients/{pid}/courses"
    ok = c.post(f"/patients/{pid}/courses", data=body | {"acknowledge_rules": "citalopram-40"},
                follow_redirects=False)
    assert ok.status_code == 303
    page = c.get(f"/patients/{pid}")
    assert "acknowledged: CITALOPRAM-40" in page.text


def test_cbt_sessions_and_dose_changes_are_recorded_from_the_page(site: Site) -> None:
    c, pid = _patient(site)
    c.post(f"/patients/{pid}/courses", data={"drug": "sertraline", "started_on": "2026-12-01",
                                             "dose_mg_per_day": "50"})
    course = c.get(f"/api/patients/{pid}/medication-courses").json()[0]
    r = c.post(f"/courses/{course['id']}/steps", data={"from_date": "2026-12-15",
                                                        "dose_mg_per_day": "100"},
               follow_redirects=False)
    assert r.status_code == 303
    r = c.post(f"/patients/{pid}/therapy", data={"on": "2026-12-02", "number": "1",
                                                  "modality": "individual", "minutes": "50",
                                                  "attended": "attended"},
               follow_redirects=False)
    assert r.status_code == 303
    page = c.get(f"/patients/{pid}").text
    assert "100.0 mg/day from 2026-12-15" in page and "individual" in page


def test_the_first_administrator_sets_a_password_through_a_one_time_link(
        database_url: str) -> None:
    from fastapi.testclient import TestClient

    from equipoise.clinic.app import create_app
    from equipoise.clinic.settings import Settings

    app = create_app(Settings(database_url=database_url))
    with db.transaction(app.state.sessions) as session:
        token = ensure_setup(session, app.state.settings)
    assert token
    with TestClient(app, base_url="https://testserver") as c:
        assert c.get(f"/setup/{token}").status_code == 200
        weak = c.post(f"/setup/{token}", data={"password": "short"})
        assert weak.status_code == 422 and "password" in weak.text
        ok = c.post(f"/setup/{token}", data={"password": "a long enough password"})
        assert ok.status_code == 200 and "Sign in as admin" in ok.text
        again = c.post(f"/setup/{token}", data={"password": "another long password"})
        assert again.status_code == 404
        r = c.post("/api/session", json={"username": "admin",
                                         "password": "a long enough password"})
        assert r.status_code == 201
    with db.transaction(app.state.sessions) as session:
        assert ensure_setup(session, app.state.settings) is None   # no second link
    app.state.engine.dispose()


def test_the_patient_list_pages_through_a_large_clinic(site: Site) -> None:
    c = site.signed_in("clinician@A")
    for k in range(103):
        c.post("/api/patients", json=PATIENT | {"mrn": f"P-{k:03d}", "family_name": f"F{k:03d}"})
    first = c.get("/patients").text
    assert first.count('<a href="/patients/') == 100 and 'id="next-page"' in first
    second = c.get("/patients?page=1").text
    assert second.count('<a href="/patients/') == 3 and 'id="next-page"' not in second


def test_a_questionnaire_entered_on_the_page_raises_its_alerts_at_once(site: Site) -> None:
    """PHQ-9 item 9 answered on the patient page's form is on the worklist straight away,
    as when it comes through the API or the patient's own link."""
    c, pid = _patient(site)
    r = c.post(f"/patients/{pid}/questionnaires",
               data={"instrument": "phq9", "answers": "0,0,0,0,0,0,0,0,1"},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    urgent = [i for i in c.get("/api/worklist").json()
              if i["patient_id"] == pid and i["kind"] == "suicidality"]
    assert len(urgent) == 1 and urgent[0]["severity"] == "urgent"
