"""Patients' outcome summaries (``care.outcomes``) kept up to date, the clinic dashboard built
from them, and the de-identified research export.

``refresh`` recomputes one patient's summary from their records; every write that can change
an outcome (questionnaire, infusion start or adverse event, antidepressant course, CBT session,
care plan, FHIR import) calls it, and ``tests/clinic/test_outcomes.py`` checks the stored rows
against a recomputation from scratch.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Date,
    String,
    bindparam,
    cast,
    delete,
    insert,
    literal_column,
    null,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from equipoise.care import outcomes as rules
from equipoise.clinic.accounts.models import Clinic, User
from equipoise.clinic.alerts import service as alerts
from equipoise.clinic.alerts.service import relapse_rule
from equipoise.clinic.db import UTCDateTime, claim_writes, local_time, new_id
from equipoise.clinic.infusions.models import AdverseEvent, Infusion
from equipoise.clinic.outcomes.cache import DashboardCache
from equipoise.clinic.outcomes.models import OutcomeRecord
from equipoise.clinic.patients import history
from equipoise.clinic.patients.identity import pseudonym
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.prescriptions.models import MedicationCourse
from equipoise.clinic.therapy.models import TherapySession
from equipoise.errors import MeasureError

WEEK = 12


def _expectation(plan: Mapping[str, Any] | None, modality: str) -> rules.Expectation | None:
    """The plan's expectation for the option matching what the patient received (None when
    the stored plan has none, or none that reads as shares)."""
    option = rules.PLAN_OPTION.get(modality)
    if plan is None or option is None:
        return None
    expected = next((o.get("expected") or {} for o in plan.get("options", [])
                     if isinstance(o, dict) and o.get("treatment") == option), {})
    try:
        return rules.plan_expectation(expected, f"response_or_remission_week_{WEEK}")
    except MeasureError:
        return None


# Built once (``patients.history``): the summary is refreshed on every write to a record. One
# statement reads when each treatment began and who began it (an infusion's start time, a
# course's or an attended CBT session's day) and one row per adverse event.
_KIND = ("ketamine", "ssri", "cbt")
_BEGAN: CompoundSelect[Any] = union_all(
    select(literal_column("'ketamine'").label("kind"), Infusion.started_at.label("at"),
           cast(null(), Date).label("day"), Infusion.created_by.label("who"))
    .where(Infusion.patient_id == bindparam("patient"), Infusion.clinic_id == bindparam("clinic"),
           Infusion.started_at.is_not(None)),
    select(literal_column("'ssri'"), cast(null(), UTCDateTime()), MedicationCourse.started_on,
           MedicationCourse.created_by)
    .where(MedicationCourse.patient_id == bindparam("patient"),
           MedicationCourse.clinic_id == bindparam("clinic")),
    select(literal_column("'cbt'"), cast(null(), UTCDateTime()), TherapySession.on,
           TherapySession.therapist_id)
    .where(TherapySession.patient_id == bindparam("patient"),
           TherapySession.clinic_id == bindparam("clinic"),
           TherapySession.attended == "attended"),
    select(literal_column("'adverse'"), cast(null(), UTCDateTime()), cast(null(), Date),
           cast(null(), String))
    .where(AdverseEvent.patient_id == bindparam("patient"),
           AdverseEvent.clinic_id == bindparam("clinic")))
# The summary's columns (every column but the row's keys), as the model declares them.
_FIELDS = tuple(c.name for c in OutcomeRecord.__table__.columns
                if c.name not in ("id", "clinic_id", "patient_id"))
_UPDATE = update(OutcomeRecord).where(OutcomeRecord.patient_id == bindparam("patient")).values(
    {name: bindparam(f"new_{name}") for name in _FIELDS})


def compute(session: Session, patient: Patient,
            patient_history: history.History | None = None) -> rules.PatientOutcome:
    """The patient's outcome from their records (``care.outcomes.summarise``), in the clinic's
    local time; ``patient_history``: their history read by the caller (else read here)."""
    h = patient_history or history.read(session, patient)
    conn = session.connection()            # plain column reads, without the ORM's overhead
    ids = {"patient": patient.id, "clinic": patient.clinic_id}
    began: list[tuple[rules.Moment, str, str]] = []       # (when, treatment, who started it)
    events = 0
    for kind, at, day, who in conn.execute(_BEGAN, ids):
        if kind == "adverse":
            events += 1
        elif kind == "ketamine" and at is not None:     # (only started infusions are read)
            began.append((local_time(session, at), kind, who))
        elif day is not None:
            began.append((day, kind, who))
    # In a fixed order (a union's rows come in no promised order): of treatments that began
    # together, the infusion, then the course, then the session, names the clinician.
    began.sort(key=lambda b: (rules.moment_key(b[0]), _KIND.index(b[1]), b[2]))
    first = began[0] if began else None
    clinician = h.plan.created_by if h.plan else (first[2] if first else "")
    gad7 = [(local_time(session, when), value) for when, value in h.series("gad7")]
    outcome = rules.summarise(treatments=[(when, name) for when, name, _ in began],
                              clinician=clinician, gad7=gad7, adverse_events=events,
                              relapse_rule=relapse_rule(h.protocol))
    expected = _expectation(h.plan.plan if h.plan else None, outcome.modality)
    return dataclasses.replace(outcome, expected=expected)


def refresh(session: Session, patient: Patient,
            patient_history: history.History | None = None) -> None:
    """Recompute and store the patient's outcome summary (one UPDATE, or an INSERT for a
    patient summarised for the first time); ``patient_history`` as for ``compute``."""
    o = compute(session, patient, patient_history)
    e = o.expected
    values = {"modality": o.modality, "clinician_id": o.clinician or None,
              "start_quarter": o.start_quarter, "baseline": o.baseline, "week12": o.week12,
              "response_week12": o.response_week12, "days_to_response": o.days_to_response,
              "relapsed": o.relapsed, "follow_up_days": o.follow_up_days,
              "adverse_events": o.adverse_events,
              "expected": e.share if e else None, "expected_low": e.low if e else None,
              "expected_high": e.high if e else None}
    conn = session.connection()
    changed = {f"new_{name}": value for name, value in values.items()}
    if conn.execute(_UPDATE, {"patient": patient.id, **changed}).rowcount == 0:
        conn.execute(insert(OutcomeRecord).values(
            id=new_id(), clinic_id=patient.clinic_id, patient_id=patient.id, **values))


def refresh_with_alerts(session: Session, patient: Patient) -> int:
    """After a write that can raise alerts (a questionnaire, an import): one read of the
    patient's record refreshes both their alerts and their outcome summary; how many alerts
    were new."""
    claim_writes(session)               # what is read below is what the refreshes store from
    after = history.read(session, patient)
    refresh(session, patient, after)
    return alerts.refresh(session, patient, patient_history=after)


def refresh_patient(session: Session, patient_id: str) -> None:
    patient = session.get(Patient, patient_id)
    assert patient is not None
    refresh(session, patient)


def refresh_missing(session: Session) -> int:
    """Summaries for every patient (of any clinic) who has none: patients recorded before
    the summaries existed (migration 0003), or loaded in bulk. Run when the clinic starts."""
    done = select(OutcomeRecord.patient_id)
    n = 0
    for p in session.scalars(select(Patient).where(Patient.id.not_in(done))):
        refresh(session, p)
        n += 1
    return n


def refresh_all(session: Session, clinic_id: str) -> int:
    """Recompute every patient's summary (after a bulk load or a rule change)."""
    session.execute(delete(OutcomeRecord).where(OutcomeRecord.clinic_id == clinic_id))
    n = 0
    for p in session.scalars(select(Patient).where(Patient.clinic_id == clinic_id)):
        refresh(session, p)
        n += 1
    return n


def stored(session: Session, clinic_id: str, labels: Mapping[str, str]
           ) -> list[rules.PatientOutcome]:
    """Every stored summary of the clinic, each clinician under ``labels`` (``clinicians``)
    — plain column rows, not ORM objects: the dashboard reads 10,000 on every request."""
    t = OutcomeRecord.__table__.c
    rows = session.connection().execute(select(
        t.modality, t.clinician_id, t.start_quarter, t.baseline, t.week12, t.response_week12,
        t.days_to_response, t.relapsed, t.follow_up_days, t.adverse_events, t.expected,
        t.expected_low, t.expected_high).where(t.clinic_id == clinic_id))
    out = []
    for (modality, clinician, quarter, baseline, week12, response, days, relapsed, follow,
         events, share, low, high) in rows:
        out.append(rules.PatientOutcome(
            modality, labels.get(clinician or "", NO_CLINICIAN), quarter,
            baseline, week12, response, days, relapsed, follow, events,
            None if share is None else rules.Expectation(share, low, high)))
    return out


NO_CLINICIAN = "(no clinician recorded)"
# Researchers see no group of fewer patients than this (small cells can single a patient
# out); equipoise's design, not a published standard.
RESEARCH_MIN_GROUP = 5


def clinicians(session: Session, clinic_id: str, research: bool) -> dict[str, str]:
    """Labels of the clinic's users: display names (with the user name where two share
    one), or for researchers "clinician 1", "clinician 2"... in an order keyed by the
    clinic's research key, so a label names no one."""
    users = session.execute(select(User.id, User.display_name, User.username).where(
        User.clinic_id == clinic_id)).all()
    if research:
        clinic = session.get(Clinic, clinic_id)
        key = clinic.research_key if clinic is not None else ""
        order = sorted(users, key=lambda u: pseudonym(key, u[0]))
        return {u[0]: f"clinician {k + 1}" for k, u in enumerate(order)}
    shown = [name or username for _, name, username in users]
    return {uid: (name or username) if shown.count(name or username) == 1
            else f"{name or username} ({username})" for uid, name, username in users}


def _proportion(p: rules.Proportion | None) -> dict[str, Any] | None:
    return None if p is None else {"events": p.events, "n": p.n, "share": round(p.share, 4),
                                   "low": round(p.low, 4), "high": round(p.high, 4)}


def _group(g: rules.GroupOutcome) -> dict[str, Any]:
    e = g.expected
    return {"label": g.label, "patients": g.patients, "evaluable": g.evaluable,
            "response_week12": _proportion(g.response),
            "remission_week12": _proportion(g.remission),
            "responders": g.responders, "median_days_to_response": g.median_days_to_response,
            "durable": _proportion(g.durable), "adverse_event": _proportion(g.adverse),
            "expected_response_week12": None if e is None else {
                "share": round(e.share, 4),
                "low": None if e.low is None else round(e.low, 4),
                "high": None if e.high is None else round(e.high, 4), "n": g.expected_n}}


def dashboard(rows: Sequence[rules.PatientOutcome],
              remission_at_or_below: float | None = None, *,
              min_group: int = 1) -> dict[str, Any]:
    """The clinic's outcomes by modality, by clinician and by start quarter (JSON-ready);
    groups of fewer than ``min_group`` patients are withheld and counted."""
    cut = remission_at_or_below
    withheld = 0

    def shown(groups: list[rules.GroupOutcome]) -> list[dict[str, Any]]:
        nonlocal withheld
        kept = [g for g in groups if g.patients >= min_group]
        withheld += len(groups) - len(kept)
        return [_group(g) for g in kept]

    def groups(key: Any) -> list[dict[str, Any]]:
        return shown(rules.by(rows, key, remission_at_or_below=cut))
    treated = [r for r in rows if r.modality]
    overall = shown([rules.group("all treated", treated, remission_at_or_below=cut)]) \
        if treated else []
    return {
        "patients": len(rows), "treated": len(treated),
        "overall": overall[0] if overall else None,
        "by_modality": groups(lambda r: r.modality),
        "by_clinician": groups(lambda r: r.clinician if r.modality else None),
        "by_quarter": groups(lambda r: r.start_quarter if r.modality else None),
        "withheld_groups": withheld, "min_group": min_group,
        "remission_at_or_below": cut,
        "definitions": rules.DESIGN_NOTE,
        "expectation": "mean over the same evaluable patients of their latest care plan's "
                       "simulated share in response or remission at week 12 for the option "
                       "matching the treatments received (equipoise anxiety model); interval: "
                       "the mean of their plans' 2.5-97.5% intervals over parameter draws",
        "intervals": "Wilson score 95% intervals",
    }


def for_user(session: Session, clinic_id: str, research: bool,
             remission_at_or_below: float | None = None) -> dict[str, Any]:
    """The dashboard as a clinician (names, every group) or a researcher (pseudonymous
    clinicians, no group under ``RESEARCH_MIN_GROUP``) sees it."""
    rows = stored(session, clinic_id, clinicians(session, clinic_id, research))
    return dashboard(rows, remission_at_or_below,
                     min_group=RESEARCH_MIN_GROUP if research else 1)


def cached(cache: DashboardCache, session: Session, clinic_id: str, research: bool,
           remission_at_or_below: float | None = None) -> dict[str, Any]:
    """``for_user`` through the app's ``DashboardCache``."""
    return cache.get((clinic_id, research, remission_at_or_below),
                     lambda: for_user(session, clinic_id, research, remission_at_or_below))
