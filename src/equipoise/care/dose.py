"""Weight-based IV ketamine dose: 0.5 mg/kg over 40 minutes by default, on actual body weight.

The default, its usual range and the use of actual body weight come from the safety rules
table (``dosing.ketamine_iv``), each cited. No published maximum in mg was found, so a cap is
applied only when the caller (the clinic's protocol) gives one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from equipoise.care.safety import load_rules
from equipoise.errors import ModelError


@dataclass(frozen=True)
class Dose:
    """One infusion's dose and how it was reached."""

    mg: float
    mg_per_kg: float
    minutes: float
    weight_kg: float
    cap_mg: float | None
    capped: bool
    outside_usual_range: bool
    basis: str
    usual_range: tuple[float, float] = (0.0, 0.0)   # mg/kg, from the cited source

    def to_dict(self) -> dict[str, object]:
        return {"mg": self.mg, "mg_per_kg": self.mg_per_kg, "minutes": self.minutes,
                "weight_kg": self.weight_kg, "cap_mg": self.cap_mg, "capped": self.capped,
                "outside_usual_range": self.outside_usual_range,
                "usual_range_mg_per_kg": list(self.usual_range), "basis": self.basis}


def ketamine_dose(weight_kg: float, *, mg_per_kg: float | None = None,
                  minutes: float | None = None, cap_mg: float | None = None) -> Dose:
    """The dose for ``weight_kg`` (actual body weight), rounded to 0.1 mg.

    A dose per kg outside the cited usual range (0.1-0.75 mg/kg) is allowed but marked; a cap
    lowers the dose to ``cap_mg`` and says so.
    """
    table = load_rules().dosing["ketamine_iv"]
    per_kg = float(table["mg_per_kg"]) if mg_per_kg is None else float(mg_per_kg)
    mins = float(table["minutes"]) if minutes is None else float(minutes)
    for name, value in (("weight_kg", weight_kg), ("mg_per_kg", per_kg), ("minutes", mins)):
        if isinstance(value, bool) or not math.isfinite(value) or value <= 0:
            raise ModelError(f"{name} must be a positive number, got {value!r}")
    if cap_mg is not None and (isinstance(cap_mg, bool) or not math.isfinite(cap_mg)
                               or cap_mg <= 0):
        raise ModelError(f"cap_mg must be a positive number, got {cap_mg!r}")
    lo, hi = (float(x) for x in table["range_mg_per_kg"])
    # to 0.1 mg, halves up, in exact decimals (0.5 x 52.3 kg = 26.15 -> 26.2 mg)
    mg = float((Decimal(repr(per_kg)) * Decimal(repr(float(weight_kg)))).quantize(
        Decimal("0.1"), ROUND_HALF_UP))
    capped = cap_mg is not None and mg > cap_mg
    if capped and cap_mg is not None:
        mg = cap_mg
    sources = load_rules().sources
    basis = (f"{per_kg:g} mg/kg x {weight_kg:g} kg (actual body weight) over {mins:g} min. "
             f"Dose: {sources[table['source']].citation} (\"{table['quote']}\"). Weight: "
             f"{sources[table['weight_source']].citation} (\"{table['weight_quote']}\"). "
             + (f"Capped at {cap_mg:g} mg by the clinic's protocol." if capped
                else table["cap_note"] if cap_mg is None else ""))
    return Dose(mg, per_kg, mins, float(weight_kg), cap_mg, capped,
                not lo <= per_kg <= hi, basis, (lo, hi))
