"""Server-rendered pages for clinicians and patients; they call the same services as the API.

Forms carry the session's CSRF token; successful posts redirect (post/redirect/get); failed
posts re-render the page with the error, so no value typed into a form ever goes into a URL.
"""

from __future__ import annotations

import datetime as dt
import math
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from equipoise.care.profile import DIAGNOSES, PREFERENCES
from equipoise.care.safety import load_rules
from equipoise.clinic.accounts import service as accounts
from equipoise.clinic.accounts.models import Clinic, User
from equipoise.clinic.accounts.router import client_address, set_cookie
from equipoise.clinic.accounts.schemas import LoginForm, UserCreate
from equipoise.clinic.alerts import service as alert_service
from equipoise.clinic.alerts.models import AlertRecord
from equipoise.clinic.alerts.service import RELAPSE_FIELDS
from equipoise.clinic.bodies import Id, Token
from equipoise.clinic.care_plans import service as care_plans
from equipoise.clinic.deps import COOKIE, Actor, csrf, db, optional_actor, record, settings
from equipoise.clinic.infusions import service as infusions
from equipoise.clinic.infusions.models import AdverseEvent, Infusion, VitalSign
from equipoise.clinic.infusions.schemas import (
    AdverseEventIn,
    Checklist,
    DischargeIn,
    InfusionCreate,
    Medication,
    VitalsIn,
)
from equipoise.clinic.pages.charts import line_chart, trajectory_chart
from equipoise.clinic.patients import service as patients
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.patients.schemas import PatientCreate
from equipoise.clinic.prescriptions import service as prescriptions
from equipoise.clinic.prescriptions.schemas import DoseStepCreate, MedicationCourseCreate
from equipoise.clinic.questionnaires import service as questionnaires
from equipoise.clinic.questionnaires.models import Observation, QuestionnaireResponse
from equipoise.clinic.questionnaires.schemas import INSTRUMENTS, SELF_REPORT
from equipoise.clinic.security import same
from equipoise.clinic.settings import Settings
from equipoise.clinic.therapy import service as therapy
from equipoise.clinic.therapy.schemas import TherapySessionCreate
from equipoise.errors import AccessDeniedError, ClinicError, ModelFileError
from equipoise.report.plan_html import plan_html

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(resources.files("equipoise.clinic") / "templates"))


def _local(when: dt.datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored (UTC) time shown in the clinic's zone, with the zone named."""
    if when is None:
        return ""
    return when.astimezone(ZoneInfo(tz)).strftime(fmt) + f" {tz}"


templates.env.filters["local"] = _local
DISCLAIMER = ("equipoise supports clinicians' decisions; it is not medical advice and does not "
              "replace clinical judgement.")


class SignInRequiredError(Exception):
    """A page asked for without a session: the handler sends the browser to /login."""


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("who", None)
    context.setdefault("tz", request.app.state.settings.timezone)
    return templates.TemplateResponse(request, name, {"disclaimer": DISCLAIMER, **context},
                                      status_code=status)


def see(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


async def viewer(request: Request, who: Actor | None = Depends(optional_actor),
           _: None = Depends(csrf)) -> Actor:
    if who is None:
        raise SignInRequiredError
    if request.method == "POST" and not same(getattr(request.state, "csrf_sent", ""),
                                             who.login.csrf_token):
        raise AccessDeniedError("the form expired or was not sent by this site; reload the "
                                "page")
    return who


def _allowed(who: Actor, permission: str) -> None:
    if not who.can(permission):
        raise AccessDeniedError(f"your role does not allow {permission}")


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _time(value: str | None, cfg: Settings) -> dt.datetime | None:
    """A datetime-local value, read in the clinic's zone; blank means now."""
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ClinicError(f"{value!r} is not a date and time", field="at") from exc
    return when if when.tzinfo else when.replace(tzinfo=ZoneInfo(cfg.timezone))


def _num(form: dict[str, str], key: str) -> float | None:
    raw = form.get(key, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ClinicError(f"{raw!r} is not a number", field=key) from exc
    if not math.isfinite(value) or abs(value) > 1e9:
        raise ClinicError(f"{raw!r} is not a usable number", field=key)
    return value


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.replace(";", ",").split(",") if x.strip()]
    except ValueError as exc:
        raise ClinicError("give whole numbers separated by commas", field="answers") from exc


def _message(exc: Exception) -> str:
    if isinstance(exc, ClinicError) and exc.field:
        return f"{exc.field}: {exc}"
    return str(exc)


# --- sign-in ------------------------------------------------------------------------------

@router.get("/")
def home(who: Actor | None = Depends(optional_actor)) -> Response:
    return see("/patients" if who else "/login")


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return page(request, "login.html")


@router.post("/login")
async def login(request: Request, session: Session = Depends(db),
                cfg: Settings = Depends(settings)) -> Response:
    form = await _form(request)
    try:
        body = LoginForm.model_validate({"username": form.get("username", ""),
                                         "password": form.get("password", "")})
    except ValueError:
        return page(request, "login.html", 401, error="wrong user name or password")
    try:
        found = accounts.sign_in(session, cfg, body.username, body.password,
                                 client_address(request))
    except ClinicError as exc:
        session.commit()
        return page(request, "login.html", exc.status, error=str(exc))
    session.commit()
    if found is None:
        return page(request, "login.html", 401, error="wrong user name or password")
    _, _, token = found
    response = see("/patients")
    set_cookie(response, token, cfg)
    return response


@router.post("/logout")
def logout(who: Actor = Depends(viewer), session: Session = Depends(db)) -> Response:
    accounts.sign_out(session, session.merge(who.login))
    session.commit()
    response = see("/login")
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/setup/{token}")
def setup_page(request: Request) -> HTMLResponse:
    return page(request, "setup.html")


@router.post("/setup/{token}")
async def setup(token: Token, request: Request, session: Session = Depends(db)) -> Response:
    form = await _form(request)
    try:
        accounts.complete_setup(session, token, form.get("password", ""))
    except ClinicError as exc:
        return page(request, "setup.html", exc.status, error=_message(exc))
    session.commit()
    return page(request, "login.html", notice="Password saved. Sign in as admin.")


# --- patients -----------------------------------------------------------------------------

PAGE_SIZE = 100


def _patients_page(request: Request, session: Session, who: Actor, text: str = "",
                   status: int = 200, error: str | None = None,
                   number: int = 0) -> HTMLResponse:
    _allowed(who, "patients:read")
    rows = patients.search(session, who.clinic_id, text, PAGE_SIZE + 1, number * PAGE_SIZE)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    record(session, request, who, "search", "patient")
    for p in rows:
        record(session, request, who, "read", "patient", p.id, p.id)
    session.commit()
    return page(request, "patients.html", status, who=who, patients=rows, text=text,
                error=error, can_write=who.can("patients:write"), number=number,
                more=more and not text)


@router.get("/patients")
def patients_page(request: Request, page_number: int = Query(0, alias="page", ge=0, le=100_000),
                  who: Actor = Depends(viewer),
                  session: Session = Depends(db)) -> HTMLResponse:
    """The clinic's patients, a hundred a page (the page number is the only query value)."""
    return _patients_page(request, session, who, number=page_number)


@router.post("/patients/search")
async def patients_search(request: Request, who: Actor = Depends(viewer),
                          session: Session = Depends(db)) -> HTMLResponse:
    form = await _form(request)
    return _patients_page(request, session, who, form.get("text", "")[:100])


@router.post("/patients/new")
async def patient_new(request: Request, who: Actor = Depends(viewer),
                      session: Session = Depends(db)) -> Response:
    form = await _form(request)
    try:
        _allowed(who, "patients:write")
        body = PatientCreate.model_validate({
            "mrn": form.get("mrn", ""), "given_name": form.get("given_name", ""),
            "family_name": form.get("family_name", ""), "birth_date": form.get("birth_date"),
            "sex": form.get("sex", "unknown"), "weight_kg": _num(form, "weight_kg")})
        p = patients.create(session, who.clinic_id, body.model_dump())
    except (ClinicError, ValueError) as exc:
        session.rollback()
        return _patients_page(request, session, who, status=422, error=_message(exc))
    record(session, request, who, "create", "patient", p.id, p.id)
    session.commit()
    return see(f"/patients/{p.id}")


# The patient page's questionnaire table, newest first: plain column rows (built once), not
# 400 ORM objects for a patient with 200 responses.
_RESPONSES = (
    select(QuestionnaireResponse.authored, QuestionnaireResponse.instrument,
           QuestionnaireResponse.source, Observation.effective, Observation.value,
           Observation.band, Observation.code, Observation.flags)
    .join(Observation, Observation.response_id == QuestionnaireResponse.id)
    .where(QuestionnaireResponse.patient_id == bindparam("patient"),
           QuestionnaireResponse.clinic_id == bindparam("clinic"))
    .order_by(QuestionnaireResponse.authored.desc()).limit(200))


def _patient_page(request: Request, session: Session, who: Actor, cfg: Settings,
                  patient_id: Id, *, status: int = 200, error: str | None = None,
                  link: Any = None) -> HTMLResponse:
    _allowed(who, "patients:read")
    p = patients.get(session, who.clinic_id, patient_id)
    responses = session.connection().execute(
        _RESPONSES, {"patient": p.id, "clinic": who.clinic_id}).all() \
        if who.can("questionnaires:read") else []
    series: dict[str, list[tuple[dt.datetime, float]]] = {}
    for r in reversed(responses):
        if r.instrument in ("gad7", "phq9"):
            series.setdefault(r.instrument.upper(), []).append((r.effective, r.value))
    urgent = [f for r in responses[:1] for f in r.flags if f.get("severity") == "urgent"]
    rows = session.scalars(select(Infusion).where(Infusion.patient_id == p.id,
                                                  Infusion.clinic_id == who.clinic_id)
                           .order_by(Infusion.scheduled_for.desc())).all() \
        if who.can("infusions:read") else []
    plans = care_plans.for_patient(session, who.clinic_id, p.id, listed=True) \
        if who.can("plans:read") else []
    courses = prescriptions.for_patient(session, who.clinic_id, p.id) \
        if who.can("medications:read") else []
    steps = prescriptions.steps(session, who.clinic_id, [c.id for c in courses]) \
        if courses else {}
    sessions_ = therapy.for_patient(session, who.clinic_id, p.id) \
        if who.can("therapy:read") else []
    record(session, request, who, "read", "patient", p.id, p.id)
    session.commit()
    now = dt.datetime.now(ZoneInfo(cfg.timezone)).strftime("%Y-%m-%dT%H:%M")
    return page(request, "patient.html", status, who=who, p=p, responses=responses,
                chart=line_chart(series, title="Questionnaire totals", y_label="total",
                                 y_min=0),
                urgent=urgent, infusions=rows, error=error, link=link,
                instruments=INSTRUMENTS, tz=cfg.timezone, now_local=now,
                base_url=str(request.base_url).rstrip("/"),
                can_questionnaire=who.can("questionnaires:write"),
                can_link=who.can("links:create"), can_infuse=who.can("infusions:write"),
                plans=plans, courses=[(c, steps[c.id]) for c in courses], therapy=sessions_,
                today=now[:10], preferences=PREFERENCES, drugs=_antidepressants(),
                can_plan=who.can("plans:write"), can_prescribe=who.can("medications:write"),
                can_therapy=who.can("therapy:write"))


def _antidepressants() -> list[str]:
    return sorted(n for n, c in load_rules().medications.items() if c in ("ssri", "snri"))


def _medications(text: str) -> list[dict[str, Any]]:
    """Lines of "name mg-per-day" (the dose may be left out)."""
    out: list[dict[str, Any]] = []
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) > 1 and parts[-1].replace(".", "", 1).isdigit():
            out.append({"name": " ".join(parts[:-1]), "dose_mg_per_day": float(parts[-1])})
        else:
            out.append({"name": " ".join(parts)})
    return out


def _rule_ids(text: str) -> list[str]:
    return [r.strip().upper() for r in text.replace(";", ",").split(",") if r.strip()]


async def _patient_form(patient_id: Id, request: Request, who: Actor, session: Session,
                        cfg: Settings, action: str) -> Response:
    """Handle one of the patient page's record forms (plan, course, dose, therapy)."""
    form = await _form(request)
    try:
        if action == "plan":
            _allowed(who, "plans:write")
            p = patients.get(session, who.clinic_id, patient_id)
            latest: dict[str, float] = {}
            for o in session.scalars(select(Observation).where(
                    Observation.patient_id == p.id, Observation.clinic_id == who.clinic_id)
                    .order_by(Observation.effective)):
                latest[{"gad7": "gad7", "phq9": "phq9", "ham-a": "ham_a"}.get(
                    o.instrument, "")] = o.value
            latest.pop("", None)
            given: dict[str, Any] = {
                "scores": {k: int(v) for k, v in latest.items()},
                "diagnoses": [d.strip().upper() for d in form.get("diagnoses", "").split(",")
                              if d.strip().upper() in DIAGNOSES],
                "conditions": [c.strip() for c in form.get("conditions", "").splitlines()
                               if c.strip()],
                "medications": _medications(form.get("medications", "")),
                "preferences": [x for x in PREFERENCES if f"pref_{x}" in form],
                "pregnant": "pregnant" in form}
            start = dt.date.fromisoformat(form.get("start_date", ""))
            try:
                rec = care_plans.create(session, p, given, start, who.user.id)
            except ModelFileError as exc:
                raise ClinicError("; ".join(f"{q.field}: {q.message}" for q in exc.problems),
                                  field="profile") from exc
            record(session, request, who, "create", "care-plan", rec.id, p.id)
            session.commit()
            return see(f"/plans/{rec.id}")
        if action == "course":
            _allowed(who, "medications:write")
            p = patients.get(session, who.clinic_id, patient_id)
            body = MedicationCourseCreate.model_validate({
                "drug": form.get("drug", ""), "started_on": form.get("started_on"),
                "dose_mg_per_day": _num(form, "dose_mg_per_day") or 0,
                "acknowledge_rules": _rule_ids(form.get("acknowledge_rules", ""))})
            c, step, _ = prescriptions.create(session, p, body.drug, body.started_on,
                                              body.dose_mg_per_day, body.acknowledge_rules,
                                              who.user.id)
            record(session, request, who, "create", "medication-course", c.id, p.id)
        elif action == "step":
            _allowed(who, "medications:write")
            c = prescriptions.get(session, who.clinic_id, patient_id)     # a course id here
            p = patients.get(session, who.clinic_id, c.patient_id)
            step_body = DoseStepCreate.model_validate({
                "from_date": form.get("from_date"),
                "dose_mg_per_day": _num(form, "dose_mg_per_day") or 0,
                "acknowledge_rules": _rule_ids(form.get("acknowledge_rules", ""))})
            step, _ = prescriptions.add_step(session, c, p, step_body.from_date,
                                             step_body.dose_mg_per_day,
                                             step_body.acknowledge_rules, who.user.id)
            record(session, request, who, "create", "dose-step", step.id, p.id)
        else:
            _allowed(who, "therapy:write")
            p = patients.get(session, who.clinic_id, patient_id)
            t_body = TherapySessionCreate.model_validate({
                "on": form.get("on"), "number": int(_num(form, "number") or 0),
                "modality": form.get("modality", ""),
                "minutes": int(_num(form, "minutes") or 0),
                "attended": form.get("attended", "")})
            t = therapy.create(session, p, who.user.id, t_body.model_dump())
            record(session, request, who, "create", "therapy-session", t.id, p.id)
    except (ClinicError, ValueError) as exc:
        session.rollback()
        if isinstance(exc, ClinicError) and exc.status == 404:
            raise
        target = patient_id
        if action == "step":
            course = prescriptions.get(session, who.clinic_id, patient_id)
            target = course.patient_id
        return _patient_page(request, session, who, cfg, target,
                             status=getattr(exc, "status", 422), error=_message(exc))
    session.commit()
    return see(f"/patients/{p.id}")


@router.post("/patients/{patient_id}/plans")
async def patient_plan(patient_id: Id, request: Request, who: Actor = Depends(viewer),
                       session: Session = Depends(db),
                       cfg: Settings = Depends(settings)) -> Response:
    return await _patient_form(patient_id, request, who, session, cfg, "plan")


@router.post("/patients/{patient_id}/courses")
async def patient_course(patient_id: Id, request: Request, who: Actor = Depends(viewer),
                         session: Session = Depends(db),
                         cfg: Settings = Depends(settings)) -> Response:
    return await _patient_form(patient_id, request, who, session, cfg, "course")


@router.post("/courses/{course_id}/steps")
async def course_step(course_id: Id, request: Request, who: Actor = Depends(viewer),
                      session: Session = Depends(db),
                      cfg: Settings = Depends(settings)) -> Response:
    return await _patient_form(course_id, request, who, session, cfg, "step")


@router.post("/patients/{patient_id}/therapy")
async def patient_therapy(patient_id: Id, request: Request, who: Actor = Depends(viewer),
                          session: Session = Depends(db),
                          cfg: Settings = Depends(settings)) -> Response:
    return await _patient_form(patient_id, request, who, session, cfg, "therapy")


@router.get("/plans/{plan_id}")
def plan_page(plan_id: Id, request: Request, who: Actor = Depends(viewer),
              session: Session = Depends(db)) -> HTMLResponse:
    """The stored plan, printable (the planner's own HTML report)."""
    _allowed(who, "plans:read")
    rec = care_plans.get(session, who.clinic_id, plan_id)
    record(session, request, who, "read", "care-plan", rec.id, rec.patient_id)
    session.commit()
    return HTMLResponse(plan_html(rec.plan))


@router.get("/patients/{patient_id}")
def patient_page(patient_id: Id, request: Request, who: Actor = Depends(viewer),
                 session: Session = Depends(db),
                 cfg: Settings = Depends(settings)) -> HTMLResponse:
    return _patient_page(request, session, who, cfg, patient_id)


@router.post("/patients/{patient_id}/questionnaires")
async def patient_questionnaire(patient_id: Id, request: Request,
                                who: Actor = Depends(viewer), session: Session = Depends(db),
                                cfg: Settings = Depends(settings)) -> Response:
    form = await _form(request)
    try:
        _allowed(who, "questionnaires:write")
        patients.get(session, who.clinic_id, patient_id)
        name = form.get("instrument", "")
        if name not in INSTRUMENTS:
            raise ClinicError(f"unknown instrument {name!r}", field="instrument")
        r, _ = questionnaires.record_response(session, who.clinic_id, patient_id, name,
                                              _ints(form.get("answers", "")), source="staff",
                                              entered_by=who.user.id)
    except ClinicError as exc:
        session.rollback()
        return _patient_page(request, session, who, cfg, patient_id, status=exc.status,
                             error=_message(exc))
    record(session, request, who, "create", "questionnaire", r.id, patient_id)
    session.commit()
    return see(f"/patients/{patient_id}")


@router.post("/patients/{patient_id}/links")
async def patient_link(patient_id: Id, request: Request, who: Actor = Depends(viewer),
                       session: Session = Depends(db),
                       cfg: Settings = Depends(settings)) -> Response:
    form = await _form(request)
    try:
        _allowed(who, "links:create")
        patients.get(session, who.clinic_id, patient_id)
        name = form.get("instrument", "")
        if name not in SELF_REPORT:
            raise ClinicError(f"no patient link for {name!r}", field="instrument")
        link, token = questionnaires.create_link(session, who.clinic_id, patient_id, name,
                                                 who.user.id, cfg.self_report_hours)
    except ClinicError as exc:
        session.rollback()
        return _patient_page(request, session, who, cfg, patient_id, status=exc.status,
                             error=_message(exc))
    record(session, request, who, "create", "self-report-link", link.id, patient_id)
    session.commit()
    # Shown once, on this response; only its digest is stored.
    return _patient_page(request, session, who, cfg, patient_id,
                         link={"path": f"/r/{token}", "expires_at": link.expires_at})


@router.post("/patients/{patient_id}/infusions")
async def patient_infusion(patient_id: Id, request: Request, who: Actor = Depends(viewer),
                           session: Session = Depends(db),
                           cfg: Settings = Depends(settings)) -> Response:
    form = await _form(request)
    try:
        _allowed(who, "infusions:write")
        patient = patients.get(session, who.clinic_id, patient_id)
        clinic = session.get(Clinic, who.clinic_id)
        assert clinic is not None
        meds = [Medication(**m) for m in _medications(form.get("medications", ""))]
        pre = None
        if form.get("systolic") or form.get("diastolic"):
            pre = VitalsIn(phase="pre", systolic=_num(form, "systolic") or 0,
                           diastolic=_num(form, "diastolic") or 0,
                           heart_rate=_num(form, "heart_rate"), spo2=_num(form, "spo2"))
        body = InfusionCreate(
            scheduled_for=_time(form.get("scheduled_for"), cfg) or dt.datetime.now(dt.UTC),
            weight_kg=_num(form, "weight_kg"), pregnant="pregnant" in form,
            breastfeeding="breastfeeding" in form,
            conditions=[c.strip() for c in form.get("conditions", "").splitlines()
                        if c.strip()],
            medications=meds,
            checklist=Checklist(**{k: k in form for k in ("consent_recorded",
                                                          "psychiatric_assessment_done",
                                                          "escort_arranged")}),
            pre_vitals=pre)
        inf = infusions.create(session, clinic, patient, body, who.user.id)
    except (ClinicError, ValueError) as exc:
        session.rollback()
        return _patient_page(request, session, who, cfg, patient_id,
                             status=getattr(exc, "status", 422), error=_message(exc))
    record(session, request, who, "create", "infusion", inf.id, patient_id)
    session.commit()
    return see(f"/infusions/{inf.id}")


# --- infusions ----------------------------------------------------------------------------

def _infusion_page(request: Request, session: Session, who: Actor, cfg: Settings,
                   infusion_id: Id, *, status: int = 200,
                   error: str | None = None) -> HTMLResponse:
    _allowed(who, "infusions:read")
    inf = infusions.get(session, who.clinic_id, infusion_id)
    p = session.get(Patient, inf.patient_id)
    clinic = session.get(Clinic, who.clinic_id)
    assert p is not None and clinic is not None
    vitals = session.scalars(select(VitalSign).where(VitalSign.infusion_id == inf.id)
                             .order_by(VitalSign.at)).all()
    events = session.scalars(select(AdverseEvent).where(AdverseEvent.infusion_id == inf.id)
                             .order_by(AdverseEvent.at)).all()
    lim = infusions.limits(clinic)
    lines = [(f"{name} {value:g}", value) for name, value in (
        ("hold", lim.hold_systolic_above), ("stop", lim.stop_systolic_above))
        if value is not None]
    chart = line_chart({"systolic": [(v.at, v.systolic) for v in vitals],
                        "diastolic": [(v.at, v.diastolic) for v in vitals]},
                       title="Blood pressure", y_label="mmHg", limits=lines)
    record(session, request, who, "read", "infusion", inf.id, inf.patient_id)
    missing = infusions.missing_for_signature(session, inf)
    session.commit()
    return page(request, "infusion.html", status, who=who, inf=inf, p=p, vitals=vitals,
                events=events, limits=lim, chart=chart, missing=missing, error=error,
                screen=[f for f in inf.screen if f.get("id") != "DOSE"],
                dose_basis=next((f["text"] for f in inf.screen if f.get("id") == "DOSE"), ""),
                monitoring=infusions.monitoring_rules(), tz=cfg.timezone,
                can_write=who.can("infusions:write"), can_sign=who.can("infusions:sign"))


@router.get("/infusions/{infusion_id}")
def infusion_page(infusion_id: Id, request: Request, who: Actor = Depends(viewer),
                  session: Session = Depends(db),
                  cfg: Settings = Depends(settings)) -> HTMLResponse:
    return _infusion_page(request, session, who, cfg, infusion_id)


def _step(infusion_id: Id, step: str, form: dict[str, str], session: Session, who: Actor,
          cfg: Settings) -> Infusion:
    _allowed(who, "infusions:sign" if step == "sign" else "infusions:write")
    inf = infusions.get(session, who.clinic_id, infusion_id)
    clinic = session.get(Clinic, who.clinic_id)
    assert clinic is not None
    at = _time(form.get("at"), cfg)
    if step == "start":
        infusions.start(session, inf, at)
    elif step == "end":
        infusions.end(inf, at)
    elif step == "vitals":
        infusions.add_vitals(session, clinic, inf, VitalsIn(
            phase=form.get("phase", "during"), at=at,
            systolic=_num(form, "systolic") or 0, diastolic=_num(form, "diastolic") or 0,
            heart_rate=_num(form, "heart_rate"), spo2=_num(form, "spo2")), who.user.id)
    elif step == "cadss":
        infusions.add_cadss(session, inf, _ints(form.get("answers", "")), who.user.id)
    elif step == "adverse-events":
        infusions.add_event(session, inf, AdverseEventIn(
            at=at, description=form.get("description", ""),
            severity=form.get("severity", "mild"),
            action_taken=form.get("action_taken", "")), who.user.id)
    elif step == "discharge":
        infusions.discharge(session, inf, DischargeIn(
            at=at, blood_pressure_decreasing="blood_pressure_decreasing" in form,
            clinically_stable="clinically_stable" in form,
            escort_present="escort_present" in form))
    elif step == "sign":
        infusions.sign(session, inf, who.user.id)
    else:
        raise ClinicError("no such step", status=404)
    return inf


@router.post("/infusions/{infusion_id}/{step}")
async def infusion_step(infusion_id: Id, step: str, request: Request,
                        who: Actor = Depends(viewer), session: Session = Depends(db),
                        cfg: Settings = Depends(settings)) -> Response:
    form = await _form(request)
    try:
        inf = _step(infusion_id, step, form, session, who, cfg)
    except (ClinicError, ValueError) as exc:
        session.rollback()
        if isinstance(exc, ClinicError) and exc.status == 404:
            raise
        return _infusion_page(request, session, who, cfg, infusion_id,
                              status=getattr(exc, "status", 422), error=_message(exc))
    record(session, request, who, "sign" if step == "sign" else "update", "infusion", inf.id,
           inf.patient_id)
    session.commit()
    return see(f"/infusions/{infusion_id}")


# --- worklist and trajectories ---------------------------------------------------------

@router.get("/worklist")
def worklist_page(request: Request, who: Actor = Depends(viewer),
                  session: Session = Depends(db)) -> HTMLResponse:
    _allowed(who, "patients:read")
    alert_service.sweep_overdue(session, who.clinic_id, dt.datetime.now(dt.UTC).date())
    items = alert_service.open_alerts(session, who.clinic_id, 500)
    record(session, request, who, "read", "worklist")
    for a, _ in items:
        record(session, request, who, "read", "alert", a.id, a.patient_id)
    session.commit()
    return page(request, "worklist.html", who=who, items=items)


@router.get("/patients/{patient_id}/trajectory")
def trajectory_page(patient_id: Id, request: Request, who: Actor = Depends(viewer),
                    session: Session = Depends(db)) -> HTMLResponse:
    _allowed(who, "questionnaires:read")
    p = patients.get(session, who.clinic_id, patient_id)
    alert_service.refresh(session, p)
    plan = next(iter(care_plans.for_patient(session, who.clinic_id, p.id)), None) \
        if who.can("plans:read") else None
    observed = [(o.effective.date(), o.value) for o in session.scalars(
        select(Observation).where(Observation.patient_id == p.id,
                                  Observation.clinic_id == who.clinic_id,
                                  Observation.instrument == "gad7")
        .order_by(Observation.effective))]
    band: list[tuple[dt.date, float, float, float]] = []
    if plan is not None:
        track = plan.plan.get("expected_trajectory") or {}
        for k, week in enumerate(track.get("weeks", [])):
            band.append((plan.start_date + dt.timedelta(weeks=week), track["gad7_low"][k],
                         track["gad7_mean"][k], track["gad7_high"][k]))
    events = [(i.scheduled_for.date(), "infusion") for i in session.scalars(
        select(Infusion).where(Infusion.patient_id == p.id))]
    courses = prescriptions.for_patient(session, who.clinic_id, p.id)
    for c in courses:
        for step in prescriptions.steps(session, who.clinic_id, [c.id])[c.id]:
            events.append((step.from_date, f"{c.drug} {step.dose_mg_per_day:g} mg/day"))
    events += [(t.on, f"CBT session {t.number}")
               for t in therapy.for_patient(session, who.clinic_id, p.id)]
    open_alerts = session.scalars(select(AlertRecord).where(
        AlertRecord.patient_id == p.id, AlertRecord.acknowledged_at.is_(None))
        .order_by(AlertRecord.day)).all()
    record(session, request, who, "read", "trajectory", p.id, p.id)
    session.commit()
    chart = trajectory_chart(observed, band, events, title="GAD-7 course", y_max=21)
    return page(request, "trajectory.html", who=who, p=p, plan=plan, chart=chart,
                alerts=open_alerts)


@router.post("/alerts/{alert_id}/acknowledge")
async def alert_acknowledge(alert_id: Id, request: Request, who: Actor = Depends(viewer),
                            session: Session = Depends(db)) -> Response:
    form = await _form(request)
    _allowed(who, "patients:read")
    a = alert_service.acknowledge(session, who.clinic_id, alert_id, who.user.id)
    record(session, request, who, "acknowledge", "alert", a.id, a.patient_id)
    session.commit()
    return see(f"/patients/{a.patient_id}/trajectory" if form.get("back") == "trajectory"
               else "/worklist")


# --- administration -----------------------------------------------------------------------

def _admin_page(request: Request, session: Session, who: Actor, status: int = 200,
                error: str | None = None, notice: str | None = None) -> HTMLResponse:
    _allowed(who, "clinic:admin")
    clinic = session.get(Clinic, who.clinic_id)
    assert clinic is not None
    users = session.scalars(select(User).where(User.clinic_id == who.clinic_id)
                            .order_by(User.username)).all() if who.can("users:admin") else []
    return page(request, "admin.html", status, who=who, protocol=clinic.protocol or {},
                fields=(*infusions.LIMIT_FIELDS, "mg_per_kg", "cap_mg", *RELAPSE_FIELDS),
                users=users,
                error=error, notice=notice)


@router.get("/admin")
def admin_page(request: Request, who: Actor = Depends(viewer),
               session: Session = Depends(db)) -> HTMLResponse:
    return _admin_page(request, session, who)


@router.post("/admin/protocol")
async def admin_protocol(request: Request, who: Actor = Depends(viewer),
                         session: Session = Depends(db)) -> Response:
    form = await _form(request)
    try:
        _allowed(who, "clinic:admin")
        values: dict[str, object] = {k: _num(form, k) for k in
                                     (*infusions.LIMIT_FIELDS, "mg_per_kg", "cap_mg",
                                      *RELAPSE_FIELDS)}
        values["basis"] = form.get("basis", "").strip() or None
        if values["basis"] is None:
            raise ClinicError("name your protocol and its version", field="basis")
        accounts.set_protocol(session, who.clinic_id, values)
    except ClinicError as exc:
        session.rollback()
        return _admin_page(request, session, who, exc.status, error=_message(exc))
    session.commit()
    return _admin_page(request, session, who, notice="Protocol saved.")


@router.post("/admin/users")
async def admin_users(request: Request, who: Actor = Depends(viewer),
                      session: Session = Depends(db)) -> Response:
    form = await _form(request)
    _allowed(who, "users:admin")
    try:
        body = UserCreate.model_validate({
            "username": form.get("username", "").strip().lower(),
            "display_name": form.get("display_name", ""),
            "password": form.get("password", ""), "role": form.get("role", "")})
        accounts.create_user(session, who.clinic_id, body.username, body.display_name,
                             body.password, body.role)
    except (ClinicError, ValueError) as exc:
        session.rollback()
        return _admin_page(request, session, who, getattr(exc, "status", 422),
                           error=_message(exc))
    session.commit()
    return _admin_page(request, session, who, notice="User added.")


# --- the patient's self-report ------------------------------------------------------------

@router.get("/r/{token}")
def self_report_page(token: Token, request: Request,
                     session: Session = Depends(db)) -> HTMLResponse:
    try:
        link = questionnaires.open_link(session, token)
    except ClinicError as exc:
        return page(request, "selfreport.html", 404, error=str(exc), done=False,
                    form={"title": "Questionnaire", "question": "", "items": [],
                          "options": [], "attribution": ""})
    return page(request, "selfreport.html", form=questionnaires.form(link.instrument),
                done=False)


@router.post("/r/{token}")
async def self_report_submit(token: Token, request: Request,
                             session: Session = Depends(db)) -> HTMLResponse:
    form = await _form(request)
    try:
        link = questionnaires.open_link(session, token)
        spec = questionnaires.form(link.instrument)
        answers = []
        for item in spec["items"]:
            raw = form.get(f"item{item['n']}")
            if raw is None or not raw.isdigit():
                raise ClinicError(f"please answer question {item['n']}", field="answers")
            answers.append(int(raw))
        r = questionnaires.submit_link(session, token, answers)
    except ClinicError as exc:
        session.rollback()
        if exc.status == 404:
            return page(request, "selfreport.html", 404, error=str(exc), done=False,
                        form={"title": "Questionnaire", "question": "", "items": [],
                              "options": [], "attribution": ""})
        return page(request, "selfreport.html", 422, error=str(exc), done=False,
                    form=questionnaires.form(link.instrument))
    record(session, request, None, "create", "questionnaire", r.id, r.patient_id,
           clinic_id=r.clinic_id)
    session.commit()
    return page(request, "selfreport.html", done=True, form={})
