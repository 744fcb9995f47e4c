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
from equipoise.cli.common import add_output_options
from equipoise.cli.output import emit


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
    add_output_options(p, ("table", "json"))
    p.set_defaults(run=run, usage=p.error)


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
    plan = make_plan(profile, start=start, mg_per_kg=args.mg_per_kg, cap_mg=args.cap_mg,
                     seed=args.seed).to_dict()
    emit(json.dumps(plan, indent=1) + "\n" if args.format == "json" else _table(plan),
         args.out)
    return 0


def _table(plan: dict[str, Any]) -> str:
    out = [f"equipoise plan: {plan['patient'] or 'patient'}", "", plan["disclaimer"], ""]
    for f in plan["flags"]:
        out.append(f"!! {f['severity'].upper()}: {f['text']}")
    if plan["flags"]:
        out.append("")
    out.append("Options (best first; blocked options stay listed with the rules that block "
               "them)")
    for o in plan["options"]:
        share = next((v for k, v in o["expected"].items() if k.startswith("response_")), None)
        tail = "" if share is None else f"  expected in response/remission at week 12: " \
                                        f"{share:.0%}"
        out.append(f"  {o['treatment']:16s} {o['status']:22s}{tail}")
        out.append(f"      {o['label']}")
        for r in o["rules"]:
            out.append(f"      [{r['severity']}] {r['id']}: {r['text']} ({r['because']})")
        for n in o["notes"]:
            out.append(f"      note: {n}")
    for r in plan["current_medications"]:
        out.append(f"  current medication [{r['severity']}] {r['id']}: {r['text']}")
    out += ["", f"Recommended: {plan['recommended']}"]
    if plan["dose"]:
        d = plan["dose"]
        out.append(f"Ketamine dose: {d['mg']:g} mg ({d['mg_per_kg']:g} mg/kg x "
                   f"{d['weight_kg']:g} kg) over {d['minutes']:g} min")
    out += ["", "Schedule"]
    out += [f"  {e['date']}  {e['event']}" for e in plan["schedule"]]
    if plan["monitoring"]:
        out += ["", "Monitoring at each infusion"]
        out += [f"  {m['id']}: {m['text']}" for m in plan["monitoring"]]
    out += ["", "Measurements"]
    out += [f"  {m['instrument']}: {m['when']}" for m in plan["measurements"]]
    traj = plan["expected_trajectory"]
    if traj.get("gad7_mean"):
        weeks = traj["weeks"]
        pick = [w for w in (0, 2, 4, 8, 12, 26) if w < len(weeks)]
        out += ["", f"Expected GAD-7 ({traj['option']}; mean [2.5%, 97.5%] over draws)"]
        out += [f"  week {w:2d}: {traj['gad7_mean'][w]:5.1f} "
                f"[{traj['gad7_low'][w]:.1f}, {traj['gad7_high'][w]:.1f}]" for w in pick]
    return "\n".join(out) + "\n"
