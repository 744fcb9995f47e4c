"""HTTP for CBT sessions; the therapist is the signed-in user."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from equipoise.clinic.bodies import Id
from equipoise.clinic.deps import Actor, db, record, require
from equipoise.clinic.patients import service as patients
from equipoise.clinic.therapy import service
from equipoise.clinic.therapy.models import TherapySession
from equipoise.clinic.therapy.schemas import TherapySessionCreate, TherapySessionRead

router = APIRouter(prefix="/api", tags=["therapy"])


def read(s: TherapySession) -> TherapySessionRead:
    return TherapySessionRead(id=s.id, patient_id=s.patient_id, on=s.on, number=s.number,
                              modality=s.modality, minutes=s.minutes, attended=s.attended,
                              therapist_id=s.therapist_id)


@router.post("/patients/{patient_id}/therapy-sessions", response_model=TherapySessionRead,
             status_code=201)
def record_session(patient_id: Id, body: TherapySessionCreate, request: Request,
                   who: Actor = Depends(require("therapy:write", "therapy-session")),
                   session: Session = Depends(db)) -> TherapySessionRead:
    p = patients.get(session, who.clinic_id, patient_id)
    s = service.create(session, p, who.user.id, body.model_dump())
    record(session, request, who, "create", "therapy-session", s.id, p.id)
    session.commit()
    return read(s)


@router.get("/patients/{patient_id}/therapy-sessions", response_model=list[TherapySessionRead])
def list_sessions(patient_id: Id, request: Request,
                  who: Actor = Depends(require("therapy:read", "therapy-session")),
                  session: Session = Depends(db)) -> list[TherapySessionRead]:
    p = patients.get(session, who.clinic_id, patient_id)
    out = [read(s) for s in service.for_patient(session, who.clinic_id, p.id)]
    record(session, request, who, "read", "therapy-session", None, p.id)
    session.commit()
    return out
