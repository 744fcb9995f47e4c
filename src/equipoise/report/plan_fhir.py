"""A care plan as a FHIR R4B Bundle: Patient, CarePlan (a proposal) and one DetectedIssue per
safety finding, built with ``fhir.resources.R4B`` and checked against the value sets it uses.

``fhir.resources`` checks structure (cardinality, types) but not terminology bindings, so
`value_set_problems` checks every coded element this module writes against the FHIR value
sets it binds to, listed below with their addresses.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle

# Required bindings of the elements written here (FHIR R4B, hl7.org/fhir/R4B).
VALUE_SETS: dict[str, tuple[str, frozenset[str]]] = {
    "Bundle.type": ("http://hl7.org/fhir/ValueSet/bundle-type", frozenset({
        "document", "message", "transaction", "transaction-response", "batch",
        "batch-response", "history", "searchset", "collection"})),
    "CarePlan.status": ("http://hl7.org/fhir/ValueSet/request-status", frozenset({
        "draft", "active", "on-hold", "revoked", "completed", "entered-in-error",
        "unknown"})),
    "CarePlan.intent": ("http://hl7.org/fhir/ValueSet/care-plan-intent", frozenset({
        "proposal", "plan", "order", "option"})),
    "CarePlan.activity.detail.status": (
        "http://hl7.org/fhir/ValueSet/care-plan-activity-status", frozenset({
            "not-started", "scheduled", "in-progress", "on-hold", "completed", "cancelled",
            "stopped", "unknown", "entered-in-error"})),
    "DetectedIssue.status": ("http://hl7.org/fhir/ValueSet/observation-status", frozenset({
        "registered", "preliminary", "final", "amended", "corrected", "cancelled",
        "entered-in-error", "unknown"})),
    "DetectedIssue.severity": ("http://hl7.org/fhir/ValueSet/detectedissue-severity",
                               frozenset({"high", "moderate", "low"})),
}
_SEVERITY = {"absolute": "high", "relative": "moderate", "caution": "low"}


def plan_bundle(plan: dict[str, Any], *, created: dt.date, seed: int = 0) -> dict[str, Any]:
    """The plan (``Plan.to_dict()``) as a validated FHIR R4B collection Bundle (JSON dict).

    Resource ids are deterministic for a given ``seed`` so that the same plan gives the same
    bundle.
    """
    # Ids are derived from the plan's content and the seed: the same plan gives the same
    # bundle, and different patients' plans get different ids.
    content = json.dumps(plan, sort_keys=True, default=str)
    base = uuid.uuid5(uuid.NAMESPACE_URL, f"equipoise-plan:{seed}:{content}")
    ids = iter(uuid.uuid5(base, str(i)) for i in range(100_000))
    patient_id = str(next(ids))
    patient_ref = {"reference": f"urn:uuid:{patient_id}"}
    def issue(rule: dict[str, Any], about: str) -> dict[str, Any]:
        out = {"resourceType": "DetectedIssue", "id": str(next(ids)), "status": "final",
               "severity": _SEVERITY[rule["severity"]], "patient": patient_ref,
               "code": {"text": f"{rule['id']} ({about})"},
               "detail": f"{rule['text']} Because: {rule.get('because', '')}"}
        if "; " in rule["source"]:          # "citation; url; quote": the url
            out["reference"] = rule["source"].split("; ")[1]
        return out

    issues = [issue(rule, f"{option['treatment']}: {option['status']}")
              for option in plan["options"] for rule in option["rules"]]
    issues += [issue(rule, "current medication") for rule in plan.get("current_medications", [])]
    activities = [{"detail": {
        "status": "not-started", "description": f"{e['event']}: {e['detail']}",
        "scheduledString": e["date"]}} for e in plan["schedule"]]
    dose = plan.get("dose")
    dose_note = [] if not dose else [{"text": (
        f"Ketamine dose: {dose['mg']:g} mg ({dose['mg_per_kg']:g} mg/kg x {dose['weight_kg']:g} "
        f"kg) over {dose['minutes']:g} min" + (" - OUTSIDE THE USUAL RANGE" if
                                                 dose["outside_usual_range"] else ""))}]
    notes = [{"text": plan["disclaimer"]}, *dose_note] + [
        {"text": f"{f['severity'].upper()}: {f['text']}"} for f in plan["flags"]]
    careplan = {
        "resourceType": "CarePlan", "id": str(next(ids)), "status": "draft",
        "intent": "proposal", "subject": patient_ref,
        "title": f"equipoise plan: {plan['recommended'] or 'no eligible option'}",
        "description": plan["disclaimer"], "created": created.isoformat(),
        "activity": activities, "note": notes,
    }
    if plan["schedule"]:
        careplan["period"] = {"start": plan["schedule"][0]["date"]}
    resources = [{"resourceType": "Patient", "id": patient_id}, careplan, *issues]
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]}
    Bundle.model_validate(bundle)        # structure, cardinality and types (raises if wrong)
    problems = value_set_problems(bundle)
    if problems:
        raise ValueError("the plan bundle breaks FHIR value sets: " + "; ".join(problems))
    return bundle


def value_set_problems(bundle: dict[str, Any]) -> list[str]:
    """Every coded element of ``bundle`` (as this module writes them) outside its value set,
    named by resource and element."""
    out = []

    def check(path: str, value: Any, where: str) -> None:
        url, codes = VALUE_SETS[path]
        if value not in codes:
            out.append(f"{where}: {path} = {value!r} is not in {url}")

    check("Bundle.type", bundle.get("type"), "Bundle")
    for i, entry in enumerate(bundle.get("entry", [])):
        r = entry.get("resource", {})
        where = f"entry[{i}] {r.get('resourceType')}/{r.get('id')}"
        if r.get("resourceType") == "CarePlan":
            check("CarePlan.status", r.get("status"), where)
            check("CarePlan.intent", r.get("intent"), where)
            for j, a in enumerate(r.get("activity", [])):
                check("CarePlan.activity.detail.status", a.get("detail", {}).get("status"),
                      f"{where} activity[{j}]")
        elif r.get("resourceType") == "DetectedIssue":
            check("DetectedIssue.status", r.get("status"), where)
            if "severity" in r:
                check("DetectedIssue.severity", r.get("severity"), where)
    return out
