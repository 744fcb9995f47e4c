"""CBT sessions of one clinic's patients."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.clinic.outcomes import service as outcomes
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.therapy.models import TherapySession


def create(session: Session, patient: Patient, therapist_id: str,
           values: dict[str, object]) -> TherapySession:
    s = TherapySession(clinic_id=patient.clinic_id, patient_id=patient.id,
                       therapist_id=therapist_id, **values)
    session.add(s)
    session.flush()
    outcomes.refresh(session, patient)
    return s


def for_patient(session: Session, clinic_id: str, patient_id: str) -> list[TherapySession]:
    return list(session.scalars(select(TherapySession).where(
        TherapySession.clinic_id == clinic_id, TherapySession.patient_id == patient_id)
        .order_by(TherapySession.on, TherapySession.number, TherapySession.id)))
