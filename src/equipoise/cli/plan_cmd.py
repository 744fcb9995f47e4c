"""`equipoise plan PATIENT.yaml`: one patient's combined plan, with its safety checks.

Prints a plan that supports a clinician's decision; it is not medical advice. ``--example``
prints an example patient file to start from.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from importlib import resources
from typing import Any

from equipoise.care.planner import make_plan
from equipoise.care.profile import read_profile
from equipoise.care.safety import VitalLimits
from equipoise.cli.common import add_output_options
from equipoise.cli.output import emit
from equipoise.errors import FileProblem, ModelError, ModelFileError
from equipoise.report.plan_evidence import attach_comparison
from equipoise.report.plan_fhir import plan_bundle
from equipoise.report.plan_html import plan_html
from equipoise.report.plan_text import plan_text
from equipoise.simulation.files import Checker, read_document


def register(sub: Any) -> None:
    p = sub.add_parser("plan", help="a patient's combined care plan with its safety checks",
                       description=__doc__)
    p.add_argument("patient", nargs="?", metavar="PATIENT.yaml",
                   help="the patient file (YAML or JSON); see --example")
    p.add_argument("--example", action="store_true", help="print an example patient file")
    p.add_argument("--start", metavar="YYYY-MM-DD",
                   help="first day of the plan (default: the file's start_date, else today)")
    p.add_argument("--mg-per-kg", type=float, help="ketamine dose per kg (default 0.5)")
    p.add_argument("--cap-mg", type=float, help="the clinic's maximum ketamine dose in mg")
    p.add_argument("--seed", type=int, default=0, help="seed of the expected trajectory")
    p.add_argument("--protocol", metavar="PROTOCOL.yaml",
                   help="the clinic's protocol: in-infusion hold/stop limits "
                        "(hold_systolic_above, hold_diastolic_above, stop_systolic_above, "
                        "stop_diastolic_above, stop_heart_rate_above, stop_spo2_below), "
                        "cap_mg and mg_per_kg; see docs/plan.md")
    add_output_options(p, ("table", "json", "html", "fhir"))
    p.set_defaults(run=run, usage=p.error)


_LIMITS = ("hold_systolic_above", "hold_diastolic_above", "stop_systolic_above",
           "stop_diastolic_above", "stop_heart_rate_above", "stop_spo2_below")


def read_protocol(path: str) -> tuple[VitalLimits, dict[str, float]]:
    """The clinic's protocol file: in-infusion limits and dosing settings, checked."""
    c = Checker(read_document(path))
    c.unknown_keys((), (*_LIMITS, "cap_mg", "mg_per_kg", "name"))
    values = {k: c.number((k,), default=0.0, above=0.0) if c.present((k,)) else None
              for k in (*_LIMITS, "cap_mg", "mg_per_kg")}
    c.done()
    try:
        limits = VitalLimits(**{k: values[k] for k in _LIMITS},
                             basis=f"the clinic's protocol ({path}); no published in-infusion "
                                   "limits were found")
    except ModelError as exc:
        raise ModelFileError([FileProblem(path, 1, "(protocol)", str(exc))]) from exc
    dosing = {k: v for k in ("cap_mg", "mg_per_kg") if (v := values[k]) is not None}
    return limits, dosing


def _example() -> str:
    return resources.files("equipoise").joinpath(
        "datasets", "data", "patients", "example.yaml").read_text(encoding="utf-8")


def run(args: argparse.Namespace) -> int:
    if args.example:
        emit(_example(), args.out)
        return 0
    if args.patient is None:
        args.usage("give a PATIENT.yaml file, or --example for one to start from")
    profile = read_profile(args.patient)
    when = args.start or profile.start_date
    try:
        start = dt.date.fromisoformat(str(when)) if when else dt.date.today()
    except ValueError:
        args.usage(f"--start/start_date {when!r} is not a date like 2026-12-01")
    limits, protocol = (VitalLimits(), {}) if args.protocol is None \
        else read_protocol(args.protocol)
    plan = attach_comparison(make_plan(
        profile, start=start,
        mg_per_kg=args.mg_per_kg if args.mg_per_kg is not None else protocol.get("mg_per_kg"),
        cap_mg=args.cap_mg if args.cap_mg is not None else protocol.get("cap_mg"),
        seed=args.seed,
        limits=limits).to_dict(), profile.diagnoses)
    if args.format == "json":
        text = json.dumps(plan, indent=1) + "\n"
    elif args.format == "fhir":
        text = json.dumps(plan_bundle(plan, created=dt.date.today(), seed=args.seed),
                          indent=1) + "\n"
    elif args.format == "html":
        text = plan_html(plan)
    else:
        text = plan_text(plan)
    emit(text, args.out)
    return 0
