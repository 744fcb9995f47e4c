"""HTTP for care plans: make one from a profile, list a patient's, read one in full."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from equipoise.clinic.bodies import Id
from equipoise.clinic.care_plans import service
from equipoise.clinic.care_plans.models import CarePlanRecord
from equipoise.clinic.care_plans.schemas import CarePlanCreate, CarePlanRead, CarePlanSummary
from equipoise.clinic.deps import Actor, db, record, require
from equipoise.clinic.patients import service as patients
from equipoise.errors import ModelFileError

router = APIRouter(prefix="/api", tags=["care plans"])


def summary(r: CarePlanRecord) -> CarePlanSummary:
    return CarePlanSummary(id=r.id, start_date=r.start_date, recommended=r.recommended,
                           created_at=r.created_at)


def read(r: CarePlanRecord) -> CarePlanRead:
    return CarePlanRead(id=r.id, start_date=r.start_date, recommended=r.recommended,
                        created_at=r.created_at, patient_id=r.patient_id,
                        created_by=r.created_by, profile=r.profile, plan=r.plan)


@router.post("/patients/{patient_id}/care-plans", response_model=CarePlanRead, status_code=201)
def make(patient_id: Id, body: CarePlanCreate, request: Request,
         who: Actor = Depends(require("plans:write", "care-plan")),
         session: Session = Depends(db)) -> CarePlanRead:
    p = patients.get(session, who.clinic_id, patient_id)
    try:
        r = service.create(session, p, body.profile, body.start_date, who.user.id)
    except ModelFileError as exc:
        # The same 422 shape as a body that fails its schema, located inside the profile.
        raise RequestValidationError([{"loc": ("body", "profile", x.field), "msg": x.message,
                                       "type": "value_error"} for x in exc.problems]) from exc
    record(session, request, who, "create", "care-plan", r.id, p.id)
    session.commit()
    return read(r)


@router.get("/patients/{patient_id}/care-plans", response_model=list[CarePlanSummary])
def list_plans(patient_id: Id, request: Request,
               who: Actor = Depends(require("plans:read", "care-plan")),
               session: Session = Depends(db)) -> list[CarePlanSummary]:
    """Newest first."""
    p = patients.get(session, who.clinic_id, patient_id)
    out = [summary(r) for r in service.for_patient(session, who.clinic_id, p.id,
                                                   listed=True)]
    record(session, request, who, "read", "care-plan", None, p.id)
    session.commit()
    return out


@router.get("/care-plans/{plan_id}", response_model=CarePlanRead)
def get_plan(plan_id: Id, request: Request,
             who: Actor = Depends(require("plans:read", "care-plan")),
             session: Session = Depends(db)) -> CarePlanRead:
    r = service.get(session, who.clinic_id, plan_id)
    record(session, request, who, "read", "care-plan", r.id, r.patient_id)
    session.commit()
    return read(r)
