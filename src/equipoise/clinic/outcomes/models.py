"""Each patient's outcome summary (``care.outcomes.PatientOutcome``), stored and refreshed
whenever their records change, so the clinic dashboard reads one row per patient instead of
every questionnaire."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from equipoise.clinic.db import Base, PatientScoped


class OutcomeRecord(PatientScoped, Base):
    __tablename__ = "patient_outcomes"
    __table_args__ = (UniqueConstraint("patient_id"),)
    modality: Mapped[str] = mapped_column(String(30))
    clinician_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    start_quarter: Mapped[str | None] = mapped_column(String(7), nullable=True)
    baseline: Mapped[float | None] = mapped_column(Float, nullable=True)
    week12: Mapped[float | None] = mapped_column(Float, nullable=True)
    response_week12: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    days_to_response: Mapped[int | None] = mapped_column(Integer, nullable=True)
    relapsed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    follow_up_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    adverse_events: Mapped[int] = mapped_column(Integer, default=0)
    expected: Mapped[float | None] = mapped_column(Float, nullable=True)
    expected_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    expected_high: Mapped[float | None] = mapped_column(Float, nullable=True)
