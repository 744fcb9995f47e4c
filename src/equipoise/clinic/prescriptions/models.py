"""SSRI/SNRI courses and their titration steps."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from equipoise.clinic.db import (
    Base,
    ClinicScoped,
    Created,
    PatientScoped,
)


class MedicationCourse(PatientScoped, Created, Base):
    __tablename__ = "medication_courses"
    drug: Mapped[str] = mapped_column(String(60))
    drug_class: Mapped[str] = mapped_column(String(10))          # ssri | snri
    started_on: Mapped[dt.date] = mapped_column(Date)
    stopped_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    stop_reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))


class DoseStep(ClinicScoped, Base):
    """From ``from_date`` the daily dose is ``dose_mg_per_day`` (a titration step)."""

    __tablename__ = "dose_steps"
    course_id: Mapped[str] = mapped_column(ForeignKey("medication_courses.id"), index=True)
    from_date: Mapped[dt.date] = mapped_column(Date)
    dose_mg_per_day: Mapped[float] = mapped_column(Float)
    # Cited dose rules this step broke and the prescriber acknowledged (ids).
    acknowledged_rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
