"""The database: one declarative base, engines for SQLite and PostgreSQL, migrations.

Only portable column types are used (no PostgreSQL-only types), so the same models and
migrations run on both. SQLite runs in WAL mode with ``synchronous=FULL``: a transaction that
has committed survives the process being killed.
"""

from __future__ import annotations

try:
    import fcntl
except ImportError:                     # Windows: serve SQLite from one process there
    fcntl = None  # type: ignore[assignment]

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    DateTime,
    Engine,
    ForeignKey,
    String,
    TypeDecorator,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import OperationalError
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


def make_engine(url: str, *, reads_first: bool = False, **kwargs: Any) -> Engine:
    """An engine for ``url`` (``sqlite:///...`` or ``postgresql+psycopg://...``); statement
    parameters (patient data) never appear in its errors or logs.

    On SQLite, writers take turns (``_WriteTurn``). An ordinary engine's transaction takes
    its turn as it begins. A ``reads_first`` engine (for requests that read, then record that
    they read) runs its reads without a transaction, side by side with other requests, and
    takes its turn and begins a transaction at its first write: what it writes after that is
    consistent, what it read before is as of each read. On PostgreSQL the two are the same.
    """
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
            conn.isolation_level = None          # transactions begin below, not in pysqlite

        _take_turns(engine, _WriteTurn.of(make_url(url).database), reads_first)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=20, max_overflow=40,
                         hide_parameters=True, **kwargs)


class _WriteTurn:
    """One writer at a time on a SQLite file. SQLite itself has one writer at a time, and a
    connection that finds the database locked sleeps and retries (up to 100 ms a time), which
    under load turns into seconds of waiting; writers queue here instead: on a lock of this
    process, then on an exclusive ``flock`` of ``<database>.write-lock`` shared by every
    process serving the file (where the platform has ``fcntl``; a process that dies gives its
    ``flock`` back). One per file in a process, shared by its engines."""

    _known: ClassVar[dict[str, _WriteTurn]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()
    KEY = "equipoise_write_turn"

    def __init__(self, path: str | None) -> None:
        self.lock = threading.Lock()
        shared = bool(path) and path != ":memory:" and fcntl is not None
        self.handle = open(f"{path}.write-lock", "a+b") if shared else None  # noqa: SIM115

    @classmethod
    def of(cls, path: str | None) -> _WriteTurn:
        if not path or path == ":memory:":
            return cls(None)                 # a memory database is one engine's own
        key = str(Path(path).resolve())
        with cls._guard:
            if key not in cls._known:
                cls._known[key] = cls(path)
            return cls._known[key]

    def take(self, info: dict[Any, Any]) -> bool:
        """Wait for the turn unless this connection holds it; whether it was taken now."""
        if info.get(self.KEY):
            return False
        if not self.lock.acquire(timeout=30):
            raise OperationalError("BEGIN IMMEDIATE", {}, TimeoutError(
                "waited 30 s for the database's write lock"))
        if self.handle is not None and fcntl is not None:
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX)
        info[self.KEY] = True
        return True

    def give(self, info: dict[Any, Any]) -> None:
        if info.pop(self.KEY, False):
            if self.handle is not None and fcntl is not None:
                fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
            self.lock.release()


WRITES = ("insert", "update", "delete", "replace")


def _take_turns(engine: Engine, turn: _WriteTurn, reads_first: bool) -> None:
    """A transaction holds the turn until its connection goes back to the pool (after its
    commit or rollback; a connection's later transactions, as in a migration, keep it), and
    takes SQLite's write lock as it begins (BEGIN IMMEDIATE), never part-way through."""

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if reads_first:
            return                                   # no BEGIN: reads run on their own
        turn.take(conn.info)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            turn.give(conn.info)
            raise

    if reads_first:
        @event.listens_for(engine, "before_cursor_execute")
        def _first_write(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
            if statement.lstrip()[:7].lower().startswith(WRITES) and turn.take(conn.info):
                cursor.execute("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi: Any, record: Any) -> None:
        turn.give(record.info)

    @event.listens_for(engine, "invalidate")
    def _invalidate(_dbapi: Any, record: Any, _exc: Any) -> None:
        turn.give(record.info)


def claim_writes(session: Session) -> None:
    """Make the rest of ``session``'s transaction consistent before it reads what it will
    write from (a reads-first SQLite session takes its write turn here; elsewhere a no-op)."""
    conn = session.connection()
    if conn.dialect.name == "sqlite" and not conn.info.get(_WriteTurn.KEY):
        conn.execute(text("UPDATE clinics SET id = id WHERE 1 = 0"))


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
