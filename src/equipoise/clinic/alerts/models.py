"""Alerts raised by the measurement-based-care rules (``care.alerts``), and their
acknowledgement; one row per patient and alert key, so recomputing never duplicates."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from equipoise.clinic.db import Base, Created, PatientScoped, UTCDateTime


class AlertRecord(PatientScoped, Created, Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("patient_id", "key"),)
    key: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    severity: Mapped[str] = mapped_column(String(10))
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    text: Mapped[str] = mapped_column(String(500))
    basis: Mapped[str] = mapped_column(String(500))
    acknowledged_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
