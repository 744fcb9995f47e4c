"""A care plan (``Plan.to_dict()``) as a text report, disclaimer and flags first."""

from __future__ import annotations

from typing import Any


def plan_text(plan: dict[str, Any]) -> str:
    """The plan as plain text, 100 columns or so."""
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
        for c in o.get("compare", []):
            if not c["sources"]:
                continue
            out.append(f"      evidence [{c['treatment']} / {c['dimension']}]: {c['headline']}"
                       f" (certainty {c['certainty']}; rows {', '.join(c['sources'][:4])})")
    for r in plan["current_medications"]:
        out.append(f"  current medication [{r['severity']}] {r['id']}: {r['text']}")
    out += ["", f"Recommended: {plan['recommended']}"]
    if plan["dose"]:
        d = plan["dose"]
        out.append(f"Ketamine dose: {d['mg']:g} mg ({d['mg_per_kg']:g} mg/kg x "
                   f"{d['weight_kg']:g} kg) over {d['minutes']:g} min")
        if d["outside_usual_range"]:
            lo, hi = d["usual_range_mg_per_kg"]
            out.append(f"!! WARNING: the dose per kg is outside the usual {lo:g}-{hi:g} mg/kg "
                       "range of the cited source; check it")
        if d["capped"]:
            out.append(f"   capped at {d['cap_mg']:g} mg by the clinic's protocol")
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
