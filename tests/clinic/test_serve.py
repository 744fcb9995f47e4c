"""`equipoise clinic serve --workers 2`: several server processes on one database."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx2 as httpx

from equipoise.clinic import db
from equipoise.clinic.accounts.models import Clinic, User
from tests.clinic.conftest import PASSWORD, password_hash
from tests.clinic.test_durability import _free_port


def test_two_worker_processes_serve_one_database(database_url: str) -> None:
    engine = db.make_engine(database_url)
    with db.transaction(db.session_factory(engine)) as session:
        clinic = Clinic(name="workers")
        session.add(clinic)
        session.flush()
        session.add(User(clinic_id=clinic.id, username="admin", password_hash=password_hash(),
                         role="admin"))
        session.add(User(clinic_id=clinic.id, username="clinician",
                         password_hash=password_hash(), role="clinician"))
    engine.dispose()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "equipoise.cli.main", "clinic", "serve", "--port", str(port),
         "--workers", "2", "--database-url", database_url], stdout=subprocess.DEVNULL,
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
        with httpx.Client(base_url=base, timeout=10) as client:
            r = client.post("/api/session", json={"username": "clinician",
                                                  "password": PASSWORD})
            assert r.status_code == 201, r.text
            token = r.cookies["equipoise_session"]
            headers = {"X-CSRF-Token": r.json()["csrf_token"],
                       "Cookie": f"equipoise_session={token}"}
        # Fresh connections land on either worker; each one sees the session and the writes.
        made = []
        for k in range(6):
            with httpx.Client(base_url=base, timeout=10, headers=headers) as c:
                r = c.post("/api/patients", json={
                    "mrn": f"W-{k}", "given_name": "Two", "family_name": "Workers",
                    "birth_date": "1980-01-01", "sex": "unknown"})
                assert r.status_code == 201, r.text
                made.append(r.json()["id"])
        for pid in made:
            with httpx.Client(base_url=base, timeout=10, headers=headers) as c:
                assert c.get(f"/api/patients/{pid}").status_code == 200
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        if server.stderr:
            server.stderr.close()
    assert server.returncode is not None
