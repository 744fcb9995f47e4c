"""The comparison's cells for each option of a plan: the published evidence, cell by cell.

`care` may not import `comparison` (DESIGN.md's import rules), so the planner's own evidence is
the cited inputs of its model; this step, on top of both, adds the side-by-side comparison's
cells (headline, certainty, source rows) for each treatment an option uses.
"""

from __future__ import annotations

from typing import Any

from equipoise.care.planner import OPTIONS
from equipoise.comparison.builder import compare

# Plan option parts -> the treatment catalogue's ids.
CATALOGUE = {"ssri": "escitalopram", "snri": "venlafaxine", "cbt": "cbt",
             "ketamine_iv": "ketamine-iv", "ssri+cbt": "sertraline-cbt"}

DIMENSIONS = ("efficacy", "onset", "response", "side_effects", "durability")
CONDITIONS = ("GAD", "SAD", "PANIC", "PTSD", "OCD")


def attach_comparison(plan: dict[str, Any], diagnoses: tuple[str, ...]) -> dict[str, Any]:
    """``plan`` with ``options[].compare``: the comparison cells of its treatments, for the
    patient's first anxiety diagnosis (else any anxiety disorder)."""
    condition = next((d for d in diagnoses if d in CONDITIONS), "anxiety")
    result = compare(treatments=sorted(set(CATALOGUE.values())), dimensions=DIMENSIONS,
                     condition=condition).to_dict()
    cells: dict[str, list[dict[str, Any]]] = {}
    for cell in result["cells"]:
        cells.setdefault(cell["treatment"], []).append({
            "treatment": cell["treatment"], "dimension": cell["dimension"],
            "headline": cell["headline"], "note": cell["note"],
            "certainty": (cell.get("certainty") or {}).get("label"),
            "sources": [s["row_id"] for s in cell.get("sources", [])]})
    out = dict(plan)
    out["options"] = [dict(o) | {"compare": [c for part in _parts(o["treatment"])
                                             for c in cells.get(CATALOGUE[part], [])]}
                      for o in plan["options"]]
    out["compare_condition"] = condition
    return out


def _parts(option: str) -> tuple[str, ...]:
    """The catalogue parts of a plan option: its safety parts, with SSRI + CBT as the one
    combination the catalogue holds as such."""
    return ("ssri+cbt",) if option == "ssri+cbt" else OPTIONS[option][1]
