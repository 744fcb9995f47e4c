"""One patient's profile to a combined plan: options with their safety status and evidence,
the weight-based dose, a dated schedule, monitoring, measurements, flags and the expected
trajectory from the anxiety model.

A plan supports a clinician's decision and is not medical advice. It never drops a
contraindication: a blocked option stays in the plan with the rules that blocked it. Choices
that are equipoise's design rather than a cited rule (the measurement schedule, the ranking
by simulated response) say so in the plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from equipoise.care.dose import Dose, ketamine_dose
from equipoise.care.measures import Flag, item9_flag
from equipoise.care.profile import Profile
from equipoise.care.safety import Finding, VitalLimits, load_rules, screen, status
from equipoise.simulation.files import parse_document
from equipoise.simulation.run import simulate_scenario
from equipoise.simulation.strategies import DEFAULT_SCALE, load_strategies

DISCLAIMER = ("This plan supports a clinician's decision; it is not medical advice. Every rule "
              "cites its source; check them against the patient and local protocols.")

# Option -> (label, safety options it uses, strategy lines in the anxiety model's format,
# maintenance).
OPTIONS: dict[str, tuple[str, tuple[str, ...], str, str | None]] = {
    "ssri": ("SSRI (escitalopram), assess at week 8, switch to an SNRI on non-response",
             ("ssri", "snri"),
             "[{treatments: [ssri], assess_week: 8}, {treatments: [snri], assess_week: 8}]",
             None),
    "cbt": ("Individual CBT, 12 weekly sessions", ("cbt",),
            "[{treatments: [cbt], assess_week: 12, sessions: 12}]", None),
    "ssri+cbt": ("SSRI plus 12 CBT sessions", ("ssri", "cbt"),
                 "[{treatments: [ssri, cbt], assess_week: 12, sessions: 12}]", None),
    "ketamine_iv": ("IV ketamine induction (6 infusions over 2 weeks), boosters on relapse",
                    ("ketamine_iv",), "[{treatments: [ketamine_iv], assess_week: 2}]",
                    "ketamine_iv"),
    "ketamine-bridge": ("IV ketamine induction as a bridge while an SSRI starts",
                        ("ketamine_iv", "ssri"),
                        "[{treatments: [ketamine_iv, ssri], assess_week: 8, continue: [ssri]}]",
                        None),
    "ketamine+cbt": ("IV ketamine induction alongside 12 CBT sessions", ("ketamine_iv", "cbt"),
                     "[{treatments: [ketamine_iv, cbt], assess_week: 12, sessions: 12}]", None),
}
_RANK = {"eligible": 0, "caution": 1, "excluded by preference": 2, "blocked": 3}
MEDICATION_OPTIONS = {"ssri", "ssri+cbt", "ketamine_iv", "ketamine-bridge", "ketamine+cbt"}
INFUSION_OPTIONS = {"ketamine_iv", "ketamine-bridge", "ketamine+cbt"}


@dataclass(frozen=True)
class Option:
    treatment: str
    label: str
    status: str                                   # eligible | caution | blocked | excluded ...
    rules: tuple[dict[str, str], ...]
    notes: tuple[str, ...]
    evidence: tuple[dict[str, str], ...]
    expected: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    date: dt.date
    event: str
    detail: str


@dataclass(frozen=True)
class Plan:
    patient: str
    options: tuple[Option, ...]
    recommended: str | None
    dose: Dose | None
    schedule: tuple[Event, ...]
    monitoring: tuple[dict[str, str], ...]
    measurements: tuple[dict[str, str], ...]
    flags: tuple[Flag, ...]
    findings_current_medications: tuple[dict[str, str], ...]
    expected_trajectory: dict[str, Any]
    profile: dict[str, Any] = field(default_factory=dict)
    disclaimer: str = DISCLAIMER

    def to_dict(self) -> dict[str, Any]:
        return {
            "disclaimer": self.disclaimer, "patient": self.patient, "profile": self.profile,
            "options": [{"treatment": o.treatment, "label": o.label, "status": o.status,
                         "rules": list(o.rules), "notes": list(o.notes),
                         "evidence": list(o.evidence), "expected": o.expected}
                        for o in self.options],
            "recommended": self.recommended,
            "dose": None if self.dose is None else self.dose.to_dict(),
            "schedule": [{"date": e.date.isoformat(), "event": e.event, "detail": e.detail}
                         for e in self.schedule],
            "monitoring": list(self.monitoring), "measurements": list(self.measurements),
            "flags": [{"id": f.id, "severity": f.severity, "text": f.text, "source": f.source}
                      for f in self.flags],
            "current_medications": list(self.findings_current_medications),
            "expected_trajectory": self.expected_trajectory,
        }


def _option_status(findings: Sequence[Finding], parts: Sequence[str]) -> str:
    states = [status(findings, p) for p in parts]
    return "blocked" if "blocked" in states else "caution" if "caution" in states \
        else "eligible"


def _notes(profile: Profile, option: str) -> list[str]:
    notes = []
    failed_ssri = any(p.treatment == "ssri" and p.response == "none"
                      for p in profile.prior_treatments)
    if failed_ssri and option in ("ssri", "ssri+cbt", "ketamine-bridge"):
        notes.append("prior SSRI non-response recorded: the model's SSRI response comes from "
                     "first-line trials and likely overstates a second SSRI; an SNRI switch or "
                     "a non-SSRI option may suit better")
    book = load_rules()
    current = [m for m in profile.medications if book.medications.get(m.name) in
               ("ssri", "snri")]
    if current and option in ("ssri", "ssri+cbt", "ketamine-bridge"):
        names = ", ".join(m.name + (f" {m.dose_mg_per_day:g} mg/day" if m.dose_mg_per_day
                                    else "") for m in current)
        notes.append(f"already taking {names}: the schedule reviews it instead of starting "
                     "escitalopram; continuing, titrating or switching is the prescriber's "
                     "decision")
    if "infrequent_visits" in profile.preferences and option in INFUSION_OPTIONS:
        notes.append("the induction needs three clinic visits a week for two weeks, against "
                     "the stated preference for infrequent visits")
    if "no_infusions" in profile.preferences and option in INFUSION_OPTIONS:
        notes.append("the patient prefers no infusions")
    return notes


def _strategy_file(profile: Profile, options: Sequence[str], horizon_weeks: int) -> str:
    baseline = float(profile.scores.get("gad7", DEFAULT_SCALE.baseline))
    response = min(DEFAULT_SCALE.response, baseline)
    remission = min(DEFAULT_SCALE.remission, response)
    lines = [f"  {o}:\n    label: \"{OPTIONS[o][0]}\"\n    lines: {OPTIONS[o][2]}\n"
             + (f"    maintenance: {OPTIONS[o][3]}\n" if OPTIONS[o][3] else "")
             for o in options]
    return ("format: equipoise-strategies/1\ntitle: expected course\n"
            f"horizon: {horizon_weeks}w\ndiscount: 0\n"
            f"scale: {{baseline: {baseline:g}, response: {response:g}, "
            f"remission: {remission:g}}}\nstrategies:\n" + "".join(lines))


def _expected(profile: Profile, options: Sequence[str], *, draws: int, patients: int,
              seed: int, horizon_weeks: int) -> dict[str, dict[str, Any]]:
    if not options:
        return {}
    doc = parse_document(_strategy_file(profile, options, horizon_weeks), "plan-model.yaml")
    result = simulate_scenario(load_strategies(doc, draws=draws, seed=seed), patients, seed)
    out: dict[str, dict[str, Any]] = {}
    for name, o in result.outcomes.items():
        track = o.tracks["gad7"]
        better = result.group_share("in response or remission")[name]
        week = min(12, horizon_weeks)
        out[name] = {
            "weeks": list(range(track.shape[1])),
            "gad7_mean": [round(float(x), 2) for x in track.mean(axis=0)],
            "gad7_low": [round(float(x), 2) for x in np.percentile(track, 2.5, axis=0)],
            "gad7_high": [round(float(x), 2) for x in np.percentile(track, 97.5, axis=0)],
            f"response_or_remission_week_{week}": round(float(better[:, week].mean()), 3),
            # its 2.5-97.5% interval over parameter draws (the outcome dashboards' band)
            f"response_or_remission_week_{week}_low":
                round(float(np.percentile(better[:, week], 2.5)), 3),
            f"response_or_remission_week_{week}_high":
                round(float(np.percentile(better[:, week], 97.5)), 3),
        }
    return out


def _schedule(option: str | None, start: dt.date,
              current_antidepressant: str | None = None) -> list[Event]:
    if option is None:
        return []
    out: list[Event] = []
    day = dt.timedelta(days=1)
    if option in INFUSION_OPTIONS:
        out.append(Event(start, "ketamine assessment", "psychiatric assessment and consent; "
                                                       "baseline blood pressure"))
        for k, offset in enumerate((0, 2, 4, 7, 9, 11), start=1):   # three a week, 12 days
            out.append(Event(start + offset * day, f"ketamine infusion {k} of 6",
                             "dose, monitoring and discharge as below"))
        out.append(Event(start + 14 * day, "induction review",
                         "response assessment; maintenance infusions on relapse "
                         "(care.measures.RelapseRule)"))
    if option in ("ssri", "ssri+cbt", "ketamine-bridge") and current_antidepressant:
        out.append(Event(start, f"review {current_antidepressant}",
                         "already taking an SSRI/SNRI: decide whether to continue, titrate or "
                         "switch (escitalopram starts at 10 mg if switched)"))
        out.append(Event(start + 56 * day, "antidepressant response assessment (week 8)",
                         "response rate in the evidence measured at week 8 (SSRI-DAV04-03)"))
    elif option in ("ssri", "ssri+cbt", "ketamine-bridge"):
        rules = load_rules().dosing["escitalopram"]
        out.append(Event(start, "start escitalopram",
                         f"{rules['start_mg']} mg once daily (\"{rules['quote']}\")"))
        out.append(Event(start + int(rules["step_after_days"]) * day, "escitalopram review",
                         f"may increase to {rules['max_mg']} mg, no sooner than one week"))
        out.append(Event(start + 56 * day, "SSRI response assessment (week 8)",
                         "response rate in the evidence measured at week 8 (SSRI-DAV04-03); "
                         "switch on non-response"))
    if option in ("cbt", "ssri+cbt", "ketamine+cbt"):
        for k in range(12):
            out.append(Event(start + 7 * k * day, f"CBT session {k + 1} of 12", "weekly"))
    return sorted(out, key=lambda e: (e.date, e.event))


def _measurements(option: str | None) -> list[dict[str, str]]:
    design = "equipoise's default schedule (a design choice, not a cited rule)"
    out = [{"instrument": "GAD-7 and PHQ-9", "when": "at baseline, weekly for 8 weeks, then "
            "every 4 weeks", "basis": design},
           {"instrument": "HAM-A", "when": "at baseline and at each response assessment",
            "basis": design}]
    if option in INFUSION_OPTIONS:
        out.append({"instrument": "CADSS", "when": "about 40 minutes after each dose",
                    "basis": "esketamine trials rated the CADSS 40 minutes post-dose (Int J "
                             "Neuropsychopharmacol 2023)"})
        out.append({"instrument": "GAD-7 and PHQ-9", "when": "before each infusion",
                    "basis": design})
    return out


def make_plan(profile: Profile, *, start: dt.date, mg_per_kg: float | None = None,
              cap_mg: float | None = None, draws: int = 30, patients: int = 400,
              seed: int = 0, horizon_weeks: int = 26,
              limits: VitalLimits | None = None) -> Plan:
    """The plan for ``profile`` starting on ``start`` (see the module docstring).

    ``limits`` are the clinic's in-infusion hold/stop limits; without them the monitoring
    section says that none are set (no published limits were found).
    """
    findings = screen(profile, on=start)
    evidence = _evidence()
    options: list[Option] = []
    for key, (label, parts, _, _) in OPTIONS.items():
        state = _option_status(findings, parts)
        if state != "blocked" and (
                ("no_medication" in profile.preferences and key in MEDICATION_OPTIONS)
                or ("no_infusions" in profile.preferences and key in INFUSION_OPTIONS)):
            state = "excluded by preference"
        rules = tuple(f.rule.to_dict() | {"because": f.because} for f in findings
                      if f.option in parts)
        unique = tuple({r["id"]: r for r in rules}.values())
        options.append(Option(key, label, state, unique, tuple(_notes(profile, key)),
                              _option_evidence(evidence, parts)))
    runnable = [o.treatment for o in options if o.status in ("eligible", "caution")]
    expected = _expected(profile, runnable, draws=draws, patients=patients, seed=seed,
                         horizon_weeks=horizon_weeks)
    week = min(12, horizon_weeks)
    key = f"response_or_remission_week_{week}"
    ranked = sorted(
        (Option(o.treatment, o.label, o.status, o.rules, o.notes, o.evidence,
                expected.get(o.treatment, {})) for o in options),
        key=lambda o: (_RANK[o.status], -float(o.expected.get(key, 0.0)), o.treatment))
    top = next((o.treatment for o in ranked if o.status in ("eligible", "caution")), None)
    dose = ketamine_dose(profile.weight_kg, mg_per_kg=mg_per_kg, cap_mg=cap_mg) \
        if any(o.status in ("eligible", "caution") and o.treatment in INFUSION_OPTIONS
               for o in ranked) else None
    book = load_rules()
    monitoring = (*({"id": m["id"], "text": m["text"],
                     "source": f"{book.sources[m['source']].citation}; "
                               f"{book.sources[m['source']].url}; \"{m['quote']}\""}
                    for m in book.monitoring["infusion"]),
                  _hold_stop(limits, book.monitoring["hold_stop"]["note"]))
    flags: list[Flag] = []
    item9 = profile.scores.get("phq9_item9")
    if item9 is not None and item9 > 0:
        flags.append(item9_flag(int(item9)))
    for text in profile.unrecognised_conditions:
        flags.append(Flag("unrecognised-condition", "review",
                          f"condition {text!r} was not screened (no known term, a negated or "
                          "family-history mention, or a term no rule uses): review it by hand",
                          ""))
    for m in profile.medications:
        dose_rules = [r.id for r in book.rules if "dose_above" in r.when
                      and m.name in r.when.get("medication", ())]
        if dose_rules and m.dose_mg_per_day is None:
            flags.append(Flag("dose-not-given", "review",
                              f"{m.name}: no dose given, so the dose limits "
                              f"({', '.join(dose_rules)}) could not be checked", ""))
    if "gad7" not in profile.scores:
        flags.append(Flag("no-baseline-gad7", "review",
                          "no GAD-7 given: the expected course assumes a baseline of "
                          f"{DEFAULT_SCALE.baseline:g}", ""))
    offered = {p for _, parts, _, _ in OPTIONS.values() for p in parts} | {
        "current_medications"}
    shown = {f.rule.id for f in findings if f.option in offered}
    other = tuple({f.rule.id: f.rule.to_dict() | {"because": f.because, "option": f.option}
                   for f in findings
                   if f.option not in offered and f.rule.id not in shown}.values())
    for f in other:
        flags.append(Flag(f"rule-{f['id']}", "review",
                          f"{f['option']}: {f['text']} ({f['because']})", f["source"]))
    current = tuple(f.rule.to_dict() | {"because": f.because} for f in findings
                    if f.option == "current_medications")
    on_antidepressant = next((m.name for m in profile.medications
                              if book.medications.get(m.name) in ("ssri", "snri")), None)
    return Plan(profile.name, tuple(ranked), top, dose,
                tuple(_schedule(top, start, on_antidepressant)),
                monitoring if top in INFUSION_OPTIONS else (),
                tuple(_measurements(top)), tuple(flags), current,
                {"option": top, **expected.get(top or "", {}),
                 "model": "equipoise anxiety model (docs/anxiety-model.md), baseline GAD-7 "
                          "from the profile; band: 2.5-97.5% over parameter draws",
                 "ranking": "eligible before caution; within each, by the simulated share in "
                            "response or remission at week 12 (equipoise's design)"},
                {"age": profile.age, "sex": profile.sex, "weight_kg": profile.weight_kg,
                 "diagnoses": list(profile.diagnoses), "scores": dict(profile.scores)})


def _hold_stop(limits: VitalLimits | None, note: str) -> dict[str, str]:
    if limits is None or not limits.configured:
        return {"id": "MON-HOLD-STOP", "text": note, "source": ""}
    parts = [f"{name.replace('_', ' ')} {value:g}" for name, value in (
        ("hold_systolic_above", limits.hold_systolic_above),
        ("hold_diastolic_above", limits.hold_diastolic_above),
        ("stop_systolic_above", limits.stop_systolic_above),
        ("stop_diastolic_above", limits.stop_diastolic_above),
        ("stop_heart_rate_above", limits.stop_heart_rate_above),
        ("stop_spo2_below", limits.stop_spo2_below)) if value is not None]
    return {"id": "MON-HOLD-STOP", "text": "In-infusion limits: " + "; ".join(parts),
            "source": limits.basis}


def _evidence() -> dict[str, tuple[dict[str, str], ...]]:
    """Per treatment, the cited parameters the expectation rests on (evidence rows)."""
    from equipoise.simulation.strategies import bundled_parameters

    out: dict[str, list[dict[str, str]]] = {}
    for path, p in bundled_parameters().params.items():
        parts = path.split(".")
        if parts[0] == "treatments" and "evidence" in p.basis:
            out.setdefault(parts[1], []).append({"parameter": path, "value": f"{p.mean:g}",
                                                 "source": p.basis})
    return {k: tuple(v) for k, v in out.items()}


def _option_evidence(evidence: dict[str, tuple[dict[str, str], ...]],
                     parts: Sequence[str]) -> tuple[dict[str, str], ...]:
    return tuple(e for p in parts for e in evidence.get(p, ()))
