"""The outcome dashboard against a small clinic computed by hand, the stored summaries against
a recomputation from scratch, the de-identified export and the page."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import delete, select

from equipoise.care.outcomes import wilson
from equipoise.clinic import db
from equipoise.clinic.outcomes import service
from equipoise.clinic.outcomes.models import OutcomeRecord
from equipoise.clinic.patients.models import Patient
from tests.clinic.conftest import PATIENT, Site

READY = {"consent_recorded": True, "psychiatric_assessment_done": True, "escort_arranged": True}
JAN5 = dt.date(2026, 1, 5)


def _at(day: dt.date, offset: int, hour: int = 9) -> str:
    return f"{day + dt.timedelta(days=offset)}T{hour:02d}:00:00Z"


def _gad7(c: Any, pid: str, day: dt.date, offset: int, total: int) -> None:
    """A GAD-7 with the given total (items filled from the first, at most 3 each)."""
    answers = [min(3, max(0, total - 3 * k)) for k in range(7)]
    assert sum(answers) == total
    r = c.post(f"/api/patients/{pid}/questionnaires", json={
        "instrument": "gad7", "answers": answers, "authored": _at(day, offset)})
    assert r.status_code == 201, r.text


def _infusion(c: Any, pid: str, day: dt.date) -> str:
    r = c.post(f"/api/patients/{pid}/infusions", json={
        "scheduled_for": _at(day, 0, 10), "checklist": READY,
        "pre_vitals": {"phase": "pre", "at": _at(day, 0, 10), "systolic": 128,
                       "diastolic": 80, "heart_rate": 72, "spo2": 98}})
    assert r.status_code == 201, r.text
    iid = r.json()["id"]
    assert c.post(f"/api/infusions/{iid}/start", json={"at": _at(day, 0, 11)}).status_code \
        == 200
    return str(iid)


def _clinic(site: Site) -> dict[str, str]:
    """Seven patients; the dashboard's figures for them are worked out in the test below."""
    doc, nurse = site.signed_in("clinician@A"), site.signed_in("nurse@A")
    ids = {}
    for k in range(1, 8):
        r = doc.post("/api/patients", json=PATIENT | {"mrn": f"P{k}", "given_name": f"Pat{k}"})
        ids[f"P{k}"] = r.json()["id"]
    # P1 ketamine (clinician's plan): baseline 16, 6 on day 7 (response), 7 at day 84, 6 at
    # day 98; one adverse event.
    p = ids["P1"]
    r = doc.post(f"/api/patients/{p}/care-plans",
                 json={"profile": {"scores": {"gad7": 16}}, "start_date": str(JAN5)})
    assert r.status_code == 201, r.text
    _gad7(doc, p, JAN5, 0, 16)
    iid = _infusion(doc, p, JAN5)
    _gad7(doc, p, JAN5, 7, 6)
    _gad7(doc, p, JAN5, 84, 7)
    _gad7(doc, p, JAN5, 98, 6)
    r = doc.post(f"/api/infusions/{iid}/adverse-events", json={
        "at": _at(JAN5, 0, 11), "description": "nausea", "severity": "mild"})
    assert r.status_code == 201, r.text
    # P2 ketamine, infusion by the nurse, no plan: baseline 14, 10 at day 84 (no response).
    _gad7(nurse, ids["P2"], JAN5, 0, 14)
    _infusion(nurse, ids["P2"], JAN5)
    _gad7(nurse, ids["P2"], JAN5, 84, 10)
    # P3 SSRI: baseline 18 three days before; day 80 = 9 and day 88 = 10 tie for week 12,
    # the earlier wins: exactly 50% = response (first response on day 80).
    _gad7(doc, ids["P3"], JAN5, -3, 18)
    doc.post(f"/api/patients/{ids['P3']}/medication-courses", json={
        "drug": "sertraline", "started_on": str(JAN5), "dose_mg_per_day": 50})
    _gad7(doc, ids["P3"], JAN5, 80, 9)
    _gad7(doc, ids["P3"], JAN5, 88, 10)
    # P4 SSRI: baseline 12, response on day 40 (5), then 11 and 12: relapse; no week-12 score.
    _gad7(doc, ids["P4"], JAN5, 0, 12)
    doc.post(f"/api/patients/{ids['P4']}/medication-courses", json={
        "drug": "escitalopram", "started_on": str(JAN5), "dose_mg_per_day": 10})
    for offset, total in ((40, 5), (50, 11), (60, 12)):
        _gad7(doc, ids["P4"], JAN5, offset, total)
    # P5 CBT: baseline 10, 4 at day 84 (response); a no-show first, so the start is the
    # attended session.
    _gad7(doc, ids["P5"], JAN5, -7, 10)
    for number, offset, attended in ((1, -7, "no_show"), (2, 0, "attended")):
        r = doc.post(f"/api/patients/{ids['P5']}/therapy-sessions", json={
            "on": str(JAN5 + dt.timedelta(days=offset)), "number": number,
            "modality": "individual", "minutes": 50, "attended": attended})
        assert r.status_code == 201, r.text
    _gad7(doc, ids["P5"], JAN5, 84, 4)
    # P6: questionnaires, no treatment.
    _gad7(doc, ids["P6"], JAN5, 0, 15)
    # P7 SSRI + CBT from 6 April (the second quarter): baseline 15, 7 at day 84.
    apr6 = dt.date(2026, 4, 6)
    _gad7(doc, ids["P7"], apr6, 0, 15)
    doc.post(f"/api/patients/{ids['P7']}/medication-courses", json={
        "drug": "sertraline", "started_on": str(apr6), "dose_mg_per_day": 50})
    doc.post(f"/api/patients/{ids['P7']}/therapy-sessions", json={
        "on": str(apr6), "number": 1, "modality": "group", "minutes": 90,
        "attended": "attended"})
    _gad7(doc, ids["P7"], apr6, 84, 7)
    return ids


def _share(p: dict[str, Any] | None, events: int, n: int) -> None:
    assert p is not None
    w = wilson(events, n)
    assert (p["events"], p["n"]) == (events, n)
    assert (p["low"], p["high"]) == (round(w.low, 4), round(w.high, 4))


def test_the_dashboard_matches_a_small_clinic_worked_by_hand(site: Site) -> None:
    ids = _clinic(site)
    board = site.signed_in("clinician@A").get(
        "/api/outcomes", params={"remission_at_or_below": 4}).json()
    assert (board["patients"], board["treated"]) == (7, 6)
    mods = {g["label"]: g for g in board["by_modality"]}
    assert list(mods) == ["cbt", "ketamine", "ssri", "ssri+cbt"]
    k, s, c, sc = mods["ketamine"], mods["ssri"], mods["cbt"], mods["ssri+cbt"]
    # ketamine: P1 responds (16 -> 7), P2 does not (14 -> 10); P1 responded on day 7 and
    # did not relapse in the two measures after (7, 6); P1 had an adverse event.
    assert (k["patients"], k["evaluable"]) == (2, 2)
    _share(k["response_week12"], 1, 2)
    assert (k["responders"], k["median_days_to_response"]) == (1, 7)
    _share(k["durable"], 1, 1)
    _share(k["adverse_event"], 1, 2)
    _share(k["remission_week12"], 0, 2)                   # 7 and 10 are above 4
    # expectation: P1's plan only (P2 has none), its ketamine option's week-12 share
    doc = site.signed_in("clinician@A")
    summary = doc.get(f"/api/patients/{ids['P1']}/care-plans").json()[0]
    plan = doc.get(f"/api/care-plans/{summary['id']}").json()["plan"]
    option = next(o for o in plan["options"] if o["treatment"] == "ketamine_iv")["expected"]
    e = k["expected_response_week12"]
    assert e["n"] == 1 and e["share"] == round(option["response_or_remission_week_12"], 4)
    assert (e["low"], e["high"]) == (round(option["response_or_remission_week_12_low"], 4),
                                     round(option["response_or_remission_week_12_high"], 4))
    # SSRI: P3 evaluable (9 of 18 = 50%: response); P4 has no week-12 score. First
    # responses on days 80 and 40 -> median 60. Durability needs two measures after the
    # response (the relapse rule's run): P3 has one (not judged), P4 two and relapsed
    # (11, 12).
    assert (s["patients"], s["evaluable"]) == (2, 1)
    _share(s["response_week12"], 1, 1)
    assert (s["responders"], s["median_days_to_response"]) == (2, 60)
    _share(s["durable"], 0, 1)
    assert s["adverse_event"] is None and s["expected_response_week12"] is None
    # CBT: P5 10 -> 4 (response and remission at <= 4) on day 84, start = attended session
    _share(c["response_week12"], 1, 1)
    _share(c["remission_week12"], 1, 1)
    assert c["median_days_to_response"] == 84
    _share(sc["response_week12"], 1, 1)
    # overall: 4 of 5 evaluable in response; remission only P5 (4 <= 4)
    _share(board["overall"]["response_week12"], 4, 5)
    _share(board["overall"]["remission_week12"], 1, 5)
    # by start quarter: Q1 = P1-P5 (3 of 4 evaluable), Q2 = P7
    quarters = {g["label"]: g for g in board["by_quarter"]}
    assert list(quarters) == ["2026-Q1", "2026-Q2"]
    _share(quarters["2026-Q1"]["response_week12"], 3, 4)
    _share(quarters["2026-Q2"]["response_week12"], 1, 1)
    # by clinician: P2's infusion was the nurse's, the rest the clinician's
    people = {g["label"]: g for g in board["by_clinician"]}
    assert set(people) == {"clinician A", "nurse A"}
    _share(people["nurse A"]["response_week12"], 0, 1)
    _share(people["clinician A"]["response_week12"], 4, 4)
    # without a cut-off no remission is reported (GAD-7 has no sourced one)
    plain = site.signed_in("clinician@A").get("/api/outcomes").json()
    assert plain["overall"]["remission_week12"] is None


def test_stored_summaries_equal_a_recomputation_from_scratch(site: Site) -> None:
    ids = _clinic(site)
    # writes that are the last of their patient: each must refresh the summary itself
    doc = site.signed_in("clinician@A")
    r = doc.post(f"/api/patients/{ids['P6']}/therapy-sessions", json={
        "on": str(JAN5), "number": 1, "modality": "digital", "minutes": 30,
        "attended": "attended"})
    assert r.status_code == 201, r.text
    r = doc.post(f"/api/patients/{ids['P2']}/medication-courses", json={
        "drug": "sertraline", "started_on": str(JAN5), "dose_mg_per_day": 50})
    assert r.status_code == 201, r.text
    clinic = site.clinics["A"].id
    with site.session() as s:
        before = {r.patient_id: (r.modality, r.start_quarter, r.baseline, r.week12,
                                 r.response_week12, r.days_to_response, r.relapsed,
                                 r.adverse_events, r.expected)
                  for r in s.scalars(select(OutcomeRecord))}
        fresh = {p.id: service.compute(s, p) for p in s.scalars(
            select(Patient).where(Patient.clinic_id == clinic))}
    assert len(before) == 7
    assert before[ids["P6"]][0] == "cbt" and before[ids["P2"]][0] == "ketamine+ssri"
    for pid, o in fresh.items():
        assert before[pid] == (o.modality, o.start_quarter, o.baseline, o.week12,
                               o.response_week12, o.days_to_response, o.relapsed,
                               o.adverse_events, o.expected.share if o.expected else None)


def test_the_research_export_is_de_identified_and_both_formats_agree(site: Site) -> None:
    _clinic(site)
    r = site.signed_in("researcher@A")
    text = r.get("/api/research/outcomes.csv")
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert len(rows) == 7 and {row["modality"] for row in rows} == {
        "", "cbt", "ketamine", "ssri", "ssri+cbt"}
    for secret in (PATIENT["family_name"], "Pat1", "P1,", "2026-01-05", PATIENT["birth_date"]):
        assert secret not in text.text
    assert {row["start_year"] for row in rows} == {"", "2026"}
    table = pq.read_table(io.BytesIO(r.get("/api/research/outcomes.parquet").content))
    assert table.column_names == list(rows[0])
    back = table.to_pylist()
    for a, b in zip(rows, back, strict=True):
        assert a["pseudonym"] == b["pseudonym"] and a["modality"] == b["modality"]
        assert a["response_week12"] == ("" if b["response_week12"] is None
                                         else str(b["response_week12"]).lower())
    # clinicians see the dashboard but not the research export
    assert site.signed_in("clinician@A").get("/api/research/outcomes.csv").status_code == 403


def test_the_outcomes_page_draws_the_charts_and_tables(site: Site) -> None:
    _clinic(site)
    page = site.signed_in("clinician@A").get("/outcomes?remission_at_or_below=4")
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") == 3 and 'id="by-modality"' in html
    assert 'data-label="ssri+cbt"' in html and 'class="observed"' in html
    assert "No GAD-7 remission cut-off is sourced" in html
    research = site.signed_in("researcher@A").get("/outcomes")
    assert research.status_code == 200 and 'id="withheld"' in research.text
    assert PATIENT["family_name"] not in research.text and "nurse A" not in research.text


def test_researchers_see_no_staff_names_and_no_small_groups(site: Site) -> None:
    _clinic(site)
    board = site.signed_in("researcher@A").get("/api/outcomes").json()
    # seven patients: only the six treated together reach the minimum group of five
    assert board["min_group"] == 5 and board["overall"]["patients"] == 6
    assert board["by_modality"] == []                       # 2, 2, 1 and 1 patients
    # the clinician's five (P1, P3, P4, P5, P7) under a pseudonym; the nurse's one withheld
    [clinician] = board["by_clinician"]
    assert clinician["patients"] == 5
    assert clinician["label"] in {f"clinician {k}" for k in range(1, 5)}
    assert [g["label"] for g in board["by_quarter"]] == ["2026-Q1"]      # P1-P5
    assert board["withheld_groups"] == 4 + 1 + 1
    assert "clinician A" not in str(board) and "nurse A" not in str(board)


def test_the_clinics_relapse_rule_drives_alerts_and_outcomes(site: Site) -> None:
    doc = site.signed_in("clinician@A")
    pid = doc.post("/api/patients", json=PATIENT).json()["id"]
    _gad7(doc, pid, JAN5, 0, 16)
    doc.post(f"/api/patients/{pid}/therapy-sessions", json={
        "on": str(JAN5), "number": 1, "modality": "individual", "minutes": 50,
        "attended": "attended"})
    _gad7(doc, pid, JAN5, 14, 6)            # response
    _gad7(doc, pid, JAN5, 28, 9)            # 3 above the low: below the default's 10 and MCID 4
    kinds = [a["kind"] for a in doc.get(f"/api/patients/{pid}/alerts").json()]
    assert "relapse" not in kinds
    with site.session() as s:
        assert s.scalars(select(OutcomeRecord)).one().relapsed is None   # one later measure
    # the clinic's own rule: a rise of 3 on a single measure; saving it re-summarises
    r = site.signed_in("admin@A").put("/api/clinic/protocol", json={
        "basis": "relapse protocol v1", "relapse_rise": 3, "relapse_consecutive": 1})
    assert r.status_code == 200, r.text
    with site.session() as s:
        assert s.scalars(select(OutcomeRecord)).one().relapsed is True
    _gad7(doc, pid, JAN5, 35, 9)             # the next questionnaire recomputes the alerts
    relapse = [a for a in doc.get(f"/api/patients/{pid}/alerts").json()
               if a["kind"] == "relapse"]
    assert len(relapse) == 1 and "relapse protocol v1" in relapse[0]["basis"]
    bad = site.signed_in("admin@A").put("/api/clinic/protocol", json={
        "basis": "x", "relapse_consecutive": 0})
    assert bad.status_code == 422 and "relapse_consecutive" in bad.text


def test_patients_without_a_summary_get_one_and_days_are_the_clinics(site: Site) -> None:
    doc = site.signed_in("clinician@A")
    pid = doc.post("/api/patients", json=PATIENT).json()["id"]
    doc.post(f"/api/patients/{pid}/medication-courses", json={
        "drug": "sertraline", "started_on": "2026-01-05", "dose_mg_per_day": 50})
    # 19:30 on 5 January in New York is 00:30 on the 6th in UTC
    r = doc.post(f"/api/patients/{pid}/questionnaires", json={
        "instrument": "gad7", "answers": [2] * 7, "authored": "2026-01-06T00:30:00Z"})
    assert r.status_code == 201, r.text
    with site.session() as s:
        p = s.get(Patient, pid)
        assert service.compute(s, p).baseline is None           # UTC: the day after
    new_york = db.session_factory(site.app.state.engine, "America/New_York")
    with new_york() as s:
        p = s.get(Patient, pid)
        assert service.compute(s, p).baseline == 14              # the start day, local
        # a patient recorded before the summaries existed (migration 0003) gets one
        s.execute(delete(OutcomeRecord))
        assert service.refresh_missing(s) == 1 and service.refresh_missing(s) == 0
        s.commit()
