"""HTTP for patients, and the de-identified research view."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.clinic.accounts.models import Clinic
from equipoise.clinic.bodies import Id
from equipoise.clinic.deps import Actor, db, record, require
from equipoise.clinic.patients import identity, service
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.patients.schemas import (
    PatientCreate,
    PatientRead,
    PatientSearch,
    PatientUpdate,
    ResearchPatient,
)

router = APIRouter(prefix="/api", tags=["patients"])


def read(p: Patient) -> PatientRead:
    return PatientRead(id=p.id, mrn=p.mrn, given_name=p.given_name, family_name=p.family_name,
                       birth_date=p.birth_date, sex=p.sex, weight_kg=p.weight_kg,
                       synthetic=p.synthetic)


def _listing(request: Request, who: Actor, session: Session, text: str, limit: int,
             offset: int) -> list[PatientRead]:
    rows = service.search(session, who.clinic_id, text, limit, offset)
    record(session, request, who, "search", "patient")
    for p in rows:
        record(session, request, who, "read", "patient", p.id, p.id)
    session.commit()
    return [read(p) for p in rows]


@router.get("/patients", response_model=list[PatientRead])
def list_patients(request: Request, limit: int = Query(50, ge=1, le=500),
                  offset: int = Query(0, ge=0, le=10_000_000),
                  who: Actor = Depends(require("patients:read", "patient")),
                  session: Session = Depends(db)) -> list[PatientRead]:
    return _listing(request, who, session, "", limit, offset)


@router.post("/patients/search", response_model=list[PatientRead])
def search_patients(body: PatientSearch, request: Request,
                    who: Actor = Depends(require("patients:read", "patient")),
                    session: Session = Depends(db)) -> list[PatientRead]:
    """Search by name or record number; a POST, so that names never appear in a URL."""
    return _listing(request, who, session, body.text, body.limit, body.offset)


@router.post("/patients", response_model=PatientRead, status_code=201)
def create_patient(body: PatientCreate, request: Request,
                   who: Actor = Depends(require("patients:write", "patient")),
                   session: Session = Depends(db)) -> PatientRead:
    p = service.create(session, who.clinic_id, body.model_dump())
    record(session, request, who, "create", "patient", p.id, p.id)
    session.commit()
    return read(p)


@router.get("/patients/{patient_id}", response_model=PatientRead)
def get_patient(patient_id: Id, request: Request,
                who: Actor = Depends(require("patients:read", "patient")),
                session: Session = Depends(db)) -> PatientRead:
    p = service.get(session, who.clinic_id, patient_id)
    record(session, request, who, "read", "patient", p.id, p.id)
    session.commit()
    return read(p)


@router.patch("/patients/{patient_id}", response_model=PatientRead)
def update_patient(patient_id: Id, body: PatientUpdate, request: Request,
                   who: Actor = Depends(require("patients:write", "patient")),
                   session: Session = Depends(db)) -> PatientRead:
    p = service.get(session, who.clinic_id, patient_id)
    p.weight_kg = body.weight_kg
    record(session, request, who, "update", "patient", p.id, p.id)
    session.commit()
    return read(p)


@router.get("/research/patients", response_model=list[ResearchPatient])
def research_patients(request: Request, limit: int = Query(500, ge=1, le=5000),
                      offset: int = Query(0, ge=0, le=10_000_000),
                      who: Actor = Depends(require("research:read", "research")),
                      session: Session = Depends(db)) -> list[ResearchPatient]:
    clinic = session.get(Clinic, who.clinic_id)
    assert clinic is not None
    today = dt.date.today()
    rows = session.scalars(select(Patient).where(Patient.clinic_id == who.clinic_id)
                           .order_by(Patient.id).limit(limit).offset(offset))
    out = [ResearchPatient(pseudonym=identity.pseudonym(clinic.research_key, p.id),
                           age_band=identity.age_band(p.birth_date, today), sex=p.sex,
                           synthetic=p.synthetic) for p in rows]
    record(session, request, who, "read", "research-patients")
    session.commit()
    return out
