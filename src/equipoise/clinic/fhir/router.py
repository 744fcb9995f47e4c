"""HTTP for FHIR R4B export and import of a clinic's patients, questionnaires, antidepressant
courses, CBT sessions, ketamine infusions (with their vital signs and adverse events) and care
plans. Moving a bundle needs the permission of every area it carries: reading each to export,
writing each the bundle holds to import."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.clinic.deps import Actor, db, record, require
from equipoise.clinic.fhir.export import export_bundle
from equipoise.clinic.fhir.importer import import_bundle
from equipoise.clinic.patients.models import Patient
from equipoise.errors import AccessDeniedError

router = APIRouter(prefix="/api/fhir", tags=["fhir"])
# The areas an export carries, besides the patients themselves.
READS = ("questionnaires:read", "medications:read", "therapy:read", "infusions:read",
         "plans:read")
# What importing each resource type writes (Observations go with their response or infusion).
WRITES = {"QuestionnaireResponse": "questionnaires:write",
          "MedicationRequest": "medications:write", "Procedure": "therapy:write",
          "MedicationAdministration": "infusions:write", "AdverseEvent": "infusions:write",
          "CarePlan": "plans:write"}


def _needs(who: Actor, permissions: list[str]) -> None:
    for permission in permissions:
        if not who.can(permission):
            raise AccessDeniedError(f"your role does not allow {permission}")


def _kinds(bundle: dict[str, Any]) -> set[str]:
    entries = bundle.get("entry")
    return {str(e["resource"].get("resourceType")) for e in entries
            if isinstance(e, dict) and isinstance(e.get("resource"), dict)} \
        if isinstance(entries, list) else set()


@router.get("/export")
def export(request: Request, who: Actor = Depends(require("patients:read", "fhir")),
           session: Session = Depends(db)) -> dict[str, Any]:
    """Every patient of the clinic with their questionnaires, courses, CBT sessions, infusions
    and care plans: a FHIR R4B collection Bundle."""
    _needs(who, list(READS))
    bundle = export_bundle(session, who.clinic_id)
    record(session, request, who, "export", "fhir-bundle")
    for pid in session.scalars(select(Patient.id).where(Patient.clinic_id == who.clinic_id)):
        record(session, request, who, "read", "patient", pid, pid)
    session.commit()
    return bundle


@router.post("/import", status_code=201)
def import_(request: Request, bundle: dict[str, Any] = Body(...),
            who: Actor = Depends(require("patients:write", "fhir")),
            session: Session = Depends(db)) -> dict[str, int]:
    """Import a Bundle (all or nothing); a 422 names each problem's entry, resource and field.
    Infusions, adverse events and care plans come in as exported, made (and signed, where the
    form was) by the importing user."""
    _needs(who, ["questionnaires:write",
                 *sorted({WRITES[k] for k in _kinds(bundle) if k in WRITES})])
    imported = import_bundle(session, who.clinic_id, who.user.id, bundle)
    record(session, request, who, "import", "fhir-bundle")
    for p in imported:
        record(session, request, who, "create", "patient", p.id, p.id)
    responses = sum(1 for e in bundle.get("entry", [])
                    if e.get("resource", {}).get("resourceType") == "QuestionnaireResponse")
    session.commit()
    return {"patients": len(imported), "questionnaire_responses": responses}
