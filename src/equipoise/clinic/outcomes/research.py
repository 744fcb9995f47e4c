"""The de-identified research export of the clinic's outcome summaries: one row per patient
(``COLUMNS``) and its CSV and Parquet encodings."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.clinic.accounts.models import Clinic
from equipoise.clinic.db import utcnow
from equipoise.clinic.outcomes.models import OutcomeRecord
from equipoise.clinic.patients import identity
from equipoise.clinic.patients.models import Patient

# Research rows: no names, record numbers, dates or staff; a keyed pseudonym, the age band,
# sex and the start year only (HIPAA Safe Harbor keeps years of dates, nothing finer).
COLUMNS = ("pseudonym", "age_band", "sex", "synthetic", "modality", "start_year",
           "baseline_gad7", "week12_gad7", "response_week12", "days_to_response", "relapsed",
           "follow_up_days", "adverse_events", "expected_response_week12",
           "expected_low", "expected_high")


def rows(session: Session, clinic_id: str) -> list[dict[str, Any]]:
    """One de-identified row per patient (``COLUMNS``), ordered by pseudonym."""
    clinic = session.get(Clinic, clinic_id)
    assert clinic is not None
    today = utcnow().date()
    out = []
    for o, p in session.execute(select(OutcomeRecord, Patient).join(
            Patient, Patient.id == OutcomeRecord.patient_id).where(
            OutcomeRecord.clinic_id == clinic_id)):
        out.append({
            "pseudonym": identity.pseudonym(clinic.research_key, p.id),
            "age_band": identity.age_band(p.birth_date, today), "sex": p.sex,
            "synthetic": p.synthetic, "modality": o.modality,
            "start_year": int(o.start_quarter[:4]) if o.start_quarter else None,
            "baseline_gad7": o.baseline, "week12_gad7": o.week12,
            "response_week12": o.response_week12, "days_to_response": o.days_to_response,
            "relapsed": o.relapsed, "follow_up_days": o.follow_up_days,
            "adverse_events": o.adverse_events, "expected_response_week12": o.expected,
            "expected_low": o.expected_low, "expected_high": o.expected_high})
    return sorted(out, key=lambda r: str(r["pseudonym"]))


def to_csv(records: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow({k: "" if v is None else str(v).lower() if isinstance(v, bool) else v
                         for k, v in r.items()})
    return buffer.getvalue().encode()


def to_parquet(records: list[dict[str, Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq
    types = {"pseudonym": pa.string(), "age_band": pa.string(), "sex": pa.string(),
             "synthetic": pa.bool_(), "modality": pa.string(), "start_year": pa.int32(),
             "response_week12": pa.bool_(), "relapsed": pa.bool_(),
             "days_to_response": pa.int32(), "follow_up_days": pa.int32(),
             "adverse_events": pa.int32()}
    schema = pa.schema([(c, types.get(c, pa.float64())) for c in COLUMNS])
    table = pa.Table.from_pylist(records, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
