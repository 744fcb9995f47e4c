"""Import a FHIR R4B Bundle of patients, questionnaire responses, observations, antidepressant
courses (MedicationRequest), CBT sessions (Procedure), ketamine infusions (MedicationAdministration
with their vital-signs Observations and AdverseEvents) and care plans (CarePlan) into a clinic.

All or nothing: the bundle is checked whole first — structure (``fhir.resources``), value sets,
references, the clinic's own rules (record numbers, scoring, the ranges of its request bodies)
— and any problem rejects it, every problem named by entry, resource and field; only a clean
bundle writes anything. Infusions, readings, adverse events and care plans are written as they
were exported (not screened, judged or planned again, and raising no alerts); what the
importing user did not do is not ascribed to anyone else: they become the records' author and
an imported signature is theirs (the bundle carries when it was signed, not by whom).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.care.instruments import instrument
from equipoise.care.measures import score
from equipoise.care.safety import load_rules
from equipoise.clinic.alerts import service as alerts
from equipoise.clinic.care_plans.models import CarePlanRecord
from equipoise.clinic.fhir.export import KETAMINE, admin_status, plan_activity, plan_label
from equipoise.clinic.fhir.terminology import (
    AE_SERIOUSNESS,
    AE_SEVERITY,
    BLOOD_PRESSURE,
    BODY_WEIGHT,
    CBT_CODE,
    CBT_SYSTEM,
    DIASTOLIC,
    EXT,
    HEART_RATE,
    INTRAVENOUS,
    MRN_SYSTEM,
    QUESTIONNAIRE,
    SNOMED,
    SPO2,
    SYSTOLIC,
    VITALS_PANEL,
    value_set_problems,
)
from equipoise.clinic.infusions.models import AdverseEvent, Infusion, VitalSign
from equipoise.clinic.infusions.schemas import (
    AdverseEventIn,
    Checklist,
    DischargeIn,
    InfusionCreate,
    VitalsIn,
)
from equipoise.clinic.outcomes import service as outcomes
from equipoise.clinic.patients.models import Patient
from equipoise.clinic.prescriptions import service as prescriptions
from equipoise.clinic.questionnaires.service import record_response
from equipoise.clinic.therapy.models import TherapySession
from equipoise.errors import ClinicError, MeasureError


class BundleError(ClinicError):
    """A bundle that cannot be imported; ``problems`` name entry, resource and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was imported: "
                         + "; ".join(problems[:50]), field="entry")
        self.problems = problems


@dataclass
class _Plan:
    patients: dict[str, dict[str, Any]] = field(default_factory=dict)     # fhir id -> values
    responses: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    courses: list[dict[str, Any]] = field(default_factory=list)
    infusions: dict[str, dict[str, Any]] = field(default_factory=dict)   # fhir id -> values
    vitals: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    care_plans: list[dict[str, Any]] = field(default_factory=list)
    # "QuestionnaireResponse/id" and "MedicationAdministration/id" -> their subject's fhir id
    subjects: dict[str, str | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _where(i: int, res: dict[str, Any]) -> str:
    return f"entry[{i}] {res.get('resourceType', '?')}/{res.get('id', '?')}"


def _structure(bundle: Any) -> list[str]:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        return ["the body is not a FHIR Bundle (resourceType must be 'Bundle')"]
    try:
        Bundle.model_validate(bundle)
    except ValidationError as exc:
        out = []
        for e in exc.errors():
            loc = list(e["loc"])
            if len(loc) >= 3 and loc[0] == "entry" and isinstance(loc[1], int):
                res = (bundle.get("entry") or [{}])[loc[1]].get("resource", {}) \
                    if loc[1] < len(bundle.get("entry") or []) else {}
                rest = ".".join(str(x) for x in loc[3:] if x != "resource") or "resource"
                out.append(f"{_where(loc[1], res if isinstance(res, dict) else {})}: "
                           f"{rest}: {e['msg']}")
            else:
                out.append(f"Bundle: {'.'.join(str(x) for x in loc)}: {e['msg']}")
        return out
    return []


def _ref(value: Any, kind: str) -> str | None:
    ref = value.get("reference", "") if isinstance(value, dict) else ""
    return ref.removeprefix(f"{kind}/") if ref.startswith(f"{kind}/") else None


def _check(bundle: dict[str, Any], session: Session, clinic_id: str) -> _Plan:
    plan = _Plan()
    entries = [e.get("resource", {}) for e in bundle.get("entry", [])]
    existing = set(session.scalars(select(Patient.mrn).where(Patient.clinic_id == clinic_id)))
    seen: dict[str, int] = {}
    for i, res in enumerate(entries):
        where = _where(i, res)
        plan.problems += value_set_problems(res, where)
        key = f"{res.get('resourceType')}/{res.get('id')}"
        if key in seen:
            plan.problems.append(f"{where}: id: the same as entry[{seen[key]}]'s")
        seen.setdefault(key, i)
        if res.get("resourceType") in ("QuestionnaireResponse", "MedicationAdministration"):
            plan.subjects[key] = _ref(res.get("subject"), "Patient")
        if res.get("resourceType") == "Patient":
            mrn = next((x.get("value") for x in res.get("identifier", [])
                        if x.get("system") == MRN_SYSTEM), None)
            name = (res.get("name") or [{}])[0]
            if not mrn:
                plan.problems.append(f"{where}: identifier: needs a record number "
                                     f"({MRN_SYSTEM})")
            elif mrn in existing:
                plan.problems.append(f"{where}: identifier: record number {mrn!r} exists "
                                     "in this clinic")
            if not name.get("family") or not name.get("given"):
                plan.problems.append(f"{where}: name: needs a family and a given name")
            if not res.get("birthDate"):
                plan.problems.append(f"{where}: birthDate: is required")
            plan.patients[res.get("id", "")] = {
                "mrn": mrn, "family_name": name.get("family"),
                "given_name": (name.get("given") or [""])[0], "sex": res.get("gender",
                                                                              "unknown"),
                "birth_date": res.get("birthDate"), "weight_kg": None,
                "synthetic": any(t.get("code") == "synthetic"
                                 for t in res.get("meta", {}).get("tag", []))}
    responses = {}
    vitals: dict[str, tuple[str, dict[str, Any]]] = {}      # Observation id -> (where, resource)
    for i, res in enumerate(entries):
        where = _where(i, res)
        kind = res.get("resourceType")
        if kind == "QuestionnaireResponse":
            subject = _ref(res.get("subject"), "Patient")
            name = str(res.get("questionnaire", "")).removeprefix(QUESTIONNAIRE)
            if subject not in plan.patients:
                plan.problems.append(f"{where}: subject: not a Patient of this bundle")
            answers: dict[str | int, Any] = {}
            for item in res.get("item", []):
                value = (item.get("answer") or [{}])[0].get("valueInteger")
                answers[str(item.get("linkId"))] = value
            try:
                total = score(name, answers).total
            except MeasureError as exc:
                plan.problems.append(f"{where}: item: {exc}")
                continue
            responses[res.get("id")] = total
            plan.responses.append({"id": res.get("id"), "subject": subject, "instrument": name,
                                   "answers": answers, "authored": res.get("authored"),
                                   "patient_source": bool(res.get("source"))})
        elif kind == "Observation":
            subject = _ref(res.get("subject"), "Patient")
            if subject not in plan.patients:
                plan.problems.append(f"{where}: subject: not a Patient of this bundle")
                continue
            codes = {c.get("code") for c in res.get("code", {}).get("coding", [])}
            value = res.get("valueQuantity", {}).get("value")
            if BODY_WEIGHT in codes:
                plan.patients[subject]["weight_kg"] = value
            elif codes & VITAL_CODES:
                vitals[str(res.get("id"))] = (where, res)
            elif kind == "Observation" and res.get("derivedFrom"):
                source = _ref(res["derivedFrom"][0], "QuestionnaireResponse")
                if source not in responses:
                    plan.problems.append(f"{where}: derivedFrom: not a QuestionnaireResponse "
                                         "of this bundle")
                elif value != responses[source]:
                    plan.problems.append(f"{where}: valueQuantity: {value!r} does not match "
                                         f"the scored response ({responses[source]})")
            else:
                plan.problems.append(f"{where}: code: not a body weight, a questionnaire "
                                     "score or an infusion's vital sign equipoise imports")
        elif kind == "Procedure":
            _procedure(res, where, plan)
        elif kind == "MedicationRequest":
            _course(res, where, plan)
        elif kind == "MedicationAdministration":
            _infusion(res, where, plan)
        elif kind == "AdverseEvent":
            _adverse_event(res, where, plan)
        elif kind == "CarePlan":
            _care_plan(res, where, plan)
        elif kind not in ("Patient",):
            plan.problems.append(f"{where}: resourceType: {kind!r} is not imported here")
    _vitals(vitals, plan)
    return plan


ATTENDANCE = ("attended", "cancelled", "no_show")
FORMATS = ("individual", "group", "digital")


def _procedure(res: dict[str, Any], where: str, plan: _Plan) -> None:
    subject = _ref(res.get("subject"), "Patient")
    codes = {(c.get("system"), c.get("code")) for c in res.get("code", {}).get("coding", [])}
    ext = {str(e.get("url", "")).removeprefix(EXT): e for e in res.get("extension", [])}
    problems = []
    if subject not in plan.patients:
        problems.append(f"{where}: subject: not a Patient of this bundle")
    if (CBT_SYSTEM, CBT_CODE) not in codes:
        problems.append(f"{where}: code: only CBT sessions ({CBT_SYSTEM}|{CBT_CODE}) are "
                        "imported")
    attended = "attended" if res.get("status") == "completed" else \
        res.get("statusReason", {}).get("text")
    if attended not in ATTENDANCE:
        problems.append(f"{where}: statusReason: a session not done needs 'cancelled' or "
                        "'no_show'")
    number = ext.get("session-number", {}).get("valueInteger")
    minutes = ext.get("minutes", {}).get("valueInteger")
    fmt = ext.get("format", {}).get("valueCode")
    if not isinstance(number, int) or not 1 <= number <= 500:
        problems.append(f"{where}: extension: session-number must be 1-500")
    if not isinstance(minutes, int) or not 1 <= minutes <= 240:
        problems.append(f"{where}: extension: minutes must be 1-240")
    if fmt not in FORMATS:
        problems.append(f"{where}: extension: format must be one of {', '.join(FORMATS)}")
    try:
        on = dt.date.fromisoformat(str(res.get("performedDateTime")))
    except ValueError:
        problems.append(f"{where}: performedDateTime: must be a date like 2026-01-05")
        on = None
    plan.problems += problems
    if not problems:
        plan.sessions.append({"subject": subject, "on": on, "number": number,
                              "modality": fmt, "minutes": minutes, "attended": attended})


def _course(res: dict[str, Any], where: str, plan: _Plan) -> None:
    """A course: an SSRI/SNRI of the catalogue, dose steps in date order, each dose either
    within the cited dose rules or with the fired rules acknowledged (checked on import)."""
    subject = _ref(res.get("subject"), "Patient")
    problems = []
    if subject not in plan.patients:
        problems.append(f"{where}: subject: not a Patient of this bundle")
    drug = str(res.get("medicationCodeableConcept", {}).get("text", "")).strip().lower()
    if load_rules().medications.get(drug) not in ("ssri", "snri"):
        problems.append(f"{where}: medicationCodeableConcept: {drug!r} is not an SSRI or SNRI "
                        "of equipoise's catalogue")
    steps = []
    for k, d in enumerate(res.get("dosageInstruction", [])):
        period = d.get("timing", {}).get("repeat", {}).get("boundsPeriod", {})
        dose = (d.get("doseAndRate") or [{}])[0].get("doseQuantity", {})
        try:
            start = dt.date.fromisoformat(str(period.get("start")))
        except ValueError:
            problems.append(f"{where}: dosageInstruction[{k}]: timing needs a start date")
            continue
        value = dose.get("value")
        if dose.get("code") != "mg" or not isinstance(value, int | float) or value <= 0:
            problems.append(f"{where}: dosageInstruction[{k}]: doseQuantity must be mg above 0")
            continue
        acks = [str(e.get("valueString")) for e in d.get("extension", [])
                if e.get("url") == EXT + "acknowledged-rule"]
        steps.append((start, float(value), acks, period.get("end")))
    if not steps:
        problems.append(f"{where}: dosageInstruction: needs at least one dose")
    elif [s[0] for s in steps] != sorted({s[0] for s in steps}):
        problems.append(f"{where}: dosageInstruction: doses must start on increasing days")
    plan.problems += problems
    if not problems:
        stopped = res.get("status") == "stopped"
        plan.courses.append({
            "subject": subject, "drug": drug, "steps": steps,
            "stopped_on": steps[-1][3] if stopped else None,
            "reason": res.get("statusReason", {}).get("text", "") if stopped else ""})


def _instant(value: Any) -> dt.datetime | None:
    """A FHIR dateTime with a time and a zone, as a datetime; None if it is not one."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def _codes(res: dict[str, Any], element: str = "code") -> set[tuple[Any, Any]]:
    value = res.get(element)
    return {(c.get("system"), c.get("code")) for c in value.get("coding", [])
            if isinstance(c, dict)} if isinstance(value, dict) else set()


@dataclass
class _Reader:
    """One resource's values, each problem noted as ``where: field: message``; equipoise's
    extensions by name (the URL after ``EXT``)."""

    where: str
    res: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    def fail(self, element: str, message: str) -> None:
        self.problems.append(f"{self.where}: {element}: {message}")

    def ext(self, name: str, required: bool = True) -> dict[str, Any] | None:
        found = [e for e in self.res.get("extension", []) if e.get("url") == EXT + name]
        if len(found) > 1:
            self.fail("extension", f"{name} is given {len(found)} times")
        elif not found and required:
            self.fail("extension", f"needs {name} ({EXT}{name})")
        return found[0] if found else None

    def code(self, name: str, allowed: tuple[str, ...]) -> str | None:
        e = self.ext(name)
        if e is None:
            return None
        if e.get("valueCode") not in allowed:
            self.fail("extension", f"{name} must be one of {', '.join(allowed)}")
            return None
        return str(e["valueCode"])

    def json(self, name: str, kind: type, required: bool = True) -> Any:
        """The canonical-JSON ``valueString`` of extension ``name``, if it is a ``kind``."""
        e = self.ext(name, required)
        if e is None:
            return None
        text = e.get("valueString")
        try:
            value = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            value = None
        if not isinstance(value, kind) or "\\u0000" in str(text):
            self.fail("extension", f"{name} is not valid JSON (a JSON "
                                   f"{'object' if kind is dict else 'array'} is expected)")
            return None
        return value

    def quantity(self, name: str, unit: str, required: bool = True) -> float | None:
        e = self.ext(name, required)
        if e is None:
            return None
        q = e.get("valueQuantity") or {}
        if q.get("code") != unit or not isinstance(q.get("value"), int | float):
            self.fail("extension", f"{name} needs a valueQuantity in {unit}")
            return None
        return float(q["value"])

    def instant(self, name: str, required: bool = True) -> dt.datetime | None:
        e = self.ext(name, required)
        if e is None:
            return None
        when = _instant(e.get("valueDateTime"))
        if when is None:
            self.fail("extension", f"{name} needs a valueDateTime with a time and a zone")
        return when

    def body(self, model: type[Any], values: dict[str, Any], where: dict[str, str],
             prefix: str = "") -> None:
        """Check ``values`` by the clinic's own request body ``model`` (its ranges and
        patterns), naming each failing value's FHIR element from ``where`` (an extension if
        not there; ``prefix`` names it)."""
        try:
            model.model_validate(values)
        except ValidationError as exc:
            for e in exc.errors():
                name = str(e["loc"][0]) if e["loc"] else "?"
                self.fail(where.get(name, "extension"),
                          f"{prefix}{'.'.join(str(x) for x in e['loc'])}: {e['msg']}")


STATES = ("screening", "in_progress", "observing", "discharged", "signed")
SCREEN_STATES = ("eligible", "caution", "review", "blocked")
ENDED = ("observing", "discharged", "signed")


def _infusion_times(r: _Reader, state: str | None) -> dict[str, Any]:
    """Scheduled, started and ended times: effectivePeriod once started (the scheduled time
    then in an extension), effectiveDateTime (the scheduled time) before."""
    res = r.res
    period = res.get("effectivePeriod")
    started = ended = None
    if isinstance(period, dict):
        started = _instant(period.get("start"))
        ended = _instant(period.get("end")) if "end" in period else None
        scheduled = r.instant("scheduled-for")
        if started is None or ("end" in period and ended is None):
            r.fail("effectivePeriod", "start and end need a time and a zone")
        elif ended is not None and ended < started:
            r.fail("effectivePeriod", "ends before it starts")
    else:
        scheduled = _instant(res.get("effectiveDateTime"))
        if scheduled is None:
            r.fail("effectiveDateTime", "the scheduled time needs a time and a zone")
        if r.ext("scheduled-for", required=False) is not None:
            r.fail("extension", "scheduled-for is for a started infusion (effectivePeriod)")
    if state is not None and (started is None) != (state == "screening"):
        r.fail("effectivePeriod", f"an infusion {state!r} "
                                  f"{'has not' if state == 'screening' else 'has'} started")
    elif state is not None and started is not None and (ended is None) == (state in ENDED):
        r.fail("effectivePeriod", f"an infusion {state!r} {'needs' if state in ENDED else 'has no'}"
                                  " end time")
    return {"scheduled_for": scheduled, "started_at": started, "ended_at": ended}


def _infusion_dose(r: _Reader) -> dict[str, Any]:
    """Weight, mg/kg, the dose (mg, intravenous) and the minutes it is given over."""
    dosage = r.res.get("dosage") or {}
    if (SNOMED, INTRAVENOUS) not in _codes(dosage, "route"):
        r.fail("dosage", f"route must be intravenous ({SNOMED}|{INTRAVENOUS})")
    dose = (dosage.get("dose") or {})
    rate = dosage.get("rateRatio") or {}
    minutes = (rate.get("denominator") or {})
    mg = dose.get("value")
    if dose.get("code") != "mg" or not isinstance(mg, int | float) or mg <= 0:
        r.fail("dosage", "dose must be mg above 0")
        mg = None
    elif rate.get("numerator") != dose:
        r.fail("dosage", "rateRatio must be the dose over the minutes it is given in")
    if minutes.get("code") != "min" or not isinstance(minutes.get("value"), int | float) \
            or not float(minutes["value"]).is_integer():
        r.fail("dosage", "rateRatio needs the whole minutes the dose is given over")
        minutes = {}
    weight, per_kg = r.quantity("weight", "kg"), r.quantity("mg-per-kg", "mg/kg")
    # the dose is mg/kg x weight rounded to 0.1 mg (care.dose), or less when capped
    if mg is not None and weight and per_kg and mg > weight * per_kg + 0.05 + 1e-9:
        r.fail("dosage", f"dose {mg:g} mg is above {per_kg:g} mg/kg x {weight:g} kg")
    return {"weight_kg": weight, "mg_per_kg": per_kg,
            "dose_mg": None if mg is None else float(mg),
            "minutes": None if "value" not in minutes else int(minutes["value"])}


def _infusion_form(r: _Reader, state: str | None) -> dict[str, Any]:
    """The monitoring form's checklist, screen, CADSS rating, discharge and signature."""
    out: dict[str, Any] = {
        "checklist": r.json("checklist", dict), "screen": r.json("screen", list),
        "benzodiazepine_mg_diazepam_24h": r.quantity("benzodiazepine-mg-diazepam-24h", "mg",
                                                     required=False),
        "cadss_answers": r.json("cadss-answers", list, required=False),
        "discharged_at": r.instant("discharged-at", required=False),
        "discharge_criteria": r.json("discharge-criteria", dict),
        "signed_at": r.instant("signed-at", required=False)}
    if out["screen"] is not None and not all(
            isinstance(f, dict) and all(isinstance(f.get(k), str) for k in ("id", "text"))
            for f in out["screen"]):
        r.fail("extension", "screen: each finding needs an id and a text")
    e = r.ext("cadss-total", required=False)
    total = None if e is None else e.get("valueInteger")
    low, high = instrument("cadss").total_range
    if e is not None and (not isinstance(total, int) or not low <= total <= high):
        r.fail("extension", f"cadss-total needs a valueInteger {low}-{high}")
    out["cadss_total"] = total
    if out["cadss_answers"] is not None and not all(
            isinstance(a, int) and not isinstance(a, bool) for a in out["cadss_answers"]):
        r.fail("extension", "cadss-answers must be the item ratings, whole numbers")
    elif out["cadss_answers"] is not None:
        try:
            scored = score("cadss", out["cadss_answers"]).total
        except MeasureError as exc:
            r.fail("extension", f"cadss-answers: {exc}")
        else:
            if scored != total:
                r.fail("extension", f"cadss-total {total!r} is not the answers' total {scored}")
    escort = r.ext("escort-arranged", required=False)
    out["escort_arranged"] = None if escort is None else escort.get("valueBoolean")
    if escort is not None and not isinstance(out["escort_arranged"], bool):
        r.fail("extension", "escort-arranged needs a valueBoolean")
    if out["discharge_criteria"]:
        r.body(DischargeIn, out["discharge_criteria"], {}, "discharge-criteria: ")
    if state is not None and (out["discharged_at"] is None) == (state in ("discharged",
                                                                          "signed")):
        r.fail("extension", f"discharged-at does not fit an infusion {state!r}")
    if state is not None and (out["signed_at"] is None) == (state == "signed"):
        r.fail("extension", f"signed-at does not fit an infusion {state!r}")
    return out


def _infusion(res: dict[str, Any], where: str, plan: _Plan) -> None:
    """A ketamine infusion: its status consistent with its times, the dose and weight within
    the clinic's request ranges, the CADSS total scored from its answers, the CADSS ratings
    (supportingInformation) QuestionnaireResponses of the same patient in this bundle."""
    r = _Reader(where, res)
    subject = _ref(res.get("subject"), "Patient")
    if subject not in plan.patients:
        r.fail("subject", "not a Patient of this bundle")
    if str(res.get("medicationCodeableConcept", {}).get("text", "")).strip().lower() != KETAMINE:
        r.fail("medicationCodeableConcept", "only ketamine infusions are imported")
    state = r.code("infusion-status", STATES)
    screen_status = r.code("screen-status", SCREEN_STATES)
    if state is not None and screen_status is not None:
        status, reason = admin_status(state, screen_status)
        if res.get("status") != status:
            r.fail("status", f"{res.get('status')!r} is not {status!r}, which an infusion "
                             f"{state!r} is")
        if res.get("statusReason") != reason:
            r.fail("statusReason", f"should be {reason!r} for an infusion {state!r}")
    values = {"status": state, "screen_status": screen_status, **_infusion_times(r, state),
              **_infusion_dose(r), **_infusion_form(r, state)}
    r.body(InfusionCreate, {k: values[k] for k in (
        "scheduled_for", "weight_kg", "mg_per_kg", "minutes", "benzodiazepine_mg_diazepam_24h")
        if values[k] is not None}, {"scheduled_for": "effective[x]", "minutes": "dosage"})
    if values["checklist"] is not None:
        r.body(Checklist, values["checklist"], {}, "checklist: ")
    responses = []
    for k, ref in enumerate(res.get("supportingInformation", [])):
        qid = _ref(ref, "QuestionnaireResponse")
        if f"QuestionnaireResponse/{qid}" not in plan.subjects:
            r.fail(f"supportingInformation[{k}]", "not a QuestionnaireResponse of this bundle")
        elif subject in plan.patients and \
                _another(plan, f"QuestionnaireResponse/{qid}", subject):
            r.fail(f"supportingInformation[{k}]", "is another patient's response")
        elif any(qid in i["responses"] for i in plan.infusions.values()) or qid in responses:
            r.fail(f"supportingInformation[{k}]", "a response belongs to one infusion")
        else:
            responses.append(qid)
    plan.problems += r.problems
    if not r.problems:
        plan.infusions[str(res.get("id"))] = {"subject": subject, "responses": responses,
                                              "values": values}


PHASES = ("pre", "during", "post", "discharge")
ACTIONS = ("continue", "hold", "stop", "unset")
VITAL_CODES = {VITALS_PANEL, BLOOD_PRESSURE, HEART_RATE, SPO2}


def _another(plan: _Plan, key: str, subject: str | None) -> bool:
    """Whether the resource ``key`` (in the bundle) is of a patient other than ``subject``;
    a resource whose own subject is not in the bundle is reported there, once."""
    return plan.subjects[key] in plan.patients and plan.subjects[key] != subject


def _infusion_of(r: _Reader, plan: _Plan) -> str | None:
    """The MedicationAdministration of this bundle the resource is part of (and whose patient
    is its subject)."""
    refs = r.res.get("partOf") or []
    target = _ref(refs[0], "MedicationAdministration") if len(refs) == 1 else None
    key = f"MedicationAdministration/{target}"
    if key not in plan.subjects:
        r.fail("partOf", "must name one MedicationAdministration of this bundle")
        return None
    if _another(plan, key, _ref(r.res.get("subject"), "Patient")):
        r.fail("subject", "is not the infusion's patient")
    return target


def _member(r: _Reader, values: dict[str, Any], readers: dict[str, _Reader]) -> None:
    """A panel member's value into ``values`` (and its reader into ``readers``, by value):
    blood pressure, heart rate or SpO2."""
    codes = {c for _, c in _codes(r.res)}
    q = r.res.get("valueQuantity") or {}
    if BLOOD_PRESSURE in codes:
        parts = {c: (x.get("valueQuantity") or {}) for x in r.res.get("component", [])
                 for _, c in _codes(x)}
        for name, code in (("systolic", SYSTOLIC), ("diastolic", DIASTOLIC)):
            if parts.get(code, {}).get("code") != "mm[Hg]" or \
                    not isinstance(parts[code].get("value"), int | float):
                r.fail("component", f"needs the {name} pressure ({code}) in mm[Hg]")
            else:
                values[name], readers[name] = float(parts[code]["value"]), r
    elif (HEART_RATE in codes and q.get("code") == "/min") or \
            (SPO2 in codes and q.get("code") == "%"):
        name = "heart_rate" if HEART_RATE in codes else "spo2"
        if not isinstance(q.get("value"), int | float):
            r.fail("valueQuantity", "needs a number")
        else:
            values[name], readers[name] = float(q["value"]), r
    else:
        r.fail("valueQuantity", "heart rate is in /min and SpO2 in %")


def _reading(r: _Reader, phase: str | None, values: dict[str, Any],
             readers: dict[str, _Reader]) -> None:
    """The reading's values by the clinic's own vitals body (its ranges), each problem named
    on the Observation holding the value."""
    if values["diastolic"] >= values["systolic"]:
        readers["diastolic"].fail("component", "the diastolic pressure must be below the "
                                               "systolic")
    try:
        VitalsIn.model_validate({"phase": phase or "pre", **values})
    except ValidationError as exc:
        for e in exc.errors():
            name = str(e["loc"][0]) if e["loc"] else ""
            element = {"systolic": "component", "diastolic": "component"}.get(
                name, "valueQuantity" if name in readers else "extension")
            readers.get(name, r).fail(element, f"{name}: {e['msg']}")


def _panel(where: str, res: dict[str, Any], parts: dict[str, tuple[str, dict[str, Any]]],
           claimed: set[str], plan: _Plan) -> None:
    """One reading: the panel's phase, action and reasons, its members' values, checked by
    the clinic's own vitals ranges; members share the panel's patient, infusion and time."""
    r = _Reader(where, res)
    infusion = _infusion_of(r, plan)
    if res.get("status") != "final":
        r.fail("status", "a reading is imported as it was charted: 'final'")
    at = _instant(res.get("effectiveDateTime"))
    if at is None:
        r.fail("effectiveDateTime", "needs a time and a zone")
    phase, action = r.code("vitals-phase", PHASES), r.code("vitals-action", ACTIONS)
    reasons = [e.get("valueString") for e in res.get("extension", [])
               if e.get("url") == EXT + "vitals-reason"]
    if not all(isinstance(x, str) and x for x in reasons):
        r.fail("extension", "vitals-reason needs a valueString")
    values: dict[str, Any] = {"heart_rate": None, "spo2": None}
    readers: dict[str, _Reader] = {}
    members: list[_Reader] = []
    seen: set[str] = set()
    for k, ref in enumerate(res.get("hasMember", [])):
        mid = str(_ref(ref, "Observation"))
        if mid not in parts or parts[mid][1] is res:
            r.fail(f"hasMember[{k}]", "not a vital-sign Observation of this bundle")
            continue
        if mid in claimed:
            r.fail(f"hasMember[{k}]", "is already a member of another panel")
            continue
        claimed.add(mid)
        m = _Reader(*parts[mid])
        members.append(m)
        kind = {c for _, c in _codes(m.res)} & {BLOOD_PRESSURE, HEART_RATE, SPO2}
        if kind & seen:
            r.fail(f"hasMember[{k}]", "a reading has one of each vital sign")
        seen |= kind
        if _infusion_of(m, plan) != infusion or m.res.get("subject") != res.get("subject"):
            m.fail("partOf", "is not its panel's infusion and patient")
        if _instant(m.res.get("effectiveDateTime")) != at:
            m.fail("effectiveDateTime", "is not its panel's time")
        if m.res.get("status") != "final":
            m.fail("status", "a reading is imported as it was charted: 'final'")
        _member(m, values, readers)
    if BLOOD_PRESSURE not in seen:
        r.fail("hasMember", "a reading needs its blood pressure (85354-9)")
    elif "systolic" in values and "diastolic" in values:
        _reading(r, phase, values, readers)
    for m in members:
        r.problems += m.problems
    plan.problems += r.problems
    if not r.problems:
        plan.vitals.append({"infusion": infusion, "at": at, "phase": phase, "action": action,
                            "reasons": reasons, **values})


def _vitals(parts: dict[str, tuple[str, dict[str, Any]]], plan: _Plan) -> None:
    """Each reading is a vital-signs panel; every blood pressure, heart rate and SpO2 of an
    infusion belongs to exactly one."""
    claimed: set[str] = set()
    for where, res in parts.values():
        if VITALS_PANEL in {c for _, c in _codes(res)}:
            _panel(where, res, parts, claimed, plan)
    for oid, (where, res) in parts.items():
        if oid not in claimed and VITALS_PANEL not in {c for _, c in _codes(res)}:
            plan.problems.append(f"{where}: code: an infusion's vital sign is imported only as "
                                 f"a member (hasMember) of a vital-signs panel ({VITALS_PANEL})")


def _severity(r: _Reader) -> str | None:
    """The clinic's severity: an adverse-event-severity code, or seriousness "Serious" (and
    no severity) for its "serious"; anything else would not come back the same."""
    severity = [c for s, c in _codes(r.res, "severity") if s == AE_SEVERITY]
    serious = [c for s, c in _codes(r.res, "seriousness") if s == AE_SERIOUSNESS]
    if "seriousness" in r.res:
        if serious != ["Serious"] or "severity" in r.res:
            r.fail("seriousness", "only 'Serious' (adverse-event-seriousness), without a "
                                  "severity, is imported: the clinic's 'serious'")
            return None
        return "serious"
    if len(severity) != 1 or severity[0] not in ("mild", "moderate", "severe"):
        r.fail("severity", f"needs one of mild, moderate, severe ({AE_SEVERITY})")
        return None
    return str(severity[0])


def _adverse_event(res: dict[str, Any], where: str, plan: _Plan) -> None:
    """An actual adverse event of one infusion of this bundle (its suspect entity), of the
    infusion's patient, with the clinic's severities and its request's text limits."""
    r = _Reader(where, res)
    subject = _ref(res.get("subject"), "Patient")
    if subject not in plan.patients:
        r.fail("subject", "not a Patient of this bundle")
    if res.get("actuality") == "potential":
        r.fail("actuality", "the clinic records actual adverse events only")
    entities = res.get("suspectEntity") or []
    target = _ref(entities[0].get("instance"), "MedicationAdministration") \
        if len(entities) == 1 else None
    if f"MedicationAdministration/{target}" not in plan.subjects:
        r.fail("suspectEntity", "must name one MedicationAdministration of this bundle")
    elif _another(plan, f"MedicationAdministration/{target}", subject):
        r.fail("suspectEntity", "the infusion is another patient's")
    at, recorded = _instant(res.get("date")), _instant(res.get("recordedDate"))
    if at is None:
        r.fail("date", "needs a time and a zone")
    if recorded is None:
        r.fail("recordedDate", "needs a time and a zone")
    action = r.ext("action-taken", required=False)
    values = {"description": res.get("event", {}).get("text"), "severity": _severity(r),
              "action_taken": "" if action is None else action.get("valueString")}
    if values["severity"] is not None:
        r.body(AdverseEventIn, values, {"description": "event"})
    plan.problems += r.problems
    if not r.problems:
        plan.events.append({"infusion": target, "subject": subject, "at": at,
                            "created_at": recorded, **values})


def _stored_plan(r: _Reader, stored: dict[str, Any]) -> bool:
    """Whether the stored plan has the shape the derived elements are made from."""
    schedule, options = stored.get("schedule", []), stored.get("options", [])
    ok = isinstance(schedule, list) and all(
        isinstance(e, dict) and all(isinstance(e.get(k), str) for k in ("date", "event",
                                                                        "detail"))
        for e in schedule) and isinstance(options, list) and all(
        isinstance(o, dict) for o in options) and (
        stored.get("recommended") is None or (isinstance(stored["recommended"], str)
                                              and len(stored["recommended"]) <= 40))
    if not ok:
        r.fail("extension", "care-plan needs a schedule of {date, event, detail}, options "
                            "and a recommended option (or null)")
    return ok


def _care_plan(res: dict[str, Any], where: str, plan: _Plan) -> None:
    """A care plan the planner made: the stored profile and plan (extensions) are what is
    imported; the status, intent, period, description and activities must be what they give."""
    r = _Reader(where, res)
    subject = _ref(res.get("subject"), "Patient")
    if subject not in plan.patients:
        r.fail("subject", "not a Patient of this bundle")
    if res.get("status") != "active":
        r.fail("status", "equipoise's care plans are 'active'")
    if res.get("intent") != "plan":
        r.fail("intent", "equipoise's care plans are 'plan'")
    profile, stored = r.json("care-plan-profile", dict), r.json("care-plan", dict)
    created = _instant(res.get("created"))
    if created is None:
        r.fail("created", "needs the time the plan was made, with a zone")
    try:
        start = dt.date.fromisoformat(str(res.get("period", {}).get("start")))
    except ValueError:
        r.fail("period", "needs a start date like 2026-01-05")
        start = None
    if start and profile and profile.get("start_date", start.isoformat()) != start.isoformat():
        r.fail("period", "does not start on the profile's start_date")
    if stored is not None and _stored_plan(r, stored):
        if res.get("activity", []) != plan_activity(stored):
            r.fail("activity", "is not the stored plan's schedule (extension care-plan)")
        if res.get("description") != plan_label(stored, stored.get("recommended")):
            r.fail("description", "is not the label of the stored plan's recommended option")
    plan.problems += r.problems
    if not r.problems:
        plan.care_plans.append({"subject": subject, "start_date": start, "created_at": created,
                                "recommended": stored["recommended"] if stored else None,
                                "profile": profile, "plan": stored})


def _write_infusions(session: Session, clinic_id: str, user_id: str, plan: _Plan,
                     patients: dict[str, Patient], responses: dict[str, Any]) -> None:
    """Infusions, their readings and adverse events as exported; the importing user made,
    recorded and (where the form was signed) signed them."""
    rows: dict[str, Infusion] = {}
    for fid, inf in plan.infusions.items():
        values = inf["values"]
        rows[fid] = Infusion(clinic_id=clinic_id, patient_id=patients[inf["subject"]].id,
                             created_by=user_id, **values,
                             signed_by=user_id if values["signed_at"] else None)
        session.add(rows[fid])
    session.flush()
    for fid, inf in plan.infusions.items():
        for qid in inf["responses"]:
            responses[qid].infusion_id = rows[fid].id
    for v in plan.vitals:
        session.add(VitalSign(clinic_id=clinic_id, infusion_id=rows[v.pop("infusion")].id,
                              recorded_by=user_id, **v))
    for e in plan.events:
        session.add(AdverseEvent(clinic_id=clinic_id, infusion_id=rows[e.pop("infusion")].id,
                                 patient_id=patients[e.pop("subject")].id, recorded_by=user_id,
                                 **e))


def import_bundle(session: Session, clinic_id: str, user_id: str,
                  bundle: Any) -> list[Patient]:
    """Check ``bundle`` whole, then write it; the patients imported."""
    problems = _structure(bundle)
    if problems:
        raise BundleError(problems)
    plan = _check(bundle, session, clinic_id)
    if plan.problems:
        raise BundleError(plan.problems)
    ids: dict[str, Patient] = {}
    for fid, values in plan.patients.items():
        p = Patient(clinic_id=clinic_id, mrn=values["mrn"], given_name=values["given_name"],
                    family_name=values["family_name"],
                    birth_date=dt.date.fromisoformat(values["birth_date"]), sex=values["sex"],
                    weight_kg=values["weight_kg"], synthetic=values["synthetic"])
        session.add(p)
        ids[fid] = p
    session.flush()
    responses = {}
    for r in plan.responses:
        authored = dt.datetime.fromisoformat(str(r["authored"]).replace("Z", "+00:00"))
        responses[r["id"]], _ = record_response(
            session, clinic_id, ids[r["subject"]].id, r["instrument"], r["answers"],
            source="patient" if r["patient_source"] else "staff",
            entered_by=None if r["patient_source"] else user_id, authored=authored)
    for c in plan.courses:
        patient = ids[c["subject"]]
        start, dose, acks, _ = c["steps"][0]
        course, _, _ = prescriptions.create(session, patient, c["drug"], start, dose, acks,
                                            user_id)
        for start, dose, acks, _ in c["steps"][1:]:
            prescriptions.add_step(session, course, patient, start, dose, acks, user_id)
        if c["stopped_on"]:
            prescriptions.stop(session, course, dt.date.fromisoformat(c["stopped_on"]),
                               c["reason"] or "imported")
    for t in plan.sessions:
        session.add(TherapySession(clinic_id=clinic_id, patient_id=ids[t.pop("subject")].id,
                                   therapist_id=user_id, **t))
    _write_infusions(session, clinic_id, user_id, plan, ids, responses)
    for c in plan.care_plans:
        session.add(CarePlanRecord(clinic_id=clinic_id, patient_id=ids[c.pop("subject")].id,
                                   created_by=user_id, **c))
    session.flush()
    for p in ids.values():               # what the imported records raise and amount to
        alerts.refresh(session, p)
        outcomes.refresh(session, p)
    return list(ids.values())
