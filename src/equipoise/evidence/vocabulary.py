"""Controlled vocabularies read from free text: conditions, study designs and outcome kinds.

The seed evidence keeps the source's own words. Comparison needs categories: which disorder a
population had, whether a design was controlled, and whether a number is a response rate, an onset
time or a side effect. The rules here are explicit keyword rules, ordered, and every bundled row is
checked by a test to land in a meaningful category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# ---- conditions -------------------------------------------------------------------------------

ANXIETY_CODES = frozenset({"GAD", "SAD", "PANIC", "PTSD", "OCD", "SEPARATION", "ANXIETY"})
CONDITION_NAMES = {
    "GAD": "generalised anxiety disorder",
    "SAD": "social anxiety disorder",
    "PANIC": "panic disorder",
    "PTSD": "post-traumatic stress disorder",
    "OCD": "obsessive-compulsive disorder",
    "SEPARATION": "separation anxiety disorder",
    "ANXIETY": "anxiety disorders (unspecified or mixed)",
    "DEPRESSION": "depression (including TRD)",
    "PAIN": "chronic pain",
    "ANESTHESIA": "anaesthesia",
}
# Targets accepted by --condition: a code, "anxiety" (any anxiety disorder) or "any".
CONDITION_TARGETS = ("GAD", "SAD", "PANIC", "PTSD", "OCD", "anxiety", "any")

_CONDITION_RULES: tuple[tuple[str, str], ...] = (
    (r"\bgad\b|generali[sz]ed anxiety", "GAD"),
    (r"social phobia|social anxiety", "SAD"),
    (r"\bpanic\b|\bpd\b", "PANIC"),
    (r"\bptsd\b|stress[- ]related|stress disorders", "PTSD"),
    (r"\bocd\b|obsessive", "OCD"),
    (r"separation anxiety", "SEPARATION"),
    (r"\bmdd\b|\btrd\b|(?<!non)depress|mood disorders|affective|bipolar", "DEPRESSION"),
    (r"anxiety|anxious", "ANXIETY"),
    (r"\bpain\b", "PAIN"),
    (r"anesthesia|anaesthesia", "ANESTHESIA"),
)


@dataclass(frozen=True, slots=True)
class Condition:
    """A population's condition read from text: codes, plus flags that limit directness."""

    text: str
    codes: frozenset[str]
    mixed: bool
    pediatric: bool
    treatment_resistant: bool

    @property
    def is_anxiety_only(self) -> bool:
        return bool(self.codes) and self.codes <= ANXIETY_CODES

    @property
    def label(self) -> str:
        return self.text


def parse_condition(text: str) -> Condition:
    """Read a ``condition`` cell; raise ``ValueError`` when no known condition is named."""
    low = text.lower()
    pediatric = bool(re.search(r"pediatric|paediatric", low)) or (
        "children" in low and "adult" not in low)
    codes: set[str] = set()
    for pattern, code in _CONDITION_RULES:
        if re.search(pattern, low):
            codes.add(code)
    if re.search(r"\bsad\b", low):
        # In paediatric rows that also list social phobia, "SAD" is separation anxiety disorder.
        codes.add("SEPARATION" if pediatric and "social phobia" in low else "SAD")
    if "anxiety" in low and codes & (ANXIETY_CODES - {"ANXIETY"}) and "symptoms" not in low:
        codes.discard("ANXIETY")
    if "mixed" in low and "anxiety" in low:
        codes.add("ANXIETY")
    if not codes:
        raise ValueError(f"condition {text!r} names no known disorder; write e.g. GAD, SAD, "
                         "panic disorder, PTSD, OCD, TRD, MDD or 'mixed anxiety disorders'")
    mixed = "mixed" in low or "transdiagnostic" in low or len(codes) > 1
    resistant = bool(re.search(r"\btrd\b|treatment-(resistant|refractory)|prior non-response", low))
    return Condition(text, frozenset(codes), mixed, pediatric, resistant)


class Directness(StrEnum):
    """How directly a population answers a question about a target condition."""

    DIRECT = "direct"          # that condition only
    INCLUDES = "includes"      # a population that includes it (GAD and/or SAD; mixed anxiety)
    RELATED = "related"        # another or unspecified anxiety disorder
    OTHER = "other condition"  # not an anxiety-disorder population (TRD, mixed psychiatric, pain)


def directness(condition: Condition, target: str) -> Directness:
    """Place a row's population relative to ``target`` (a code, ``anxiety`` or ``any``)."""
    if target in ("any", "anxiety"):
        if condition.is_anxiety_only:
            return Directness.DIRECT
        return Directness.INCLUDES if condition.codes & ANXIETY_CODES else Directness.OTHER
    if condition.codes == {target} and not condition.mixed:
        return Directness.DIRECT
    if target in condition.codes and condition.is_anxiety_only:
        return Directness.INCLUDES
    if condition.is_anxiety_only and condition.codes & {"ANXIETY", target}:
        return Directness.INCLUDES
    if condition.is_anxiety_only:
        return Directness.RELATED
    return Directness.OTHER


# ---- designs ----------------------------------------------------------------------------------

class DesignClass(StrEnum):
    """Study designs, ordered from strongest to weakest evidence of a treatment effect."""

    META_ANALYSIS = "meta-analysis"
    RCT = "randomised trial"
    CONTROLLED = "non-randomised controlled"
    UNCONTROLLED = "uncontrolled (open-label or single-arm)"
    OBSERVATIONAL = "retrospective or observational"
    NARRATIVE = "narrative statement"
    GUIDANCE = "guideline, label or textbook"


DESIGN_RANK = {d: i for i, d in enumerate(DesignClass)}


def classify_design(text: str) -> DesignClass:
    """Read a ``design`` cell into a :class:`DesignClass`."""
    low = text.lower()
    if "meta-analysis" in low or re.search(r"\bnma\b", low) or "pooled analysis" in low:
        return DesignClass.META_ANALYSIS
    if "narrative" in low:
        return DesignClass.NARRATIVE
    if "retrospective" in low or "cohort" in low or "case series" in low:
        return DesignClass.OBSERVATIONAL
    if "open-label" in low or "uncontrolled" in low:
        return DesignClass.UNCONTROLLED
    if re.search(r"guideline|product information|regulatory|\blabel\b|textbook|review", low):
        return DesignClass.GUIDANCE
    if re.search(r"\brct\b|randomi[sz]ed", low):
        return DesignClass.RCT
    if "controlled" in low or "double-blind" in low:
        return DesignClass.CONTROLLED
    if "ascending" in low:
        return DesignClass.UNCONTROLLED
    raise ValueError(f"design {text!r} not recognised; write e.g. 'RCT parallel', 'meta-analysis', "
                     "'NMA', 'open-label uncontrolled' or 'retrospective cohort'")


# ---- outcomes ---------------------------------------------------------------------------------

class OutcomeKind(StrEnum):
    """What a number is about."""

    EFFECT = "effect vs control"            # SMD, MD, g, OR/RR on a symptom scale vs a control
    CHANGE = "symptom change"                # one arm's change (mean, % reduction, pre/post d)
    SIGNIFICANCE = "significance test"      # a p-value for a treatment effect
    MODERATOR = "moderator test"            # a p-value for an interaction
    RESPONSE = "response"
    REMISSION = "remission"
    NONRESPONSE = "non-response"
    ONSET = "onset"
    DURATION = "duration of benefit"
    RELAPSE = "relapse"
    ADVERSE_EVENT = "adverse event"
    TAPER = "discontinuation symptoms"
    DISCONTINUATION_AE = "discontinuation for adverse events"
    DROPOUT = "dropout"
    LOSS_TO_FOLLOW_UP = "loss to follow-up"
    RISK_OF_BIAS = "risk of bias"
    SECONDARY = "secondary outcome"
    DOSE = "dose"
    SCHEDULE = "schedule"
    MONITORING = "monitoring"
    COURSE = "course length"
    REGULATORY = "regulatory"


class Domain(StrEnum):
    """The symptom domain an outcome measures."""

    ANXIETY = "anxiety"
    DEPRESSION = "depression"
    FUNCTIONING = "functioning"
    QUALITY_OF_LIFE = "quality of life"
    GENERAL = "general"   # unnamed primary outcome of the target condition


SIDE_EFFECTS = {
    "dissociation": r"dissociat|cadss",
    "blood pressure rise": r"blood pressure|hypertension|\bbp\b",
    "nausea": r"nausea",
    "dizziness": r"dizziness",
    "vertigo": r"vertigo",
    "drowsiness": r"drowsiness|somnolence|sedation",
    "sexual dysfunction": r"sexual",
    "fatigue": r"fatigue",
    "any adverse event": r"any adverse event",
}


@dataclass(frozen=True, slots=True)
class OutcomeClass:
    """A classified outcome: kind, domain and (for side effects) the named effect."""

    kind: OutcomeKind
    domain: Domain
    effect: str | None = None


def _domain(low: str) -> Domain:
    depression = re.search(r"phq-9|madrs|qids|bdi|hamd|depress|mood ratings", low)
    anxiety = re.search(r"anxiety|ham-a|gad-7|lsas|worry|fear|gad outcomes|gad symptoms", low)
    if depression and anxiety:
        return Domain.GENERAL
    if depression:
        return Domain.DEPRESSION
    if "functioning" in low:
        return Domain.FUNCTIONING
    if "quality of life" in low:
        return Domain.QUALITY_OF_LIFE
    if anxiety:
        return Domain.ANXIETY
    return Domain.GENERAL


_PROTOCOL_RULES: tuple[tuple[str, OutcomeKind], ...] = (
    (r"approval|indication|approved", OutcomeKind.REGULATORY),
    (r"monitoring", OutcomeKind.MONITORING),
    (r"onset", OutcomeKind.ONSET),
    (r"course length|number of .*sessions|sessions|duration of working", OutcomeKind.COURSE),
    (r"frequency|number of|washout|schedule|ascending", OutcomeKind.SCHEDULE),
    (r"dose", OutcomeKind.DOSE),
)


def classify_outcome(outcome: str, measure_text: str, *, uncontrolled: bool,
                     protocol: bool = False) -> OutcomeClass:
    """Classify an ``outcome`` cell; raise ``ValueError`` when no rule applies."""
    low = outcome.lower()
    mlow = measure_text.lower()
    domain = _domain(low)
    if protocol:
        for pattern, kind in _PROTOCOL_RULES:
            if re.search(pattern, low):
                return OutcomeClass(kind, domain)
        raise ValueError(f"protocol outcome {outcome!r} not recognised (dose, schedule, "
                         "monitoring, course length, onset or regulatory)")
    if low.startswith("ae ") or ("adverse event" in low and "discontinuation" not in low):
        name = next((n for n, pat in SIDE_EFFECTS.items() if re.search(pat, low)), None)
        if name is None:
            raise ValueError(f"adverse event {outcome!r} names no known effect "
                             f"({', '.join(SIDE_EFFECTS)})")
        return OutcomeClass(OutcomeKind.ADVERSE_EVENT, domain, name)
    rules: tuple[tuple[str, OutcomeKind], ...] = (
        (r"discontinuation-emergent", OutcomeKind.TAPER),
        (r"discontinuation due to adverse|withdrawal due to tolerab",
         OutcomeKind.DISCONTINUATION_AE),
        (r"dropout|drop-out|attrition", OutcomeKind.DROPOUT),
        (r"loss to follow-up", OutcomeKind.LOSS_TO_FOLLOW_UP),
        (r"risk of bias", OutcomeKind.RISK_OF_BIAS),
        (r"relapse", OutcomeKind.RELAPSE),
        (r"duration|maintenance of improvement", OutcomeKind.DURATION),
        (r"onset|earliest study week|time course", OutcomeKind.ONSET),
        (r"non-response|without response|without significant clinical benefit",
         OutcomeKind.NONRESPONSE),
        (r"remission", OutcomeKind.REMISSION),
        (r"interaction .* x |moderat", OutcomeKind.MODERATOR),
    )
    for pattern, kind in rules:
        if re.search(pattern, low):
            return OutcomeClass(kind, domain)
    if re.search(r"respon|>50% improvement", low):
        return OutcomeClass(OutcomeKind.RESPONSE, domain)
    if domain in (Domain.FUNCTIONING, Domain.QUALITY_OF_LIFE) or (
            domain is Domain.DEPRESSION and "symptom" in low):
        return OutcomeClass(OutcomeKind.SECONDARY, domain)
    if mlow.startswith("p-value"):
        return OutcomeClass(OutcomeKind.SIGNIFICANCE, domain)
    if re.search(r"^(smd|md|hedges|cohen|or\b|rr\b|nnt)", mlow) and not uncontrolled:
        return OutcomeClass(OutcomeKind.EFFECT, domain)
    if re.search(r"change|reduction|decrease|improvement", low) or re.match(
            r"cohen|mean (points|change)", mlow):
        return OutcomeClass(OutcomeKind.CHANGE, domain)
    if re.search(r"symptoms|scores|outcome|severity", low):
        return OutcomeClass(OutcomeKind.EFFECT, domain)
    raise ValueError(f"outcome {outcome!r} not recognised; name it as a response, remission, "
                     "relapse, onset, adverse event, dropout or a symptom score")


# ---- timepoints -------------------------------------------------------------------------------

_HOURS = {"min": 1 / 60, "h": 1.0, "hour": 1.0, "day": 24.0, "week": 168.0, "month": 730.5,
          "year": 8766.0}
_UNIT = r"(min|h|hours?|days?|weeks?|months?|years?)\b"


def _unit_hours(word: str) -> float:
    word = word.rstrip("s") if word not in ("h",) else word
    return _HOURS["hour" if word in ("hour", "h") else word]


def timepoint_hours(text: str) -> tuple[float, float] | None:
    """Hours covered by a timepoint such as "24 h", "7-14 days", "week 8", "3 h to 14 days".

    Returns ``(start, end)`` in hours, or ``None`` when the text names no time.
    """
    low = text.lower().replace("–", "-")
    found: list[float] = []
    for m in re.finditer(rf"(\d+(?:\.\d+)?)(?:\s*-\s*(\d+(?:\.\d+)?))?\s*{_UNIT}", low):
        per = _unit_hours(m.group(3))
        found.append(float(m.group(1)) * per)
        if m.group(2):
            found.append(float(m.group(2)) * per)
    for m in re.finditer(r"\b(day|week|month)s?\s+(\d+)(?:\s*-\s*(\d+))?", low):
        per = _HOURS[m.group(1)]
        found.append(float(m.group(2)) * per)
        if m.group(3):
            found.append(float(m.group(3)) * per)
    if not found:
        return None
    return (min(found), max(found))
