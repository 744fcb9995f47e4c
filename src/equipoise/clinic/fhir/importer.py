"""Import a FHIR R4B Bundle of patients, questionnaire responses, observations, antidepressant
courses (MedicationRequest), CBT sessions (Procedure), ketamine infusions (MedicationAdministration
with their vital-signs Observations and AdverseEvents) and care plans (CarePlan) into a clinic.

All or nothing: the bundle is checked whole first — structure (``fhir.resources``), value sets,
references, the clinic's own rules (record numbers, scoring, the ranges of its request bodies,
an infusion's start and signature checks) — and any problem rejects it, every problem named by
entry, resource and field; only a clean bundle writes anything. Infusions, readings, adverse
events and care plans are written as they were exported (not screened, judged or planned
again); the imported patients' alerts and outcome summaries are then computed from what was
imported. What the importing user did not do is not ascribed to anyone else: they become the
records' author, and an imported signature keeps its time but names no signer (the bundle
carries when a form was signed, not by whom: users belong to one clinic).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.care.measures import score
from equipoise.care.safety import load_rules
from equipoise.clinic.care_plans.models import CarePlanRecord
from equipoise.clinic.fhir.import_care_plans import care_plan, care_plan_statuses
from equipoise.clinic.fhir.import_infusions import (
    VITAL_CODES,
    adverse_event,
    infusion,
    infusion_rules,
    vitals,
    write_infusions,
)
from equipoise.clinic.fhir.reading import (
    ImportPlan,
    locate,
    reference_to,
)
from equipoise.clinic.fhir.terminology import (
    BODY_WEIGHT,
    CBT_CODE,
    CBT_SYSTEM,
    EXT,
    MRN_SYSTEM,
    QUESTIONNAIRE,
    value_set_problems,
)
from equipoise.clinic.outcomes import service as outcomes
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.prescriptions import service as prescriptions
from equipoise.clinic.questionnaires.service import record_response
from equipoise.clinic.therapy.models import TherapySession
from equipoise.errors import ClinicError, MeasureError


class BundleError(ClinicError):
    """A bundle that cannot be imported; ``problems`` name entry, resource and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was imported: "
                         + "; ".join(problems[:50]), field="entry")
        self.problems = problems


def _structure(bundle: Any) -> list[str]:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return ["the body is not a FHIR Bundle (resourceType must be 'Bundle')"]
    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        out = []
        for e in exc.errors():
            loc = list(e["loc"])
            if len(loc) >= 3 and loc[0] == "entry" and isinstance(loc[1], int):
                res = (bundle.get("entry") or [{}])[loc[1]].get("resource", {}) \
                    if loc[1] < len(bundle.get("entry") or []) else {}
                rest = ".".join(str(x) for x in loc[3:] if x != "resource") or "resource"
                out.append(f"{locate(loc[1], res if isinstance(res, dict) else {})}: "
                           f"{rest}: {e['msg']}")
            else:
                out.append(f"Bundle: {'.'.join(str(x) for x in loc)}: {e['msg']}")
        return out
    return []


def _check(bundle: dict[str, Any], session: Session, clinic_id: str) -> ImportPlan:
    plan = ImportPlan()
    entries = [e.get("resource", {}) for e in bundle.get("entry", [])]
    existing = set(session.scalars(select(Patient.mrn).where(Patient.clinic_id == clinic_id)))
    seen: dict[str, int] = {}
    for i, res in enumerate(entries):
        where = locate(i, res)
        plan.problems += value_set_problems(res, where)
        key = f"{res.get('resourceType')}/{res.get('id')}"
        if key in seen:
            plan.problems.append(f"{where}: id: the same as entry[{seen[key]}]'s")
        seen.setdefault(key, i)
        if res.get("resourceType") in ("QuestionnaireResponse", "MedicationAdministration"):
            plan.subjects[key] = reference_to(res.get("subject"), "Patient")
        if res.get("resourceType") == "Patient":
            mrn = next((x.get("value") for x in res.get("identifier", [])
                        if x.get("system") == MRN_SYSTEM), None)
            name = (res.get("name") or [{}])[0]
            if not mrn:
                plan.problems.append(f"{where}: identifier: needs a record number "
                                     f"({MRN_SYSTEM})")
            elif mrn in existing:
                plan.problems.append(f"{where}: identifier: record number {mrn!r} exists "
                                     "in this clinic")
            if not name.get("family") or not name.get("given"):
                plan.problems.append(f"{where}: name: needs a family and a given name")
            if not res.get("birthDate"):
                plan.problems.append(f"{where}: birthDate: is required")
            plan.patients[res.get("id", "")] = {
                "mrn": mrn, "family_name": name.get("family"),
                "given_name": (name.get("given") or [""])[0], "sex": res.get("gender",
                                                                              "unknown"),
                "birth_date": res.get("birthDate"), "weight_kg": None,
                "synthetic": any(t.get("code") == "synthetic"
                                 for t in res.get("meta", {}).get("tag", []))}
    responses = {}
    readings: dict[str, tuple[str, dict[str, Any]]] = {}      # Observation id -> (where, resource)
    for i, res in enumerate(entries):
        where = locate(i, res)
        kind = res.get("resourceType")
        if kind == "QuestionnaireResponse":
            subject = reference_to(res.get("subject"), "Patient")
            name = str(res.get("questionnaire", "")).removeprefix(QUESTIONNAIRE)
            if subject not in plan.patients:
                plan.problems.append(f"{where}: subject: not a Patient of this bundle")
            answers: dict[str | int, Any] = {}
            for item in res.get("item", []):
                value = (item.get("answer") or [{}])[0].get("valueInteger")
                answers[str(item.get("linkId"))] = value
            try:
                total = score(name, answers).total
            except MeasureError as exc:
                plan.problems.append(f"{where}: item: {exc}")
                continue
            responses[res.get("id")] = total
            plan.responses.append({"id": res.get("id"), "subject": subject, "instrument": name,
                                   "answers": answers, "authored": res.get("authored"),
                                   "patient_source": bool(res.get("source"))})
        elif kind == "Observation":
            subject = reference_to(res.get("subject"), "Patient")
            if subject not in plan.patients:
                plan.problems.append(f"{where}: subject: not a Patient of this bundle")
                continue
            codes = {c.get("code") for c in res.get("code", {}).get("coding", [])}
            value = res.get("valueQuantity", {}).get("value")
            if BODY_WEIGHT in codes:
                plan.patients[subject]["weight_kg"] = value
            elif codes & VITAL_CODES:
                readings[str(res.get("id"))] = (where, res)
            elif kind == "Observation" and res.get("derivedFrom"):
                source = reference_to(res["derivedFrom"][0], "QuestionnaireResponse")
                if source not in responses:
                    plan.problems.append(f"{where}: derivedFrom: not a QuestionnaireResponse "
                                         "of this bundle")
                elif value != responses[source]:
                    plan.problems.append(f"{where}: valueQuantity: {value!r} does not match "
                                         f"the scored response ({responses[source]})")
            else:
                plan.problems.append(f"{where}: code: not a body weight, a questionnaire "
                                     "score or an infusion's vital sign equipoise imports")
        elif kind == "Procedure":
            _procedure(res, where, plan)
        elif kind == "MedicationRequest":
            _course(res, where, plan)
        elif kind == "MedicationAdministration":
            infusion(res, where, plan)
        elif kind == "AdverseEvent":
            adverse_event(res, where, plan)
        elif kind == "CarePlan":
            care_plan(res, where, plan)
        elif kind not in ("Patient",):
            plan.problems.append(f"{where}: resourceType: {kind!r} is not imported here")
    vitals(readings, plan)
    infusion_rules(plan)
    care_plan_statuses(plan)
    return plan


ATTENDANCE = ("attended", "cancelled", "no_show")
FORMATS = ("individual", "group", "digital")


def _procedure(res: dict[str, Any], where: str, plan: ImportPlan) -> None:
    subject = reference_to(res.get("subject"), "Patient")
    codes = {(c.get("system"), c.get("code")) for c in res.get("code", {}).get("coding", [])}
    ext = {str(e.get("url", "")).removeprefix(EXT): e for e in res.get("extension", [])}
    problems = []
    if subject not in plan.patients:
        problems.append(f"{where}: subject: not a Patient of this bundle")
    if (CBT_SYSTEM, CBT_CODE) not in codes:
        problems.append(f"{where}: code: only CBT sessions ({CBT_SYSTEM}|{CBT_CODE}) are "
                        "imported")
    attended = "attended" if res.get("status") == "completed" else \
        res.get("statusReason", {}).get("text")
    if attended not in ATTENDANCE:
        problems.append(f"{where}: statusReason: a session not done needs 'cancelled' or "
                        "'no_show'")
    number = ext.get("session-number", {}).get("valueInteger")
    minutes = ext.get("minutes", {}).get("valueInteger")
    fmt = ext.get("format", {}).get("valueCode")
    if not isinstance(number, int) or not 1 <= number <= 500:
        problems.append(f"{where}: extension: session-number must be 1-500")
    if not isinstance(minutes, int) or not 1 <= minutes <= 240:
        problems.append(f"{where}: extension: minutes must be 1-240")
    if fmt not in FORMATS:
        problems.append(f"{where}: extension: format must be one of {', '.join(FORMATS)}")
    try:
        on = dt.date.fromisoformat(str(res.get("performedDateTime")))
    except ValueError:
        problems.append(f"{where}: performedDateTime: must be a date like 2026-01-05")
        on = None
    plan.problems += problems
    if not problems:
        plan.sessions.append({"subject": subject, "on": on, "number": number,
                              "modality": fmt, "minutes": minutes, "attended": attended})


def _course(res: dict[str, Any], where: str, plan: ImportPlan) -> None:
    """A course: an SSRI/SNRI of the catalogue, dose steps in date order, each dose either
    within the cited dose rules or with the fired rules acknowledged (checked on import)."""
    subject = reference_to(res.get("subject"), "Patient")
    problems = []
    if subject not in plan.patients:
        problems.append(f"{where}: subject: not a Patient of this bundle")
    drug = str(res.get("medicationCodeableConcept", {}).get("text", "")).strip().lower()
    if load_rules().medications.get(drug) not in ("ssri", "snri"):
        problems.append(f"{where}: medicationCodeableConcept: {drug!r} is not an SSRI or SNRI "
                        "of equipoise's catalogue")
    steps = []
    for k, d in enumerate(res.get("dosageInstruction", [])):
        period = d.get("timing", {}).get("repeat", {}).get("boundsPeriod", {})
        dose = (d.get("doseAndRate") or [{}])[0].get("doseQuantity", {})
        try:
            start = dt.date.fromisoformat(str(period.get("start")))
        except ValueError:
            problems.append(f"{where}: dosageInstruction[{k}]: timing needs a start date")
            continue
        value = dose.get("value")
        if dose.get("code") != "mg" or not isinstance(value, int | float) or value <= 0:
            problems.append(f"{where}: dosageInstruction[{k}]: doseQuantity must be mg above 0")
            continue
        acks = [str(e.get("valueString")) for e in d.get("extension", [])
                if e.get("url") == EXT + "acknowledged-rule"]
        steps.append((start, float(value), acks, period.get("end")))
    if not steps:
        problems.append(f"{where}: dosageInstruction: needs at least one dose")
    elif [s[0] for s in steps] != sorted({s[0] for s in steps}):
        problems.append(f"{where}: dosageInstruction: doses must start on increasing days")
    plan.problems += problems
    if not problems:
        stopped = res.get("status") == "stopped"
        plan.courses.append({
            "subject": subject, "drug": drug, "steps": steps,
            "stopped_on": steps[-1][3] if stopped else None,
            "reason": res.get("statusReason", {}).get("text", "") if stopped else ""})


def import_bundle(session: Session, clinic_id: str, user_id: str,
                  bundle: Any) -> list[Patient]:
    """Check ``bundle`` whole, then write it; the patients imported."""
    problems = _structure(bundle)
    if problems:
        raise BundleError(problems)
    plan = _check(bundle, session, clinic_id)
    if plan.problems:
        raise BundleError(plan.problems)
    ids: dict[str, Patient] = {}
    for fid, values in plan.patients.items():
        p = Patient(clinic_id=clinic_id, mrn=values["mrn"], given_name=values["given_name"],
                    family_name=values["family_name"],
                    birth_date=dt.date.fromisoformat(values["birth_date"]), sex=values["sex"],
                    weight_kg=values["weight_kg"], synthetic=values["synthetic"])
        session.add(p)
        ids[fid] = p
    session.flush()
    responses = {}
    for r in plan.responses:
        authored = dt.datetime.fromisoformat(str(r["authored"]).replace("Z", "+00:00"))
        responses[r["id"]], _ = record_response(
            session, clinic_id, ids[r["subject"]].id, r["instrument"], r["answers"],
            source="patient" if r["patient_source"] else "staff",
            entered_by=None if r["patient_source"] else user_id, authored=authored,
            refresh=False)                            # once per patient, at the end
    for c in plan.courses:
        patient = ids[c["subject"]]
        start, dose, acks, _ = c["steps"][0]
        course, _, _ = prescriptions.create(session, patient, c["drug"], start, dose, acks,
                                            user_id)
        for start, dose, acks, _ in c["steps"][1:]:
            prescriptions.add_step(session, course, patient, start, dose, acks, user_id)
        if c["stopped_on"]:
            prescriptions.stop(session, course, dt.date.fromisoformat(c["stopped_on"]),
                               c["reason"] or "imported")
    for t in plan.sessions:
        session.add(TherapySession(clinic_id=clinic_id, patient_id=ids[t.pop("subject")].id,
                                   therapist_id=user_id, **t))
    write_infusions(session, clinic_id, user_id, plan, ids, responses)
    for c in plan.care_plans:         # (their statuses were checked: the order says which)
        session.add(CarePlanRecord(
            clinic_id=clinic_id, patient_id=ids[c["subject"]].id, created_by=user_id,
            start_date=c["start_date"], created_at=c["created_at"],
            recommended=c["recommended"], profile=c["profile"], plan=c["plan"]))
    session.flush()
    for p in ids.values():               # what the imported records raise and amount to
        outcomes.refresh_with_alerts(session, p)
    return list(ids.values())
