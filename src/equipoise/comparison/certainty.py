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

from collections.abc import Sequence

from equipoise.comparison.cells import Certainty, Finding
from equipoise.evidence.records import EvidenceSet
from equipoise.evidence.values import RATIO_UNITS, Number, Unit
from equipoise.evidence.vocabulary import DESIGN_RANK, DesignClass, Directness, OutcomeKind

LABELS = ("Very low", "Low", "Moderate", "High")
# equipoise's own threshold, not a GRADE constant: GRADE 6 asks whether the total sample reaches
# the size of one adequately powered trial (the optimal information size).
OPTIMAL_INFORMATION_SIZE = 400
_CONTROLLED = (DesignClass.META_ANALYSIS, DesignClass.RCT)


def rate(findings: Sequence[Finding], evidence: EvidenceSet) -> Certainty | None:
    """Rate the findings' best-design evidence; ``None`` when there are no findings."""
    if not findings:
        return None
    rows = [evidence.get(f.row_id) for f in findings]
    best = min(DESIGN_RANK[r.design] for r in rows)
    top = [r for r in rows if DESIGN_RANK[r.design] == best]
    studies = {r.source.key: r for r in top}
    ns = [max((x.n for x in top if x.source.key == k and x.n is not None), default=None)
          for k in studies]
    known = [n for n in ns if n is not None]
    total = sum(known) if known else None
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
    if directness == {Directness.OTHER.value}:
        flags.append("indirect: evidence from another condition")
        level -= 1
    elif Directness.DIRECT.value not in directness:
        flags.append("indirect: mixed or broader population")
        level -= 1
    if all(r.condition.pediatric for r in top):
        flags.append("indirect: paediatric population")
        level -= 1

    # Imprecision
    if total is not None and total < OPTIMAL_INFORMATION_SIZE and design in _CONTROLLED:
        flags.append(f"imprecise: {total} participants")
        level -= 1
    wide = [r for r in top if r.ci is not None and r.ci.low and r.ci.high
            and r.measure.unit in RATIO_UNITS and r.ci.high / r.ci.low > 10]
    crosses = [r for r in top if r.ci is not None and r.ci.low is not None
               and r.ci.high is not None
               and r.ci.low <= (1.0 if r.measure.unit in RATIO_UNITS else 0.0) <= r.ci.high
               and r.measure.unit not in (Unit.PERCENT, Unit.PROBABILITY)]
    if wide or crosses:
        what = "interval includes no effect" if crosses else "very wide interval"
        flags.append(f"imprecise: {what} ({', '.join(r.id for r in (crosses or wide))})")
        if not (total is not None and total < OPTIMAL_INFORMATION_SIZE):
            level -= 1
    level = max(0, min(3, level))
    designs = tuple(sorted({r.design.value for r in rows},
                           key=lambda d: DESIGN_RANK[DesignClass(d)]))
    every = {r.source.key: r for r in rows}
    all_ns = [max((x.n for x in rows if x.source.key == k and x.n is not None), default=None)
              for k in every]
    all_known = [n for n in all_ns if n is not None]
    return Certainty(LABELS[level], len(every), sum(all_known) if all_known else None, designs,
                     tuple(flags))
