"""Care plans: the patient's record and a clinical profile through the planner, stored.

Age and sex come from the patient record (age on the plan's start date), so a plan never
disagrees with the chart; the clinic's protocol gives the dose settings and in-infusion limits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from equipoise.care.planner import make_plan
from equipoise.care.profile import parse_profile
from equipoise.care.safety import VitalLimits
from equipoise.clinic.accounts.models import Clinic
from equipoise.clinic.care_plans.models import CarePlanRecord
from equipoise.clinic.db import owned
from equipoise.clinic.outcomes import service as outcomes
from equipoise.clinic.patients.identity import age
from equipoise.clinic.patients.models import Patient
from equipoise.errors import ClinicError, FileProblem, ModelError, ModelFileError

# Small simulations: a plan is made while the clinician waits.
DRAWS, PATIENTS, SEED = 20, 200, 0
FROM_RECORD = ("age", "sex", "start_date", "name")
PROFILE = "profile"
_LIMIT_FIELDS = tuple(f.name for f in dataclasses.fields(VitalLimits))


def get(session: Session, clinic_id: str, plan_id: str) -> CarePlanRecord:
    return owned(session, CarePlanRecord, clinic_id, plan_id, "care plan")


def for_patient(session: Session, clinic_id: str, patient_id: str, *,
                listed: bool = False) -> list[CarePlanRecord]:
    """The patient's plans, newest first; ``listed``: without their profile and plan
    documents (loaded only if read), for lists that show dates and the recommendation."""
    q = select(CarePlanRecord).where(
        CarePlanRecord.clinic_id == clinic_id, CarePlanRecord.patient_id == patient_id)
    if listed:
        q = q.options(defer(CarePlanRecord.profile), defer(CarePlanRecord.plan))
    return list(session.scalars(q.order_by(CarePlanRecord.created_at.desc(),
                                           CarePlanRecord.id.desc())))


def profile_document(patient: Patient, given: dict[str, Any], start: dt.date) -> dict[str, Any]:
    """The planner's profile: ``given`` plus age, sex (and weight if not given) from the record.

    Raises ModelFileError naming each field that the record owns or that is missing.
    """
    problems = [FileProblem(PROFILE, 1, k, "comes from the patient record; leave it out")
                for k in FROM_RECORD if k in given]
    weight = given.get("weight_kg", patient.weight_kg)
    if weight is None:
        problems.append(FileProblem(PROFILE, 1, "weight_kg", "is required: give it here or "
                                                             "record the patient's weight"))
    if problems:
        raise ModelFileError(problems)
    return {**given, "age": age(patient.birth_date, start), "sex": patient.sex,
            "weight_kg": weight, "start_date": start.isoformat()}


def _protocol(clinic: Clinic) -> tuple[float | None, float | None, VitalLimits]:
    """The clinic's mg_per_kg, cap_mg and in-infusion limits (409 if an admin must fix them)."""
    protocol = clinic.protocol or {}
    try:
        dosing = []
        for key in ("mg_per_kg", "cap_mg"):
            value = protocol.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                      or not value > 0):
                raise ModelError(f"{key} must be a positive number, got {value!r}")
            dosing.append(None if value is None else float(value))
        limits = VitalLimits(**{k: protocol[k] for k in _LIMIT_FIELDS if k in protocol})
    except (ModelError, TypeError) as exc:
        raise ClinicError(f"the clinic's protocol cannot be used: {exc}; an administrator "
                          "must correct it", status=409) from exc
    return dosing[0], dosing[1], limits


def create(session: Session, patient: Patient, given: dict[str, Any], start: dt.date,
           user_id: str) -> CarePlanRecord:
    """Plan and store; a profile problem raises ModelFileError (each names its field)."""
    document = profile_document(patient, given, start)
    profile = parse_profile(json.dumps(document, indent=1), PROFILE)
    clinic = session.get(Clinic, patient.clinic_id)
    assert clinic is not None
    mg_per_kg, cap_mg, limits = _protocol(clinic)
    plan = make_plan(profile, start=start, mg_per_kg=mg_per_kg, cap_mg=cap_mg, draws=DRAWS,
                     patients=PATIENTS, seed=SEED, limits=limits)
    r = CarePlanRecord(clinic_id=patient.clinic_id, patient_id=patient.id, start_date=start,
                       recommended=plan.recommended, profile=document, plan=plan.to_dict(),
                       created_by=user_id)
    session.add(r)
    session.flush()
    outcomes.refresh_with_alerts(session, patient)      # the plan moves its alerts too
    return r
