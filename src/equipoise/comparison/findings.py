"""Turn evidence rows into findings: the printed number, its unit, pairing and time axis."""

from __future__ import annotations

import re

from equipoise.comparison.cells import Finding, SourceRef
from equipoise.evidence.records import EvidenceRow, EvidenceSet
from equipoise.evidence.values import (
    EFFECT_SIZE_UNITS,
    RATIO_UNITS,
    TIME_UNITS_IN_HOURS,
    DateValue,
    Interval,
    Labelled,
    Listing,
    Number,
    Status,
    Unit,
    format_number,
)
from equipoise.evidence.vocabulary import Directness, directness

_SUFFIX = {
    Unit.PERCENT: "%", Unit.HOURS: " h", Unit.DAYS: " days", Unit.WEEKS: " weeks",
    Unit.SCORE_POINTS: " points", Unit.MMHG: " mmHg", Unit.MG_PER_KG: " mg/kg",
    Unit.MG_PER_DAY: " mg/day", Unit.MG: " mg", Unit.SESSIONS: " sessions",
    Unit.INFUSIONS: " infusions", Unit.DOSES_PER_WEEK: " doses/week",
}
_PREFIX = {
    Unit.ODDS_RATIO: "OR ", Unit.RISK_RATIO: "RR ", Unit.HAZARD_RATIO: "HR ", Unit.SMD: "SMD ",
    Unit.MEAN_DIFFERENCE: "MD ", Unit.HEDGES_G: "g ", Unit.COHENS_D: "d ", Unit.NNT: "NNT ",
    Unit.P_VALUE: "p=", Unit.STUDY_WEEK: "week ", Unit.YEAR: "",
}


def lower_first(name: str) -> str:
    """ "Placebo" -> "placebo" but "SSRIs/SNRIs (pooled)" and "CBT" keep their capitals."""
    first = name.split(" ", 1)[0]
    return name if first.upper() == first or any(c.isupper() for c in first[1:]) else (
        name[0].lower() + name[1:])


def source_ref(row: EvidenceRow) -> SourceRef:
    s = row.source
    return SourceRef(row.id, s.citation, s.doi, s.pmid, s.url, row.location)


def number_text(row: EvidenceRow) -> str:
    """The value as printed, with its unit and bound, e.g. ``≤1 h``, ``<5%``, ``OR 28.94``.

    Protocol facts keep their whole measure text ("0.5 mg/kg over 40 min"): the schedule is in it.
    """
    unit = row.measure.unit
    v = row.value
    if row.protocol and isinstance(v, Number | Interval | Listing):
        return f"{v.text.replace('-', '–')} {row.measure.text}"
    if isinstance(v, Status):
        return "yes" if v.flag else "no"
    if isinstance(v, DateValue):
        return v.text
    if isinstance(v, Labelled):
        body = "; ".join(f"{label} {r.text}" for label, r in v.items)
    elif isinstance(v, Interval | Listing):
        body = v.text.replace("-", "–") if isinstance(v, Interval) else v.text
    else:
        assert isinstance(v, Number)
        body = format_number(v.value).replace("-", "−")
    if unit is Unit.COUNT and isinstance(v, Number) and row.n is not None:
        body = f"{body}/{row.n}"
    text = _PREFIX.get(unit, "") + body + _SUFFIX.get(unit, "")
    if unit is Unit.WEEKS and isinstance(v, Number) and v.value == 1:
        text = text.replace(" weeks", " week")
    if row.measure.bound == "upper":
        text = ("<" if row.measure.strict else "≤") + text
    elif row.measure.bound == "lower":
        text = "≥" + text
    if row.measure.approximate:
        text = "~" + text
    return text


def ci_level(row: EvidenceRow) -> float:
    """95% unless the row's population note says otherwise (one seed row has a 90% CI)."""
    m = re.search(r"(\d{2})%\s*(?:\([^)]*\)\s*)?(?:CI\b|confidence)", row.population_note)
    return int(m.group(1)) / 100 if m else 0.95


def significant(row: EvidenceRow) -> bool | None:
    """Whether the printed interval or p-value excludes no effect; ``None`` if it cannot say."""
    unit = row.measure.unit
    if unit is Unit.P_VALUE and isinstance(row.value, Number):
        return row.value.value < 0.05
    if row.ci is None or row.ci.low is None or row.ci.high is None:
        return None
    null = 1.0 if unit in RATIO_UNITS else 0.0 if unit in EFFECT_SIZE_UNITS else None
    if null is None:
        return None
    return not row.ci.low <= null <= row.ci.high


def value_hours(row: EvidenceRow) -> tuple[float, float] | None:
    """Onset and duration values on one axis in hours, or ``None`` for other units."""
    per = TIME_UNITS_IN_HOURS.get(row.measure.unit)
    if per is None:
        return None
    nums = row.value.numbers()
    if not nums:
        return None
    low, high = min(nums) * per, max(nums) * per
    if row.measure.bound == "upper":
        low = 0.0 if row.measure.unit is not Unit.STUDY_WEEK else low
    return (low, high)


def find_partner(row: EvidenceRow, evidence: EvidenceSet) -> EvidenceRow | None:
    """The comparator arm's row for an arm-level value (same source, outcome and timepoint)."""
    if row.measure.unit in RATIO_UNITS or row.measure.unit in EFFECT_SIZE_UNITS:
        return None
    for other in evidence:
        if (other is not row and other.source.key == row.source.key
                and other.outcome_text == row.outcome_text and other.timepoint == row.timepoint
                and other.measure.unit is row.measure.unit and other.treatment in row.comparators
                and not other.protocol):
            return other
    return None


def make_finding(row: EvidenceRow, evidence: EvidenceSet, target: str, *,
                 reverse: bool = False, hours: tuple[float, float] | None = None,
                 extra_flags: tuple[str, ...] = ()) -> Finding:
    """Build the :class:`Finding` for ``row`` as seen from ``target`` condition."""
    catalogue = evidence.catalogue
    partner = None if reverse else find_partner(row, evidence)
    d = directness(row.condition, target)
    flags = list(extra_flags)
    if d is Directness.OTHER:
        flags.append(f"evidence from another condition: {row.condition.text}")
    elif d is Directness.RELATED:
        flags.append(f"another anxiety population: {row.condition.text}")
    elif d is Directness.INCLUDES:
        flags.append(f"population: {row.condition.text}")
    if row.condition.pediatric:
        flags.append("paediatric population")
    if not row.controlled and not row.protocol:
        flags.append(f"no control group: {row.design.value}")
    if reverse:
        flags.append(f"reported as {catalogue[row.treatment].name} vs this treatment")
    if ci_level(row) != 0.95:
        flags.append(f"{round(ci_level(row) * 100)}% interval")
    v = row.value
    value = v.value if isinstance(v, Number) else None
    nums = v.numbers()
    low = min(nums) if isinstance(v, Interval | Listing) and nums else None
    high = max(nums) if isinstance(v, Interval | Listing) and nums else None
    text = number_text(row)
    if row.ci is not None:
        pct = round(ci_level(row) * 100)
        text += f" ({pct}% CI {row.ci.text()})".replace("-", "−")
    comparator_text = None
    comparator_value = None
    sources = [source_ref(row)]
    if partner is not None:
        comparator_text = f"{number_text(partner)} {lower_first(catalogue[partner.treatment].name)}"
        comparator_value = partner.point
        text += f" vs {comparator_text}"
        sources.append(source_ref(partner))
    elif not reverse and row.comparators and row.comparators != ("none",) and not row.protocol:
        text += f" vs {lower_first(', '.join(catalogue[c].name for c in row.comparators))}"
    return Finding(
        row_id=row.id, treatment=row.treatment, label=row.outcome_text, text=text, value=value,
        low=low, high=high, unit=row.measure.unit.value, bound=row.measure.bound,
        ci_low=None if row.ci is None else row.ci.low,
        ci_high=None if row.ci is None else row.ci.high, timepoint=row.timepoint,
        hours=hours if hours is not None else value_hours(row), n=row.n, design=row.design.value,
        condition=row.condition.text, directness=d.value, comparator=row.comparator_text,
        comparator_value=comparator_value, comparator_text=comparator_text,
        effect=row.outcome.effect, kind=row.kind.value, sources=tuple(sources), flags=tuple(flags),
    )
