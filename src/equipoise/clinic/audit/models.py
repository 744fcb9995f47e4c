"""The audit log: one row per read or write of patient data; rows are never changed.

Append-only is enforced twice: the ORM refuses updates and deletes, and the migration adds
database triggers that reject them (SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import String, event
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from equipoise.clinic.db import Base, Keyed, UTCDateTime, utcnow


class AuditEvent(Keyed, Base):
    __tablename__ = "audit_events"
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    clinic_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    action: Mapped[str] = mapped_column(String(20))     # read, create, update, sign, deny, ...
    entity: Mapped[str] = mapped_column(String(40))     # patient, infusion, questionnaire, ...
    entity_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    patient_id: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    outcome: Mapped[str] = mapped_column(String(10), default="success")   # success | denied
    route: Mapped[str] = mapped_column(String(200), default="")   # route template, no values


def _refuse(_mapper: Mapper[Any], _conn: Any, _target: Any) -> None:
    raise RuntimeError("audit events are append-only")


event.listen(AuditEvent, "before_update", _refuse)
event.listen(AuditEvent, "before_delete", _refuse)
