"""A clinic's patients, questionnaire responses, scored observations, antidepressant courses
(MedicationRequest), CBT sessions (Procedure), ketamine infusions (MedicationAdministration, with
their vital signs as Observations and their AdverseEvents) and care plans (CarePlan) as a FHIR
R4B collection Bundle.

Resource ids are derived from the content that identifies each resource (record number,
instrument, time), never from database ids, clinics or users: the same records give the same
bundle in any clinic, which is what lets an export, imported into an empty clinic and exported
again, come back identical.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.care.instruments import instrument
from equipoise.clinic.care_plans.models import CarePlanRecord
from equipoise.clinic.fhir.terminology import (
    AE_SERIOUSNESS,
    AE_SEVERITY,
    BLOOD_PRESSURE,
    BODY_WEIGHT,
    CBT_CODE,
    CBT_SYSTEM,
    DIASTOLIC,
    EXT,
    HEART_RATE,
    INTRAVENOUS,
    LOINC,
    MRN_SYSTEM,
    OBSERVATION_CATEGORY,
    QUESTIONNAIRE,
    SNOMED,
    SPO2,
    SPO2_PROFILE,
    SYSTOLIC,
    UCUM,
    VITALS_PANEL,
)
from equipoise.clinic.infusions.models import AdverseEvent, Infusion, VitalSign
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


def response_id(p: Patient, r: QuestionnaireResponse) -> str:
    return fhir_id("questionnaire-response", p.mrn, r.instrument, _time(r.authored))


def response_resources(p: Patient, r: QuestionnaireResponse,
                       o: Observation) -> list[dict[str, Any]]:
    pid = fhir_id("patient", p.mrn)
    inst = instrument(r.instrument)
    qid = response_id(p, r)
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


def canonical(value: Any) -> str:
    """``value`` as canonical JSON (sorted keys, no spaces): the same data, the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _quantity(value: float, unit: str, code: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code}


# An infusion's status -> its MedicationAdministration's. R4B has no "scheduled" status for an
# administration: one not started is not-done, with the clinic's status as the reason.
ADMIN_STATUS = {"screening": "not-done", "in_progress": "in-progress", "observing": "completed",
                "discharged": "completed", "signed": "completed"}
KETAMINE = "ketamine"


def admin_status(state: str, screen_status: str) -> tuple[str, list[dict[str, str]] | None]:
    """(MedicationAdministration.status, statusReason) of an infusion in ``state``."""
    status = ADMIN_STATUS.get(state, "unknown")
    if status != "not-done":
        return status, None
    return status, [{"text": f"not started ({state}; screen {screen_status})"}]


def _nth(ordinal: int) -> tuple[str, ...]:
    """What tells apart records whose identifying content is the same (the second
    "nausea" at one time): their order, from the second on."""
    return (f"#{ordinal}",) if ordinal else ()


def infusion_id(p: Patient, inf: Infusion, ordinal: int = 0) -> str:
    return fhir_id("infusion", p.mrn, _time(inf.scheduled_for), *_nth(ordinal))


def infusion_resource(p: Patient, inf: Infusion, responses: list[str],
                      ordinal: int = 0) -> dict[str, Any]:
    """A ketamine infusion as a MedicationAdministration: start and end as effectivePeriod
    (the scheduled time as effectiveDateTime until it starts), the dose in mg given over its
    minutes (rateRatio), intravenous; the rest of the monitoring form as equipoise extensions
    (JSON-structured fields as canonical JSON); the CADSS ratings made during it (``responses``,
    QuestionnaireResponse ids) as supportingInformation. When it was signed is carried, not who
    signed: users belong to one clinic."""
    status, reason = admin_status(inf.status, inf.screen_status)
    ext: list[dict[str, Any]] = [{"url": EXT + "infusion-status", "valueCode": inf.status}]
    if inf.started_at is not None:
        ext.append({"url": EXT + "scheduled-for", "valueDateTime": _time(inf.scheduled_for)})
    ext += [{"url": EXT + "weight", "valueQuantity": _quantity(inf.weight_kg, "kg", "kg")},
            {"url": EXT + "mg-per-kg",
             "valueQuantity": _quantity(inf.mg_per_kg, "mg/kg", "mg/kg")},
            {"url": EXT + "checklist", "valueString": canonical(inf.checklist)},
            {"url": EXT + "screen", "valueString": canonical(inf.screen)},
            {"url": EXT + "screen-status", "valueCode": inf.screen_status}]
    if inf.benzodiazepine_mg_diazepam_24h is not None:
        ext.append({"url": EXT + "benzodiazepine-mg-diazepam-24h",
                    "valueQuantity": _quantity(inf.benzodiazepine_mg_diazepam_24h, "mg", "mg")})
    if inf.cadss_total is not None:
        ext.append({"url": EXT + "cadss-total", "valueInteger": inf.cadss_total})
    if inf.cadss_answers is not None:
        ext.append({"url": EXT + "cadss-answers", "valueString": canonical(inf.cadss_answers)})
    if inf.discharged_at is not None:
        ext.append({"url": EXT + "discharged-at", "valueDateTime": _time(inf.discharged_at)})
    ext.append({"url": EXT + "discharge-criteria",
                "valueString": canonical(inf.discharge_criteria)})
    if inf.escort_arranged is not None:
        ext.append({"url": EXT + "escort-arranged", "valueBoolean": inf.escort_arranged})
    if inf.signed_at is not None:
        ext.append({"url": EXT + "signed-at", "valueDateTime": _time(inf.signed_at)})
    out: dict[str, Any] = {
        "resourceType": "MedicationAdministration", "id": infusion_id(p, inf, ordinal),
        "extension": ext, "status": status,
        "medicationCodeableConcept": {"text": KETAMINE},
        "subject": {"reference": f"Patient/{fhir_id('patient', p.mrn)}"},
        "dosage": {"route": {"coding": [{"system": SNOMED, "code": INTRAVENOUS,
                                         "display": "Intravenous route"}]},
                   "dose": _quantity(inf.dose_mg, "mg", "mg"),
                   "rateRatio": {"numerator": _quantity(inf.dose_mg, "mg", "mg"),
                                 "denominator": _quantity(inf.minutes, "min", "min")}}}
    if reason:
        out["statusReason"] = reason
    if inf.started_at is None:
        out["effectiveDateTime"] = _time(inf.scheduled_for)
    else:
        out["effectivePeriod"] = {"start": _time(inf.started_at)} | (
            {"end": _time(inf.ended_at)} if inf.ended_at else {})
    if responses:
        out["supportingInformation"] = [{"reference": f"QuestionnaireResponse/{q}"}
                                        for q in responses]
    return out


def _component(code: str, display: str, value: float) -> dict[str, Any]:
    return {"code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "valueQuantity": _quantity(value, "mmHg", "mm[Hg]")}


def vital_resources(p: Patient, ma_id: str, v: VitalSign,
                    ordinal: int = 0) -> list[dict[str, Any]]:
    """A reading during an infusion: a vital-signs panel (85353-1; the phase, and the action
    and reasons the clinic's limits gave, as extensions) whose members are the blood pressure
    (85354-9, systolic and diastolic components) and, when taken, heart rate and SpO2 by pulse
    oximetry; each is partOf the infusion's MedicationAdministration."""
    panel_id = fhir_id("vitals", ma_id, _time(v.at), v.phase, *_nth(ordinal))

    def observation(oid: str, code: str, display: str, *more: dict[str, str],
                    **rest: Any) -> dict[str, Any]:
        return {"resourceType": "Observation", "id": oid,
                "partOf": [{"reference": f"MedicationAdministration/{ma_id}"}],
                "status": "final",
                "category": [{"coding": [{"system": OBSERVATION_CATEGORY,
                                          "code": "vital-signs"}]}],
                "code": {"coding": [{"system": LOINC, "code": code, "display": display},
                                    *more]},
                "subject": {"reference": f"Patient/{fhir_id('patient', p.mrn)}"},
                "effectiveDateTime": _time(v.at)} | rest

    members = [observation(
        fhir_id("blood-pressure", panel_id), BLOOD_PRESSURE,
        "Blood pressure panel with all children optional",
        component=[_component(SYSTOLIC, "Systolic blood pressure", v.systolic),
                   _component(DIASTOLIC, "Diastolic blood pressure", v.diastolic)])]
    if v.heart_rate is not None:
        members.append(observation(
            fhir_id("heart-rate", panel_id), HEART_RATE, "Heart rate",
            valueQuantity=_quantity(v.heart_rate, "beats/minute", "/min")))
    if v.spo2 is not None:
        # The R4B oxygen-saturation profile requires 2708-6; 59408-5 says how it was taken.
        members.append(observation(
            fhir_id("spo2", panel_id), SPO2_PROFILE, "Oxygen saturation in Arterial blood",
            {"system": LOINC, "code": SPO2,
             "display": "Oxygen saturation in Arterial blood by Pulse oximetry"},
            valueQuantity=_quantity(v.spo2, "%", "%")))
    panel = observation(
        panel_id, VITALS_PANEL,
        "Vital signs, weight, height, head circumference, oxygen saturation and BMI panel",
        hasMember=[{"reference": f"Observation/{m['id']}"} for m in members],
        extension=[{"url": EXT + "vitals-phase", "valueCode": v.phase},
                   {"url": EXT + "vitals-action", "valueCode": v.action},
                   *({"url": EXT + "vitals-reason", "valueString": r} for r in v.reasons)])
    return [panel, *members]


def adverse_event_resource(p: Patient, ma_id: str, e: AdverseEvent,
                           ordinal: int = 0) -> dict[str, Any]:
    """An adverse event during an infusion: the description as the event's text, the infusion's
    MedicationAdministration as the suspect entity, the action taken as an extension. Mild,
    moderate and severe are R4B adverse-event-severity codes; the clinic's "serious" is not a
    severity there but a seriousness (adverse-event-seriousness "Serious"), so it goes there,
    without a severity."""
    out: dict[str, Any] = {
        "resourceType": "AdverseEvent",
        "id": fhir_id("adverse-event", ma_id, _time(e.at), e.description, *_nth(ordinal)),
        "actuality": "actual", "event": {"text": e.description},
        "subject": {"reference": f"Patient/{fhir_id('patient', p.mrn)}"},
        "date": _time(e.at), "recordedDate": _time(e.created_at),
        "suspectEntity": [{"instance": {"reference": f"MedicationAdministration/{ma_id}"}}]}
    if e.severity == "serious":
        out["seriousness"] = {"coding": [{"system": AE_SERIOUSNESS, "code": "Serious",
                                          "display": "Serious"}]}
    else:
        out["severity"] = {"coding": [{"system": AE_SEVERITY, "code": e.severity,
                                       "display": e.severity.capitalize()}]}
    if e.action_taken:
        out["extension"] = [{"url": EXT + "action-taken", "valueString": e.action_taken}]
    return out


def plan_activity(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One not-started activity per event of the plan's dated schedule."""
    out = []
    for e in plan.get("schedule", []):
        detail: dict[str, Any] = {"status": "not-started", "code": {"text": e["event"]},
                                  "scheduledPeriod": {"start": e["date"], "end": e["date"]}}
        if e["detail"]:
            detail["description"] = e["detail"]
        out.append({"detail": detail})
    return out


def plan_label(plan: dict[str, Any], recommended: str | None) -> str | None:
    """The label of the plan's option ``recommended``, if it has one."""
    return next((str(o["label"]) for o in plan.get("options", [])
                 if recommended and o.get("treatment") == recommended and o.get("label")),
                None)


def care_plan_resource(p: Patient, r: CarePlanRecord, current: bool = True) -> dict[str, Any]:
    """A stored care plan: created when the planner made it, its period from the start date,
    the recommended option's label as description, an activity per scheduled event; the
    stored profile and plan themselves, as canonical JSON extensions, are what import
    restores (the rest is derived from them and checked against them). The patient's newest
    plan is ``active``; one a newer plan replaced is ``revoked`` (request-status: ended before
    it was completed)."""
    out: dict[str, Any] = {
        "resourceType": "CarePlan", "id": fhir_id("care-plan", p.mrn, _time(r.created_at)),
        "extension": [{"url": EXT + "care-plan-profile", "valueString": canonical(r.profile)},
                      {"url": EXT + "care-plan", "valueString": canonical(r.plan)}],
        "status": "active" if current else "revoked", "intent": "plan",
        "subject": {"reference": f"Patient/{fhir_id('patient', p.mrn)}"},
        "period": {"start": r.start_date.isoformat()}, "created": _time(r.created_at)}
    label = plan_label(r.plan, r.recommended)
    if label:
        out["description"] = label
    activity = plan_activity(r.plan)
    if activity:
        out["activity"] = activity
    return out


def _infusions(session: Session, clinic_id: str, by_id: dict[str, Patient],
               cadss: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Each infusion (by record number, then scheduled time), followed by its readings and
    adverse events in time order."""
    infusions = session.scalars(select(Infusion).where(Infusion.clinic_id == clinic_id)).all()
    vitals: dict[str, list[VitalSign]] = {i.id: [] for i in infusions}
    for v in session.scalars(select(VitalSign).where(VitalSign.clinic_id == clinic_id)):
        vitals[v.infusion_id].append(v)
    events: dict[str, list[AdverseEvent]] = {i.id: [] for i in infusions}
    for e in session.scalars(select(AdverseEvent).where(AdverseEvent.clinic_id == clinic_id)):
        events[e.infusion_id].append(e)
    out: list[dict[str, Any]] = []
    seen: Counter[tuple[Any, ...]] = Counter()

    def nth(*key: Any) -> int:
        seen[key] += 1
        return seen[key] - 1

    for inf in sorted(infusions, key=lambda i: (by_id[i.patient_id].mrn, i.scheduled_for,
                                                i.status, i.dose_mg)):
        p = by_id[inf.patient_id]
        ma = infusion_resource(p, inf, sorted(cadss.get(inf.id, [])),
                               nth("infusion", p.mrn, inf.scheduled_for))
        out.append(ma)
        for v in sorted(vitals[inf.id], key=lambda v: (
                v.at, v.phase, v.systolic, v.diastolic, v.heart_rate or -1, v.spo2 or -1)):
            out += vital_resources(p, ma["id"], v, nth("vitals", ma["id"], v.at, v.phase))
        for e in sorted(events[inf.id], key=lambda e: (e.at, e.description, e.severity,
                                                       e.action_taken)):
            out.append(adverse_event_resource(p, ma["id"], e,
                                              nth("event", ma["id"], e.at, e.description)))
    return out


def export_bundle(session: Session, clinic_id: str) -> dict[str, Any]:
    """Every patient of the clinic with their questionnaires, courses, CBT sessions, infusions
    and care plans, as a validated Bundle (JSON)."""
    resources: list[dict[str, Any]] = []
    patients = session.scalars(select(Patient).where(Patient.clinic_id == clinic_id)
                               .order_by(Patient.mrn)).all()
    by_id = {p.id: p for p in patients}
    for p in patients:
        resources += patient_resources(p)
    rows = session.execute(select(QuestionnaireResponse, Observation).join(
        Observation, Observation.response_id == QuestionnaireResponse.id).where(
        QuestionnaireResponse.clinic_id == clinic_id)).all()
    cadss: dict[str, list[str]] = {}
    for r, o in sorted(rows, key=lambda ro: (by_id[ro[0].patient_id].mrn, ro[0].authored,
                                              ro[0].instrument)):
        resources += response_resources(by_id[r.patient_id], r, o)
        if r.infusion_id is not None:
            cadss.setdefault(r.infusion_id, []).append(response_id(by_id[r.patient_id], r))
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
    resources += _infusions(session, clinic_id, by_id, cadss)
    plans = session.scalars(select(CarePlanRecord).where(
        CarePlanRecord.clinic_id == clinic_id)).all()
    ordered = sorted(plans, key=lambda c: (by_id[c.patient_id].mrn, c.created_at, c.start_date))
    newest = {c.patient_id: c.id for c in ordered}          # each patient's last, by creation
    for cp in ordered:
        resources.append(care_plan_resource(by_id[cp.patient_id], cp,
                                            current=newest[cp.patient_id] == cp.id))
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": f"urn:uuid:{res['id']}", "resource": res}
                        for res in resources]}
    Bundle.model_validate(bundle)               # structure, by fhir.resources
    return bundle
