"""A patient's alerts, recomputed from their records by the rules of ``care.alerts`` and stored
once each (by key); the clinic's worklist is every alert not yet acknowledged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from equipoise.care import alerts as rules
from equipoise.care.measures import RelapseRule
from equipoise.clinic.alerts.models import AlertRecord
from equipoise.clinic.care_plans.models import CarePlanRecord
from equipoise.clinic.db import claim_writes, owned, utcnow
from equipoise.clinic.infusions.models import Infusion, VitalSign
from equipoise.clinic.patients import history
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.questionnaires.models import Observation, QuestionnaireResponse

SEVERITY_ORDER = {name: k for k, name in enumerate(rules.SEVERITIES)}   # urgent first
RELAPSE_FIELDS = ("relapse_rise", "relapse_threshold", "relapse_consecutive")


def relapse_rule(protocol: Mapping[str, Any]) -> RelapseRule:
    """The clinic's relapse rule: its protocol's settings over the design default."""
    default = RelapseRule()
    if not any(protocol.get(k) is not None for k in RELAPSE_FIELDS):
        return default
    return RelapseRule(
        rise=protocol.get("relapse_rise"),
        threshold=protocol.get("relapse_threshold", default.threshold),
        consecutive=int(protocol.get("relapse_consecutive") or default.consecutive),
        basis=f"the clinic's protocol ({protocol.get('basis', 'unnamed')}); the default is "
              f"the {default.basis}")


def _band(plan: Mapping[str, Any]) -> rules.ExpectedBand | None:
    track = plan.get("expected_trajectory") or {}
    if not track.get("weeks") or not track.get("gad7_high"):
        return None
    return rules.ExpectedBand(tuple(track["weeks"]), tuple(track["gad7_low"]),
                              tuple(track["gad7_high"]))


# Built once (``patients.history``): the rules run on every questionnaire submission.
_PHQ9_ANSWERS = select(QuestionnaireResponse.authored, QuestionnaireResponse.answers).where(
    QuestionnaireResponse.patient_id == bindparam("patient"),
    QuestionnaireResponse.instrument == "phq9")
_HELD = select(VitalSign.at, VitalSign.action, VitalSign.reasons).join(
    Infusion, Infusion.id == VitalSign.infusion_id).where(
    Infusion.patient_id == bindparam("patient"), VitalSign.action.in_(("hold", "stop")))
_KEYS = select(AlertRecord.key).where(AlertRecord.patient_id == bindparam("patient"))


def compute(session: Session, patient: Patient, today: dt.date,
            patient_history: history.History | None = None) -> list[rules.Alert]:
    """Every alert the rules raise for ``patient`` as of ``today`` (from ``patient_history``
    read by the caller, or read here)."""
    h = patient_history or history.read(session, patient)
    plan = h.plan
    gad = [(when.date(), value) for when, value in h.series("gad7")]
    phq = [(when.date(), value) for when, value in h.series("phq9")]
    start = plan.start_date if plan else (gad[0][0] if gad else None)
    out: list[rules.Alert] = []
    if start is not None:
        for name, series in (("gad7", gad), ("phq9", phq)):
            before = [s for d, s in series if d <= start]
            after = [(d, s) for d, s in series if d > start]
            baseline = (plan.profile.get("scores", {}).get(name) if plan else None) \
                or (before[-1] if before else None)
            if baseline:
                out += rules.milestones(name, float(baseline), after)
                if name == "gad7":
                    found = rules.relapse(name, float(baseline), after,
                                          relapse_rule(h.protocol))
                    out += [found] if found else []
            band = _band(plan.plan) if plan and name == "gad7" else None
            if band is not None:
                out += rules.off_track(after, band, start)
        if plan is not None:
            late = rules.overdue(gad[-1][0] if gad else None, start, today)
            out += [late] if late else []
    conn = session.connection()
    ids = {"patient": patient.id}
    for when, answers in conn.execute(_PHQ9_ANSWERS, ids):
        flag = rules.suicidality(when.date(), int(answers[8]))
        out += [flag] if flag else []
    for when, action, reasons in conn.execute(_HELD, ids):
        alert = rules.vitals(when.date(), action, reasons, "the clinic's in-infusion limits")
        out += [alert] if alert else []
    return out


def refresh(session: Session, patient: Patient, today: dt.date | None = None,
            patient_history: history.History | None = None) -> int:
    """Store the patient's new alerts (one per key); how many were new. ``patient_history``: their
    history, read by the caller after its writes (``patients.history.read``)."""
    claim_writes(session)               # the alerts known below are the ones stored
    found = compute(session, patient, today or utcnow().date(), patient_history)
    known = set(session.connection().scalars(_KEYS, {"patient": patient.id}))
    new = 0
    for a in found:
        key = f"{a.kind}:{a.at.isoformat()}"
        if key in known:
            continue
        known.add(key)
        session.add(AlertRecord(clinic_id=patient.clinic_id, patient_id=patient.id, key=key,
                                kind=a.kind, severity=a.severity, day=a.at, text=a.text[:500],
                                basis=a.basis[:500]))
        new += 1
    if new:
        session.flush()
    return new


def sweep_overdue(session: Session, clinic_id: str, today: dt.date) -> int:
    """Overdue questionnaires of every patient with a plan (run when the worklist opens)."""
    claim_writes(session)
    latest_plan = select(CarePlanRecord.patient_id, func.max(CarePlanRecord.created_at)
                         .label("made")).where(CarePlanRecord.clinic_id == clinic_id) \
        .group_by(CarePlanRecord.patient_id).subquery()
    starts: dict[str, dt.date] = dict(session.execute(select(
        CarePlanRecord.patient_id, CarePlanRecord.start_date).join(
        latest_plan, (CarePlanRecord.patient_id == latest_plan.c.patient_id)
        & (CarePlanRecord.created_at == latest_plan.c.made)).where(
        CarePlanRecord.clinic_id == clinic_id)).all())
    last: dict[str, dt.datetime] = dict(session.execute(select(
        Observation.patient_id, func.max(Observation.effective)).where(
        Observation.clinic_id == clinic_id, Observation.instrument == "gad7")
        .group_by(Observation.patient_id)).all())
    known = set(session.scalars(select(AlertRecord.key + "|" + AlertRecord.patient_id).where(
        AlertRecord.clinic_id == clinic_id, AlertRecord.kind == "overdue")))
    new = 0
    for pid, start in starts.items():
        seen = last.get(pid)
        late = rules.overdue(seen.date() if seen else None, start, today)
        if late is None or f"overdue:{late.at.isoformat()}|{pid}" in known:
            continue
        session.add(AlertRecord(clinic_id=clinic_id, patient_id=pid,
                                key=f"overdue:{late.at.isoformat()}", kind="overdue",
                                severity=late.severity, day=late.at, text=late.text,
                                basis=late.basis))
        new += 1
    session.flush()
    return new


def open_alerts(session: Session, clinic_id: str, limit: int) -> list[tuple[AlertRecord, Patient]]:
    rows = session.execute(select(AlertRecord, Patient).join(
        Patient, Patient.id == AlertRecord.patient_id).where(
        AlertRecord.clinic_id == clinic_id, AlertRecord.acknowledged_at.is_(None))).all()
    ordered = sorted(((a, p) for a, p in rows),
                     key=lambda r: (SEVERITY_ORDER.get(r[0].severity, 9), r[0].day, r[0].id))
    return ordered[:limit]


def acknowledge(session: Session, clinic_id: str, alert_id: str, user_id: str) -> AlertRecord:
    a = owned(session, AlertRecord, clinic_id, alert_id, "alert")
    if a.acknowledged_at is None:
        a.acknowledged_by = user_id
        a.acknowledged_at = utcnow()
    return a
