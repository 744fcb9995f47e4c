"""The codes the clinic's FHIR resources use, and the value-set check ``fhir.resources`` does
not do (it checks structure, not terminology bindings). Value sets: FHIR R4B, hl7.org/fhir/R4B.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# "Resource.path" (through lists) -> (value set, its codes): coded elements (type code).
VALUE_SETS: dict[str, tuple[str, frozenset[str]]] = {
    "Bundle.type": ("http://hl7.org/fhir/ValueSet/bundle-type", frozenset({
        "document", "message", "transaction", "transaction-response", "batch",
        "batch-response", "history", "searchset", "collection"})),
    "Patient.gender": ("http://hl7.org/fhir/ValueSet/administrative-gender",
                       frozenset({"male", "female", "other", "unknown"})),
    "QuestionnaireResponse.status": (
        "http://hl7.org/fhir/ValueSet/questionnaire-answers-status",
        frozenset({"in-progress", "completed", "amended", "entered-in-error", "stopped"})),
    "Procedure.status": ("http://hl7.org/fhir/ValueSet/event-status", frozenset({
        "preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
        "entered-in-error", "unknown"})),
    "MedicationRequest.status": ("http://hl7.org/fhir/ValueSet/medicationrequest-status",
                                 frozenset({"active", "on-hold", "cancelled", "completed",
                                            "entered-in-error", "stopped", "draft",
                                            "unknown"})),
    "MedicationRequest.intent": ("http://hl7.org/fhir/ValueSet/medicationrequest-intent",
                                 frozenset({"proposal", "plan", "order", "original-order",
                                            "reflex-order", "filler-order", "instance-order",
                                            "option"})),
    "Observation.status": ("http://hl7.org/fhir/ValueSet/observation-status", frozenset({
        "registered", "preliminary", "final", "amended", "corrected", "cancelled",
        "entered-in-error", "unknown"})),
    "MedicationAdministration.status": (
        "http://hl7.org/fhir/ValueSet/medication-admin-status",
        frozenset({"in-progress", "not-done", "on-hold", "completed", "entered-in-error",
                   "stopped", "unknown"})),
    "AdverseEvent.actuality": ("http://hl7.org/fhir/ValueSet/adverse-event-actuality",
                               frozenset({"actual", "potential"})),
    "CarePlan.status": ("http://hl7.org/fhir/ValueSet/request-status", frozenset({
        "draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"})),
    "CarePlan.intent": ("http://hl7.org/fhir/ValueSet/care-plan-intent",
                        frozenset({"proposal", "plan", "order", "option"})),
    "CarePlan.activity.detail.status": (
        "http://hl7.org/fhir/ValueSet/care-plan-activity-status",
        frozenset({"not-started", "scheduled", "in-progress", "on-hold", "completed",
                   "cancelled", "stopped", "unknown", "entered-in-error"})),
}
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CATEGORIES = frozenset({"social-history", "vital-signs", "imaging", "laboratory", "procedure",
                        "survey", "exam", "therapy", "activity"})
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
# "Resource.path" -> (value set, code system, its codes): codings of CodeableConcepts; only
# codings of that system are checked (another system's code is for its own value set).
CODINGS: dict[str, tuple[str, str, frozenset[str]]] = {
    "Observation.category": ("http://hl7.org/fhir/ValueSet/observation-category",
                             OBSERVATION_CATEGORY, CATEGORIES),
    "AdverseEvent.severity": ("http://hl7.org/fhir/ValueSet/adverse-event-severity",
                              AE_SEVERITY, frozenset({"mild", "moderate", "severe"})),
    "AdverseEvent.seriousness": (
        "http://hl7.org/fhir/ValueSet/adverse-event-seriousness", AE_SERIOUSNESS,
        frozenset({"Non-serious", "Serious", "SeriousResultsInDeath",
                   "SeriousIsLifeThreatening", "SeriousResultsInHospitalization",
                   "SeriousResultsInDisability", "SeriousIsBirthDefect",
                   "SeriousRequiresPreventImpairment"})),
}
UCUM = "http://unitsofmeasure.org"
BODY_WEIGHT = "29463-7"                  # LOINC: Body weight
# Vital signs as the FHIR vital-signs profiles code them (R4B observation-vitalsignresult):
# a panel (85353-1) whose members are the blood pressure panel (85354-9, with systolic and
# diastolic components), heart rate and oxygen saturation by pulse oximetry.
VITALS_PANEL = "85353-1"
BLOOD_PRESSURE = "85354-9"
SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"
HEART_RATE = "8867-4"
SPO2 = "59408-5"                  # LOINC: SpO2 by pulse oximetry
SPO2_PROFILE = "2708-6"           # LOINC: the R4B oxygen-saturation profile's required code
SPO2_CODES = frozenset({SPO2, SPO2_PROFILE})
INTRAVENOUS = "47625008"                 # SNOMED CT: Intravenous route (qualifier value)
MRN_SYSTEM = "urn:equipoise:mrn"
QUESTIONNAIRE = "urn:equipoise:questionnaire:"
# CBT sessions: a local code (no verified SNOMED CT code was read) and equipoise extensions.
CBT_SYSTEM = "urn:equipoise:procedure"
CBT_CODE = "cbt-session"
EXT = "urn:equipoise:extension:"


def _at(value: Any, parts: list[str], path: str) -> Iterator[tuple[str, Any]]:
    """(path, value) of every element at ``parts`` below ``value``, through lists."""
    if isinstance(value, list):
        for k, item in enumerate(value):
            yield from _at(item, parts, f"{path}[{k}]")
    elif not parts:
        yield path, value
    elif isinstance(value, dict) and parts[0] in value:
        yield from _at(value[parts[0]], parts[1:], f"{path}.{parts[0]}" if path else parts[0])


def value_set_problems(resource: dict[str, Any], where: str) -> list[str]:
    """Every coded element of ``resource`` outside the value set it is bound to."""
    kind = resource.get("resourceType", "")
    out = []
    for key, (url, codes) in VALUE_SETS.items():
        owner, path = key.split(".", 1)
        if owner != kind:
            continue
        for at, value in _at(resource, path.split("."), ""):
            if value not in codes:
                out.append(f"{where}: {at}: {value!r} is not in {url}")
    for key, (url, system, codes) in CODINGS.items():
        owner, path = key.split(".", 1)
        if owner != kind:
            continue
        for at, coding in _at(resource, [*path.split("."), "coding"], ""):
            if isinstance(coding, dict) and coding.get("system") == system and \
                    coding.get("code") not in codes:
                out.append(f"{where}: {at.rsplit('.', 1)[0]}: {coding.get('code')!r} is not "
                           f"in {url}")
    return out
