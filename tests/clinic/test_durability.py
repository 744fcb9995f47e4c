"""A server killed with SIGKILL during a burst of writes loses no record it acknowledged."""

from __future__ import annotations

import signal
import threading
import time

import httpx2 as httpx
from sqlalchemy import select

from equipoise.clinic import db
from equipoise.clinic.patients.models import Patient
from tests.clinic.conftest import seed_clinic, served, signed_in_headers


def test_a_killed_server_loses_no_acknowledged_write(database_url: str) -> None:
    seed_clinic(database_url, "durability")
    with served(database_url) as (base, server):
        headers = signed_in_headers(base, "clinician")
        acknowledged: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer(k: int) -> None:
            with httpx.Client(base_url=base, timeout=10, headers=headers) as c:
                n = 0
                while not stop.is_set():
                    mrn = f"K{k}-{n}"
                    n += 1
                    try:
                        resp = c.post("/api/patients", json={
                            "mrn": mrn, "given_name": "Burst", "family_name": f"Writer{k}",
                            "birth_date": "1980-01-01", "sex": "unknown"})
                    except httpx.TransportError:
                        return                 # the server died mid-request: not acknowledged
                    if resp.status_code == 201:
                        with lock:
                            acknowledged.append(mrn)

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 50 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.send_signal(signal.SIGKILL)      # in the middle of the burst
        server.wait(10)
        stop.set()
        for t in threads:
            t.join(15)
    assert len(acknowledged) >= 50
    engine = db.make_engine(database_url)          # a fresh connection, after the crash
    with db.session_factory(engine)() as session:
        stored = set(session.scalars(select(Patient.mrn)))
    engine.dispose()
    lost = [m for m in acknowledged if m not in stored]
    assert lost == [], f"{len(lost)} acknowledged writes lost: {lost[:5]}"
    print(f"SIGKILL after {len(acknowledged)} acknowledged writes: {len(stored)} stored, "
          f"none lost")
