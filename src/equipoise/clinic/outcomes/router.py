"""HTTP for the clinic's outcome dashboard and the de-identified research export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from equipoise.clinic.deps import Actor, db, record, require
from equipoise.clinic.outcomes import research, service

router = APIRouter(prefix="/api", tags=["outcomes"])


@router.get("/outcomes")
def outcomes(request: Request,
             remission_at_or_below: float | None = Query(None, ge=0, le=21),
             who: Actor = Depends(require("outcomes:read", "outcomes")),
             session: Session = Depends(db)) -> dict[str, Any]:
    """The clinic's observed outcomes by modality, clinician and start quarter against the
    plans' expectation, with Wilson intervals. GAD-7 remission needs a cut-off
    (``remission_at_or_below``): none is sourced, so none is assumed."""
    out = service.cached(request.app.state.dashboards, session, who.clinic_id,
                         not who.can("patients:read"), remission_at_or_below)
    record(session, request, who, "read", "outcomes-dashboard")
    session.commit()
    return out


def _export(fmt: str, request: Request, who: Actor, session: Session) -> Response:
    rows = research.rows(session, who.clinic_id)
    body = research.to_csv(rows) if fmt == "csv" else research.to_parquet(rows)
    record(session, request, who, "export", f"research-outcomes-{fmt}")
    session.commit()
    kind = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet"
    return Response(body, media_type=kind, headers={
        "Content-Disposition": f'attachment; filename="equipoise-outcomes.{fmt}"'})


RESEARCH = require("research:read", "research")


@router.get("/research/outcomes.csv", response_class=Response)
def research_csv(request: Request, who: Actor = Depends(RESEARCH),
                 session: Session = Depends(db)) -> Response:
    """Every patient's outcome, de-identified (``research.COLUMNS``), as CSV."""
    return _export("csv", request, who, session)


@router.get("/research/outcomes.parquet", response_class=Response)
def research_parquet(request: Request, who: Actor = Depends(RESEARCH),
                     session: Session = Depends(db)) -> Response:
    """Every patient's outcome, de-identified (``research.COLUMNS``), as Parquet."""
    return _export("parquet", request, who, session)
