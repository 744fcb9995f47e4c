"""HTTP for questionnaires, observations and patients' self-report links."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.care.measures import Answers
from equipoise.clinic.bodies import Id, Token
from equipoise.clinic.deps import READS_FIRST, Actor, db, record, require, settings
from equipoise.clinic.patients import service as patients
from equipoise.clinic.questionnaires import service
from equipoise.clinic.questionnaires.models import Observation, QuestionnaireResponse
from equipoise.clinic.questionnaires.schemas import (
    LinkCreate,
    LinkRead,
    ObservationRead,
    ResponseCreate,
    ResponseRead,
    SelfReportForm,
    SelfReportSubmit,
)
from equipoise.clinic.settings import Settings

router = APIRouter(prefix="/api", tags=["questionnaires"])


def observation(o: Observation) -> ObservationRead:
    return ObservationRead(id=o.id, instrument=o.instrument, code_system=o.code_system,
                           code=o.code, display=o.display, value=o.value, band=o.band,
                           effective=o.effective, flags=o.flags)


def response(r: QuestionnaireResponse, o: Observation) -> ResponseRead:
    return ResponseRead(id=r.id, instrument=r.instrument, answers=r.answers,
                        authored=r.authored, source=r.source, total=int(o.value), band=o.band,
                        flags=o.flags, observation=observation(o))


@router.post("/patients/{patient_id}/questionnaires", response_model=ResponseRead,
             status_code=201)
def submit(patient_id: Id, body: ResponseCreate, request: Request,
           who: Actor = Depends(require("questionnaires:write", "questionnaire")),
           session: Session = Depends(db)) -> ResponseRead:
    patients.get(session, who.clinic_id, patient_id)        # 404 unless this clinic's
    answers: Answers = (body.answers if isinstance(body.answers, list)
                        else {str(k): v for k, v in body.answers.items()})
    r, o = service.record_response(session, who.clinic_id, patient_id, body.instrument,
                                   answers, source="staff", entered_by=who.user.id,
                                   authored=body.authored, infusion_id=body.infusion_id)
    record(session, request, who, "create", "questionnaire", r.id, patient_id)
    session.commit()
    return response(r, o)


READS_FIRST.add(("POST", "/api/patients/{patient_id}/questionnaires"))


@router.get("/patients/{patient_id}/questionnaires", response_model=list[ResponseRead])
def history(patient_id: Id, request: Request, limit: int = Query(200, ge=1, le=2000),
            who: Actor = Depends(require("questionnaires:read", "questionnaire")),
            session: Session = Depends(db)) -> list[ResponseRead]:
    patients.get(session, who.clinic_id, patient_id)
    rows = session.execute(
        select(QuestionnaireResponse, Observation)
        .join(Observation, Observation.response_id == QuestionnaireResponse.id)
        .where(QuestionnaireResponse.patient_id == patient_id,
               QuestionnaireResponse.clinic_id == who.clinic_id)
        .order_by(QuestionnaireResponse.authored.desc()).limit(limit)).all()
    record(session, request, who, "read", "questionnaire", None, patient_id)
    session.commit()
    return [response(r, o) for r, o in rows]


@router.get("/patients/{patient_id}/observations", response_model=list[ObservationRead])
def observations(patient_id: Id, request: Request,
                 instrument: str | None = Query(None, pattern="^(gad7|phq9|ham-a|cadss|lsas)$"),
                 who: Actor = Depends(require("questionnaires:read", "observation")),
                 session: Session = Depends(db)) -> list[ObservationRead]:
    patients.get(session, who.clinic_id, patient_id)
    q = select(Observation).where(Observation.patient_id == patient_id,
                                  Observation.clinic_id == who.clinic_id)
    if instrument:
        q = q.where(Observation.instrument == instrument)
    rows = session.scalars(q.order_by(Observation.effective))
    out = [observation(o) for o in rows]
    record(session, request, who, "read", "observation", None, patient_id)
    session.commit()
    return out


@router.post("/patients/{patient_id}/self-report-links", response_model=LinkRead,
             status_code=201)
def make_link(patient_id: Id, body: LinkCreate, request: Request,
              who: Actor = Depends(require("links:create", "self-report-link")),
              session: Session = Depends(db), cfg: Settings = Depends(settings)) -> LinkRead:
    patients.get(session, who.clinic_id, patient_id)
    link, token = service.create_link(session, who.clinic_id, patient_id, body.instrument,
                                      who.user.id, cfg.self_report_hours)
    record(session, request, who, "create", "self-report-link", link.id, patient_id)
    session.commit()
    return LinkRead(id=link.id, instrument=link.instrument, path=f"/r/{token}",
                    expires_at=link.expires_at)


# The patient's side: no sign-in; the token is the only key, single-use and expiring.
public = APIRouter(prefix="/api/self-report", tags=["self-report"])


@public.get("/{token}", response_model=SelfReportForm)
def show_form(token: Token, session: Session = Depends(db)) -> SelfReportForm:
    link = service.open_link(session, token)
    return SelfReportForm(**service.form(link.instrument))


@public.post("/{token}", status_code=201)
def answer_form(token: Token, body: SelfReportSubmit, request: Request,
                session: Session = Depends(db)) -> dict[str, str]:
    r = service.submit_link(session, token, body.answers)      # its alerts refreshed
    record(session, request, None, "create", "questionnaire", r.id, r.patient_id,
           clinic_id=r.clinic_id)
    session.commit()
    return {"status": "received", "message": "Thank you. Your answers were sent to your "
                                             "clinic."}
