"""Clinic test fixtures: every test runs against SQLite and, when a server is given, PostgreSQL.

``EQUIPOISE_TEST_POSTGRES_URL`` names a PostgreSQL database (``.ci/run`` starts one); without
it the PostgreSQL cases skip, unless ``EQUIPOISE_REQUIRE_POSTGRES=1`` makes that a failure.
Each test gets a freshly migrated, empty database: SQLite copies a migrated template file;
PostgreSQL is migrated once and its tables are emptied before each test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from equipoise.clinic import db
from equipoise.clinic.accounts.models import Clinic, User
from equipoise.clinic.app import create_app
from equipoise.clinic.audit.models import AuditEvent
from equipoise.clinic.models import Base
from equipoise.clinic.security import hash_password
from equipoise.clinic.settings import Settings

PG_URL = os.environ.get("EQUIPOISE_TEST_POSTGRES_URL", "")
PASSWORD = "correct horse battery"


@cache
def password_hash() -> str:
    """One argon2 hash of PASSWORD for the fixture users (hashing is slow by design)."""
    return hash_password(PASSWORD)


def _postgres_available() -> None:
    if not PG_URL:
        if os.environ.get("EQUIPOISE_REQUIRE_POSTGRES") == "1":
            pytest.fail("EQUIPOISE_REQUIRE_POSTGRES=1 but EQUIPOISE_TEST_POSTGRES_URL is unset")
        pytest.skip("no PostgreSQL server (set EQUIPOISE_TEST_POSTGRES_URL)")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "clinic.sqlite3"
    db.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    _postgres_available()
    engine = db.make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    db.upgrade(PG_URL)
    return PG_URL


def empty_postgres(url: str) -> None:
    engine = db.make_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "clinic.sqlite3"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_migrated")
    empty_postgres(url)
    return url


@dataclass
class Site:
    """A running app with two clinics, A and B, and a user of each role in each."""

    app: Any
    users: dict[str, User] = field(default_factory=dict)
    clinics: dict[str, Clinic] = field(default_factory=dict)
    clients: list[TestClient] = field(default_factory=list)
    cached: dict[str, TestClient] = field(default_factory=dict)

    def session(self) -> Any:
        return self.app.state.sessions()

    def signed_in(self, who: str) -> TestClient:
        """One client per user, signed in once (argon2 makes every sign-in slow on purpose)."""
        if who not in self.cached:
            self.cached[who] = self.client(who)
        return self.cached[who]

    def client(self, who: str | None = None) -> TestClient:
        """A client signed in as ``who`` (e.g. "clinician@A"), with its CSRF header set."""
        c = TestClient(self.app, base_url="https://testserver")
        self.clients.append(c)
        if who is not None:
            r = c.post("/api/session", json={"username": self.users[who].username,
                                            "password": PASSWORD})
            assert r.status_code == 201, r.text
            c.headers["X-CSRF-Token"] = r.json()["csrf_token"]
        return c


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    app = create_app(Settings(database_url=database_url))
    s = Site(app)
    with db.transaction(app.state.sessions) as session:
        for name in ("A", "B"):
            clinic = Clinic(name=f"Clinic {name}")
            session.add(clinic)
            session.flush()
            s.clinics[name] = clinic
            for role in ("admin", "clinician", "nurse", "researcher"):
                user = User(clinic_id=clinic.id, username=f"{role}.{name.lower()}",
                            display_name=f"{role} {name}", password_hash=password_hash(),
                            role=role)
                session.add(user)
                session.flush()
                s.users[f"{role}@{name}"] = user
    yield s
    for c in s.clients:
        c.close()
    app.state.engine.dispose()
    app.state.read_engine.dispose()


PATIENT = {"mrn": "MRN-001", "given_name": "Ada", "family_name": "Lovelace",
           "birth_date": "1980-12-10", "sex": "female", "weight_kg": 68.0}


def locs(r: Any) -> list[list[Any]]:
    """The field locations of a 422 answer."""
    assert r.status_code == 422, r.text
    return [e["loc"] for e in r.json()["detail"]]


def audit_rows(site: Site) -> int:
    with site.session() as s:
        n: int = s.scalar(select(func.count()).select_from(AuditEvent)) or 0
    return n


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn on a free port in a thread; yields its base URL."""
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                        access_log=False))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(database_url: str, *args: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``equipoise clinic serve`` on a free port in a subprocess, once it answers: its base URL
    and process; stopped (killed if it will not stop) afterwards."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "equipoise.cli.main", "clinic", "serve", "--port", str(port),
         *args, "--database-url", database_url], stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        yield base, server
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)
        if server.stderr:
            server.stderr.close()


def signed_in_headers(base: str, username: str) -> dict[str, str]:
    """Headers of a session of ``username`` (password ``PASSWORD``) on a served clinic."""
    with httpx.Client(base_url=base, timeout=10) as client:
        r = client.post("/api/session", json={"username": username, "password": PASSWORD})
        assert r.status_code == 201, r.text
        return {"X-CSRF-Token": r.json()["csrf_token"],
                "Cookie": f"equipoise_session={r.cookies['equipoise_session']}"}


def seed_clinic(database_url: str, name: str) -> None:
    """A clinic ``name`` with users "admin" and "clinician" (password ``PASSWORD``), for a
    clinic served in a subprocess."""
    engine = db.make_engine(database_url)
    with db.transaction(db.session_factory(engine)) as session:
        clinic = Clinic(name=name)
        session.add(clinic)
        session.flush()
        for role in ("admin", "clinician"):
            session.add(User(clinic_id=clinic.id, username=role,
                             password_hash=password_hash(), role=role))
    engine.dispose()
