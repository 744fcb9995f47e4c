"""One patient's profile, read from a YAML or JSON file; every problem names its field.

Fields: ``age``, ``sex``, ``weight_kg``, ``pregnant``, ``breastfeeding``, ``diagnoses``,
``scores`` (``gad7``, ``phq9``, ``ham_a``, ``phq9_item9``), ``prior_treatments`` (``treatment``,
``weeks``, ``response``), ``medications`` (``name``, ``dose_mg_per_day``),
``stopped_medications`` (``name``, ``stopped``: the date it was last taken, for washout rules such
as no SSRI within 14 days of stopping an MAOI), ``conditions`` (free
text, matched to the safety rules' terms; text that matches none is kept and reported),
``vitals`` (``systolic``, ``diastolic``, ``heart_rate``), ``preferences`` and ``start_date``.

The ranges checked here are data-entry limits that catch impossible values (a systolic pressure
of 400, a weight of 0); they are not clinical thresholds, which live in the cited safety rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from equipoise.care.safety import RuleBook, load_rules
from equipoise.errors import FileProblem, ModelFileError
from equipoise.simulation.files import Checker, Document, parse_document, read_document

DIAGNOSES = ("GAD", "SAD", "PANIC", "PTSD", "OCD", "MDD", "TRD")
RESPONSES = ("response", "partial", "none", "unknown")
PREFERENCES = ("no_medication", "no_infusions", "infrequent_visits", "prefers_therapy")
PRIOR_TREATMENTS = ("ssri", "snri", "cbt", "ketamine_iv", "esketamine", "other")
# Data-entry limits (impossible values), not clinical thresholds.
LIMITS = {"age": (0, 120), "weight_kg": (1, 400), "systolic": (50, 300),
          "diastolic": (20, 200), "heart_rate": (20, 250), "weeks": (0, 520)}
ADULT_AGE = 18
SCORES = {"gad7": (0, 21), "phq9": (0, 27), "ham_a": (0, 56), "phq9_item9": (0, 3)}
_KEYS = ("age", "sex", "weight_kg", "pregnant", "breastfeeding", "diagnoses", "scores",
         "prior_treatments", "medications", "conditions", "vitals", "preferences", "name",
         "start_date", "stopped_medications")


@dataclass(frozen=True)
class Medication:
    name: str
    dose_mg_per_day: float | None


@dataclass(frozen=True)
class StoppedMedication:
    name: str
    stopped: dt.date        # the day it was stopped (last taken)


@dataclass(frozen=True)
class PriorTreatment:
    treatment: str
    weeks: float | None
    response: str


@dataclass(frozen=True)
class Vitals:
    systolic: float
    diastolic: float
    heart_rate: float | None


@dataclass(frozen=True)
class Profile:
    """A validated patient profile."""

    age: float
    sex: str
    weight_kg: float
    pregnant: bool
    breastfeeding: bool
    diagnoses: tuple[str, ...]
    scores: dict[str, float]
    prior_treatments: tuple[PriorTreatment, ...]
    medications: tuple[Medication, ...]
    conditions: frozenset[str]                  # matched condition ids
    condition_text: tuple[str, ...]             # as written
    unrecognised_conditions: tuple[str, ...]    # written text that matched no known term
    vitals: Vitals | None
    preferences: tuple[str, ...]
    name: str = ""
    start_date: dt.date | None = None
    stopped_medications: tuple[StoppedMedication, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def _num(c: Checker, path: tuple[str | int, ...], key: str, *, required: bool = True,
         integer: bool = False) -> float | None:
    lo, hi = LIMITS.get(key, SCORES.get(key, (None, None)))
    if not c.present(path):
        if required:
            c.fail(path, "is required")
        return None
    what = f"a number from {lo} to {hi}" if lo is not None else "a number"
    value = c.number(path, low=lo, high=hi, what=what)
    if value is not None and integer and not float(value).is_integer():
        c.fail(path, f"is {value:g}; it must be a whole number")
        return None
    return value


def _bool(c: Checker, path: tuple[str | int, ...], default: bool = False) -> bool:
    value = c.doc.get(path)
    if value is None:
        return default
    if not isinstance(value, bool):
        c.fail(path, f"must be true or false, got {value!r}")
        return default
    return value


def _choices(c: Checker, path: tuple[str | int, ...], options: tuple[str, ...],
             upper: bool = False) -> tuple[str, ...]:
    out = []
    for i, v in enumerate(c.sequence(path, required=False)):
        text = str(v).strip()
        text = text.upper() if upper else text.lower().replace(" ", "_")
        if text not in options:
            c.fail((*path, i), f"unknown value {v!r}; expected one of: {', '.join(options)}")
        else:
            out.append(text)
    return tuple(out)


def _date(c: Checker, path: tuple[str | int, ...]) -> dt.date | None:
    value = c.doc.get(path)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        c.fail(path, f"is {value!r}, not a date like 2026-12-01")
        return None


def _drug(c: Checker, path: tuple[str | int, ...], book: RuleBook) -> str | None:
    """The catalogue name of the drug at ``path``, or None (reported) if it is unknown."""
    name = c.text(path)
    if name is None:
        return None
    key = name.strip().lower()
    if key not in book.medications:
        c.fail(path, f"unknown drug {name!r}: equipoise cannot check its interactions; give "
                     "its generic name, or ask for it to be added to the safety rules")
        return None
    return key


def read_profile(source: str | Path | Document) -> Profile:
    """Read and validate a patient file (YAML or JSON); all problems are reported together."""
    doc = source if isinstance(source, Document) else read_document(source)
    c = Checker(doc)
    c.unknown_keys((), _KEYS)
    age = _num(c, ("age",), "age")
    if age is not None and age < ADULT_AGE:
        c.fail(("age",), f"is {age:g}; equipoise's rules, doses and evidence are for adults "
                         f"({ADULT_AGE} or older), so it does not plan for younger patients")
        age = None
    weight = _num(c, ("weight_kg",), "weight_kg")
    sex = c.choice(("sex",), ["female", "male", "other", "unknown"], default="unknown")
    pregnant = _bool(c, ("pregnant",))
    breastfeeding = _bool(c, ("breastfeeding",))
    diagnoses = _choices(c, ("diagnoses",), DIAGNOSES, upper=True)
    scores: dict[str, float] = {}
    c.mapping(("scores",), required=False)
    c.unknown_keys(("scores",), tuple(SCORES))
    for key in SCORES:
        v = _num(c, ("scores", key), key, required=False, integer=True)
        if v is not None:
            scores[key] = v
    priors = []
    for i, _ in enumerate(c.sequence(("prior_treatments",), required=False)):
        path: tuple[str | int, ...] = ("prior_treatments", i)
        c.unknown_keys(path, ("treatment", "weeks", "response"))
        t = c.choice((*path, "treatment"), PRIOR_TREATMENTS)
        weeks = _num(c, (*path, "weeks"), "weeks", required=False)
        resp = c.choice((*path, "response"), RESPONSES, default="unknown")
        if t is not None and resp is not None:
            priors.append(PriorTreatment(t, weeks, resp))
    book = load_rules()
    meds = []
    for i, _ in enumerate(c.sequence(("medications",), required=False)):
        path = ("medications", i)
        c.unknown_keys(path, ("name", "dose_mg_per_day"))
        drug = _drug(c, (*path, "name"), book)
        dose = c.number((*path, "dose_mg_per_day"), low=0, what="a dose in mg a day") \
            if c.present((*path, "dose_mg_per_day")) else None
        if drug is not None:
            meds.append(Medication(drug, dose))
    stopped = []
    for i, _ in enumerate(c.sequence(("stopped_medications",), required=False)):
        path = ("stopped_medications", i)
        c.unknown_keys(path, ("name", "stopped"))
        drug = _drug(c, (*path, "name"), book)
        if not c.present((*path, "stopped")):
            c.fail((*path, "stopped"), "is required: the date the drug was stopped")
        when = _date(c, (*path, "stopped"))
        if drug is not None and when is not None:
            stopped.append(StoppedMedication(drug, when))
    texts: list[str] = []
    matched: set[str] = set()
    unknown: list[str] = []
    for i, v in enumerate(c.sequence(("conditions",), required=False)):
        if not isinstance(v, str) or not v.strip():
            c.fail(("conditions", i), "must be text")
            continue
        texts.append(v)
        ids = book.match_condition(v)
        matched.update(ids)
        # Text that matches nothing, is negated, or matches only terms no rule uses is
        # reported for review: it was not screened.
        if not ids or not set(ids) & book.ruled_conditions:
            unknown.append(v)
    vitals = None
    if c.present(("vitals",)):
        c.unknown_keys(("vitals",), ("systolic", "diastolic", "heart_rate"))
        s = _num(c, ("vitals", "systolic"), "systolic")
        d = _num(c, ("vitals", "diastolic"), "diastolic")
        hr = _num(c, ("vitals", "heart_rate"), "heart_rate", required=False)
        if s is not None and d is not None:
            if d >= s:
                c.fail(("vitals", "diastolic"), f"is {d:g}, not below the systolic {s:g}")
            vitals = Vitals(s, d, hr)
    preferences = _choices(c, ("preferences",), PREFERENCES)
    if pregnant and sex == "male":
        c.fail(("pregnant",), "is true for a patient recorded as male; check the file")
    start = _date(c, ("start_date",))
    c.done()
    if age is None or weight is None:        # reported above
        raise ModelFileError([FileProblem(doc.name, 1, "age", "is required")])
    return Profile(age, sex or "unknown", weight, pregnant, breastfeeding, diagnoses, scores,
                   tuple(priors), tuple(meds), frozenset(matched), tuple(texts),
                   tuple(unknown), vitals, preferences, str(c.doc.get(("name",)) or ""),
                   start, tuple(stopped))


def parse_profile(text: str, name: str = "patient.yaml") -> Profile:
    """`read_profile` from text (YAML; JSON is YAML too)."""
    return read_profile(parse_document(text, name))
