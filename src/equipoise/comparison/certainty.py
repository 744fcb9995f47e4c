"""A plain GRADE-style certainty label for the findings in a cell.

GRADE rates a body of evidence: randomised evidence starts high and observational evidence low,
then loses a level for each serious concern about risk of bias, inconsistency, indirectness,
imprecision or publication bias (Balshem et al. 2011). equipoise applies a transparent,
conservative subset of those rules to the rows it has; docs/decisions/certainty.md lists them.

References
----------
Balshem H, et al. GRADE guidelines: 3. Rating the quality of evidence. J Clin Epidemiol
2011;64(4):401-406. doi:10.1016/j.jclinepi.2010.07.015
Guyatt GH, et al. GRADE guidelines 6. Rating the quality of evidence - imprecision. J Clin
Epidemiol 2011;64(12):1283-1293.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from equipoise.comparison.cells import Certainty, Finding
from equipoise.evidence.records import EvidenceRow, EvidenceSet
from equipoise.evidence.values import RATIO_UNITS, Number, Unit
from equipoise.evidence.vocabulary import DESIGN_RANK, DesignClass, Directness, OutcomeKind

LABELS = ("Very low", "Low", "Moderate", "High")
# equipoise's own threshold, not a GRADE constant: GRADE 6 asks whether the total sample reaches
# the size of one adequately powered trial (the optimal information size).
OPTIMAL_INFORMATION_SIZE = 400
_CONTROLLED = (DesignClass.META_ANALYSIS, DesignClass.RCT)


_TRIALS = re.compile(r"(\d+)\s+(?:[a-z-]+\s+)?(?:RCTs|trials|studies)\b")
_PEOPLE = re.compile(r"(?:[nN]\s*=\s*(\d[\d,]*))|(\d[\d,]*)\s+(?:[a-zA-Z]+\s+)?"
                     r"(?:outpatients|patients|participants)")


def _participants(row: EvidenceRow) -> int | None:
    """A row's n, or for a meta-analysis the participant count its population note states."""
    if row.n is not None:
        return row.n
    m = _PEOPLE.search(row.population_note)
    return int((m.group(1) or m.group(2)).replace(",", "")) if m else None


def _trials(row: EvidenceRow) -> int:
    if row.design is not DesignClass.META_ANALYSIS:
        return 1
    m = _TRIALS.search(row.population_note)
    return int(m.group(1)) if m else 1


def _size(rows: Sequence[EvidenceRow]) -> tuple[int | None, int, bool]:
    """Participants and trials behind rows: primary studies add up; of overlapping
    meta-analyses only the largest counts. Returns (participants, trials, overlap)."""
    by_source: dict[str, list[EvidenceRow]] = {}
    for r in rows:
        by_source.setdefault(r.source.key, []).append(r)
    primary_n, primary_k, ma = 0, 0, []
    unknown = False
    for group in by_source.values():
        ns = [n for n in (_participants(r) for r in group) if n is not None]
        n = max(ns) if ns else None
        if group[0].design is DesignClass.META_ANALYSIS:
            ma.append((n, max(_trials(r) for r in group)))
        else:
            primary_k += 1
            if n is None:
                unknown = True
            else:
                primary_n += n
    ma_n = max((n for n, _ in ma if n is not None), default=None)
    ma_k = max((k for _, k in ma), default=0)
    # When a source does not say how many took part, say so rather than understate.
    total = None if unknown or any(n is None for n, _ in ma) else max(primary_n, ma_n or 0)
    # Meta-analyses may pool each other's trials and the primary studies listed beside them,
    # so the largest body of evidence is counted rather than the sum.
    return total, max(primary_k, ma_k), len(ma) > 1 or (bool(ma) and primary_k > 0)


def rate(findings: Sequence[Finding], evidence: EvidenceSet) -> Certainty | None:
    """Rate the findings' best-design evidence; ``None`` when there are no findings."""
    if not findings:
        return None
    rows = [evidence.get(f.row_id) for f in findings]
    best = min(DESIGN_RANK[r.design] for r in rows)
    top = [r for r in rows if DESIGN_RANK[r.design] == best]
    studies = {r.source.key for r in top}
    total, _, _ = _size(top)
    flags: list[str] = []
    design = top[0].design
    if design in _CONTROLLED:
        level = 3
    elif design in (DesignClass.NARRATIVE, DesignClass.GUIDANCE):
        level = 0
        flags.append("no trial data (narrative, guideline or label)")
    else:
        level = 1
        flags.append(f"starts low: {design.value}")

    # Risk of bias
    rob = [r for r in evidence if r.kind is OutcomeKind.RISK_OF_BIAS
           and r.source.key in studies and isinstance(r.value, Number)]
    if rob:
        flags.append("risk of bias: " + "; ".join(f"{r.value.text} {r.outcome_text}" for r in rob))
        level -= 1
    fragile = [r for r in top if r.design in _CONTROLLED and "midazolam" not in r.comparators
               and "NMDA" in evidence.catalogue[r.treatment].mechanism]
    if fragile and not rob:
        flags.append("risk of bias: blinding fragile (dissociative drug without an active placebo)")
        level -= 1

    # Indirectness
    by_id = {f.row_id: f for f in findings}
    directness = {by_id[r.id].directness for r in top}
    if Directness.DIRECT.value not in directness:
        if directness == {Directness.OTHER.value}:
            flags.append("indirect: evidence from another condition")
        elif Directness.INCLUDES.value in directness:
            flags.append("indirect: mixed or broader population")
        else:
            flags.append("indirect: another anxiety disorder")
        level -= 1
    if all(r.condition.pediatric for r in top):
        flags.append("indirect: paediatric population")
        level -= 1
    elif any(r.condition.pediatric for r in top):
        flags.append("partly paediatric evidence")

    # Imprecision
    small = total is not None and total < OPTIMAL_INFORMATION_SIZE and design in _CONTROLLED
    if small:
        flags.append(f"imprecise: {total} participants")
        level -= 1
    elif total is None and design in _CONTROLLED:
        flags.append("imprecision only judged from intervals (participants not reported)")
    wide = [r for r in top if r.ci is not None and r.ci.low and r.ci.high
            and r.measure.unit in RATIO_UNITS and r.ci.high / r.ci.low > 10]
    crosses = [r for r in top if r.ci is not None and r.ci.low is not None
               and r.ci.high is not None
               and r.ci.low <= (1.0 if r.measure.unit in RATIO_UNITS else 0.0) <= r.ci.high
               and r.measure.unit not in (Unit.PERCENT, Unit.PROBABILITY)]
    if wide or crosses:
        what = "interval includes no effect" if crosses else "very wide interval"
        flags.append(f"imprecise: {what} ({', '.join(r.id for r in (crosses or wide))})")
        if not small:
            level -= 1
    level = max(0, min(3, level))
    designs = tuple(sorted({r.design.value for r in rows},
                           key=lambda d: DESIGN_RANK[DesignClass(d)]))
    participants, trials, overlap = _size(rows)
    if overlap:
        flags.append("sources may overlap (a meta-analysis can include the other trials): "
                     "the largest is counted")
    return Certainty(LABELS[level], len({r.source.key for r in rows}), participants, designs,
                     tuple(flags), trials)
