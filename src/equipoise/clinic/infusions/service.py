"""Infusion sessions: screen, dose, chart, observe, discharge and sign.

The screen is ``care.safety`` on the patient as they are today; the dose is ``care.dose``; a
vitals reading is judged by ``care.safety.infusion_action`` against the clinic's own limits
(no published in-infusion numbers exist, so none are assumed). A signed form is final.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.care.dose import ketamine_dose
from equipoise.care.measures import score
from equipoise.care.profile import parse_profile
from equipoise.care.safety import VitalLimits, infusion_action, load_rules, screen, status
from equipoise.clinic.accounts.models import Clinic
from equipoise.clinic.db import owned, recorded_time, utcnow
from equipoise.clinic.infusions.models import AdverseEvent, Infusion, VitalSign
from equipoise.clinic.infusions.schemas import (
    AdverseEventIn,
    DischargeIn,
    InfusionCreate,
    VitalsIn,
)
from equipoise.clinic.outcomes import service as outcomes
from equipoise.clinic.patients.identity import age
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.questionnaires.service import record_response
from equipoise.errors import ClinicError, MeasureError, ModelError, ModelFileError

LIMIT_FIELDS = ("hold_systolic_above", "hold_diastolic_above", "stop_systolic_above",
                "stop_diastolic_above", "stop_heart_rate_above", "stop_spo2_below")
OBSERVE = dt.timedelta(hours=2)          # MON-OBS-2H, counted from the end of the infusion
BP_AFTER = dt.timedelta(minutes=35)      # MON-BP-40: a reading about 40 min after the start


def limits(clinic: Clinic) -> VitalLimits:
    p = clinic.protocol or {}
    return VitalLimits(**{k: p.get(k) for k in LIMIT_FIELDS},
                       basis=str(p.get("basis") or VitalLimits().basis))


def get(session: Session, clinic_id: str, infusion_id: str) -> Infusion:
    return owned(session, Infusion, clinic_id, infusion_id, "infusion")


def _when(value: dt.datetime | None, field: str) -> dt.datetime:
    return recorded_time(value, field)


def _open(inf: Infusion) -> None:
    if inf.signed_at is not None:
        raise ClinicError("the monitoring form is signed; it can no longer change", status=409)


def _screen(patient: Patient, body: InfusionCreate, weight: float,
            on: dt.date) -> tuple[list[dict[str, Any]], str]:
    profile: dict[str, Any] = {
        "age": age(patient.birth_date, on), "sex": patient.sex, "weight_kg": weight,
        "pregnant": body.pregnant, "breastfeeding": body.breastfeeding,
        "conditions": body.conditions,
        "medications": [m.model_dump(exclude_none=True) for m in body.medications]}
    if body.pre_vitals is not None:
        profile["vitals"] = {"systolic": body.pre_vitals.systolic,
                             "diastolic": body.pre_vitals.diastolic}
    try:
        p = parse_profile(json.dumps(profile), "infusion")
    except ModelFileError as exc:
        first = exc.problems[0].field.split(".")[0].split("[")[0]
        # age comes from the birth date and the scheduled day, not from the body
        raise ClinicError("; ".join(f"{q.field}: {q.message}" for q in exc.problems),
                          field="scheduled_for" if first == "age" else first) from exc
    findings = list(screen(p, ("ketamine_iv",), on=on))
    out = [f.rule.to_dict() | {"because": f.because} for f in findings]
    # Text the screen could not match is kept for review, never dropped.
    out += [{"id": "UNSCREENED-CONDITION", "severity": "review",
             "text": f"condition {t!r} was not screened: review it by hand", "source": "",
             "because": t} for t in p.unrecognised_conditions]
    state = status(findings, "ketamine_iv")
    if state == "eligible" and p.unrecognised_conditions:
        state = "review"
    return out, state


def create(session: Session, clinic: Clinic, patient: Patient, body: InfusionCreate,
           user_id: str) -> Infusion:
    weight = body.weight_kg or patient.weight_kg
    if weight is None:
        raise ClinicError("no weight on record: give today's weight", field="weight_kg")
    if body.scheduled_for.tzinfo is None:
        raise ClinicError("give a timezone", field="scheduled_for")
    if not 1900 < body.scheduled_for.year < 2200:
        raise ClinicError("is not a plausible date", field="scheduled_for")
    proto = clinic.protocol or {}
    try:
        dose = ketamine_dose(weight, mg_per_kg=body.mg_per_kg or proto.get("mg_per_kg"),
                             minutes=body.minutes, cap_mg=proto.get("cap_mg"))
    except ModelError as exc:
        raise ClinicError(str(exc), field="mg_per_kg") from exc
    findings, state = _screen(patient, body, weight, body.scheduled_for.date())
    inf = Infusion(clinic_id=clinic.id, patient_id=patient.id, scheduled_for=body.scheduled_for,
                   weight_kg=weight, mg_per_kg=dose.mg_per_kg, dose_mg=dose.mg,
                   minutes=int(dose.minutes), checklist=body.checklist.model_dump(),
                   screen=[*findings, {"id": "DOSE", "severity": "info", "text": dose.basis,
                                       "source": "", "because": ""}],
                   screen_status=state,
                   benzodiazepine_mg_diazepam_24h=body.benzodiazepine_mg_diazepam_24h,
                   created_by=user_id)
    session.add(inf)
    session.flush()
    if body.pre_vitals is not None:
        add_vitals(session, clinic, inf, body.pre_vitals, user_id)
    return inf


def set_checklist(inf: Infusion, checklist: dict[str, Any]) -> None:
    _open(inf)
    if inf.started_at is not None:
        raise ClinicError("the infusion has started: the pre-infusion checklist is closed",
                          field="checklist", status=409)
    inf.checklist = checklist


def start_refusals(inf: Infusion,
                   readings: Sequence[VitalSign]) -> list[tuple[str | None, str]]:
    """Why ``inf`` may not start, as (field or None, message): an absolute contraindication,
    an incomplete checklist, no blood pressure before dosing (MON-BP-40)."""
    out: list[tuple[str | None, str]] = []
    if inf.screen_status == "blocked":
        rules = [f["id"] for f in inf.screen if f.get("severity") == "absolute"]
        out.append((None, "the screen found an absolute contraindication "
                          f"({', '.join(rules)}): the infusion cannot start"))
    missing = [k for k in ("consent_recorded", "psychiatric_assessment_done", "escort_arranged")
               if not inf.checklist.get(k)]
    if missing:
        out.append(("checklist", f"pre-infusion checklist incomplete: {', '.join(missing)}"))
    if not any(v.phase == "pre" for v in readings):
        out.append(("vitals", "record blood pressure before dosing (MON-BP-40)"))
    return out


def start(session: Session, inf: Infusion, at: dt.datetime | None) -> None:
    _open(inf)
    if inf.started_at is not None:
        raise ClinicError("the infusion has already started", status=409)
    refused = start_refusals(inf, _readings(session, inf, "pre"))
    if refused:
        field, message = refused[0]
        raise ClinicError(message, field=field, status=409)
    inf.started_at = _when(at, "at")
    inf.status = "in_progress"
    session.flush()
    outcomes.refresh_patient(session, inf.patient_id)


def end(inf: Infusion, at: dt.datetime | None) -> None:
    _open(inf)
    if inf.started_at is None:
        raise ClinicError("the infusion has not started", status=409)
    if inf.ended_at is not None:
        raise ClinicError("the infusion has already ended", status=409)
    when = _when(at, "at")
    if when < inf.started_at:
        raise ClinicError("is before the start", field="at")
    inf.ended_at = when
    inf.status = "observing"


def _readings(session: Session, inf: Infusion, phase: str | None = None) -> list[VitalSign]:
    q = select(VitalSign).where(VitalSign.infusion_id == inf.id)
    if phase:
        q = q.where(VitalSign.phase == phase)
    return list(session.scalars(q.order_by(VitalSign.at)))


def add_vitals(session: Session, clinic: Clinic, inf: Infusion, body: VitalsIn,
               user_id: str) -> VitalSign:
    _open(inf)
    if inf.discharged_at is not None:
        raise ClinicError("the patient has been discharged", status=409)
    if body.diastolic >= body.systolic:
        raise ClinicError(f"is {body.diastolic:g}, not below the systolic {body.systolic:g}",
                          field="diastolic")
    judged = infusion_action(limits(clinic), systolic=body.systolic, diastolic=body.diastolic,
                             heart_rate=body.heart_rate, spo2=body.spo2)
    action = {"no limits set": "unset"}.get(judged.action, judged.action)
    v = VitalSign(clinic_id=inf.clinic_id, infusion_id=inf.id, at=_when(body.at, "at"),
                  phase=body.phase, systolic=body.systolic, diastolic=body.diastolic,
                  heart_rate=body.heart_rate, spo2=body.spo2, action=action,
                  reasons=list(judged.reasons), recorded_by=user_id)
    session.add(v)
    session.flush()
    return v


def add_cadss(session: Session, inf: Infusion, answers: list[int], user_id: str) -> int:
    _open(inf)
    try:
        total = score("cadss", answers).total
    except MeasureError as exc:
        raise ClinicError(str(exc), field="answers") from exc
    record_response(session, inf.clinic_id, inf.patient_id, "cadss", answers, source="staff",
                    entered_by=user_id, infusion_id=inf.id)
    inf.cadss_total = total
    inf.cadss_answers = list(answers)
    return total


def add_event(session: Session, inf: Infusion, body: AdverseEventIn,
              user_id: str) -> AdverseEvent:
    _open(inf)
    e = AdverseEvent(clinic_id=inf.clinic_id, infusion_id=inf.id, patient_id=inf.patient_id,
                     at=_when(body.at, "at"), description=body.description,
                     severity=body.severity, action_taken=body.action_taken,
                     recorded_by=user_id)
    session.add(e)
    session.flush()
    outcomes.refresh_patient(session, inf.patient_id)
    return e


def discharge(session: Session, inf: Infusion, body: DischargeIn) -> None:
    _open(inf)
    when = _when(body.at, "at")
    if inf.ended_at is None:
        raise ClinicError("end the infusion before discharge", status=409)
    if inf.discharged_at is not None:
        raise ClinicError("the patient has already been discharged", status=409)
    if when - inf.ended_at < OBSERVE:
        raise ClinicError(f"only {(when - inf.ended_at).total_seconds() / 60:.0f} min after "
                          "the infusion ended; observe for at least 2 hours (MON-OBS-2H)",
                          field="at")
    if not (body.blood_pressure_decreasing and body.clinically_stable):
        raise ClinicError("discharge needs blood pressure decreasing and the patient "
                          "clinically stable; otherwise keep monitoring (MON-DISCHARGE)",
                          field="clinically_stable")
    if not body.escort_present:
        raise ClinicError("the patient leaves with the escort arranged before dosing (no "
                          "driving until the next day); record who takes them home",
                          field="escort_present")
    if not _readings(session, inf, "discharge"):
        raise ClinicError("record pre-discharge vitals first", field="vitals", status=409)
    inf.discharged_at = when
    inf.discharge_criteria = body.model_dump(mode="json", exclude={"at"})
    inf.escort_arranged = body.escort_present
    inf.status = "discharged"


def missing_for_signature(session: Session, inf: Infusion) -> list[str]:
    """Every required field still empty; the form cannot be signed until this is empty."""
    return signature_gaps(inf, _readings(session, inf))


def signature_gaps(inf: Infusion, readings: Sequence[VitalSign]) -> list[str]:
    """``missing_for_signature`` for an infusion and its readings in hand."""
    missing = [k for k in ("consent_recorded", "psychiatric_assessment_done", "escort_arranged")
               if not inf.checklist.get(k)]
    if not any(v.phase == "pre" for v in readings):
        missing.append("blood pressure before dosing")
    if inf.started_at is None:
        missing.append("infusion start time")
    started = inf.started_at
    if started is None or not any(v.at - started >= BP_AFTER for v in readings
                                  if v.phase in ("during", "post")):
        missing.append("blood pressure about 40 minutes after the start")
    if not any(v.spo2 is not None for v in readings):
        missing.append("pulse oximetry (SpO2)")
    if inf.ended_at is None:
        missing.append("infusion end time")
    if inf.cadss_total is None:
        missing.append("dissociation rating (CADSS)")
    if not any(v.phase == "discharge" for v in readings):
        missing.append("pre-discharge vitals")
    if inf.discharged_at is None:
        missing.append("discharge time and criteria")
    elif inf.ended_at is not None and inf.discharged_at - inf.ended_at < OBSERVE:
        missing.append("2 hours of observation between the end and discharge")
    return missing


def sign(session: Session, inf: Infusion, user_id: str) -> None:
    _open(inf)
    missing = missing_for_signature(session, inf)
    if missing:
        raise ClinicError("cannot sign: required fields are empty: " + "; ".join(missing),
                          field="form", status=409)
    inf.signed_by = user_id
    inf.signed_at = utcnow()
    inf.status = "signed"


def monitoring_rules() -> list[dict[str, str]]:
    book = load_rules()
    return [{"id": m["id"], "text": m["text"],
             "source": f"{book.sources[m['source']].citation}; \"{m['quote']}\""}
            for m in book.monitoring["infusion"]]
