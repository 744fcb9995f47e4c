"""Importing ketamine infusions (MedicationAdministration), their vital-signs readings
(Observation panels ``partOf`` the infusion) and adverse events (AdverseEvent): checked by the
clinic's own request bodies, written as exported."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from equipoise.care.instruments import instrument
from equipoise.care.measures import score
from equipoise.clinic.fhir.export import KETAMINE, admin_status
from equipoise.clinic.fhir.reading import (
    ImportPlan,
    Reader,
    codings,
    fhir_instant,
    reference_to,
)
from equipoise.clinic.fhir.terminology import (
    AE_SERIOUSNESS,
    AE_SEVERITY,
    BLOOD_PRESSURE,
    DIASTOLIC,
    EXT,
    HEART_RATE,
    INTRAVENOUS,
    SNOMED,
    SPO2,
    SPO2_CODES,
    SYSTOLIC,
    VITALS_PANEL,
)
from equipoise.clinic.infusions.models import AdverseEvent, Infusion, VitalSign
from equipoise.clinic.infusions.schemas import (
    AdverseEventIn,
    Checklist,
    DischargeIn,
    InfusionCreate,
    VitalsIn,
)
from equipoise.clinic.infusions.service import signature_gaps, start_refusals
from equipoise.clinic.patients.models import Patient
from equipoise.errors import MeasureError

STATES = ("screening", "in_progress", "observing", "discharged", "signed")
SCREEN_STATES = ("eligible", "caution", "review", "blocked")
ENDED = ("observing", "discharged", "signed")


def _infusion_times(r: Reader, state: str | None) -> dict[str, Any]:
    """Scheduled, started and ended times: effectivePeriod once started (the scheduled time
    then in an extension), effectiveDateTime (the scheduled time) before."""
    res = r.res
    period = res.get("effectivePeriod")
    started = ended = None
    if isinstance(period, dict):
        started = fhir_instant(period.get("start"))
        ended = fhir_instant(period.get("end")) if "end" in period else None
        scheduled = r.instant("scheduled-for")
        if started is None or ("end" in period and ended is None):
            r.fail("effectivePeriod", "start and end need a time and a zone")
        elif ended is not None and ended < started:
            r.fail("effectivePeriod", "ends before it starts")
    else:
        scheduled = fhir_instant(res.get("effectiveDateTime"))
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


def _infusion_dose(r: Reader) -> dict[str, Any]:
    """Weight, mg/kg, the dose (mg, intravenous) and the minutes it is given over."""
    dosage = r.res.get("dosage") or {}
    if (SNOMED, INTRAVENOUS) not in codings(dosage, "route"):
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


def _infusion_form(r: Reader, state: str | None) -> dict[str, Any]:
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


def infusion(res: dict[str, Any], where: str, plan: ImportPlan) -> None:
    """A ketamine infusion: its status consistent with its times, the dose and weight within
    the clinic's request ranges, the CADSS total scored from its answers, the CADSS ratings
    (supportingInformation) QuestionnaireResponses of the same patient in this bundle."""
    r = Reader(where, res)
    subject = reference_to(res.get("subject"), "Patient")
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
        qid = reference_to(ref, "QuestionnaireResponse")
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
        plan.infusions[str(res.get("id"))] = {"where": where, "subject": subject,
                                              "responses": responses,
                                              "values": values}


PHASES = ("pre", "during", "post", "discharge")
ACTIONS = ("continue", "hold", "stop", "unset")
VITAL_CODES = {VITALS_PANEL, BLOOD_PRESSURE, HEART_RATE, *SPO2_CODES}


def _another(plan: ImportPlan, key: str, subject: str | None) -> bool:
    """Whether the resource ``key`` (in the bundle) is of a patient other than ``subject``;
    a resource whose own subject is not in the bundle is reported there, once."""
    return plan.subjects[key] in plan.patients and plan.subjects[key] != subject


def _infusion_of(r: Reader, plan: ImportPlan) -> str | None:
    """The MedicationAdministration of this bundle the resource is part of (and whose patient
    is its subject)."""
    refs = r.res.get("partOf") or []
    target = reference_to(refs[0], "MedicationAdministration") if len(refs) == 1 else None
    key = f"MedicationAdministration/{target}"
    if key not in plan.subjects:
        r.fail("partOf", "must name one MedicationAdministration of this bundle")
        return None
    if _another(plan, key, reference_to(r.res.get("subject"), "Patient")):
        r.fail("subject", "is not the infusion's patient")
    return target


def _member(r: Reader, values: dict[str, Any], readers: dict[str, Reader]) -> None:
    """A panel member's value into ``values`` (and its reader into ``readers``, by value):
    blood pressure, heart rate or SpO2."""
    codes = {c for _, c in codings(r.res)}
    q = r.res.get("valueQuantity") or {}
    if BLOOD_PRESSURE in codes:
        parts = {c: (x.get("valueQuantity") or {}) for x in r.res.get("component", [])
                 for _, c in codings(x)}
        for name, code in (("systolic", SYSTOLIC), ("diastolic", DIASTOLIC)):
            if parts.get(code, {}).get("code") != "mm[Hg]" or \
                    not isinstance(parts[code].get("value"), int | float):
                r.fail("component", f"needs the {name} pressure ({code}) in mm[Hg]")
            else:
                values[name], readers[name] = float(parts[code]["value"]), r
    elif (HEART_RATE in codes and q.get("code") == "/min") or \
            (codes & SPO2_CODES and q.get("code") == "%"):
        name = "heart_rate" if HEART_RATE in codes else "spo2"
        if not isinstance(q.get("value"), int | float):
            r.fail("valueQuantity", "needs a number")
        else:
            values[name], readers[name] = float(q["value"]), r
    else:
        r.fail("valueQuantity", "heart rate is in /min and SpO2 in %")


def _reading(r: Reader, phase: str | None, values: dict[str, Any],
             readers: dict[str, Reader]) -> None:
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
           claimed: set[str], plan: ImportPlan) -> None:
    """One reading: the panel's phase, action and reasons, its members' values, checked by
    the clinic's own vitals ranges; members share the panel's patient, infusion and time."""
    r = Reader(where, res)
    infusion = _infusion_of(r, plan)
    if res.get("status") != "final":
        r.fail("status", "a reading is imported as it was charted: 'final'")
    at = fhir_instant(res.get("effectiveDateTime"))
    if at is None:
        r.fail("effectiveDateTime", "needs a time and a zone")
    phase, action = r.code("vitals-phase", PHASES), r.code("vitals-action", ACTIONS)
    reasons = [e.get("valueString") for e in res.get("extension", [])
               if e.get("url") == EXT + "vitals-reason"]
    if not all(isinstance(x, str) and x for x in reasons):
        r.fail("extension", "vitals-reason needs a valueString")
    values: dict[str, Any] = {"heart_rate": None, "spo2": None}
    readers: dict[str, Reader] = {}
    members: list[Reader] = []
    seen: set[str] = set()
    for k, ref in enumerate(res.get("hasMember", [])):
        mid = str(reference_to(ref, "Observation"))
        if mid not in parts or parts[mid][1] is res:
            r.fail(f"hasMember[{k}]", "not a vital-sign Observation of this bundle")
            continue
        if mid in claimed:
            r.fail(f"hasMember[{k}]", "is already a member of another panel")
            continue
        claimed.add(mid)
        m = Reader(*parts[mid])
        members.append(m)
        kind = {SPO2 if c in SPO2_CODES else c for _, c in codings(m.res)} & {
            BLOOD_PRESSURE, HEART_RATE, SPO2}
        if kind & seen:
            r.fail(f"hasMember[{k}]", "a reading has one of each vital sign")
        seen |= kind
        if _infusion_of(m, plan) != infusion or m.res.get("subject") != res.get("subject"):
            m.fail("partOf", "is not its panel's infusion and patient")
        if fhir_instant(m.res.get("effectiveDateTime")) != at:
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


def vitals(parts: dict[str, tuple[str, dict[str, Any]]], plan: ImportPlan) -> None:
    """Each reading is a vital-signs panel; every blood pressure, heart rate and SpO2 of an
    infusion belongs to exactly one."""
    claimed: set[str] = set()
    for where, res in parts.values():
        if VITALS_PANEL in {c for _, c in codings(res)}:
            _panel(where, res, parts, claimed, plan)
    for oid, (where, res) in parts.items():
        if oid not in claimed and VITALS_PANEL not in {c for _, c in codings(res)}:
            plan.problems.append(f"{where}: code: an infusion's vital sign is imported only as "
                                 f"a member (hasMember) of a vital-signs panel ({VITALS_PANEL})")


def _severity(r: Reader) -> str | None:
    """The clinic's severity: an adverse-event-severity code, or seriousness "Serious" (and
    no severity) for its "serious"; anything else would not come back the same."""
    severity = [c for s, c in codings(r.res, "severity") if s == AE_SEVERITY]
    serious = [c for s, c in codings(r.res, "seriousness") if s == AE_SERIOUSNESS]
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


def adverse_event(res: dict[str, Any], where: str, plan: ImportPlan) -> None:
    """An actual adverse event of one infusion of this bundle (its suspect entity), of the
    infusion's patient, with the clinic's severities and its request's text limits."""
    r = Reader(where, res)
    subject = reference_to(res.get("subject"), "Patient")
    if subject not in plan.patients:
        r.fail("subject", "not a Patient of this bundle")
    if res.get("actuality") == "potential":
        r.fail("actuality", "the clinic records actual adverse events only")
    entities = res.get("suspectEntity") or []
    target = reference_to(entities[0].get("instance"), "MedicationAdministration") \
        if len(entities) == 1 else None
    if f"MedicationAdministration/{target}" not in plan.subjects:
        r.fail("suspectEntity", "must name one MedicationAdministration of this bundle")
    elif _another(plan, f"MedicationAdministration/{target}", subject):
        r.fail("suspectEntity", "the infusion is another patient's")
    at, recorded = fhir_instant(res.get("date")), fhir_instant(res.get("recordedDate"))
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


def infusion_rules(plan: ImportPlan) -> None:
    """The clinic's own rules over each infusion with its readings, as its steps enforce them:
    a started infusion passed the start checks (``start_refusals``), a signed form has nothing
    missing (``signature_gaps``) and start <= end <= discharge <= signature, and the ratings
    linked to it are CADSS."""
    instruments = {r["id"]: r["instrument"] for r in plan.responses}
    for fid, entry in plan.infusions.items():
        values, where = entry["values"], entry["where"]
        inf = Infusion(**values)
        readings = [VitalSign(**{k: v for k, v in r.items() if k != "infusion"})
                    for r in plan.vitals if r["infusion"] == fid]
        problems = []
        if values["started_at"] is not None:
            problems += [f"{where}: extension: started although {message}"
                         for _, message in start_refusals(inf, readings)]
        if values["signed_at"] is not None:
            gaps = signature_gaps(inf, readings)
            if gaps:
                problems.append(f"{where}: extension: signed with {', '.join(gaps)} missing")
            times = [values[k] for k in ("started_at", "ended_at", "discharged_at", "signed_at")]
            if None not in times and times != sorted(times):
                problems.append(f"{where}: effectivePeriod: start, end, discharge and "
                                "signature must come in that order")
        for qid in entry["responses"]:
            if instruments.get(qid) != "cadss":
                problems.append(f"{where}: supportingInformation: {qid} is not a CADSS rating")
        plan.problems += problems


def write_infusions(session: Session, clinic_id: str, user_id: str, plan: ImportPlan,
                     patients: dict[str, Patient], responses: dict[str, Any]) -> None:
    """Infusions, their readings and adverse events as exported; the importing user made,
    recorded and (where the form was signed) signed them."""
    rows: dict[str, Infusion] = {}
    for fid, inf in plan.infusions.items():
        values = inf["values"]
        rows[fid] = Infusion(clinic_id=clinic_id, patient_id=patients[inf["subject"]].id,
                             created_by=user_id, **values,
                             signed_by=None)    # who signed is not carried; when is
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
