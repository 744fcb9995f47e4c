"""HTTP for the worklist and alert acknowledgement."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.clinic.alerts import service
from equipoise.clinic.alerts.models import AlertRecord
from equipoise.clinic.bodies import Id
from equipoise.clinic.db import utcnow
from equipoise.clinic.deps import Actor, db, record, require
from equipoise.clinic.patients import service as patients

router = APIRouter(prefix="/api", tags=["alerts"])
READ = require("patients:read", "alert")


class AlertRead(BaseModel):
    id: str
    patient_id: str
    kind: str
    severity: str
    day: dt.date
    text: str
    basis: str
    acknowledged_at: dt.datetime | None


class WorklistItem(AlertRead):
    patient: str                       # "Family, Given (record number)"


def read(a: AlertRecord) -> AlertRead:
    return AlertRead(id=a.id, patient_id=a.patient_id, kind=a.kind, severity=a.severity,
                     day=a.day, text=a.text, basis=a.basis, acknowledged_at=a.acknowledged_at)


@router.get("/worklist", response_model=list[WorklistItem])
def worklist(request: Request, limit: int = Query(200, ge=1, le=2000),
             who: Actor = Depends(READ), session: Session = Depends(db)) -> list[WorklistItem]:
    """What needs attention today: unacknowledged alerts, urgent first."""
    service.sweep_overdue(session, who.clinic_id, utcnow().date())
    rows = service.open_alerts(session, who.clinic_id, limit)
    out = [WorklistItem(**read(a).model_dump(),
                        patient=f"{p.family_name}, {p.given_name} ({p.mrn})") for a, p in rows]
    record(session, request, who, "read", "worklist")
    for a, _ in rows:
        record(session, request, who, "read", "alert", a.id, a.patient_id)
    session.commit()
    return out


@router.get("/patients/{patient_id}/alerts", response_model=list[AlertRead])
def patient_alerts(patient_id: Id, request: Request, who: Actor = Depends(READ),
                   session: Session = Depends(db)) -> list[AlertRead]:
    p = patients.get(session, who.clinic_id, patient_id)
    service.refresh(session, p)
    rows = session.scalars(select(AlertRecord).where(AlertRecord.patient_id == p.id)
                           .order_by(AlertRecord.day, AlertRecord.id))
    out = [read(a) for a in rows]
    record(session, request, who, "read", "alert", None, p.id)
    session.commit()
    return out


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertRead)
def acknowledge(alert_id: Id, request: Request, who: Actor = Depends(READ),
                session: Session = Depends(db)) -> AlertRead:
    """Mark an alert seen; the acknowledgement is an audit record (who, which, when)."""
    a = service.acknowledge(session, who.clinic_id, alert_id, who.user.id)
    record(session, request, who, "acknowledge", "alert", a.id, a.patient_id)
    session.commit()
    return read(a)
