"""Safety rules: contraindications, interactions, dose limits and monitoring, each cited.

The rules live in a data table (``datasets/data/safety_rules.yaml``): every rule has an id, the
options it applies to, a severity (absolute, relative or caution), the condition under which it
fires, its text, and its source with the quoted words. This module reads and checks the table
and screens a patient `Profile` against it. A rule that fires is never dropped: the planner
lists every finding, and a blocked option keeps the rules that blocked it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from equipoise.errors import ModelError

if TYPE_CHECKING:
    from equipoise.care.profile import Profile

SEVERITIES = ("absolute", "relative", "caution")
# ``current_medications``: findings about what the patient already takes (e.g. a dose cap).
OPTIONS = ("ketamine_iv", "esketamine", "ssri", "snri", "cbt", "current_medications")
_WHEN_KEYS = ("condition", "medication_class", "medication", "dose_above", "age_above",
              "age_at_most", "systolic_above", "diastolic_above", "pregnant", "breastfeeding",
              "stopped_class", "stopped_within_days")
RULES_FILE = "safety_rules.yaml"


@dataclass(frozen=True)
class Source:
    key: str
    citation: str
    url: str


@dataclass(frozen=True)
class SafetyRule:
    """One cited rule: when it fires, what it says, and the words of its source."""

    id: str
    options: tuple[str, ...]
    severity: str
    when: Mapping[str, Any]
    text: str
    source: Source
    quote: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "severity": self.severity, "text": self.text,
                "source": f"{self.source.citation}; {self.source.url}; \"{self.quote}\""}


@dataclass(frozen=True)
class Finding:
    """A rule that fired for one option, and what in the profile made it fire."""

    option: str
    rule: SafetyRule
    because: str


@dataclass(frozen=True, eq=False)
class RuleBook:
    """The whole table: rules, the condition vocabulary, the medication catalogue, dosing and
    monitoring entries."""

    rules: tuple[SafetyRule, ...]
    conditions: Mapping[str, tuple[str, ...]]
    medications: Mapping[str, str]            # medication name -> class
    sources: Mapping[str, Source]
    dosing: Mapping[str, Any]
    monitoring: Mapping[str, Any]

    def match_condition(self, text: str) -> tuple[str, ...]:
        """The condition ids whose terms occur in ``text`` as whole words (hyphens read as
        spaces, a plural -s or -es allowed); a negated mention is not a match (see
        `negated`)."""
        low = _normal(text)
        if negated(text):
            return ()
        return tuple(cid for cid, terms in self.conditions.items()
                     if any(re.search(rf"(?<!\w){re.escape(_normal(t))}(?:s|es)?(?!\w)", low)
                            for t in terms))

    @property
    def ruled_conditions(self) -> frozenset[str]:
        """The condition ids some rule uses."""
        return frozenset(c for r in self.rules for c in r.when.get("condition", ()))


_NEGATION = re.compile(r"\b(no|not|denies|denied|without|negative for|ruled out|rule out|"
                       r"family history|free of|never had|absence of)\b")


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("-", " ")).strip()


def negated(text: str) -> bool:
    """Whether a condition text negates or displaces its finding ("no aneurysm", "denies
    stroke", "family history of aneurysm"): such text is never matched, and is reported for
    review instead of being dropped."""
    return bool(_NEGATION.search(_normal(text)))


def _check_table(raw: Mapping[str, Any]) -> RuleBook:
    problems: list[str] = []
    sources = {k: Source(k, v["citation"], v["url"]) for k, v in raw["sources"].items()}
    conditions = {k: tuple(str(t).lower() for t in v) for k, v in raw["conditions"].items()}
    meds: dict[str, str] = {}
    for cls, entry in raw["medications"].items():
        if "source" in entry and entry["source"] not in sources:
            problems.append(f"medications.{cls}: unknown source {entry['source']!r}")
        for name in entry["names"]:
            if name in meds:
                problems.append(f"medications.{cls}: {name!r} is also in {meds[name]}")
            meds[str(name).lower()] = cls
    rules = []
    for i, r in enumerate(raw["rules"]):
        where = f"rules[{i}] ({r.get('id')})"
        if r.get("severity") not in SEVERITIES:
            problems.append(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
        if r.get("source") not in sources:
            problems.append(f"{where}: unknown source {r.get('source')!r}")
        if not str(r.get("quote", "")).strip():
            problems.append(f"{where}: needs the quoted words of its source")
        for option in r.get("options", []):
            if option not in OPTIONS:
                problems.append(f"{where}: unknown option {option!r}")
        for key, value in r.get("when", {}).items():
            if key not in _WHEN_KEYS:
                problems.append(f"{where}: unknown condition key {key!r}")
            elif key == "condition":
                problems += [f"{where}: unknown condition {c!r}" for c in value
                             if c not in conditions]
            elif key in ("medication_class", "stopped_class"):
                problems += [f"{where}: unknown medication class {c!r}" for c in value
                             if c not in raw["medications"]]
            elif key == "medication":
                problems += [f"{where}: unknown medication {m!r}" for m in value
                             if m not in meds]
        if ("stopped_class" in r.get("when", {})) != ("stopped_within_days" in r.get("when", {})):
            problems.append(f"{where}: stopped_class and stopped_within_days go together")
        if not problems:
            rules.append(SafetyRule(r["id"], tuple(r["options"]), r["severity"], r["when"],
                                    r["text"], sources[r["source"]], r["quote"]))
    ids = [r["id"] for r in raw["rules"]]
    problems += [f"rule id {x!r} appears twice" for x in {x for x in ids if ids.count(x) > 1}]
    if problems:
        raise ModelError(f"{RULES_FILE}: " + "; ".join(problems))
    return RuleBook(tuple(rules), conditions, meds, sources, raw["dosing"], raw["monitoring"])


@cache
def load_rules() -> RuleBook:
    """The bundled safety rules, checked (sources exist, severities and keys are known)."""
    text = resources.files("equipoise").joinpath("datasets", "data", RULES_FILE).read_text(
        encoding="utf-8")
    return _check_table(yaml.safe_load(text))


def _stopped_within(w: Mapping[str, Any], p: Profile, book: RuleBook,
                    on: dt.date | None) -> str | None:
    """Which drugs of the rule's class were stopped fewer than its days before ``on``.

    Without a date to count from, every such drug counts: a washout is never assumed to be over.
    """
    days = int(w["stopped_within_days"])
    hit = []
    for m in p.stopped_medications:
        if book.medications.get(m.name) not in w["stopped_class"]:
            continue
        if on is None:
            hit.append(f"{m.name} stopped {m.stopped.isoformat()} (no plan date to count from)")
        elif (on - m.stopped).days < days:
            hit.append(f"{m.name} stopped {m.stopped.isoformat()}, {(on - m.stopped).days} "
                       f"days before {on.isoformat()}")
    return "; ".join(hit) or None


def _fires(rule: SafetyRule, p: Profile, book: RuleBook, on: dt.date | None) -> str | None:
    """Why ``rule`` fires for ``p`` on day ``on`` (all its clauses hold), or None."""
    w = rule.when
    why: list[str] = []
    if "stopped_class" in w:
        recent = _stopped_within(w, p, book, on)
        if recent is None:
            return None
        why.append(recent)
    if "condition" in w:
        hit = [c for c in w["condition"] if c in p.conditions]
        if not hit:
            return None
        why.append("condition " + ", ".join(c.replace("_", " ") for c in hit))
    meds = list(p.medications)
    if "medication_class" in w:
        meds = [m for m in meds if book.medications.get(m.name) in w["medication_class"]]
        if not meds:
            return None
    if "medication" in w:
        meds = [m for m in meds if m.name in w["medication"]]
        if not meds:
            return None
    if "dose_above" in w:
        meds = [m for m in meds if m.dose_mg_per_day is not None
                and m.dose_mg_per_day > float(w["dose_above"])]
        if not meds:
            return None
    if {"medication_class", "medication"} & set(w):
        why.append("taking " + ", ".join(
            m.name + (f" {m.dose_mg_per_day:g} mg/day" if m.dose_mg_per_day is not None
                      else "") for m in meds))
    if "age_above" in w:
        if not p.age > float(w["age_above"]):
            return None
        why.append(f"age {p.age:g}")
    if "age_at_most" in w:
        if not p.age <= float(w["age_at_most"]):
            return None
        why.append(f"age {p.age:g}")
    if "systolic_above" in w or "diastolic_above" in w:
        if p.vitals is None:
            return None
        s_lim, d_lim = w.get("systolic_above"), w.get("diastolic_above")
        high = (s_lim is not None and p.vitals.systolic > s_lim) or (
            d_lim is not None and p.vitals.diastolic > d_lim)
        if not high:
            return None
        why.append(f"blood pressure {p.vitals.systolic:g}/{p.vitals.diastolic:g} mmHg")
    for flag in ("pregnant", "breastfeeding"):
        if flag in w:
            if bool(getattr(p, flag)) != bool(w[flag]):
                return None
            why.append(flag)
    return "; ".join(why)


def screen(profile: Profile, options: Sequence[str] = OPTIONS, *,
           on: dt.date | None = None) -> list[Finding]:
    """Every rule that fires for ``profile`` on any of ``options``, in table order.

    ``on`` is the day treatment would start, for washout rules; without it a washout counts as
    not yet over.
    """
    book = load_rules()
    out: list[Finding] = []
    for rule in book.rules:
        because = _fires(rule, profile, book, on)
        if because is None:
            continue
        out.extend(Finding(o, rule, because) for o in rule.options if o in options)
    return out


def status(findings: Sequence[Finding], option: str) -> str:
    """``blocked`` (an absolute rule), ``caution`` (relative or caution) or ``eligible``."""
    severities = {f.rule.severity for f in findings if f.option == option}
    if "absolute" in severities:
        return "blocked"
    return "caution" if severities else "eligible"


@dataclass(frozen=True)
class VitalLimits:
    """In-infusion limits that hold or stop an infusion, set by the clinic's own protocol.

    No label or guideline read gave numeric in-infusion limits (the safety rules table says so),
    so there is no default: every limit is None until the clinic sets it, and a reading is then
    judged against the clinic's numbers, which the result names as such.
    """

    hold_systolic_above: float | None = None
    hold_diastolic_above: float | None = None
    stop_systolic_above: float | None = None
    stop_diastolic_above: float | None = None
    stop_heart_rate_above: float | None = None
    stop_spo2_below: float | None = None
    basis: str = "the clinic's protocol (no published in-infusion limits were found)"

    def __post_init__(self) -> None:
        for name in ("hold_systolic_above", "hold_diastolic_above", "stop_systolic_above",
                     "stop_diastolic_above", "stop_heart_rate_above", "stop_spo2_below"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not value > 0):
                raise ModelError(f"{name} must be a positive number, got {value!r}")
        for kind in ("systolic", "diastolic"):
            hold = getattr(self, f"hold_{kind}_above")
            stop = getattr(self, f"stop_{kind}_above")
            if hold is not None and stop is not None and stop < hold:
                raise ModelError(f"stop_{kind}_above ({stop:g}) is below hold_{kind}_above "
                                 f"({hold:g})")

    @property
    def configured(self) -> bool:
        return any(getattr(self, k) is not None for k in (
            "hold_systolic_above", "hold_diastolic_above", "stop_systolic_above",
            "stop_diastolic_above", "stop_heart_rate_above", "stop_spo2_below"))


@dataclass(frozen=True)
class VitalsAction:
    """What a reading during an infusion calls for under the clinic's limits."""

    action: str                     # "continue" | "hold" | "stop" | "no limits set"
    reasons: tuple[str, ...]
    basis: str


def infusion_action(limits: VitalLimits, *, systolic: float, diastolic: float,
                    heart_rate: float | None = None, spo2: float | None = None) -> VitalsAction:
    """Judge one in-infusion reading: stop beats hold beats continue."""
    if not limits.configured:
        return VitalsAction("no limits set", ("the clinic has set no in-infusion limits",),
                            limits.basis)
    stop: list[str] = []
    hold: list[str] = []
    checks = ((systolic, limits.stop_systolic_above, "systolic", stop),
              (diastolic, limits.stop_diastolic_above, "diastolic", stop),
              (heart_rate, limits.stop_heart_rate_above, "heart rate", stop),
              (systolic, limits.hold_systolic_above, "systolic", hold),
              (diastolic, limits.hold_diastolic_above, "diastolic", hold))
    for value, limit, what, bucket in checks:
        if value is not None and limit is not None and value > limit:
            bucket.append(f"{what} {value:g} above {limit:g}")
    if spo2 is not None and limits.stop_spo2_below is not None and spo2 < limits.stop_spo2_below:
        stop.append(f"SpO2 {spo2:g} below {limits.stop_spo2_below:g}")
    if stop:
        return VitalsAction("stop", tuple(stop), limits.basis)
    if hold:
        return VitalsAction("hold", tuple(hold), limits.basis)
    return VitalsAction("continue", (), limits.basis)
