"""One read of the parts of a patient's record that the alert rules and the outcome summary
both use: their latest care plan, their GAD-7 and PHQ-9 totals in time order and their clinic's
protocol.

A questionnaire submission refreshes both the patient's alerts and their outcome summary; each
used to read the plan and the scores for itself. Both now take one ``History`` (read after the
request's own writes are flushed), and every statement here is built once, at import, with
bound parameters: building a statement costs more than running it on a 50-row series.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from equipoise.clinic.accounts.models import Clinic
from equipoise.clinic.care_plans.models import CarePlanRecord
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.questionnaires.models import Observation

INSTRUMENTS = ("gad7", "phq9")

_LATEST_PLAN = (
    select(CarePlanRecord.start_date, CarePlanRecord.profile, CarePlanRecord.plan,
           CarePlanRecord.created_by)
    .where(CarePlanRecord.patient_id == bindparam("patient"),
           CarePlanRecord.clinic_id == bindparam("clinic"))
    .order_by(CarePlanRecord.created_at.desc()).limit(1))
_SCORES = (
    select(Observation.instrument, Observation.effective, Observation.value)
    .where(Observation.patient_id == bindparam("patient"),
           Observation.clinic_id == bindparam("clinic"),
           Observation.instrument.in_(INSTRUMENTS))
    .order_by(Observation.effective))
_PROTOCOL = select(Clinic.protocol).where(Clinic.id == bindparam("clinic"))


@dataclass(frozen=True)
class LatestPlan:
    """The patient's newest stored care plan (its start, planner profile and plan)."""

    start_date: dt.date
    profile: Mapping[str, Any]
    plan: Mapping[str, Any]
    created_by: str


@dataclass(frozen=True)
class History:
    plan: LatestPlan | None
    # Totals by instrument ("gad7", "phq9"), each (when, stored UTC; total) in time order.
    scores: Mapping[str, list[tuple[dt.datetime, float]]]
    protocol: Mapping[str, Any]

    def series(self, instrument: str) -> list[tuple[dt.datetime, float]]:
        return self.scores.get(instrument, [])


def _protocol_key(clinic_id: str) -> str:
    return f"protocol:{clinic_id}"


def forget_protocol(session: Session, clinic_id: str) -> None:
    """After a change of the clinic's protocol: the next ``protocol`` reads it anew."""
    session.info.pop(_protocol_key(clinic_id), None)


def protocol(session: Session, clinic_id: str) -> dict[str, Any]:
    """The clinic's protocol settings, read once per session (a request's refreshes share it;
    ``forget_protocol`` after a change)."""
    key = _protocol_key(clinic_id)
    if key not in session.info:
        session.flush()
        found = session.connection().scalar(_PROTOCOL, {"clinic": clinic_id})
        session.info[key] = dict(found or {})
    return dict(session.info[key])


def read(session: Session, patient: Patient) -> History:
    """The patient's plan, scores and clinic protocol as stored now (pending writes of the
    session are flushed first)."""
    session.flush()
    conn = session.connection()
    ids = {"patient": patient.id, "clinic": patient.clinic_id}
    row = conn.execute(_LATEST_PLAN, ids).first()
    plan = LatestPlan(row.start_date, row.profile, row.plan, row.created_by) if row else None
    scores: dict[str, list[tuple[dt.datetime, float]]] = {name: [] for name in INSTRUMENTS}
    for name, when, value in conn.execute(_SCORES, ids):
        scores[name].append((when, float(value)))
    return History(plan, scores, protocol(session, patient.clinic_id))
