"""HTTP for SSRI/SNRI courses: start, titrate, stop, list."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session

from equipoise.clinic.bodies import Id
from equipoise.clinic.deps import Actor, db, record, require
from equipoise.clinic.patients import service as patients
from equipoise.clinic.prescriptions import service
from equipoise.clinic.prescriptions.models import DoseStep, MedicationCourse
from equipoise.clinic.prescriptions.schemas import (
    CourseStop,
    DoseStepCreate,
    DoseStepRead,
    MedicationCourseCreate,
    MedicationCourseRead,
)

router = APIRouter(prefix="/api", tags=["medications"])


def step_read(s: DoseStep) -> DoseStepRead:
    return DoseStepRead(id=s.id, from_date=s.from_date, dose_mg_per_day=s.dose_mg_per_day,
                        acknowledged_rules=list(s.acknowledged_rules or []))


def read(session: Session, c: MedicationCourse) -> MedicationCourseRead:
    return reads(session, [c])[0]


def reads(session: Session, courses: list[MedicationCourse]) -> list[MedicationCourseRead]:
    if not courses:
        return []
    clinic_id = courses[0].clinic_id
    by_course = service.steps(session, clinic_id, [c.id for c in courses])
    return [MedicationCourseRead(id=c.id, patient_id=c.patient_id, drug=c.drug,
                                 drug_class=c.drug_class, started_on=c.started_on,
                                 stopped_on=c.stopped_on, stop_reason=c.stop_reason,
                                 dose_steps=[step_read(s) for s in by_course[c.id]])
            for c in courses]


@router.post("/patients/{patient_id}/medication-courses", response_model=MedicationCourseRead,
             status_code=201)
def start_course(patient_id: Id, body: MedicationCourseCreate, request: Request,
                 who: Actor = Depends(require("medications:write", "medication-course")),
                 session: Session = Depends(db)) -> MedicationCourseRead:
    p = patients.get(session, who.clinic_id, patient_id)
    c, step, _ = service.create(session, p, body.drug, body.started_on,
                                    body.dose_mg_per_day, body.acknowledge_rules, who.user.id)
    record(session, request, who, "create", "medication-course", c.id, p.id)
    record(session, request, who, "create", "dose-step", step.id, p.id)
    out = read(session, c)
    session.commit()
    return out


@router.get("/patients/{patient_id}/medication-courses",
            response_model=list[MedicationCourseRead])
def list_courses(patient_id: Id, request: Request,
                 who: Actor = Depends(require("medications:read", "medication-course")),
                 session: Session = Depends(db)) -> list[MedicationCourseRead]:
    p = patients.get(session, who.clinic_id, patient_id)
    out = reads(session, service.for_patient(session, who.clinic_id, p.id))
    record(session, request, who, "read", "medication-course", None, p.id)
    session.commit()
    return out


@router.post("/medication-courses/{course_id}/dose-steps", response_model=MedicationCourseRead,
             status_code=201)
def titrate(course_id: Id, body: DoseStepCreate, request: Request,
            who: Actor = Depends(require("medications:write", "medication-course")),
            session: Session = Depends(db)) -> MedicationCourseRead:
    """A new daily dose from ``from_date``; answers with the whole course."""
    c = service.get(session, who.clinic_id, course_id)
    p = patients.get(session, who.clinic_id, c.patient_id)
    step, _ = service.add_step(session, c, p, body.from_date, body.dose_mg_per_day,
                                   body.acknowledge_rules, who.user.id)
    record(session, request, who, "create", "dose-step", step.id, p.id)
    out = read(session, c)
    session.commit()
    return out


@router.post("/medication-courses/{course_id}/stop", response_model=MedicationCourseRead)
def stop_course(course_id: Id, body: CourseStop, request: Request,
                who: Actor = Depends(require("medications:write", "medication-course")),
                session: Session = Depends(db)) -> MedicationCourseRead:
    c = service.get(session, who.clinic_id, course_id)
    service.stop(session, c, body.stopped_on, body.reason)
    record(session, request, who, "update", "medication-course", c.id, c.patient_id)
    out = read(session, c)
    session.commit()
    return out
