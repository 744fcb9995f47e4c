"""HTTP for FHIR R4B export and import of a clinic's patients and questionnaires."""

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


@router.get("/export")
def export(request: Request, who: Actor = Depends(require("patients:read", "fhir")),
           session: Session = Depends(db)) -> dict[str, Any]:
    """Every patient of the clinic with their questionnaires: a FHIR R4B collection Bundle."""
    if not who.can("questionnaires:read"):
        raise AccessDeniedError("your role does not allow questionnaires:read")
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
    """Import a Bundle (all or nothing); a 422 names each problem's entry, resource and field."""
    if not who.can("questionnaires:write"):
        raise AccessDeniedError("your role does not allow questionnaires:write")
    imported = import_bundle(session, who.clinic_id, who.user.id, bundle)
    record(session, request, who, "import", "fhir-bundle")
    for p in imported:
        record(session, request, who, "create", "patient", p.id, p.id)
    responses = sum(1 for e in bundle.get("entry", [])
                    if e.get("resource", {}).get("resourceType") == "QuestionnaireResponse")
    session.commit()
    return {"patients": len(imported), "questionnaire_responses": responses}
