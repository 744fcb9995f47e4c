"""Benchmark: the clinic web application under load, on SQLite and on PostgreSQL.

Builds a synthetic clinic (10,000 patients, 500,000 scored questionnaires by default) straight
into a freshly migrated database, starts the real server (``equipoise clinic serve``) as a
subprocess, signs clinician users in through the real sign-in API, and drives it with
``--clients`` concurrent clients over HTTP.

Load model: each client is a thread with its own HTTP connection (``httpx2.Client``), signed in
as its own clinician, in a closed loop: send one request, wait for the whole answer, then think
for an exponentially distributed time (mean ``--think`` seconds), then the next request. So
"50 concurrent clients" means 50 clinicians' browsers each with at most one request in flight,
not 50 requests in flight all the time. The operation of each request is drawn at random
(``--mix``): a GAD-7 submission for a random patient (``POST /api/patients/{id}/questionnaires``,
JSON, which scores it, stores the response and its Observation and refreshes the patient's
alerts), the patient page (``GET /patients/{id}``, HTML) of a random patient, and the clinic
dashboard (``GET /api/outcomes`` JSON and ``GET /outcomes`` HTML) when this build has it. After
the measured run a saturation run repeats it with no think time (every client sends its next
request as soon as its answer arrives): the capacity of the server (``--workers`` processes).

Every row of the build is synthetic and marked so (the clinic and every patient). Scores come
from a seeded numpy Generator; totals, bands, codes and flags are the clinic's own
(``care.measures.score`` and the questionnaire service's Observation fields: a random sample is
re-scored through both and the build stops if any differs). Every patient gets a stored care
plan: ONE plan is made by the real planner (``care_plans.service.create``) and its plan dict is
reused for every patient (each patient's own profile: age, sex, weight and baseline scores).
Each patient's alerts are stored as the clinic's alert refresh would store them (checked on a
sample against ``alerts.service.compute`` and ``refresh``), so a submission refreshes a patient
whose alerts are up to date, as in a clinic that has been running.

Usage:
    python benchmarks/clinic_load.py --database sqlite|postgresql|both
        [--patients 10000] [--questionnaires 500000] [--clients 50] [--seconds 60]
        [--think 1.0] [--warmup 5] [--saturation-seconds 30] [--seed 20261127]
        [--mix submit=4,page=4,dashboard=2] [--workers 1] [--postgresql-url URL]
        [--sqlite-path FILE]
        [--keep] [--reuse] [--json FILE]

PostgreSQL: ``--postgresql-url`` (or ``EQUIPOISE_BENCH_POSTGRES_URL``) names a database whose
name contains "bench"; its public schema is dropped and re-created by the build (and dropped
again at the end unless ``--keep``). Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.engine import Connection, make_url

from equipoise.care import alerts as rules
from equipoise.care.instruments import instrument
from equipoise.care.measures import item9_flag, score
from equipoise.clinic import db
from equipoise.clinic import models as m
from equipoise.clinic.alerts import service as alert_service
from equipoise.clinic.care_plans import service as care_plan_service
from equipoise.clinic.demo import DEMO_LIMITS, FAMILY, GIVEN
from equipoise.clinic.outcomes import service as outcome_service
from equipoise.clinic.questionnaires import service as questionnaire_service
from equipoise.clinic.security import hash_password

THRESHOLDS_MS = {"submit": 50.0, "page": 50.0, "dashboard-api": 500.0, "dashboard-page": 500.0}
LABELS = {"submit": "questionnaire submission (POST /api/patients/{id}/questionnaires)",
          "page": "patient page (GET /patients/{id})",
          "dashboard-api": "clinic dashboard (GET /api/outcomes)",
          "dashboard-page": "clinic dashboard page (GET /outcomes)"}
BATCH = 10_000
VERIFY_SCORES, VERIFY_SERVICE, VERIFY_ALERTS = 2000, 50, 40


MODALITIES = ("ssri", "cbt", "ketamine", "ssri+cbt", "ketamine+ssri", "")


def log(msg: str) -> None:
    print(msg, flush=True)


def new_id() -> str:
    return uuid.uuid4().hex


# --- building the clinic ----------------------------------------------------------------------

@dataclasses.dataclass
class Built:
    clinic_id: str
    patient_ids: list[str]
    usernames: list[str]
    password: str
    seconds: float
    counts: dict[str, int]


def _visit_day(visit: np.ndarray) -> np.ndarray:
    """Days from the first visit: weekly for 8 weeks, then every 2 weeks."""
    return np.where(visit < 8, 7 * visit, 56 + 14 * (visit - 8))


def _progress(label: str) -> Callable[[int, int], None]:
    shown = [-1]
    tty = sys.stdout.isatty()
    step = 5 if tty else 25

    def report(done: int, total: int) -> None:
        pct = 100 * done // max(total, 1)
        if pct // step != shown[0] // step or done == total:
            shown[0] = pct
            print(f"{chr(13) if tty else ''}  {label}: {pct:3d}% ({done:,}/{total:,})",
                  end="" if tty and done < total else "\n", flush=True)

    return report


def reset_database(url: str, sqlite_path: Path | None) -> None:
    if sqlite_path is not None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
        return
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(table), rows)


def build(url: str, sqlite_path: Path | None, args: argparse.Namespace) -> Built:
    """Migrate an empty database and bulk-load the synthetic clinic into it."""
    t0 = time.perf_counter()
    reset_database(url, sqlite_path)
    db.upgrade(url)
    log(f"  migrated to head in {time.perf_counter() - t0:.1f} s")
    rng = np.random.default_rng(args.seed)
    n_pat, n_q = args.patients, args.questionnaires
    today = dt.datetime.now(dt.UTC).date()
    now = dt.datetime.now(dt.UTC)
    password = f"bench-load-{args.seed}-synthetic"
    pw_hash = hash_password(password)
    engine = db.make_engine(url)
    clinic_id = new_id()
    n_users = max(args.users or args.clients, 1)
    usernames = [f"bench-clinician-{k:03d}" for k in range(n_users)]
    user_ids = [new_id() for _ in usernames]
    admin_id = new_id()

    # Patients: the demo's name lists, marked synthetic.
    patient_ids = [new_id() for _ in range(n_pat)]
    born = rng.integers(dt.date(1950, 1, 1).toordinal(), dt.date(2005, 12, 31).toordinal(),
                        n_pat)
    sexes = rng.integers(0, 2, n_pat)
    weights = np.round(rng.uniform(50, 110, n_pat), 1)
    given_k = rng.integers(0, len(GIVEN), n_pat)
    family_k = rng.integers(0, len(FAMILY), n_pat)

    # Questionnaires: ~n_q/n_pat per patient, a GAD-7 and a PHQ-9 at each visit.
    counts = rng.multinomial(n_q, np.full(n_pat, 1 / n_pat))
    pat = np.repeat(np.arange(n_pat), counts)
    pos = np.arange(n_q) - np.repeat(np.cumsum(counts) - counts, counts)
    visit, is_phq = pos // 2, (pos % 2).astype(bool)
    n_visits = (counts + 1) // 2
    lag = rng.integers(0, 42, n_pat)                 # days since the last visit
    first_ord = today.toordinal() - lag - _visit_day(np.maximum(n_visits - 1, 0))
    day_ord = first_ord[pat] + _visit_day(visit)
    minute = rng.integers(0, 480, n_q)
    phq_rows = np.flatnonzero(is_phq)
    minute[phq_rows] = minute[phq_rows - 1] + 3      # the PHQ-9 right after the GAD-7
    # Severity: a per-patient baseline that falls toward a plateau, plus noise (arbitrary).
    base = rng.uniform(0.3, 0.85, n_pat)
    plateau = rng.uniform(0.25, 1.0, n_pat)
    tau = rng.uniform(3, 20, n_pat)
    weeks = _visit_day(visit) / 7
    p = base[pat] * (plateau[pat] + (1 - plateau[pat]) * np.exp(-weeks / tau[pat]))
    p = np.clip(p + rng.normal(0, 0.06, n_q), 0.02, 0.98)
    items = rng.binomial(3, p[:, None], size=(n_q, 9))
    items[:, 8] = rng.binomial(3, 0.03 * p)          # PHQ-9 item 9: rarely above 0
    totals = np.where(is_phq, items.sum(axis=1), items[:, :7].sum(axis=1))

    # The clinic's own bands, codes and flags (checked against score() below).
    insts = {name: instrument(name) for name in ("gad7", "phq9")}
    bands = {name: [inst.band(t).label for t in range(22 if name == "gad7" else 28)]
             for name, inst in insts.items()}
    codes = {name: questionnaire_service.total_code(name) for name in insts}
    item9_flags = {v: [dataclasses.asdict(item9_flag(v))] for v in (1, 2, 3)}
    entered = rng.integers(0, n_users, n_q)

    def row_values(i: int) -> tuple[dict[str, Any], dict[str, Any]]:
        name = "phq9" if is_phq[i] else "gad7"
        answers = [int(x) for x in items[i, :9 if is_phq[i] else 7]]
        when = (dt.datetime.combine(dt.date.fromordinal(int(day_ord[i])), dt.time(8, 0), dt.UTC)
                + dt.timedelta(minutes=int(minute[i])))
        system, code, display = codes[name]
        total = int(totals[i])
        pid = patient_ids[pat[i]]
        rid = new_id()
        response = {"id": rid, "clinic_id": clinic_id, "patient_id": pid, "instrument": name,
                    "answers": answers, "authored": when, "source": "staff",
                    "entered_by": user_ids[entered[i]], "infusion_id": None}
        obs = {"id": new_id(), "clinic_id": clinic_id, "patient_id": pid, "response_id": rid,
               "instrument": name, "code_system": system, "code": code, "display": display,
               "value": float(total), "band": bands[name][total], "effective": when,
               "flags": item9_flags[answers[8]] if name == "phq9" and answers[8] > 0 else []}
        return response, obs

    # Check the generator against the clinic's scoring before writing anything.
    check = np.random.default_rng(args.seed + 1)
    for i in check.choice(n_q, size=min(VERIFY_SCORES, n_q), replace=False):
        r, o = row_values(int(i))
        s = score(r["instrument"], r["answers"])
        got = (list(s.items), float(s.total), s.band.label,
               [dataclasses.asdict(f) for f in s.flags])
        want = (r["answers"], o["value"], o["band"], o["flags"])
        if got != want:
            raise SystemExit(f"generated row {i} differs from care.measures.score: "
                             f"{want} != {got}")
    log(f"  {min(VERIFY_SCORES, n_q)} sampled rows re-scored by care.measures.score: "
        "all equal")

    with engine.connect() as conn:
        if sqlite_path is not None:
            # The load only (durability is irrelevant while building); the server runs with
            # the application's own settings (WAL, synchronous=FULL).
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-1000000")
            conn.commit()
        with conn.begin():
            _insert(conn, m.Clinic.__table__, [{
                "id": clinic_id, "name": f"Clinic under load (synthetic) seed {args.seed}",
                "protocol": dict(DEMO_LIMITS), "synthetic": True, "research_key": new_id() * 2,
                "created_at": now}])
            _insert(conn, m.User.__table__, [
                {"id": admin_id, "clinic_id": clinic_id, "username": "bench-admin",
                 "display_name": "Benchmark admin (synthetic)", "password_hash": pw_hash,
                 "role": "admin", "active": True, "created_at": now}] + [
                {"id": uid, "clinic_id": clinic_id, "username": name,
                 "display_name": f"Benchmark clinician {k} (synthetic)",
                 "password_hash": pw_hash, "role": "clinician", "active": True,
                 "created_at": now} for k, (uid, name) in enumerate(zip(user_ids, usernames,
                                                                       strict=True))])
            _insert(conn, m.Patient.__table__, [
                {"id": pid, "clinic_id": clinic_id, "mrn": f"BENCH-{k:06d}",
                 "given_name": GIVEN[given_k[k]], "family_name": FAMILY[family_k[k]],
                 "birth_date": dt.date.fromordinal(int(born[k])),
                 "sex": ("female", "male")[sexes[k]], "weight_kg": float(weights[k]),
                 "synthetic": True, "created_at": now - dt.timedelta(days=400)}
                for k, pid in enumerate(patient_ids)])
        t_q = time.perf_counter()
        progress = _progress("questionnaires and observations")
        # In time order, as a clinic accumulates them: a patient's rows lie scattered over
        # the tables' pages, not side by side.
        order = np.argsort(day_ord * 1440 + minute, kind="stable")
        for start in range(0, n_q, BATCH * 5):
            with conn.begin():                       # one transaction per 50,000 rows
                for lo in range(start, min(start + BATCH * 5, n_q), BATCH):
                    pairs = [row_values(int(i)) for i in order[lo:lo + BATCH]]
                    _insert(conn, m.QuestionnaireResponse.__table__, [r for r, _ in pairs])
                    _insert(conn, m.Observation.__table__, [o for _, o in pairs])
                    progress(min(lo + BATCH, n_q), n_q)
        log(f"  {n_q:,} responses + {n_q:,} observations in {time.perf_counter() - t_q:.1f} s")

    # One plan through the real planner, for patient 0, then its dict for everyone.
    t_p = time.perf_counter()
    first_gad = {}
    first_phq = {}
    start_of = {k: dt.date.fromordinal(int(first_ord[k])) for k in range(n_pat)}
    offsets = np.cumsum(counts) - counts
    for k in range(n_pat):
        if counts[k] >= 1:
            first_gad[k] = int(totals[offsets[k]])
        if counts[k] >= 2:
            first_phq[k] = int(totals[offsets[k] + 1])

    def given(k: int) -> dict[str, Any]:
        scores = {"gad7": first_gad.get(k, 10)} | ({"phq9": first_phq[k]} if k in first_phq
                                                    else {})
        return {"diagnoses": ["GAD"], "scores": scores}

    factory = db.session_factory(engine)
    with db.transaction(factory) as session:
        p0 = session.get(m.Patient, patient_ids[0])
        assert p0 is not None
        record = care_plan_service.create(session, p0, given(0), start_of[0], user_ids[0])
        plan_dict = record.plan
        recommended = record.recommended
    log(f"  one care plan made by the planner in {time.perf_counter() - t_p:.1f} s "
        f"(recommended: {recommended}); its plan dict is reused for all {n_pat:,} patients")
    with engine.begin() as conn:
        plan_rows = []
        for k in range(1, n_pat):
            person = m.Patient(birth_date=dt.date.fromordinal(int(born[k])),
                               sex=("female", "male")[sexes[k]], weight_kg=float(weights[k]))
            plan_rows.append({
                "id": new_id(), "clinic_id": clinic_id, "patient_id": patient_ids[k],
                "start_date": start_of[k], "recommended": recommended,
                "profile": care_plan_service.profile_document(person, given(k), start_of[k]),
                "plan": plan_dict, "created_by": user_ids[0],
                "created_at": dt.datetime.combine(start_of[k], dt.time(7, 0), dt.UTC)})
            if len(plan_rows) == BATCH:
                _insert(conn, m.CarePlanRecord.__table__, plan_rows)
                plan_rows = []
        _insert(conn, m.CarePlanRecord.__table__, plan_rows)

    # Each patient's alerts, as refresh() stores them (checked on a sample below).
    t_a = time.perf_counter()
    band = alert_service._band(plan_dict)
    progress = _progress("alerts")
    alert_rows: list[dict[str, Any]] = []
    n_alerts = 0
    with engine.begin() as conn:
        for k in range(n_pat):
            lo, hi = offsets[k], offsets[k] + counts[k]
            rows = range(lo, hi)
            days = [dt.date.fromordinal(int(day_ord[i])) for i in rows]
            gad = [(d, float(totals[i])) for d, i in zip(days, rows, strict=True)
                   if not is_phq[i]]
            phq = [(d, float(totals[i])) for d, i in zip(days, rows, strict=True) if is_phq[i]]
            item9 = [(d, int(items[i, 8])) for d, i in zip(days, rows, strict=True) if is_phq[i]]
            scores = given(k)["scores"]
            for a in patient_alerts(scores, band, start_of[k], gad, phq, item9, today):
                alert_rows.append({
                    "id": new_id(), "clinic_id": clinic_id, "patient_id": patient_ids[k],
                    "key": a.key, "kind": a.kind, "severity": a.severity, "day": a.at,
                    "text": a.text[:500], "basis": a.basis[:500], "acknowledged_by": None,
                    "acknowledged_at": None, "created_at": now})
            if len(alert_rows) >= BATCH:
                n_alerts += len(alert_rows)
                _insert(conn, m.AlertRecord.__table__, alert_rows)
                alert_rows = []
            if k % 500 == 0 or k == n_pat - 1:
                progress(k + 1, n_pat)
        n_alerts += len(alert_rows)
        _insert(conn, m.AlertRecord.__table__, alert_rows)
    log(f"  {n_alerts:,} alerts in {time.perf_counter() - t_a:.1f} s")

    # Treatments from each patient's start (a modality drawn per patient, 1 in 6 untreated),
    # then every patient's outcome summary made by the clinic's own service, so the
    # dashboard groups a realistic clinic.
    t_t = time.perf_counter()
    mods = rng.integers(0, len(MODALITIES), n_pat)
    with engine.begin() as conn:
        courses, steps, sessions, infusions = [], [], [], []
        for k in range(n_pat):
            mod, start = MODALITIES[int(mods[k])], start_of[k]
            if "ssri" in mod:
                cid = new_id()
                courses.append({"id": cid, "clinic_id": clinic_id, "patient_id": patient_ids[k],
                                "drug": "sertraline", "drug_class": "ssri", "started_on": start,
                                "stopped_on": None, "stop_reason": "",
                                "created_by": user_ids[0], "created_at": now})
                steps.append({"id": new_id(), "clinic_id": clinic_id, "course_id": cid,
                              "from_date": start, "dose_mg_per_day": 50.0,
                              "acknowledged_rules": [], "created_by": user_ids[0]})
            if "cbt" in mod:
                sessions.append({"id": new_id(), "clinic_id": clinic_id,
                                 "patient_id": patient_ids[k], "on": start, "number": 1,
                                 "modality": "individual", "minutes": 50,
                                 "attended": "attended", "therapist_id": user_ids[0],
                                 "created_at": now})
            if "ketamine" in mod:
                t0_inf = dt.datetime.combine(start, dt.time(10, 0), dt.UTC)
                weight = float(weights[k])
                infusions.append({
                    "id": new_id(), "clinic_id": clinic_id, "patient_id": patient_ids[k],
                    "scheduled_for": t0_inf, "status": "signed", "weight_kg": weight,
                    "mg_per_kg": 0.5, "dose_mg": round(0.5 * weight, 1), "minutes": 40,
                    "checklist": {}, "screen": [], "screen_status": "eligible",
                    "benzodiazepine_mg_diazepam_24h": None, "started_at": t0_inf,
                    "ended_at": t0_inf + dt.timedelta(minutes=40), "cadss_total": None,
                    "cadss_answers": None,
                    "discharged_at": t0_inf + dt.timedelta(minutes=170),
                    "discharge_criteria": {}, "escort_arranged": True,
                    "signed_by": user_ids[0], "signed_at": t0_inf + dt.timedelta(minutes=180),
                    "created_by": user_ids[0], "created_at": now})
        for table_, rows_ in ((m.MedicationCourse, courses), (m.DoseStep, steps),
                              (m.TherapySession, sessions), (m.Infusion, infusions)):
            for i in range(0, len(rows_), BATCH):
                _insert(conn, table_.__table__, rows_[i:i + BATCH])
    progress = _progress("outcome summaries")
    with factory() as session:
        for k, pid in enumerate(patient_ids):
            patient = session.get(m.Patient, pid)
            assert patient is not None
            outcome_service.refresh(session, patient)
            if k % 500 == 0 or k == n_pat - 1:
                progress(k + 1, n_pat)
                session.commit()
                session.expunge_all()
        session.commit()
    log(f"  treatments ({len(courses):,} courses, {len(sessions):,} CBT sessions, "
        f"{len(infusions):,} infusions) and outcome summaries in "
        f"{time.perf_counter() - t_t:.1f} s")

    if sqlite_path is None:
        # A running clinic's tables have statistics (autovacuum); a bulk load has none yet.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            t_v = time.perf_counter()
            conn.execute(text("VACUUM ANALYZE"))
            log(f"  VACUUM ANALYZE in {time.perf_counter() - t_v:.1f} s")

    verify(factory, clinic_id, patient_ids, user_ids, row_values, today, args.seed)
    counts_out = row_counts(engine)
    engine.dispose()
    return Built(clinic_id, patient_ids, usernames, password, time.perf_counter() - t0,
                 counts_out)


def patient_alerts(scores: dict[str, int], band: rules.ExpectedBand | None, start: dt.date,
                   gad: list[tuple[dt.date, float]], phq: list[tuple[dt.date, float]],
                   item9: list[tuple[dt.date, int]], today: dt.date) -> list[rules.Alert]:
    """What ``alerts.service.refresh`` stores for a patient with a plan starting on ``start``,
    these series and no infusions: ``alerts.service.compute`` on in-memory data, one per key."""
    out: list[rules.Alert] = []
    for name, series in (("gad7", gad), ("phq9", phq)):
        before = [s for d, s in series if d <= start]
        after = [(d, s) for d, s in series if d > start]
        baseline = scores.get(name) or (before[-1] if before else None)
        if baseline:
            out += rules.milestones(name, float(baseline), after)
            if name == "gad7":
                found = rules.relapse(name, float(baseline), after)
                out += [found] if found else []
        if band is not None and name == "gad7":
            out += rules.off_track(after, band, start)
    late = rules.overdue(gad[-1][0] if gad else None, start, today)
    out += [late] if late else []
    for day, answer in item9:
        flag = rules.suicidality(day, answer)
        out += [flag] if flag else []
    seen: set[str] = set()
    unique = []
    for a in out:
        if a.key not in seen:
            seen.add(a.key)
            unique.append(a)
    return unique


def verify(factory: Any, clinic_id: str, patient_ids: list[str], user_ids: list[str],
           row_values: Callable[[int], tuple[dict[str, Any], dict[str, Any]]],
           today: dt.date, seed: int) -> None:
    """Re-check a sample of the stored rows through the clinic's own services (rolled back)."""
    rng = np.random.default_rng(seed + 2)
    obs_fields = ("instrument", "code_system", "code", "display", "value", "band",
                  "effective", "flags", "patient_id", "clinic_id")
    resp_fields = ("instrument", "answers", "authored", "source", "patient_id", "clinic_id")
    with factory() as session:
        n_rows = session.scalar(select(func.count()).select_from(m.QuestionnaireResponse))
        assert n_rows
        for _ in range(VERIFY_SERVICE):
            # the generator is deterministic: regenerate a random row's values by its index
            i = int(rng.integers(n_rows))
            want_r, want_o = row_values(i)
            r, o = questionnaire_service.record_response(
                session, clinic_id, want_r["patient_id"], want_r["instrument"],
                want_r["answers"], source="staff", entered_by=want_r["entered_by"],
                authored=want_r["authored"])
            for f in resp_fields:
                if getattr(r, f) != want_r[f]:
                    raise SystemExit(f"row {i}: QuestionnaireResponse.{f} {getattr(r, f)!r} "
                                     f"from the service, {want_r[f]!r} generated")
            for f in obs_fields:
                if getattr(o, f) != want_o[f]:
                    raise SystemExit(f"row {i}: Observation.{f} {getattr(o, f)!r} from the "
                                     f"service, {want_o[f]!r} generated")
        session.rollback()
        log(f"  {VERIFY_SERVICE} sampled rows re-made by questionnaires.service.record_response:"
            " all fields equal")
        for k in rng.choice(len(patient_ids), size=min(VERIFY_ALERTS, len(patient_ids)),
                            replace=False):
            patient = session.get(m.Patient, patient_ids[int(k)])
            assert patient is not None
            first: dict[str, rules.Alert] = {}
            for a in alert_service.compute(session, patient, today):
                first.setdefault(a.key, a)          # refresh() keeps one alert per key
            found = {(a.key, a.kind, a.severity, a.at, a.text[:500], a.basis[:500])
                     for a in first.values()}
            stored = {(a.key, a.kind, a.severity, a.day, a.text, a.basis)
                      for a in session.scalars(select(m.AlertRecord).where(
                          m.AlertRecord.patient_id == patient.id))}
            if found != stored:
                raise SystemExit(f"patient {k}: stored alerts differ from alerts.service."
                                 f"compute: only computed {sorted(found - stored)[:3]}, "
                                 f"only stored {sorted(stored - found)[:3]}")
            if alert_service.refresh(session, patient, today) != 0:
                raise SystemExit(f"patient {k}: alerts.service.refresh would add alerts")
        session.rollback()
        log(f"  {VERIFY_ALERTS} sampled patients: stored alerts equal alerts.service.compute,"
            " refresh adds none")


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
                for t in (m.Clinic.__table__, m.User.__table__, m.Patient.__table__,
                          m.QuestionnaireResponse.__table__, m.Observation.__table__,
                          m.CarePlanRecord.__table__, m.AlertRecord.__table__,
                          m.AuditEvent.__table__)}


def reuse(url: str, args: argparse.Namespace) -> Built:
    """A database built earlier with ``--keep`` (same seed)."""
    engine = db.make_engine(url)
    with engine.connect() as conn:
        clinic_id = conn.scalar(select(m.Clinic.id).where(
            m.Clinic.name == f"Clinic under load (synthetic) seed {args.seed}"))
        if clinic_id is None:
            raise SystemExit("--reuse: no benchmark clinic with this seed in the database")
        patient_ids = list(conn.scalars(select(m.Patient.id).where(
            m.Patient.clinic_id == clinic_id).order_by(m.Patient.mrn)))
        usernames = list(conn.scalars(select(m.User.username).where(
            m.User.clinic_id == clinic_id, m.User.role == "clinician")
            .order_by(m.User.username)))
    counts = row_counts(engine)
    engine.dispose()
    return Built(clinic_id, patient_ids, usernames, f"bench-load-{args.seed}-synthetic", 0.0,
                 counts)


# --- the server and its clients ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(url: str, log_path: Path, workers: int,
           env: dict[str, str] | None = None) -> Iterator[tuple[str, int]]:
    """``equipoise clinic serve`` in a subprocess (with ``env`` added to the environment);
    yields its base URL and pid."""
    port = free_port()
    with open(log_path, "wb") as err:
        server = subprocess.Popen(
            [sys.executable, "-m", "equipoise.cli.main", "clinic", "serve", "--port",
             str(port), "--database-url", url, "--workers", str(workers)],
            stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, **(env or {})})
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    httpx.get(base + "/login", timeout=2)
                    break
                except httpx.TransportError:
                    if server.poll() is not None:
                        raise SystemExit("the server exited: " + log_path.read_text()) from None
                    if time.monotonic() > deadline:
                        raise SystemExit("the server did not start") from None
                    time.sleep(0.2)
            yield base, server.pid
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)


@dataclasses.dataclass
class Login:
    cookie: str
    csrf: str


def sign_in(base: str, usernames: list[str], password: str, n: int) -> list[Login]:
    """One session per client, through the real sign-in API, one after another (each sign-in
    verifies an argon2 hash; failures, not successes, count toward the rate limit)."""
    out = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for k in range(n):
            r = client.post("/api/session", json={"username": usernames[k % len(usernames)],
                                                  "password": password})
            if r.status_code != 201:
                raise SystemExit(f"sign-in failed: {r.status_code} {r.text}")
            token = r.cookies.get("equipoise_session")
            if not token:
                raise SystemExit("sign-in set no session cookie")
            out.append(Login(token, r.json()["csrf_token"]))
            client.cookies.clear()
    return out


def _processes() -> dict[int, tuple[int, str, int]]:
    """Every process (Linux /proc): pid -> (parent pid, name, user + system CPU ticks)."""
    out: dict[int, tuple[int, str, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, rest = (entry / "stat").read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue
        fields = rest.split()
        out[int(entry.name)] = (int(fields[1]), name, int(fields[11]) + int(fields[12]))
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` and its descendants: the server and its
    worker processes."""
    stats = _processes()
    tree, grew = {pid}, True
    while grew:
        grew = False
        for p, (parent, _, _) in stats.items():
            if parent in tree and p not in tree:
                tree.add(p)
                grew = True
    return sum(stats[p][2] for p in tree if p in stats) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds() -> float:
    """User + system CPU seconds of every PostgreSQL process on this machine (named
    "postgres"): the database server's share of the cores, which the server's own count
    leaves out."""
    return sum(ticks for _, name, ticks in _processes().values()
               if name == "postgres") / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores; /proc/stat: everything but idle
    and I/O wait): beside the server's, the database's and the load generator's own shares,
    it shows what else was running."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


@dataclasses.dataclass
class Sample:
    op: str
    started: float
    ms: float
    status: int          # 0: transport error


def drive(base: str, logins: list[Login], patient_ids: list[str], ops: dict[str, float],
          think: float, warmup: float, seconds: float, seed: int,
          ) -> tuple[list[Sample], float, float]:
    """Run the clients; the samples of requests started in the measured window, its start and
    its length."""
    names = list(ops)
    weights = np.array([ops[k] for k in names], dtype=float)
    weights /= weights.sum()
    samples: list[Sample] = []
    lock = threading.Lock()
    stop = threading.Event()
    t_start = time.perf_counter() + 0.5
    t_measure = t_start + warmup
    t_end = t_measure + seconds
    gad7 = instrument("gad7")

    def client(k: int, login: Login) -> None:
        rng = np.random.default_rng([seed, k])
        mine: list[Sample] = []
        headers = {"Cookie": f"equipoise_session={login.cookie}", "X-CSRF-Token": login.csrf}
        with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
            while time.perf_counter() < t_start:
                time.sleep(0.01)
            # Clients start spread over one think time, not all at once.
            if think > 0 and stop.wait(float(rng.uniform(0, think))):
                return
            while not stop.is_set():
                op = names[int(rng.choice(len(names), p=weights))]
                pid = patient_ids[int(rng.integers(len(patient_ids)))]
                t0 = time.perf_counter()
                try:
                    if op == "submit":
                        answers = [int(x) for x in rng.integers(0, 4, gad7.n_items)]
                        r = c.post(f"/api/patients/{pid}/questionnaires",
                                   json={"instrument": "gad7", "answers": answers})
                    elif op == "page":
                        r = c.get(f"/patients/{pid}")
                    elif op == "dashboard-api":
                        r = c.get("/api/outcomes")
                    else:
                        r = c.get("/outcomes")
                    r.read()
                    status = r.status_code
                except httpx.TransportError:
                    status = 0
                t1 = time.perf_counter()
                if t_measure <= t0 < t_end:
                    mine.append(Sample(op, t0, 1000 * (t1 - t0), status))
                if t1 >= t_end:
                    break
                if think > 0 and stop.wait(float(rng.exponential(think))):
                    break
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=client, args=(k, login), daemon=True)
               for k, login in enumerate(logins)]
    for t in threads:
        t.start()
    time.sleep(max(0.0, t_end - time.perf_counter()))
    stop.set()
    for t in threads:
        t.join(180)
    return samples, t_measure, seconds


def summarise(samples: list[Sample], ops: list[str], seconds: float) -> list[dict[str, Any]]:
    rows = []
    for op in ops:
        mine = [s for s in samples if s.op == op]
        ok = np.array([s.ms for s in mine if 200 <= s.status < 300])
        errors = [s.status for s in mine if not 200 <= s.status < 300]
        row: dict[str, Any] = {"op": op, "count": len(mine), "errors": len(errors),
                               "error_statuses": sorted(set(errors)),
                               "throughput": len(mine) / seconds,
                               "threshold_ms": THRESHOLDS_MS[op]}
        if len(ok):
            p50, p95, p99 = np.percentile(ok, [50, 95, 99])
            row |= {"p50": float(p50), "p95": float(p95), "p99": float(p99),
                    "max": float(ok.max()), "mean": float(ok.mean())}
            row["pass"] = bool(p95 < THRESHOLDS_MS[op]) and not errors
        else:
            row["pass"] = False
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    out = ["| operation | requests | errors | p50 ms | p95 ms | p99 ms | max ms | req/s | "
           "p95 target | met? |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        if "p95" not in r:
            out.append(f"| {LABELS[r['op']]} | {r['count']} | {r['errors']} | - | - | - | - | "
                       f"{r['throughput']:.1f} | < {r['threshold_ms']:g} ms | no |")
            continue
        met = "yes" if r["pass"] else ("no (errors)" if r["errors"] else "no")
        out.append(f"| {LABELS[r['op']]} | {r['count']:,} | {r['errors']} | {r['p50']:.1f} | "
                   f"{r['p95']:.1f} | {r['p99']:.1f} | {r['max']:.1f} | "
                   f"{r['throughput']:.1f} | < {r['threshold_ms']:g} ms | {met} |")
    return "\n".join(out)


def probe_dashboard(base: str, login: Login) -> list[str]:
    headers = {"Cookie": f"equipoise_session={login.cookie}", "X-CSRF-Token": login.csrf}
    found = []
    with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
        for op, path in (("dashboard-api", "/api/outcomes"), ("dashboard-page", "/outcomes")):
            r = c.get(path)
            if r.status_code == 404:
                continue
            if not 200 <= r.status_code < 300:
                raise SystemExit(f"{path} answered {r.status_code} before the run")
            found.append(op)
    return found


def run_phase(label: str, base: str, pid: int, logins: list[Login], built: Built,
              ops: dict[str, float], think: float, warmup: float, seconds: float,
              seed: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    own0, db0, busy0 = time.process_time(), database_cpu_seconds(), machine_busy_seconds()
    log(f"  {label}: {len(logins)} clients, think {think:g} s, warm-up {warmup:g} s, "
        f"measuring {seconds:g} s ...")
    samples, _, measured = drive(base, logins, built.patient_ids, ops, think, warmup, seconds,
                                 seed)
    wall = time.perf_counter() - t0
    server_cores = (cpu_seconds(pid) - cpu0) / wall
    client_cores = (time.process_time() - own0) / wall
    database_cores = (database_cpu_seconds() - db0) / wall
    busy_cores = (machine_busy_seconds() - busy0) / wall
    load_after = os.getloadavg()[0]
    rows = summarise(samples, list(ops), measured)
    errors = sum(r["errors"] for r in rows)
    result = {"phase": label, "clients": len(logins), "think": think, "seconds": measured,
              "rows": rows, "errors": errors, "load_before": load_before,
              "load_after": load_after, "server_cores": server_cores,
              "client_cores": client_cores, "database_cores": database_cores,
              "busy_cores": busy_cores,
              "total_throughput": sum(r["throughput"] for r in rows)}
    print(table(rows))
    log(f"  {sum(r['count'] for r in rows):,} requests, {result['total_throughput']:.1f} "
        f"req/s; server process {server_cores:.2f} cores, client process "
        f"{client_cores:.2f} cores, PostgreSQL {database_cores:.2f} cores, whole machine "
        f"busy {busy_cores:.2f} cores; 1-min load average {load_before:.2f} before, "
        f"{load_after:.2f} after")
    if errors:
        log(f"  THIS RUN HAD {errors} ERRORS: " + "; ".join(
            f"{r['op']}: {r['errors']} (statuses {r['error_statuses']}, 0 = transport)"
            for r in rows if r["errors"]))
    return result


def parse_mix(text_: str) -> dict[str, float]:
    mix = {}
    for part in text_.split(","):
        key, _, value = part.partition("=")
        if key.strip() not in ("submit", "page", "dashboard"):
            raise SystemExit(f"--mix: unknown operation {key!r} (submit, page, dashboard)")
        mix[key.strip()] = float(value)
    return mix


def run_database(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    sqlite_path: Path | None = None
    if kind == "sqlite":
        sqlite_path = Path(args.sqlite_path or f"/tmp/equipoise-clinic-load-{args.seed}.sqlite3")
        url = f"sqlite:///{sqlite_path}"
    else:
        url = args.postgresql_url or os.environ.get("EQUIPOISE_BENCH_POSTGRES_URL", "")
        if not url:
            raise SystemExit("PostgreSQL: give --postgresql-url or EQUIPOISE_BENCH_POSTGRES_URL")
        name = make_url(url).database or ""
        if "bench" not in name or name == "equipoise_test":
            raise SystemExit(f"refusing to reset database {name!r}: its name must contain "
                             "'bench' (the build drops its public schema)")
    log(f"\n== {kind}: {args.patients:,} patients, {args.questionnaires:,} questionnaires ==")
    if args.reuse:
        built = reuse(url, args)
        log("  reusing the database built earlier")
    else:
        built = build(url, sqlite_path, args)
        log(f"  built in {built.seconds:.1f} s")
    log("  rows: " + ", ".join(f"{k} {v:,}" for k, v in built.counts.items()))
    result: dict[str, Any] = {"database": kind, "build_seconds": built.seconds,
                              "counts": built.counts, "workers": args.workers}
    try:
        log_path = Path(f"/tmp/equipoise-clinic-load-server-{kind}.log")
        log(f"  server: equipoise clinic serve --workers {args.workers}")
        with served(url, log_path, args.workers) as (base, pid):
            t = time.perf_counter()
            logins = sign_in(base, built.usernames, built.password, args.clients)
            log(f"  {len(logins)} clinicians signed in through POST /api/session in "
                f"{time.perf_counter() - t:.1f} s")
            mix = parse_mix(args.mix)
            ops = {k: v for k, v in mix.items() if k != "dashboard" and v > 0}
            if mix.get("dashboard", 0) > 0:
                found = probe_dashboard(base, logins[0])
                if not found:
                    log("  dashboard: not available in this build (GET /api/outcomes and "
                        "GET /outcomes answer 404); not measured")
                for op in found:
                    ops[op] = mix["dashboard"] / len(found)
            result["operations"] = ops
            result["measured"] = run_phase("measured run", base, pid, logins, built, ops,
                                           args.think, args.warmup, args.seconds, args.seed)
            if args.saturation_seconds > 0:
                result["saturation"] = run_phase(
                    "saturation run (no think time)", base, pid, logins, built, ops, 0.0,
                    min(args.warmup, 3.0), args.saturation_seconds, args.seed + 7)
    finally:
        if not args.keep:
            if sqlite_path is not None:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
                log(f"  deleted {sqlite_path}")
            else:
                reset_database(url, None)
                log("  dropped the benchmark tables")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--patients", type=int, default=10_000)
    ap.add_argument("--questionnaires", type=int, default=500_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--users", type=int, default=None,
                    help="clinician users (default: one per client)")
    ap.add_argument("--seconds", type=float, default=60.0, help="measured seconds")
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--think", type=float, default=1.0, help="mean think time, seconds")
    ap.add_argument("--saturation-seconds", type=float, default=30.0,
                    help="length of the run without think time (0: skip it)")
    ap.add_argument("--mix", default="submit=4,page=4,dashboard=2",
                    help="relative weights of the operations")
    ap.add_argument("--workers", type=int, default=1,
                    help="server processes (equipoise clinic serve --workers)")
    ap.add_argument("--seed", type=int, default=20261127)
    ap.add_argument("--postgresql-url", default=None)
    ap.add_argument("--sqlite-path", default=None)
    ap.add_argument("--keep", action="store_true",
                    help="keep the database (SQLite file, PostgreSQL tables) afterwards")
    ap.add_argument("--reuse", action="store_true",
                    help="skip the build: use a database kept by an earlier --keep run")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    args = ap.parse_args(argv)
    log(f"clinic_load: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"1-min load average {os.getloadavg()[0]:.2f}; "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    results = [run_database(kind, args) for kind in kinds]
    print("\n## Results\n")
    for res in results:
        for key in ("measured", "saturation"):
            if key in res:
                ph = res[key]
                print(f"### {res['database']}, {res['workers']} server process(es): "
                      f"{ph['phase']}, {ph['clients']} clients, think "
                      f"{ph['think']:g} s, {ph['seconds']:g} s measured\n")
                print(table(ph["rows"]))
                print(f"\n(total {ph['total_throughput']:.1f} req/s; server process "
                      f"{ph['server_cores']:.2f} cores, load generator {ph['client_cores']:.2f}"
                      f" cores, PostgreSQL {ph['database_cores']:.2f} cores, whole machine busy"
                      f" {ph['busy_cores']:.2f} cores; 1-min load average "
                      f"{ph['load_before']:.2f} before, "
                      f"{ph['load_after']:.2f} after; {ph['errors']} errors)\n")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "results": results},
                                              indent=1, default=str))
    failed = [res["database"] for res in results
              if any(not r["pass"] for r in res.get("measured", {}).get("rows", []))]
    if failed:
        log(f"targets missed on: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
