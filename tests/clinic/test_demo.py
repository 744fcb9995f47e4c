"""The demo clinic: every record is marked synthetic, and its users can sign in."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from equipoise.clinic.accounts.models import Clinic
from equipoise.clinic.app import create_app
from equipoise.clinic.demo import load_demo
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.questionnaires.models import Observation
from equipoise.clinic.settings import Settings


def test_the_demo_loads_a_marked_synthetic_clinic_its_users_can_use(database_url: str) -> None:
    cfg = Settings(database_url=database_url)
    summary = load_demo(cfg, patients=12, months=2, seed=3, today=dt.date(2026, 11, 1))
    app = create_app(cfg)
    with app.state.sessions() as s:
        clinic = s.scalar(select(Clinic))
        assert clinic is not None and clinic.synthetic and "synthetic" in clinic.name
        assert "DEMO SETTINGS ONLY" in clinic.protocol["basis"]
        assert s.scalar(select(func.count()).select_from(Patient)) == 12
        assert s.scalar(select(func.count()).select_from(Patient)
                        .where(Patient.synthetic.is_(False))) == 0
        assert s.scalar(select(func.count()).select_from(Observation)) == \
            summary.questionnaires
    user, password = next((u, p) for u, p in summary.passwords.items() if "clinician" in u)
    with TestClient(app, base_url="https://testserver") as c:
        r = c.post("/api/session", json={"username": user, "password": password})
        assert r.status_code == 201
        listed = c.get("/api/patients").json()
        assert len(listed) == 12 and all(p["synthetic"] for p in listed)
        board = c.get("/api/outcomes").json()        # every patient summarised
        assert board["patients"] == 12 and board["treated"] > 0
    app.state.engine.dispose()
    app.state.read_engine.dispose()
