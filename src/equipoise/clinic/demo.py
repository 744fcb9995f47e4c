"""`equipoise clinic demo`: a synthetic clinic to try the application with.

Everything here is made up and marked so (the clinic, every patient and the user names carry
"synthetic"/"demo"): names come from short lists, scores from a seeded random walk whose
settings below are arbitrary demonstration values, not evidence. Nothing in this module is a
clinical number, and the demo clinic's in-infusion limits are labelled as demo settings.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import numpy as np

from equipoise.care.measures import score
from equipoise.clinic.accounts.models import Clinic, User
from equipoise.clinic.db import make_engine, session_factory, transaction
from equipoise.clinic.infusions.models import Infusion, VitalSign
from equipoise.clinic.outcomes import service as outcomes
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.prescriptions.models import DoseStep, MedicationCourse
from equipoise.clinic.questionnaires.models import Observation, QuestionnaireResponse
from equipoise.clinic.questionnaires.service import total_code
from equipoise.clinic.security import hash_password
from equipoise.clinic.settings import Settings
from equipoise.clinic.therapy.models import TherapySession

GIVEN = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Robin",
         "Avery", "Quinn", "Drew", "Charlie", "Skyler", "Rowan", "Emerson")
FAMILY = ("Demo", "Sample", "Example", "Testa", "Placeholder", "Fictive", "Mock", "Synth")
MODALITIES = ("ssri", "cbt", "ssri+cbt", "ketamine", "ketamine+ssri", "ketamine+cbt")
# Arbitrary demonstration settings (not evidence): weekly drift of the made-up GAD-7 course.
DEMO_DRIFT = {"ssri": -0.45, "cbt": -0.4, "ssri+cbt": -0.6, "ketamine": -0.5,
              "ketamine+ssri": -0.65, "ketamine+cbt": -0.6}
DEMO_LIMITS = {"hold_systolic_above": 160.0, "hold_diastolic_above": 100.0,
               "stop_systolic_above": 180.0, "stop_diastolic_above": 110.0,
               "stop_heart_rate_above": 130.0, "stop_spo2_below": 92.0,
               "basis": "DEMO SETTINGS ONLY (synthetic clinic): not a protocol; a real clinic "
                        "sets its own"}


@dataclass(frozen=True)
class DemoSummary:
    clinic: str
    patients: int
    questionnaires: int
    infusions: int
    passwords: dict[str, str]

    def __str__(self) -> str:
        users = "\n".join(f"  {u}: {p}" for u, p in self.passwords.items())
        return (f"loaded {self.clinic}: {self.patients} synthetic patients, "
                f"{self.questionnaires} questionnaires, {self.infusions} infusions.\n"
                f"demo users (passwords shown once):\n{users}")


def _answers(total: int, n_items: int, hi: int, rng: np.random.Generator) -> list[int]:
    """Item scores summing to ``total`` (spread at random over the items)."""
    items = [0] * n_items
    for _ in range(total):
        free = [i for i in range(n_items) if items[i] < hi]
        items[int(rng.choice(free))] += 1
    return items


def load_demo(settings: Settings, *, patients: int = 300, months: int = 6,
              seed: int = 0, today: dt.date | None = None) -> DemoSummary:
    """Add a synthetic clinic with ``patients`` patients and ``months`` of records."""
    rng = np.random.default_rng(seed)
    end = today or dt.date.today()
    start = end - dt.timedelta(days=30 * months)
    engine = make_engine(settings.database_url)
    passwords = {}
    n_q = n_inf = 0
    suffix = secrets.token_hex(3)
    with transaction(session_factory(engine, settings.timezone)) as session:
        clinic = Clinic(name=f"Demo clinic (synthetic) {suffix}", synthetic=True,
                        protocol=dict(DEMO_LIMITS))
        session.add(clinic)
        session.flush()
        users = {}
        for role in ("admin", "clinician", "nurse", "researcher"):
            password = secrets.token_urlsafe(12)
            name = f"demo-{role}-{suffix}"
            passwords[name] = password
            users[role] = User(clinic_id=clinic.id, username=name,
                               display_name=f"Demo {role} (synthetic)",
                               password_hash=hash_password(password), role=role)
            session.add(users[role])
        session.flush()
        for k in range(patients):
            modality = MODALITIES[int(rng.integers(len(MODALITIES)))]
            first = start + dt.timedelta(days=int(rng.integers(0, 30 * months // 2)))
            p = Patient(clinic_id=clinic.id, mrn=f"DEMO-{suffix}-{k:05d}",
                        given_name=GIVEN[int(rng.integers(len(GIVEN)))],
                        family_name=FAMILY[int(rng.integers(len(FAMILY)))],
                        birth_date=dt.date(int(rng.integers(1950, 2005)),
                                           int(rng.integers(1, 13)), int(rng.integers(1, 29))),
                        sex=("female", "male")[int(rng.integers(2))],
                        weight_kg=float(np.round(rng.uniform(50, 110), 1)), synthetic=True)
            session.add(p)
            session.flush()
            gad, phq = float(rng.integers(10, 22)), float(rng.integers(5, 24))
            week = 0
            day = first
            while day <= end:
                for name, value, n_items, top in (("gad7", gad, 7, 21), ("phq9", phq, 9, 27)):
                    total = int(np.clip(round(value), 0, top))
                    answers = _answers(total, n_items, 3, rng)
                    if name == "phq9":
                        answers[8] = 0       # the demo raises no suicidality flags
                        answers[0] = min(3, answers[0] + total - sum(answers))
                    result = score(name, answers)
                    when = dt.datetime.combine(day, dt.time(9, 30), dt.UTC)
                    r = QuestionnaireResponse(clinic_id=clinic.id, patient_id=p.id,
                                              instrument=name, answers=list(result.items),
                                              authored=when, source="staff",
                                              entered_by=users["clinician"].id)
                    session.add(r)
                    session.flush()
                    system, code, display = total_code(name)
                    session.add(Observation(clinic_id=clinic.id, patient_id=p.id,
                                            response_id=r.id, instrument=name,
                                            code_system=system, code=code, display=display,
                                            value=float(result.total),
                                            band=result.band.label, effective=when, flags=[]))
                    n_q += 1
                drift = DEMO_DRIFT[modality] * (2 if week < 8 else 0.5)
                gad = max(0.0, gad + drift * 2 + float(rng.normal(0, 1.2)))
                phq = max(0.0, phq + drift * 2 + float(rng.normal(0, 1.2)))
                week += 2
                day += dt.timedelta(days=14)
            if "ssri" in modality:
                course = MedicationCourse(clinic_id=clinic.id, patient_id=p.id,
                                          drug="escitalopram", drug_class="ssri",
                                          started_on=first, created_by=users["clinician"].id)
                session.add(course)
                session.flush()
                for offset, dose in ((0, 10.0), (14, 20.0)):
                    session.add(DoseStep(clinic_id=clinic.id, course_id=course.id,
                                         from_date=first + dt.timedelta(days=offset),
                                         dose_mg_per_day=dose,
                                         created_by=users["clinician"].id))
            if "cbt" in modality:
                for s in range(12):
                    on = first + dt.timedelta(days=7 * s)
                    if on > end:
                        break
                    session.add(TherapySession(clinic_id=clinic.id, patient_id=p.id, on=on,
                                               number=s + 1, modality="individual",
                                               minutes=50, attended="attended",
                                               therapist_id=users["clinician"].id))
            if "ketamine" in modality:
                for offset in (0, 2, 4, 7, 9, 11):
                    on = first + dt.timedelta(days=offset)
                    if on > end:
                        break
                    t0 = dt.datetime.combine(on, dt.time(10, 0), dt.UTC)
                    weight = p.weight_kg or 70.0
                    inf = Infusion(clinic_id=clinic.id, patient_id=p.id, scheduled_for=t0,
                                   status="signed", weight_kg=weight, mg_per_kg=0.5,
                                   dose_mg=round(0.5 * weight, 1), minutes=40,
                                   checklist={"consent_recorded": True,
                                              "psychiatric_assessment_done": True,
                                              "escort_arranged": True},
                                   screen=[], screen_status="eligible",
                                   started_at=t0, ended_at=t0 + dt.timedelta(minutes=40),
                                   cadss_total=int(rng.integers(0, 25)),
                                   discharged_at=t0 + dt.timedelta(minutes=170),
                                   discharge_criteria={"blood_pressure_decreasing": True,
                                                       "clinically_stable": True,
                                                       "escort_present": True},
                                   escort_arranged=True, signed_by=users["nurse"].id,
                                   signed_at=t0 + dt.timedelta(minutes=180),
                                   created_by=users["clinician"].id)
                    session.add(inf)
                    session.flush()
                    for phase, minutes, rise in (("pre", -5, 0), ("during", 40, 12),
                                                 ("discharge", 160, 2)):
                        sys_bp = float(rng.normal(122, 8) + rise)
                        session.add(VitalSign(
                            clinic_id=clinic.id, infusion_id=inf.id,
                            at=t0 + dt.timedelta(minutes=minutes), phase=phase,
                            systolic=round(sys_bp), diastolic=round(sys_bp * 0.65),
                            heart_rate=round(float(rng.normal(74, 6))), spo2=98.0,
                            action="continue", reasons=[], recorded_by=users["nurse"].id))
                    n_inf += 1
        outcomes.refresh_all(session, clinic.id)        # the dashboard's per-patient rows
        name = clinic.name
    engine.dispose()
    return DemoSummary(name, patients, n_q, n_inf, passwords)
