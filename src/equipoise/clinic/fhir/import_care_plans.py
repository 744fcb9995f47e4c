"""Importing care plans (CarePlan): the stored profile and plan carried in extensions are what
is written; the derived elements must match them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from equipoise.care.outcomes import plan_expectation
from equipoise.clinic.fhir.export import plan_activity, plan_label
from equipoise.clinic.fhir.reading import (
    ImportPlan,
    Reader,
    fhir_instant,
    reference_to,
)
from equipoise.errors import MeasureError


def _stored_plan(r: Reader, stored: dict[str, Any]) -> bool:
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
        return False
    for o in options:
        expected = o.get("expected") or {}
        keys = [k for k in expected if isinstance(k, str) and
                k.startswith("response_or_remission_week_") and
                not k.endswith(("_low", "_high"))] if isinstance(expected, dict) else [""]
        for key in keys:
            try:
                plan_expectation(expected, key)
            except MeasureError as exc:
                r.fail("extension", f"care-plan option {o.get('treatment')!r}: {exc}")
                return False
    return ok


def care_plan(res: dict[str, Any], where: str, plan: ImportPlan) -> None:
    """A care plan the planner made: the stored profile and plan (extensions) are what is
    imported; the status, intent, period, description and activities must be what they give."""
    r = Reader(where, res)
    subject = reference_to(res.get("subject"), "Patient")
    if subject not in plan.patients:
        r.fail("subject", "not a Patient of this bundle")
    if res.get("status") not in ("active", "revoked"):
        r.fail("status", "equipoise's care plans are 'active' (a patient's newest) or "
                         "'revoked' (replaced by a newer one)")
    if res.get("intent") != "plan":
        r.fail("intent", "equipoise's care plans are 'plan'")
    profile, stored = r.json("care-plan-profile", dict), r.json("care-plan", dict)
    created = fhir_instant(res.get("created"))
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
                                "profile": profile, "plan": stored,
                                "status": res["status"], "where": where})


def care_plan_statuses(plan: ImportPlan) -> None:
    """Each patient's newest plan (by creation) must be the 'active' one and every older one
    'revoked', as the export writes them: the clinic acts on a patient's newest plan."""
    newest: dict[str, tuple[dt.datetime, dt.date]] = {}
    for c in plan.care_plans:
        key = (c["created_at"], c["start_date"])
        newest[c["subject"]] = max(newest.get(c["subject"], key), key)
    for c in plan.care_plans:
        current = (c["created_at"], c["start_date"]) == newest[c["subject"]]
        if c["status"] != ("active" if current else "revoked"):
            plan.problems.append(
                f"{c['where']}: status: the patient's newest care plan is 'active' and older "
                f"ones are 'revoked'; this one is {'the newest' if current else 'older'}")
