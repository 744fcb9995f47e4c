"""HTTP for the clinic's outcome dashboard and the de-identified research export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.clinic.accounts.models import Clinic
from equipoise.clinic.deps import Actor, db, record, require
from equipoise.clinic.outcomes import service
from equipoise.clinic.outcomes.models import OutcomeRecord
from equipoise.clinic.patients import identity
from equipoise.clinic.patients.models import Patient

router = APIRouter(prefix="/api", tags=["outcomes"])

# Research rows: no names, record numbers, dates or staff; a keyed pseudonym, the age band,
# sex and the start year only (HIPAA Safe Harbor keeps years of dates, nothing finer).
COLUMNS = ("pseudonym", "age_band", "sex", "synthetic", "modality", "start_year",
           "baseline_gad7", "week12_gad7", "response_week12", "days_to_response", "relapsed",
           "follow_up_days", "adverse_events", "expected_response_week12",
           "expected_low", "expected_high")


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


def research_rows(session: Session, clinic_id: str) -> list[dict[str, Any]]:
    """One de-identified row per patient (``COLUMNS``), ordered by pseudonym."""
    clinic = session.get(Clinic, clinic_id)
    assert clinic is not None
    today = dt.date.today()
    rows = []
    for o, p in session.execute(select(OutcomeRecord, Patient).join(
            Patient, Patient.id == OutcomeRecord.patient_id).where(
            OutcomeRecord.clinic_id == clinic_id)):
        rows.append({
            "pseudonym": identity.pseudonym(clinic.research_key, p.id),
            "age_band": identity.age_band(p.birth_date, today), "sex": p.sex,
            "synthetic": p.synthetic, "modality": o.modality,
            "start_year": int(o.start_quarter[:4]) if o.start_quarter else None,
            "baseline_gad7": o.baseline, "week12_gad7": o.week12,
            "response_week12": o.response_week12, "days_to_response": o.days_to_response,
            "relapsed": o.relapsed, "follow_up_days": o.follow_up_days,
            "adverse_events": o.adverse_events, "expected_response_week12": o.expected,
            "expected_low": o.expected_low, "expected_high": o.expected_high})
    return sorted(rows, key=lambda r: str(r["pseudonym"]))


def _csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: "" if v is None else str(v).lower() if isinstance(v, bool) else v
                         for k, v in r.items()})
    return buffer.getvalue().encode()


def _parquet(rows: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq
    types = {"pseudonym": pa.string(), "age_band": pa.string(), "sex": pa.string(),
             "synthetic": pa.bool_(), "modality": pa.string(), "start_year": pa.int32(),
             "response_week12": pa.bool_(), "relapsed": pa.bool_(),
             "days_to_response": pa.int32(), "follow_up_days": pa.int32(),
             "adverse_events": pa.int32()}
    schema = pa.schema([(c, types.get(c, pa.float64())) for c in COLUMNS])
    table = pa.Table.from_pylist(rows, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _export(fmt: str, request: Request, who: Actor, session: Session) -> Response:
    rows = research_rows(session, who.clinic_id)
    body = _csv(rows) if fmt == "csv" else _parquet(rows)
    record(session, request, who, "export", f"research-outcomes-{fmt}")
    session.commit()
    kind = "text/csv; charset=utf-8" if fmt == "csv" else "application/vnd.apache.parquet"
    return Response(body, media_type=kind, headers={
        "Content-Disposition": f'attachment; filename="equipoise-outcomes.{fmt}"'})


RESEARCH = require("research:read", "research")


@router.get("/research/outcomes.csv", response_class=Response)
def research_csv(request: Request, who: Actor = Depends(RESEARCH),
                 session: Session = Depends(db)) -> Response:
    """Every patient's outcome, de-identified (``COLUMNS``), as CSV."""
    return _export("csv", request, who, session)


@router.get("/research/outcomes.parquet", response_class=Response)
def research_parquet(request: Request, who: Actor = Depends(RESEARCH),
                     session: Session = Depends(db)) -> Response:
    """Every patient's outcome, de-identified (``COLUMNS``), as Parquet."""
    return _export("parquet", request, who, session)
