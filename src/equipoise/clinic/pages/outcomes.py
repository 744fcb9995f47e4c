"""The clinic's outcome dashboard page: observed outcomes by modality, clinician and start
quarter against the plans' expectation, as tables and interval charts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from equipoise.clinic.deps import Actor, db, record
from equipoise.clinic.outcomes import service
from equipoise.clinic.pages.charts import Interval, interval_chart
from equipoise.clinic.pages.router import _allowed, page, viewer

router = APIRouter(include_in_schema=False)


def _interval(p: dict[str, Any] | None) -> Interval | None:
    return None if p is None else (p["share"], p["low"], p["high"])


def _chart(groups: list[dict[str, Any]], title: str) -> str:
    return interval_chart([(g["label"], _interval(g["response_week12"]),
                            _interval(g["expected_response_week12"])) for g in groups],
                          title=title)


@router.get("/outcomes")
def outcomes_page(request: Request,
                  remission_at_or_below: float | None = Query(None, ge=0, le=21),
                  who: Actor = Depends(viewer),
                  session: Session = Depends(db)) -> HTMLResponse:
    _allowed(who, "outcomes:read")
    board = service.cached(request.app.state.dashboards, session, who.clinic_id,
                           not who.can("patients:read"), remission_at_or_below)
    record(session, request, who, "read", "outcomes-dashboard")
    session.commit()
    charts = {
        "modality": _chart(board["by_modality"], "In response at week 12, by modality"),
        "clinician": _chart(board["by_clinician"], "In response at week 12, by clinician"),
        "quarter": _chart(board["by_quarter"], "In response at week 12, by start quarter"),
    }
    return page(request, "outcomes.html", who=who, board=board, charts=charts)
