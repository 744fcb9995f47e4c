"""`equipoise clinic serve --workers 2`: several server processes on one database."""

from __future__ import annotations

import httpx2 as httpx

from tests.clinic.conftest import seed_clinic, served, signed_in_headers


def test_two_worker_processes_serve_one_database(database_url: str) -> None:
    seed_clinic(database_url, "workers")
    with served(database_url, "--workers", "2") as (base, server):
        headers = signed_in_headers(base, "clinician")
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
    assert server.returncode is not None
