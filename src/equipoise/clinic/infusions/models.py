"""Ketamine infusion sessions: screen, dose, vitals timeline, dissociation, adverse events,
observation and discharge, and the signature that closes the monitoring form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from equipoise.clinic.db import (
    Base,
    ClinicScoped,
    Created,
    PatientScoped,
    UTCDateTime,
)


class Infusion(PatientScoped, Created, Base):
    __tablename__ = "infusions"
    scheduled_for: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="screening")
    weight_kg: Mapped[float] = mapped_column(Float)
    mg_per_kg: Mapped[float] = mapped_column(Float)
    dose_mg: Mapped[float] = mapped_column(Float)
    minutes: Mapped[int] = mapped_column(Integer)
    checklist: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    screen: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    screen_status: Mapped[str] = mapped_column(String(10), default="eligible")
    benzodiazepine_mg_diazepam_24h: Mapped[float | None] = mapped_column(Float, nullable=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cadss_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cadss_answers: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    discharged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    discharge_criteria: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    escort_arranged: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    signed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))


class VitalSign(ClinicScoped, Base):
    __tablename__ = "vital_signs"
    infusion_id: Mapped[str] = mapped_column(ForeignKey("infusions.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    phase: Mapped[str] = mapped_column(String(12))       # pre, during, post, discharge
    systolic: Mapped[float] = mapped_column(Float)
    diastolic: Mapped[float] = mapped_column(Float)
    heart_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    spo2: Mapped[float | None] = mapped_column(Float, nullable=True)
    action: Mapped[str] = mapped_column(String(10))      # continue, hold, stop, unset
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    recorded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))


class AdverseEvent(PatientScoped, Created, Base):
    __tablename__ = "adverse_events"
    infusion_id: Mapped[str] = mapped_column(ForeignKey("infusions.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    description: Mapped[str] = mapped_column(String(500))
    severity: Mapped[str] = mapped_column(String(10))
    action_taken: Mapped[str] = mapped_column(String(500), default="")
    recorded_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
