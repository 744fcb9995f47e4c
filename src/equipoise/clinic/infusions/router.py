"""HTTP for infusion sessions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.clinic.accounts.models import Clinic
from equipoise.clinic.alerts import service as alerts
from equipoise.clinic.bodies import Id
from equipoise.clinic.deps import Actor, db, record, require
from equipoise.clinic.infusions import service
from equipoise.clinic.infusions.models import AdverseEvent, Infusion, VitalSign
from equipoise.clinic.infusions.schemas import (
    AdverseEventIn,
    CadssIn,
    ChecklistUpdate,
    DischargeIn,
    InfusionCreate,
    InfusionRead,
    TimeIn,
    VitalRead,
    VitalsIn,
)
from equipoise.clinic.patients import service as patients

router = APIRouter(prefix="/api", tags=["infusions"])
READ = require("infusions:read", "infusion")
WRITE = require("infusions:write", "infusion")


def vital(v: VitalSign) -> VitalRead:
    return VitalRead(id=v.id, phase=v.phase, at=v.at, systolic=v.systolic,
                     diastolic=v.diastolic, heart_rate=v.heart_rate, spo2=v.spo2,
                     action=v.action, reasons=v.reasons)


def read(session: Session, inf: Infusion) -> InfusionRead:
    clinic = session.get(Clinic, inf.clinic_id)
    assert clinic is not None
    vitals = session.scalars(select(VitalSign).where(VitalSign.infusion_id == inf.id)
                             .order_by(VitalSign.at))
    events = session.scalars(select(AdverseEvent).where(AdverseEvent.infusion_id == inf.id)
                             .order_by(AdverseEvent.at))
    basis = next((f["text"] for f in inf.screen if f.get("id") == "DOSE"), "")
    lim = service.limits(clinic)
    return InfusionRead(
        id=inf.id, patient_id=inf.patient_id, status=inf.status,
        scheduled_for=inf.scheduled_for, weight_kg=inf.weight_kg, mg_per_kg=inf.mg_per_kg,
        dose_mg=inf.dose_mg, minutes=inf.minutes, dose_basis=basis, checklist=inf.checklist,
        screen_status=inf.screen_status, screen=[f for f in inf.screen if f.get("id") != "DOSE"],
        started_at=inf.started_at, ended_at=inf.ended_at, cadss_total=inf.cadss_total,
        discharged_at=inf.discharged_at, discharge_criteria=inf.discharge_criteria,
        signed_at=inf.signed_at,
        limits={k: getattr(lim, k) for k in service.LIMIT_FIELDS} | {"basis": lim.basis,
                                                                    "configured": lim.configured},
        vitals=[vital(v) for v in vitals],
        adverse_events=[{"id": e.id, "at": e.at.isoformat(), "description": e.description,
                         "severity": e.severity, "action_taken": e.action_taken}
                        for e in events],
        missing_for_signature=service.missing_for_signature(session, inf))


def _done(session: Session, request: Request, who: Actor, action: str,
          inf: Infusion) -> InfusionRead:
    record(session, request, who, action, "infusion", inf.id, inf.patient_id)
    out = read(session, inf)
    session.commit()
    return out


@router.post("/patients/{patient_id}/infusions", response_model=InfusionRead, status_code=201)
def create(patient_id: Id, body: InfusionCreate, request: Request,
           who: Actor = Depends(WRITE), session: Session = Depends(db)) -> InfusionRead:
    patient = patients.get(session, who.clinic_id, patient_id)
    clinic = session.get(Clinic, who.clinic_id)
    assert clinic is not None
    inf = service.create(session, clinic, patient, body, who.user.id)
    return _done(session, request, who, "create", inf)


@router.get("/patients/{patient_id}/infusions", response_model=list[InfusionRead])
def listing(patient_id: Id, request: Request, who: Actor = Depends(READ),
            session: Session = Depends(db)) -> list[InfusionRead]:
    patients.get(session, who.clinic_id, patient_id)
    rows = session.scalars(select(Infusion).where(Infusion.patient_id == patient_id,
                                                  Infusion.clinic_id == who.clinic_id)
                           .order_by(Infusion.scheduled_for.desc()))
    out = [read(session, i) for i in rows]
    record(session, request, who, "read", "infusion", None, patient_id)
    session.commit()
    return out


@router.get("/infusions/{infusion_id}", response_model=InfusionRead)
def one(infusion_id: Id, request: Request, who: Actor = Depends(READ),
        session: Session = Depends(db)) -> InfusionRead:
    inf = service.get(session, who.clinic_id, infusion_id)
    return _done(session, request, who, "read", inf)


@router.put("/infusions/{infusion_id}/checklist", response_model=InfusionRead)
def checklist(infusion_id: Id, body: ChecklistUpdate, request: Request,
              who: Actor = Depends(WRITE), session: Session = Depends(db)) -> InfusionRead:
    inf = service.get(session, who.clinic_id, infusion_id)
    service.set_checklist(inf, body.checklist.model_dump())
    return _done(session, request, who, "update", inf)


@router.post("/infusions/{infusion_id}/start", response_model=InfusionRead)
def start(infusion_id: Id, body: TimeIn, request: Request, who: Actor = Depends(WRITE),
          session: Session = Depends(db)) -> InfusionRead:
    inf = service.get(session, who.clinic_id, infusion_id)
    service.start(session, inf, body.at)
    return _done(session, request, who, "update", inf)


@router.post("/infusions/{infusion_id}/end", response_model=InfusionRead)
def end(infusion_id: Id, body: TimeIn, request: Request, who: Actor = Depends(WRITE),
        session: Session = Depends(db)) -> InfusionRead:
    inf = service.get(session, who.clinic_id, infusion_id)
    service.end(inf, body.at)
    return _done(session, request, who, "update", inf)


@router.post("/infusions/{infusion_id}/vitals", response_model=VitalRead, status_code=201)
def vitals(infusion_id: Id, body: VitalsIn, request: Request, who: Actor = Depends(WRITE),
           session: Session = Depends(db)) -> VitalRead:
    inf = service.get(session, who.clinic_id, infusion_id)
    clinic = session.get(Clinic, who.clinic_id)
    assert clinic is not None
    v = service.add_vitals(session, clinic, inf, body, who.user.id)
    record(session, request, who, "create", "vital-sign", v.id, inf.patient_id)
    if v.action in ("hold", "stop"):
        alerts.refresh(session, patients.get(session, who.clinic_id, inf.patient_id))
    session.commit()
    return vital(v)


@router.post("/infusions/{infusion_id}/cadss", response_model=InfusionRead)
def cadss(infusion_id: Id, body: CadssIn, request: Request, who: Actor = Depends(WRITE),
          session: Session = Depends(db)) -> InfusionRead:
    inf = service.get(session, who.clinic_id, infusion_id)
    service.add_cadss(session, inf, body.answers, who.user.id)
    return _done(session, request, who, "update", inf)


@router.post("/infusions/{infusion_id}/adverse-events", response_model=InfusionRead,
             status_code=201)
def adverse_event(infusion_id: Id, body: AdverseEventIn, request: Request,
                  who: Actor = Depends(WRITE), session: Session = Depends(db)) -> InfusionRead:
    inf = service.get(session, who.clinic_id, infusion_id)
    service.add_event(session, inf, body, who.user.id)
    return _done(session, request, who, "update", inf)


@router.post("/infusions/{infusion_id}/discharge", response_model=InfusionRead)
def discharge(infusion_id: Id, body: DischargeIn, request: Request,
              who: Actor = Depends(WRITE), session: Session = Depends(db)) -> InfusionRead:
    inf = service.get(session, who.clinic_id, infusion_id)
    service.discharge(session, inf, body)
    return _done(session, request, who, "update", inf)


@router.post("/infusions/{infusion_id}/sign", response_model=InfusionRead)
def sign(infusion_id: Id, request: Request,
         who: Actor = Depends(require("infusions:sign", "infusion")),
         session: Session = Depends(db)) -> InfusionRead:
    inf = service.get(session, who.clinic_id, infusion_id)
    service.sign(session, inf, who.user.id)
    return _done(session, request, who, "sign", inf)
