"""Questionnaires scored into coded observations; patients' single-use, expiring links."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from equipoise.clinic.questionnaires.models import SelfReportLink
from tests.clinic.conftest import PATIENT, Site


def _patient(site: Site, who: str = "clinician@A") -> tuple[object, str]:
    c = site.client(who)
    r = c.post("/api/patients", json=PATIENT)
    assert r.status_code == 201, r.text
    return c, r.json()["id"]


def test_a_gad7_is_scored_into_a_loinc_coded_observation(site: Site) -> None:
    c, pid = _patient(site)
    # LOINC answer codes, including the item-2 variant LA18938-3 (score 2)
    codes = ["LA6571-9", "LA18938-3", "LA6570-1", "LA6569-3", "LA6568-5", "LA6571-9",
             "LA6570-1"]
    r = c.post(f"/api/patients/{pid}/questionnaires",
               json={"instrument": "gad7", "answers": codes})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["answers"] == [3, 2, 2, 1, 0, 3, 2] and body["total"] == 13
    assert body["band"] == "moderate"
    obs = body["observation"]
    assert (obs["code_system"], obs["code"], obs["value"]) == ("http://loinc.org", "70274-6",
                                                               13.0)
    listed = c.get(f"/api/patients/{pid}/observations?instrument=gad7").json()
    assert [o["value"] for o in listed] == [13.0]


def test_instruments_without_a_loinc_total_use_a_local_code(site: Site) -> None:
    c, pid = _patient(site)
    r = c.post(f"/api/patients/{pid}/questionnaires",
               json={"instrument": "ham-a", "answers": [2] * 14})
    assert r.status_code == 201
    assert r.json()["observation"]["code_system"] == "urn:equipoise:score"
    assert r.json()["observation"]["code"] == "ham-a-total"


def test_phq9_item_9_above_zero_is_flagged_urgent(site: Site) -> None:
    c, pid = _patient(site)
    r = c.post(f"/api/patients/{pid}/questionnaires",
               json={"instrument": "phq9", "answers": [1, 1, 1, 1, 1, 1, 1, 1, 1]})
    assert r.json()["flags"][0]["severity"] == "urgent"


@pytest.mark.parametrize(("answers", "message"), [
    ([1, 1, 1], "3 answers given, 7 items expected"),
    ([1, 1, 1, 1, 1, 1, 4], "item 7: answer 4 is outside 0-3"),
])
def test_missing_or_out_of_range_answers_are_refused_naming_the_item(
        site: Site, answers: list[int], message: str) -> None:
    c, pid = _patient(site)
    r = c.post(f"/api/patients/{pid}/questionnaires",
               json={"instrument": "gad7", "answers": answers})
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert detail["loc"] == ["body", "answers"] and message in detail["msg"]
    assert c.get(f"/api/patients/{pid}/questionnaires").json() == []   # nothing half-written


def test_a_self_report_link_works_once(site: Site) -> None:
    c, pid = _patient(site)
    link = c.post(f"/api/patients/{pid}/self-report-links", json={"instrument": "phq9"})
    assert link.status_code == 201
    token = link.json()["path"].removeprefix("/r/")
    patient = site.client()                          # not signed in
    form = patient.get(f"/api/self-report/{token}").json()
    assert len(form["items"]) == 9 and form["options"][3]["score"] == 3
    r = patient.post(f"/api/self-report/{token}", json={"answers": [0] * 9})
    assert r.status_code == 201
    assert patient.post(f"/api/self-report/{token}",
                        json={"answers": [0] * 9}).status_code == 404
    assert patient.get(f"/api/self-report/{token}").status_code == 404
    history = c.get(f"/api/patients/{pid}/questionnaires").json()
    assert [(h["source"], h["total"]) for h in history] == [("patient", 0)]


def test_an_expired_link_is_refused(site: Site) -> None:
    c, pid = _patient(site)
    token = c.post(f"/api/patients/{pid}/self-report-links",
                   json={"instrument": "gad7"}).json()["path"].removeprefix("/r/")
    with site.session() as s, s.begin():
        for link in s.scalars(select(SelfReportLink)):
            link.expires_at = link.expires_at - dt.timedelta(days=30)
    assert site.client().get(f"/api/self-report/{token}").status_code == 404


def test_clinician_rated_instruments_get_no_patient_link(site: Site) -> None:
    c, pid = _patient(site)
    r = c.post(f"/api/patients/{pid}/self-report-links", json={"instrument": "ham-a"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "instrument"]
