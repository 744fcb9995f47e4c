"""Care plans made by the planner (``care.planner``), stored as the plan's ``to_dict()``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from equipoise.clinic.db import Base, Created, PatientScoped


class CarePlanRecord(PatientScoped, Created, Base):
    __tablename__ = "care_plans"
    start_date: Mapped[dt.date] = mapped_column(Date)
    recommended: Mapped[str | None] = mapped_column(String(40), nullable=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
