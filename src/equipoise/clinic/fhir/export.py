"""A clinic's patients, questionnaire responses, scored observations, antidepressant courses
(MedicationRequest) and CBT sessions (Procedure) as a FHIR R4B collection Bundle.

Resource ids are derived from the content that identifies each resource (record number,
instrument, time), never from database ids, clinics or users: the same records give the same
bundle in any clinic, which is what lets an export, imported into an empty clinic and exported
again, come back identical.
"""

from __future__ import annotations

import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.care.instruments import instrument
from equipoise.clinic.fhir.terminology import (
    BODY_WEIGHT,
    CBT_CODE,
    CBT_SYSTEM,
    EXT,
    LOINC,
    MRN_SYSTEM,
    OBSERVATION_CATEGORY,
    QUESTIONNAIRE,
    UCUM,
)
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.prescriptions.models import DoseStep, MedicationCourse
from equipoise.clinic.questionnaires.models import Observation, QuestionnaireResponse
from equipoise.clinic.therapy.models import TherapySession

NAMESPACE = uuid.UUID("5a3f0b0e-7c1d-4f5e-9a77-2f6c0d1e9b31")   # equipoise's, fixed


def fhir_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join(parts)))


def _time(value: Any) -> str:
    return str(value.isoformat().replace("+00:00", "Z"))


def patient_resources(p: Patient) -> list[dict[str, Any]]:
    pid = fhir_id("patient", p.mrn)
    out: list[dict[str, Any]] = [{
        "resourceType": "Patient", "id": pid,
        "identifier": [{"system": MRN_SYSTEM, "value": p.mrn}],
        "name": [{"family": p.family_name, "given": [p.given_name]}],
        "gender": p.sex, "birthDate": p.birth_date.isoformat()}]
    if p.synthetic:
        out[0]["meta"] = {"tag": [{"system": "urn:equipoise:tag", "code": "synthetic"}]}
    if p.weight_kg is not None:
        out.append({"resourceType": "Observation", "id": fhir_id("weight", p.mrn),
                    "status": "final",
                    "category": [{"coding": [{"system": OBSERVATION_CATEGORY,
                                              "code": "vital-signs"}]}],
                    "code": {"coding": [{"system": LOINC, "code": BODY_WEIGHT,
                                         "display": "Body weight"}]},
                    "subject": {"reference": f"Patient/{pid}"},
                    "valueQuantity": {"value": p.weight_kg, "unit": "kg", "system": UCUM,
                                      "code": "kg"}})
    return out


def response_resources(p: Patient, r: QuestionnaireResponse,
                       o: Observation) -> list[dict[str, Any]]:
    pid = fhir_id("patient", p.mrn)
    inst = instrument(r.instrument)
    qid = fhir_id("questionnaire-response", p.mrn, r.instrument, _time(r.authored))
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse", "id": qid,
        "questionnaire": QUESTIONNAIRE + r.instrument, "status": "completed",
        "subject": {"reference": f"Patient/{pid}"}, "authored": _time(r.authored),
        "item": [{"linkId": item.key, "answer": [{"valueInteger": int(value)}]}
                 for item, value in zip(inst.items, r.answers, strict=True)]}
    if r.source == "patient":
        qr["source"] = {"reference": f"Patient/{pid}"}
    obs: dict[str, Any] = {
        "resourceType": "Observation", "id": fhir_id("score", qid), "status": "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
        "code": {"coding": [{"system": o.code_system, "code": o.code, "display": o.display}]},
        "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": _time(o.effective),
        "valueQuantity": {"value": o.value, "unit": "{score}", "system": UCUM,
                          "code": "{score}"},
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{qid}"}]}
    if o.band:
        obs["interpretation"] = [{"text": o.band}]
    return [qr, obs]


def therapy_resource(p: Patient, t: TherapySession) -> dict[str, Any]:
    """A CBT session as a Procedure: attended is completed; cancelled and no-show are
    not-done with the reason; number, format and minutes as equipoise extensions."""
    pid = fhir_id("patient", p.mrn)
    out: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": fhir_id("cbt", p.mrn, t.on.isoformat(), str(t.number)),
        "status": "completed" if t.attended == "attended" else "not-done",
        "code": {"coding": [{"system": CBT_SYSTEM, "code": CBT_CODE,
                             "display": "Cognitive behavioural therapy session"}]},
        "subject": {"reference": f"Patient/{pid}"}, "performedDateTime": t.on.isoformat(),
        "extension": [{"url": EXT + "session-number", "valueInteger": t.number},
                      {"url": EXT + "format", "valueCode": t.modality},
                      {"url": EXT + "minutes", "valueInteger": t.minutes}]}
    if t.attended != "attended":
        out["statusReason"] = {"text": t.attended}
    return out


def course_resource(p: Patient, c: MedicationCourse,
                    steps: list[DoseStep]) -> dict[str, Any]:
    """An antidepressant course as one MedicationRequest: a dosage instruction per dose step
    (daily dose from its day to the next step's, or to the stop), acknowledged dose rules as
    extensions."""
    pid = fhir_id("patient", p.mrn)
    dosages = []
    for k, step in enumerate(steps):
        end = steps[k + 1].from_date if k + 1 < len(steps) else c.stopped_on
        period = {"start": step.from_date.isoformat()} | (
            {"end": end.isoformat()} if end else {})
        dosage: dict[str, Any] = {
            "sequence": k + 1,
            "timing": {"repeat": {"boundsPeriod": period, "frequency": 1, "period": 1,
                                  "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": step.dose_mg_per_day, "unit": "mg",
                                              "system": UCUM, "code": "mg"}}]}
        if step.acknowledged_rules:
            dosage["extension"] = [{"url": EXT + "acknowledged-rule", "valueString": rule}
                                   for rule in step.acknowledged_rules]
        dosages.append(dosage)
    out: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": fhir_id("course", p.mrn, c.drug, c.started_on.isoformat()),
        "status": "stopped" if c.stopped_on else "active", "intent": "order",
        "medicationCodeableConcept": {"text": c.drug},
        "subject": {"reference": f"Patient/{pid}"}, "authoredOn": c.started_on.isoformat(),
        "dosageInstruction": dosages}
    if c.stopped_on:
        out["statusReason"] = {"text": c.stop_reason}
    return out


def export_bundle(session: Session, clinic_id: str) -> dict[str, Any]:
    """Every patient of the clinic with their questionnaires, as a validated Bundle (JSON)."""
    resources: list[dict[str, Any]] = []
    patients = session.scalars(select(Patient).where(Patient.clinic_id == clinic_id)
                               .order_by(Patient.mrn)).all()
    by_id = {p.id: p for p in patients}
    for p in patients:
        resources += patient_resources(p)
    rows = session.execute(select(QuestionnaireResponse, Observation).join(
        Observation, Observation.response_id == QuestionnaireResponse.id).where(
        QuestionnaireResponse.clinic_id == clinic_id)).all()
    for r, o in sorted(rows, key=lambda ro: (by_id[ro[0].patient_id].mrn, ro[0].authored,
                                              ro[0].instrument)):
        resources += response_resources(by_id[r.patient_id], r, o)
    courses = session.scalars(select(MedicationCourse).where(
        MedicationCourse.clinic_id == clinic_id)).all()
    steps: dict[str, list[DoseStep]] = {c.id: [] for c in courses}
    for step in session.scalars(select(DoseStep).where(DoseStep.clinic_id == clinic_id)
                                .order_by(DoseStep.from_date)):
        steps[step.course_id].append(step)
    for c in sorted(courses, key=lambda c: (by_id[c.patient_id].mrn, c.started_on, c.drug)):
        resources.append(course_resource(by_id[c.patient_id], c, steps[c.id]))
    sessions = session.scalars(select(TherapySession).where(
        TherapySession.clinic_id == clinic_id)).all()
    for t in sorted(sessions, key=lambda t: (by_id[t.patient_id].mrn, t.on, t.number)):
        resources.append(therapy_resource(by_id[t.patient_id], t))
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": f"urn:uuid:{res['id']}", "resource": res}
                        for res in resources]}
    Bundle.model_validate(bundle)               # structure, by fhir.resources
    return bundle
