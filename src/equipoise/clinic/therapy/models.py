"""CBT sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from equipoise.clinic.db import Base, Created, PatientScoped


class TherapySession(PatientScoped, Created, Base):
    __tablename__ = "therapy_sessions"
    on: Mapped[dt.date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    modality: Mapped[str] = mapped_column(String(20))        # individual, group, digital
    minutes: Mapped[int] = mapped_column(Integer)
    attended: Mapped[str] = mapped_column(String(12))        # attended, cancelled, no_show
    therapist_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
