"""Patients: identifiers live here and only here (research views never read these columns)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Float, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from equipoise.clinic.db import Base, ClinicScoped, Created


class Patient(ClinicScoped, Created, Base):
    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("clinic_id", "mrn"),)
    mrn: Mapped[str] = mapped_column(String(40))                 # the clinic's record number
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(10))
    weight_kg: Mapped[float | None] = mapped_column(Float, nullable=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
