"""What equipoise computes on top of the reported numbers: time courses and study-level pools.

Reported numbers stay as printed in the cells' findings. Where the evidence holds an effect
measured at several times, the onset and durability cells also carry a fitted time course; where
it holds two or more randomised studies' own effects for the same outcome, the efficacy cell
carries an equipoise pool. Both are labelled as equipoise's computation and list their rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from equipoise.evidence.records import EvidenceRow
from equipoise.evidence.values import EFFECT_SIZE_UNITS, RATIO_UNITS, Number, Unit
from equipoise.evidence.vocabulary import DesignClass
from equipoise.synthesis.batch import MetaBatch
from equipoise.synthesis.pairwise import MetaAnalysis
from equipoise.synthesis.time_course import TimePoint, fit_time_course, window_hours

Z95 = float(stats.norm.isf(0.025))
# Sign conventions of the seed sources (evidence README): a negative SMD/MD/d favours the
# active treatment; a positive Hedges g does. Ratios favour the treatment below 1 for adverse
# outcomes, so they are not fitted over time.
_FAVOURABLE = {Unit.SMD: -1, Unit.MEAN_DIFFERENCE: -1, Unit.COHENS_D: -1, Unit.HEDGES_G: 1}


def _se(row: EvidenceRow) -> float | None:
    if row.ci is None or row.ci.low is None or row.ci.high is None:
        return None
    if row.measure.unit in RATIO_UNITS:
        return float(np.log(row.ci.high) - np.log(row.ci.low)) / (2 * Z95)
    return float(row.ci.high - row.ci.low) / (2 * Z95)


def _hours(row: EvidenceRow) -> float | None:
    """A window's log-midpoint ("7-14 days" -> ~10 days), or its upper end when it opens at 0."""
    return None if row.timepoint_hours is None else window_hours(row.timepoint_hours)


def time_course_fits(rows: Sequence[EvidenceRow]) -> list[dict[str, Any]]:
    """One fitted time course per (source, outcome) measured at two or more times."""
    groups: dict[tuple[str, str], list[EvidenceRow]] = {}
    for r in rows:
        if (r.measure.unit in _FAVOURABLE and isinstance(r.value, Number)
                and _se(r) is not None and _hours(r) is not None):
            groups.setdefault((r.source.key, r.outcome_text), []).append(r)
    out = []
    for group in groups.values():
        times = {_hours(r) for r in group}
        if len(times) < 2:
            continue
        unit = group[0].measure.unit
        points = [TimePoint(float(_hours(r) or 0), float(r.point or 0), float(_se(r) or 0), r.id)
                  for r in group]
        tc = fit_time_course(points, favourable=_FAVOURABLE[unit])
        out.append({"kind": "time course", "unit": unit.value, "outcome": group[0].outcome_text,
                    "computed_by": "equipoise", **tc.to_dict()})
    return out


def pooled_fits(rows: Sequence[EvidenceRow]) -> list[dict[str, Any]]:
    """Random-effects pools (REML, Knapp-Hartung) of randomised studies' own effects."""
    groups: dict[tuple[Unit, str], dict[str, EvidenceRow]] = {}
    for r in rows:
        if (r.design is DesignClass.RCT and isinstance(r.value, Number) and _se(r) is not None
                and (r.measure.unit in EFFECT_SIZE_UNITS or r.measure.unit in RATIO_UNITS)):
            groups.setdefault((r.measure.unit, r.outcome.domain.value), {}).setdefault(
                r.source.key, r)
    out = []
    for (unit, domain), by_source in groups.items():
        chosen = list(by_source.values())
        if len(chosen) < 2:
            continue
        log = unit in RATIO_UNITS
        y = np.array([np.log(r.point or 1.0) if log else (r.point or 0.0) for r in chosen])
        v = np.array([_se(r) or 0.0 for r in chosen]) ** 2
        fit = MetaAnalysis("REML", test="knha").fit(
            MetaBatch.from_arrays(y, v, study=[r.id for r in chosen]))
        back = np.exp if log else (lambda x: x)
        out.append({
            "kind": "pooled", "computed_by": "equipoise", "unit": unit.value, "domain": domain,
            "model": "random effects, REML, Knapp-Hartung", "k": len(chosen),
            "rows": [r.id for r in chosen], "estimate": float(back(fit.estimate[0])),
            "ci_low": float(back(fit.ci_low[0, 0])), "ci_high": float(back(fit.ci_high[0, 0])),
            "tau2": float(fit.tau2[0]), "i2": float(fit.i2[0]),
            "note": "pooled by equipoise from the randomised studies' own effects; published "
                    "pooled results appear as reported in the findings"})
    return out


def _hours_text(h: float) -> str:
    if h < 48:
        return f"{h:.3g} h"
    if h < 24 * 28:
        return f"{h / 24:.3g} days"
    return f"{h / 168:.3g} weeks"


def fit_text(fit: dict[str, Any]) -> str:
    """One line a reader can weigh: what equipoise computed, from which rows, with what result."""
    rows = ", ".join(fit["rows"])
    if fit["kind"] == "pooled":
        return (f"equipoise pool of {fit['k']} randomised studies ({rows}; {fit['model']}): "
                f"{fit['unit']} {fit['estimate']:.3g} (95% CI {fit['ci_low']:.3g} to "
                f"{fit['ci_high']:.3g}), tau² {fit['tau2']:.3g}")
    first, last = fit["predictions"][0], fit["predictions"][-1]
    if fit["onset_hours"] is None:
        verdict = "at no time distinguishable from no effect"
    else:
        verdict = (f"distinguishable from no effect from {_hours_text(fit['onset_hours'])} to "
                   f"{_hours_text(fit['lasts_until_hours'])}")
    thin = " (two times: no check of fit)" if fit["df"] is None else (
        f" (t with {fit['df']:.0f} df)")
    return (f"equipoise time course over {len(fit['rows'])} times ({rows}){thin}: "
            f"{fit['unit']} {first['estimate']:.2f} ({first['ci_low']:.2f} to "
            f"{first['ci_high']:.2f}) at {_hours_text(first['hours'])}, "
            f"{last['estimate']:.2f} ({last['ci_low']:.2f} to {last['ci_high']:.2f}) at "
            f"{_hours_text(last['hours'])}; {verdict} within the observed times")
