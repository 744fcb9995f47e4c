"""Patients' outcome summaries (``care.outcomes``) kept up to date, the clinic dashboard built
from them, and the de-identified research export.

``refresh`` recomputes one patient's summary from their records; every write that can change
an outcome (questionnaire, infusion start or adverse event, antidepressant course, CBT session,
care plan, FHIR import) calls it, and ``tests/clinic/test_outcomes.py`` checks the stored rows
against a recomputation from scratch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from equipoise.care import outcomes as rules
from equipoise.clinic.accounts.models import User
from equipoise.clinic.alerts.service import _protocol, relapse_rule
from equipoise.clinic.care_plans.models import CarePlanRecord
from equipoise.clinic.infusions.models import AdverseEvent, Infusion
from equipoise.clinic.outcomes.models import OutcomeRecord
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.prescriptions.models import MedicationCourse
from equipoise.clinic.questionnaires.models import Observation
from equipoise.clinic.therapy.models import TherapySession

WEEK = 12


def _expectation(plan: dict[str, Any] | None, modality: str) -> rules.Expectation | None:
    """The plan's expectation for the option matching what the patient received."""
    option = rules.PLAN_OPTION.get(modality)
    if plan is None or option is None:
        return None
    expected = next((o.get("expected") or {} for o in plan.get("options", [])
                     if o.get("treatment") == option), {})
    key = f"response_or_remission_week_{WEEK}"
    if key not in expected:
        return None
    return rules.Expectation(float(expected[key]), expected.get(f"{key}_low"),
                             expected.get(f"{key}_high"))


def compute(session: Session, patient: Patient) -> rules.PatientOutcome:
    """The patient's outcome from their records (``care.outcomes.summarise``)."""
    pid, cid = patient.id, patient.clinic_id
    first: list[tuple[dt.date, str, str]] = []       # (day, treatment, who started it)
    for at, who in session.execute(select(Infusion.started_at, Infusion.created_by).where(
            Infusion.patient_id == pid, Infusion.clinic_id == cid,
            Infusion.started_at.is_not(None))):
        if at is not None:
            first.append((at.date(), "ketamine", who))
    for day, who in session.execute(select(MedicationCourse.started_on,
                                           MedicationCourse.created_by).where(
            MedicationCourse.patient_id == pid, MedicationCourse.clinic_id == cid)):
        first.append((day, "ssri", who))
    for day, who in session.execute(select(TherapySession.on, TherapySession.therapist_id)
                                    .where(TherapySession.patient_id == pid,
                                           TherapySession.clinic_id == cid,
                                           TherapySession.attended == "attended")):
        first.append((day, "cbt", who))
    first.sort()
    plan = session.execute(select(CarePlanRecord.plan, CarePlanRecord.created_by).where(
        CarePlanRecord.patient_id == pid, CarePlanRecord.clinic_id == cid)
        .order_by(CarePlanRecord.created_at.desc()).limit(1)).first()
    clinician = plan[1] if plan else (first[0][2] if first else "")
    received = {t for _, t, _ in first}
    gad7 = [(when.date(), float(value)) for when, value in session.execute(
        select(Observation.effective, Observation.value).where(
            Observation.patient_id == pid, Observation.clinic_id == cid,
            Observation.instrument == "gad7"))]
    events = session.scalar(select(func.count()).select_from(AdverseEvent).where(
        AdverseEvent.patient_id == pid, AdverseEvent.clinic_id == cid)) or 0
    return rules.summarise(received=received, clinician=clinician,
                           start=first[0][0] if first else None, gad7=gad7,
                           adverse_events=events,
                           relapse_rule=relapse_rule(_protocol(session, patient)),
                           expected=_expectation(plan[0] if plan else None,
                                                 rules.modality(received)))


def refresh(session: Session, patient: Patient) -> OutcomeRecord:
    """Recompute and store the patient's outcome summary."""
    o = compute(session, patient)
    row = session.scalars(select(OutcomeRecord).where(
        OutcomeRecord.patient_id == patient.id)).first()
    if row is None:
        row = OutcomeRecord(clinic_id=patient.clinic_id, patient_id=patient.id)
        session.add(row)
    row.modality, row.clinician_id = o.modality, o.clinician or None
    row.start_quarter, row.baseline, row.week12 = o.start_quarter, o.baseline, o.week12
    row.response_week12, row.days_to_response = o.response_week12, o.days_to_response
    row.relapsed, row.follow_up_days = o.relapsed, o.follow_up_days
    row.adverse_events = o.adverse_events
    e = o.expected
    row.expected, row.expected_low, row.expected_high = (
        (e.share, e.low, e.high) if e else (None, None, None))
    session.flush()
    return row


def refresh_patient(session: Session, patient_id: str) -> OutcomeRecord:
    patient = session.get(Patient, patient_id)
    assert patient is not None
    return refresh(session, patient)


def refresh_all(session: Session, clinic_id: str) -> int:
    """Recompute every patient's summary (after a bulk load or a rule change)."""
    session.execute(delete(OutcomeRecord).where(OutcomeRecord.clinic_id == clinic_id))
    n = 0
    for p in session.scalars(select(Patient).where(Patient.clinic_id == clinic_id)):
        refresh(session, p)
        n += 1
    return n


def stored(session: Session, clinic_id: str) -> list[rules.PatientOutcome]:
    """Every stored summary of the clinic, clinicians by display name (plain column rows, not
    ORM objects: a dashboard over 10,000 patients reads them on every request)."""
    names: dict[str, str] = dict(session.execute(
        select(User.id, User.display_name).where(User.clinic_id == clinic_id)).all())
    t = OutcomeRecord.__table__.c
    rows = session.connection().execute(select(
        t.modality, t.clinician_id, t.start_quarter, t.baseline, t.week12, t.response_week12,
        t.days_to_response, t.relapsed, t.follow_up_days, t.adverse_events, t.expected,
        t.expected_low, t.expected_high).where(t.clinic_id == clinic_id))
    out = []
    for (modality, clinician, quarter, baseline, week12, response, days, relapsed, follow,
         events, share, low, high) in rows:
        out.append(rules.PatientOutcome(
            modality, names.get(clinician or "", "") or "(no clinician recorded)", quarter,
            baseline, week12, response, days, relapsed, follow, events,
            None if share is None else rules.Expectation(share, low, high)))
    return out


def _proportion(p: rules.Proportion | None) -> dict[str, Any] | None:
    return None if p is None else {"events": p.events, "n": p.n, "share": round(p.share, 4),
                                   "low": round(p.low, 4), "high": round(p.high, 4)}


def _group(g: rules.GroupOutcome) -> dict[str, Any]:
    e = g.expected
    return {"label": g.label, "patients": g.patients, "evaluable": g.evaluable,
            "response_week12": _proportion(g.response),
            "remission_week12": _proportion(g.remission),
            "responders": g.responders, "median_days_to_response": g.median_days_to_response,
            "durable": _proportion(g.durable), "adverse_event": _proportion(g.adverse),
            "expected_response_week12": None if e is None else {
                "share": round(e.share, 4),
                "low": None if e.low is None else round(e.low, 4),
                "high": None if e.high is None else round(e.high, 4), "n": g.expected_n}}


def dashboard(rows: Sequence[rules.PatientOutcome],
              remission_at_or_below: float | None = None) -> dict[str, Any]:
    """The clinic's outcomes by modality, by clinician and by start quarter (JSON-ready)."""
    cut = remission_at_or_below

    def groups(key: Any) -> list[dict[str, Any]]:
        return [_group(g) for g in rules.by(rows, key, remission_at_or_below=cut)]
    treated = [r for r in rows if r.modality]
    return {
        "patients": len(rows), "treated": len(treated),
        "overall": _group(rules.group("all treated", treated, remission_at_or_below=cut))
        if treated else None,
        "by_modality": groups(lambda r: r.modality),
        "by_clinician": groups(lambda r: r.clinician if r.modality else None),
        "by_quarter": groups(lambda r: r.start_quarter if r.modality else None),
        "remission_at_or_below": cut,
        "definitions": rules.DESIGN_NOTE,
        "expectation": "mean over the same evaluable patients of their latest care plan's "
                       "simulated share in response or remission at week 12 for the option "
                       "matching the treatments received (equipoise anxiety model); interval: "
                       "the mean of their plans' 2.5-97.5% intervals over parameter draws",
        "intervals": "Wilson score 95% intervals",
    }
