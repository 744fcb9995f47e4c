"""Questionnaire responses, the LOINC-coded observations scored from them, and single-use
links through which a patient answers a questionnaire."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from equipoise.clinic.db import Base, Created, PatientScoped, UTCDateTime, utcnow


class QuestionnaireResponse(PatientScoped, Base):
    __tablename__ = "questionnaire_responses"
    instrument: Mapped[str] = mapped_column(String(10))
    answers: Mapped[list[int]] = mapped_column(JSON)
    authored: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(10))          # staff | patient
    entered_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    infusion_id: Mapped[str | None] = mapped_column(ForeignKey("infusions.id"), nullable=True)


class Observation(PatientScoped, Base):
    """A scored total, coded with LOINC where the instrument has a code."""

    __tablename__ = "observations"
    response_id: Mapped[str] = mapped_column(ForeignKey("questionnaire_responses.id"),
                                             index=True)
    instrument: Mapped[str] = mapped_column(String(10))
    code_system: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(20))
    display: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(60), default="")
    effective: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class SelfReportLink(PatientScoped, Created, Base):
    __tablename__ = "self_report_links"
    instrument: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    response_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
