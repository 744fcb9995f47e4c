"""The codes the clinic's FHIR resources use, and the value-set check ``fhir.resources`` does
not do (it checks structure, not terminology bindings). Value sets: FHIR R4B, hl7.org/fhir/R4B.
"""

from __future__ import annotations

from typing import Any

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
}
LOINC = "http://loinc.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CATEGORIES = frozenset({"social-history", "vital-signs", "imaging", "laboratory", "procedure",
                        "survey", "exam", "therapy", "activity"})
UCUM = "http://unitsofmeasure.org"
BODY_WEIGHT = "29463-7"                  # LOINC: Body weight
MRN_SYSTEM = "urn:equipoise:mrn"
QUESTIONNAIRE = "urn:equipoise:questionnaire:"
# CBT sessions: a local code (no verified SNOMED CT code was read) and equipoise extensions.
CBT_SYSTEM = "urn:equipoise:procedure"
CBT_CODE = "cbt-session"
EXT = "urn:equipoise:extension:"


def value_set_problems(resource: dict[str, Any], where: str) -> list[str]:
    """Every coded element of ``resource`` outside the value set it is bound to."""
    kind = resource.get("resourceType", "")
    out = []
    for path, (url, codes) in VALUE_SETS.items():
        owner, field = path.split(".", 1)
        if owner == kind and field in resource and resource[field] not in codes:
            out.append(f"{where}: {field}: {resource[field]!r} is not in {url}")
    if kind == "Observation":
        for c in resource.get("category", []):
            for coding in c.get("coding", []):
                if coding.get("system") == OBSERVATION_CATEGORY and \
                        coding.get("code") not in CATEGORIES:
                    out.append(f"{where}: category: {coding.get('code')!r} is not in "
                               "http://hl7.org/fhir/ValueSet/observation-category")
    return out
