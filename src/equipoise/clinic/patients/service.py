"""Patients of one clinic; a patient of another clinic does not exist for this one."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from equipoise.clinic.db import owned
from equipoise.clinic.outcomes import service as outcomes
from equipoise.clinic.patients.models import Patient
from equipoise.errors import ClinicError


def get(session: Session, clinic_id: str, patient_id: str) -> Patient:
    return owned(session, Patient, clinic_id, patient_id, "patient")


def create(session: Session, clinic_id: str, values: dict[str, object]) -> Patient:
    if session.scalar(select(Patient.id).where(Patient.clinic_id == clinic_id,
                                               Patient.mrn == values["mrn"])) is not None:
        raise ClinicError("a patient with this record number exists", field="mrn", status=409)
    p = Patient(clinic_id=clinic_id, **values)
    session.add(p)
    session.flush()
    outcomes.refresh(session, p)        # every patient is on the dashboard from the start
    return p


def search(session: Session, clinic_id: str, text: str, limit: int,
           offset: int) -> list[Patient]:
    q = select(Patient).where(Patient.clinic_id == clinic_id)
    if text:
        like = f"%{text.lower()}%"
        q = q.where(or_(func.lower(Patient.family_name).like(like),
                        func.lower(Patient.given_name).like(like),
                        func.lower(Patient.mrn).like(like)))
    return list(session.scalars(q.order_by(Patient.family_name, Patient.given_name, Patient.id)
                                .limit(limit).offset(offset)))
