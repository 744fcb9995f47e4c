"""Medication courses of one clinic, and the cited dose limits every dose is checked against.

A dose that fires a dose rule is refused unless the request acknowledges exactly the rules
that fire; the acknowledged rule ids are stored on the dose step (and the write, with its
author and time, in the audit log).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.care.profile import Medication, Profile
from equipoise.care.safety import load_rules, screen
from equipoise.clinic.db import owned
from equipoise.clinic.outcomes import service as outcomes
from equipoise.clinic.patients.identity import age
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.prescriptions.models import DoseStep, MedicationCourse
from equipoise.errors import ClinicError


def get(session: Session, clinic_id: str, course_id: str) -> MedicationCourse:
    return owned(session, MedicationCourse, clinic_id, course_id, "medication course")


def for_patient(session: Session, clinic_id: str, patient_id: str) -> list[MedicationCourse]:
    return list(session.scalars(select(MedicationCourse).where(
        MedicationCourse.clinic_id == clinic_id, MedicationCourse.patient_id == patient_id)
        .order_by(MedicationCourse.started_on, MedicationCourse.id)))


def steps(session: Session, clinic_id: str,
          course_ids: Sequence[str]) -> dict[str, list[DoseStep]]:
    """Each course's dose steps, in date order."""
    out: dict[str, list[DoseStep]] = {c: [] for c in course_ids}
    for s in session.scalars(select(DoseStep).where(
            DoseStep.clinic_id == clinic_id, DoseStep.course_id.in_(course_ids))
            .order_by(DoseStep.from_date, DoseStep.id)):
        out[s.course_id].append(s)
    return out


def _source(key: str, quote: str) -> str:
    s = load_rules().sources[key]
    return f"{s.citation}; {s.url}; \"{quote}\""


def dose_findings(patient: Patient, drug: str, dose: float, on: dt.date,
                  previous: DoseStep | None = None) -> list[dict[str, str]]:
    """The cited limits a daily ``dose`` of ``drug`` from ``on`` breaks: the safety rules with
    ``dose_above`` (screened with the patient's age that day), and the drug's label dosing
    (maximum dose, minimum days between increases) where the rules table gives one."""
    # Only the fields the dose rules read are real; weight is not one of them.
    profile = Profile(age=float(age(patient.birth_date, on)), sex=patient.sex,
                      weight_kg=patient.weight_kg or 0.0, pregnant=False, breastfeeding=False,
                      diagnoses=(), scores={}, prior_treatments=(),
                      medications=(Medication(drug, dose),), conditions=frozenset(),
                      condition_text=(), unrecognised_conditions=(), vitals=None,
                      preferences=())
    found = {f.rule.id: f.rule.to_dict() | {"because": f.because}
             for f in screen(profile, on=on) if "dose_above" in f.rule.when}
    label = load_rules().dosing.get(drug, {})
    name = drug.capitalize()
    if "max_mg" in label and dose > float(label["max_mg"]):
        rid = f"{drug.upper()}-MAX-{float(label['max_mg']):g}"
        found[rid] = {"id": rid, "severity": "relative",
                      "text": f"{name} above {float(label['max_mg']):g} mg a day: beyond the "
                              "label's dosing, which goes no higher (quoted below).",
                      "source": _source(label["source"], label["quote"]),
                      "because": f"{dose:g} mg/day"}
    days = label.get("step_after_days")
    if (days is not None and previous is not None and dose > previous.dose_mg_per_day
            and (on - previous.from_date).days < int(days)):
        rid = f"{drug.upper()}-STEP-{int(days)}-DAYS"
        found[rid] = {"id": rid, "severity": "relative",
                      "text": f"{name} increased sooner than {int(days)} days after the last "
                              "change: the label asks for at least that long.",
                      "source": _source(label["source"], label["quote"]),
                      "because": f"{previous.dose_mg_per_day:g} mg/day from "
                                 f"{previous.from_date.isoformat()}, {dose:g} mg/day from "
                                 f"{on.isoformat()}"}
    return list(found.values())


def _checked(findings: Iterable[dict[str, str]], acknowledge: Iterable[str]) -> list[str]:
    """The fired rule ids, if every one is acknowledged (else 422 naming the dose)."""
    fired = {f["id"]: f for f in findings}
    asked = set(acknowledge)
    missing = [fired[k] for k in sorted(fired) if k not in asked]
    if missing:
        raise ClinicError(
            "the dose breaks " + "; ".join(
                f"{f['id']} ({f['severity']}): {f['text']} [{f['because']}; source: "
                f"{f['source']}]" for f in missing)
            + f"; to record it anyway, send acknowledge_rules: [{', '.join(sorted(fired))}]",
            field="dose_mg_per_day")
    extra = sorted(asked - set(fired))
    if extra:
        raise ClinicError(f"{', '.join(extra)} did not fire for this dose; acknowledge only "
                          "the rules that fire", field="acknowledge_rules")
    return sorted(fired)


def create(session: Session, patient: Patient, drug: str, started_on: dt.date, dose: float,
           acknowledge: Iterable[str], user_id: str) -> tuple[MedicationCourse, DoseStep,
                                                              list[str]]:
    """A course and its first dose step; returns the acknowledged rule ids with them."""
    fired = _checked(dose_findings(patient, drug, dose, started_on), acknowledge)
    course = MedicationCourse(clinic_id=patient.clinic_id, patient_id=patient.id, drug=drug,
                              drug_class=load_rules().medications[drug], started_on=started_on,
                              created_by=user_id)
    session.add(course)
    session.flush()
    step = DoseStep(clinic_id=patient.clinic_id, course_id=course.id, from_date=started_on,
                    dose_mg_per_day=dose, acknowledged_rules=fired, created_by=user_id)
    session.add(step)
    session.flush()
    outcomes.refresh(session, patient)
    return course, step, fired


def add_step(session: Session, course: MedicationCourse, patient: Patient, from_date: dt.date,
             dose: float, acknowledge: Iterable[str], user_id: str) -> tuple[DoseStep, list[str]]:
    if course.stopped_on is not None:
        raise ClinicError(f"the course was stopped on {course.stopped_on.isoformat()}",
                          field="from_date", status=409)
    if from_date < course.started_on:
        raise ClinicError(f"is before the course started ({course.started_on.isoformat()})",
                          field="from_date")
    previous = steps(session, course.clinic_id, [course.id])[course.id]
    last = previous[-1] if previous else None
    # Strictly after: two steps from one day would leave that day's dose ambiguous.
    if last is not None and from_date <= last.from_date:
        raise ClinicError(f"must be after the previous step ({last.from_date.isoformat()})",
                          field="from_date")
    fired = _checked(dose_findings(patient, course.drug, dose, from_date, last), acknowledge)
    step = DoseStep(clinic_id=course.clinic_id, course_id=course.id, from_date=from_date,
                    dose_mg_per_day=dose, acknowledged_rules=fired, created_by=user_id)
    session.add(step)
    session.flush()
    return step, fired


def stop(session: Session, course: MedicationCourse, stopped_on: dt.date, reason: str) -> None:
    if course.stopped_on is not None:
        raise ClinicError(f"the course was already stopped on {course.stopped_on.isoformat()}",
                          field="stopped_on", status=409)
    last = max((s.from_date for s in steps(session, course.clinic_id, [course.id])[course.id]),
               default=course.started_on)
    if stopped_on < last:
        raise ClinicError(f"is before the course's last dose step ({last.isoformat()})",
                          field="stopped_on")
    course.stopped_on = stopped_on
    course.stop_reason = reason
