"""The database: one declarative base, engines for SQLite and PostgreSQL, migrations.

Only portable column types are used (no PostgreSQL-only types), so the same models and
migrations run on both. SQLite runs in WAL mode with ``synchronous=FULL``: a transaction that
has committed survives the process being killed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Engine, ForeignKey, String, TypeDecorator, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from equipoise.errors import ClinicError


def recorded_time(value: dt.datetime | None, field: str) -> dt.datetime:
    """When something happened: a zoned time from 1900 up to now (5 minutes of clock skew
    allowed); None means now."""
    when = value or utcnow()
    if when.tzinfo is None:
        raise ClinicError("give a timezone (e.g. 2026-12-01T09:00:00Z)", field=field)
    if when.year < 1900:
        raise ClinicError("is before 1900", field=field)
    if when > utcnow() + dt.timedelta(minutes=5):
        raise ClinicError("is in the future", field=field)
    return when


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a timezone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        when: dt.datetime = value
        return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


class Keyed:
    """A random 32-hex-digit id: ids carry no order or count a client could read."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)


class ClinicScoped(Keyed):
    """Every patient-data row carries its clinic; every query filters on it."""

    clinic_id: Mapped[str] = mapped_column(ForeignKey("clinics.id"), index=True)


class PatientScoped(ClinicScoped):
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.id"), index=True)


class Created:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


Row = TypeVar("Row", bound=ClinicScoped)


def owned(session: Session, model: type[Row], clinic_id: str, row_id: str, what: str) -> Row:
    """The row of ``model`` with ``row_id`` if it belongs to ``clinic_id``; another clinic's
    row does not exist for this one (404, the same answer as a missing id)."""
    row = session.get(model, row_id)
    if row is None or row.clinic_id != clinic_id:
        raise ClinicError(f"no such {what}", status=404)
    return row


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``); statement
    parameters (patient data) never appear in its errors or logs."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               hide_parameters=True, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=40,
                         hide_parameters=True, **kwargs)


def session_factory(engine: Engine, timezone: str = "UTC") -> sessionmaker[Session]:
    """Sessions that know the clinic's time zone (``session.info["timezone"]``): the day a
    stored UTC time falls on is the clinic's day (``local_time``)."""
    return sessionmaker(engine, expire_on_commit=False, info={"timezone": timezone})


def local_time(session: Session, when: dt.datetime) -> dt.datetime:
    """``when`` (stored UTC) in the clinic's time zone, as a naive local date and time."""
    zone = ZoneInfo(str(session.info.get("timezone", "UTC")))
    return when.astimezone(zone).replace(tzinfo=None)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session committed on success, rolled back on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    """Alembic's configuration, built in code: no alembic.ini is needed."""
    cfg = Config()
    cfg.set_main_option("script_location",
                        str(resources.files("equipoise.clinic").joinpath("migrations")))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
