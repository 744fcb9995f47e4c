"""Care plans made by the planner (``care.planner``), stored as the plan's ``to_dict()``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from equipoise.clinic.db import Base, UTCDateTime, new_id, utcnow


class CarePlanRecord(Base):
    __tablename__ = "care_plans"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    recommended: Mapped[str | None] = mapped_column(String(40), nullable=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
