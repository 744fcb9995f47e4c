"""Scoring questionnaires into coded observations, and patients' single-use links."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from equipoise.care.instruments import instrument
from equipoise.care.measures import Answers, score
from equipoise.clinic.db import claim_writes, recorded_time, utcnow
from equipoise.clinic.infusions.models import Infusion
from equipoise.clinic.outcomes import service as outcomes
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.questionnaires.models import (
    Observation,
    QuestionnaireResponse,
    SelfReportLink,
)
from equipoise.clinic.security import digest, new_token
from equipoise.datasets.instruments import load_instrument_definition
from equipoise.errors import ClinicError, MeasureError

LOINC = "http://loinc.org"
# HAM-A, CADSS and LSAS have no LOINC total-score code in the sources read: a local code.
LOCAL = "urn:equipoise:score"


def total_code(name: str) -> tuple[str, str, str]:
    """(system, code, display) of the instrument's total score."""
    inst = instrument(name)
    if inst.total_code:
        return LOINC, inst.total_code, f"{inst.name} total score"
    return LOCAL, f"{inst.id}-total", f"{inst.name} total score"


def record_response(session: Session, clinic_id: str, patient_id: str, name: str,
                    answers: Answers, *, source: str, entered_by: str | None,
                    authored: dt.datetime | None = None,
                    infusion_id: str | None = None,
                    refresh: bool = True) -> tuple[QuestionnaireResponse, Observation]:
    """Score ``answers`` and store the response with its observation (nothing on error).
    The patient's alerts and outcome summary are refreshed from what is stored now, unless a
    bulk caller does it once at the end (``refresh=False``): whichever way a questionnaire
    comes in (the API, the patient page, the patient's own link), what it raises is on the
    worklist at once."""
    try:
        result = score(name, answers)
    except MeasureError as exc:
        raise ClinicError(str(exc), field="answers") from exc
    when = recorded_time(authored, "authored")
    if infusion_id is not None:
        claim_writes(session)          # the infusion's state below is the one written against
        inf = session.get(Infusion, infusion_id)
        if inf is None or inf.clinic_id != clinic_id or inf.patient_id != patient_id:
            raise ClinicError("no such infusion for this patient", field="infusion_id")
        if inf.signed_at is not None:
            raise ClinicError("the infusion's monitoring form is signed; it can no longer "
                              "change", field="infusion_id", status=409)
    response = QuestionnaireResponse(clinic_id=clinic_id, patient_id=patient_id,
                                     instrument=result.instrument, answers=list(result.items),
                                     authored=when, source=source, entered_by=entered_by,
                                     infusion_id=infusion_id)
    session.add(response)
    session.flush()
    system, code, display = total_code(name)
    obs = Observation(clinic_id=clinic_id, patient_id=patient_id, response_id=response.id,
                      instrument=result.instrument, code_system=system, code=code,
                      display=display, value=float(result.total), band=result.band.label,
                      effective=when, flags=[dataclasses.asdict(f) for f in result.flags])
    session.add(obs)
    session.flush()
    if refresh:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        outcomes.refresh_with_alerts(session, patient)
    return response, obs


def create_link(session: Session, clinic_id: str, patient_id: str, name: str, created_by: str,
                hours: int) -> tuple[SelfReportLink, str]:
    token = new_token()
    link = SelfReportLink(clinic_id=clinic_id, patient_id=patient_id, instrument=name,
                          token_hash=digest(token), created_by=created_by,
                          expires_at=utcnow() + dt.timedelta(hours=hours))
    session.add(link)
    session.flush()
    return link, token


def open_link(session: Session, token: str) -> SelfReportLink:
    """The link for ``token`` if it is unused and unexpired; one answer for every failure,
    so that a guess learns nothing."""
    link = session.scalar(select(SelfReportLink).where(SelfReportLink.token_hash ==
                                                       digest(token)))
    if link is None or link.used_at is not None or link.expires_at < utcnow():
        raise ClinicError("this link is not valid: it was used, it expired, or it does not "
                          "exist; ask the clinic for a new one", status=404)
    return link


def submit_link(session: Session, token: str, answers: list[int]) -> QuestionnaireResponse:
    link = open_link(session, token)
    # Claim the link in one conditional UPDATE: of submissions racing each other exactly one
    # changes the row; the others find it used.
    now = utcnow()
    claimed = session.execute(
        update(SelfReportLink)
        .where(SelfReportLink.id == link.id, SelfReportLink.used_at.is_(None),
               SelfReportLink.expires_at > now)
        .values(used_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:                     # type: ignore[attr-defined]
        raise ClinicError("this link is not valid: it was used, it expired, or it does not "
                          "exist; ask the clinic for a new one", status=404)
    session.refresh(link)
    response, _ = record_response(session, link.clinic_id, link.patient_id, link.instrument,
                                  answers, source="patient", entered_by=None)
    link.response_id = response.id
    return response


def form(name: str) -> dict[str, Any]:
    """What a patient sees: the items and answer options of a self-report instrument (their
    wording may be reproduced: the definitions record the permission)."""
    d = load_instrument_definition(name)
    options = [{"score": a["score"], "label": a["display"]}
               for a in d["answerLists"]["LL358-3"]["answers"]]
    scored = [i for i in d["items"] if i.get("scored", True)]
    return {"instrument": name, "title": d["name"],
            "question": f"Over the {d.get('recallPeriod', 'last 2 weeks')}, how often have you "
                        "been bothered by the following problems?",
            "items": [{"n": str(i["n"]), "text": i["text"]} for i in scored],
            "options": options, "attribution": d["license"].get("attribution", "")}
