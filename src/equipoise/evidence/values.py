"""Reported values as printed in a source: numbers, ranges, bounds, lists, dates and statuses.

Evidence rows keep a value exactly as the source printed it. This module turns the printed text and
its ``measure`` into a typed quantity without converting or computing anything: a range stays a
range, ``<5%`` stays an upper bound, a percentage stays in percent units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Literal


class Unit(StrEnum):
    """What a number counts or measures; the scale it is printed on."""

    PERCENT = "percent"
    PROBABILITY = "probability"
    FRACTION = "fraction"
    COUNT = "count"
    ODDS_RATIO = "OR"
    RISK_RATIO = "RR"
    HAZARD_RATIO = "HR"
    SMD = "SMD"
    MEAN_DIFFERENCE = "MD"
    HEDGES_G = "Hedges g"
    COHENS_D = "Cohen's d"
    NNT = "NNT"
    P_VALUE = "p"
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"
    STUDY_WEEK = "study week"
    SCORE_POINTS = "points"
    MMHG = "mmHg"
    MG_PER_KG = "mg/kg"
    MG_PER_DAY = "mg/day"
    MG = "mg"
    SESSIONS = "sessions"
    INFUSIONS = "infusions"
    DOSES_PER_WEEK = "doses/week"
    DATE = "date"
    YEAR = "year"
    STATUS = "status"


RATIO_UNITS = frozenset({Unit.ODDS_RATIO, Unit.RISK_RATIO, Unit.HAZARD_RATIO})
EFFECT_SIZE_UNITS = frozenset({Unit.SMD, Unit.MEAN_DIFFERENCE, Unit.HEDGES_G, Unit.COHENS_D})
TIME_UNITS_IN_HOURS = {Unit.HOURS: 1.0, Unit.DAYS: 24.0, Unit.WEEKS: 168.0, Unit.STUDY_WEEK: 168.0}
NON_NUMERIC_UNITS = frozenset({Unit.DATE, Unit.STATUS})

# Ordered: the first pattern that matches the start of the measure text wins.
_UNIT_RULES: tuple[tuple[str, Unit], ...] = (
    (r"p-value", Unit.P_VALUE),
    (r"(approximate )?percent", Unit.PERCENT),
    (r"probability", Unit.PROBABILITY),
    (r"fraction", Unit.FRACTION),
    (r"count", Unit.COUNT),
    (r"or\b", Unit.ODDS_RATIO),
    (r"rr\b", Unit.RISK_RATIO),
    (r"hr\b", Unit.HAZARD_RATIO),
    (r"smd\b", Unit.SMD),
    (r"md\b", Unit.MEAN_DIFFERENCE),
    (r"hedges'? g", Unit.HEDGES_G),
    (r"cohen'?s d", Unit.COHENS_D),
    (r"nnt\b", Unit.NNT),
    (r"hours?\b", Unit.HOURS),
    (r"days?\b", Unit.DAYS),
    (r"weeks?\b(?! \()|weeks \(", Unit.WEEKS),
    (r"week\b", Unit.STUDY_WEEK),
    (r"mean (score|points|change)", Unit.SCORE_POINTS),
    (r"approximate mmhg|mmhg", Unit.MMHG),
    (r"mg/kg", Unit.MG_PER_KG),
    (r"mg/day", Unit.MG_PER_DAY),
    (r"mg\b", Unit.MG),
    (r"(weekly )?sessions", Unit.SESSIONS),
    (r"infusions", Unit.INFUSIONS),
    (r"doses per week", Unit.DOSES_PER_WEEK),
    (r"date|month\b", Unit.DATE),
    (r"year\b", Unit.YEAR),
    (r"status\b", Unit.STATUS),
)

Side = Literal["upper", "lower"]


@dataclass(frozen=True, slots=True)
class Measure:
    """The ``measure`` column read as a unit plus how the number relates to the truth.

    ``bound`` is ``"upper"`` for "within 1 hour", "up to 7 days" or "<5%"; ``"lower"`` for
    "lower bound" or "at least". ``strict`` marks a printed ``<`` rather than "up to".
    """

    text: str
    unit: Unit
    bound: Side | None = None
    strict: bool = False
    approximate: bool = False

    @property
    def is_numeric(self) -> bool:
        return self.unit not in NON_NUMERIC_UNITS


def parse_measure(text: str) -> Measure:
    """Read a ``measure`` cell; raise ``ValueError`` naming the text when no unit is recognised."""
    low = text.strip().lower()
    unit = next((u for pattern, u in _UNIT_RULES if re.match(pattern, low)), None)
    if unit is None:
        raise ValueError(f"unrecognised measure {text!r}; start it with a unit such as percent, "
                         "probability, count, OR, RR, HR, SMD, MD, Hedges g, hours, days or weeks")
    strict = "'<" in low or "<" in low.split("(", 1)[-1][:3]
    markers = ("upper bound", "'within", "'up to'", "up to)", "(up to")
    upper = any(k in low for k in markers) or strict
    lower = any(k in low for k in ("lower bound", "at least"))
    bound: Side | None = "upper" if upper else "lower" if lower else None
    approximate = "approximate" in low or "'~" in low
    return Measure(text=text, unit=unit, bound=bound, strict=strict, approximate=approximate)


_NUM = r"[-−]?\d+(?:\.\d+)?"
_NUMBER_RE = re.compile(rf"^{_NUM}$")
_RANGE_RE = re.compile(rf"^({_NUM})\s*-\s*(\d+(?:\.\d+)?)$")
_FRACTION_RANGE_RE = re.compile(r"^(\d+)/(\d+)\s*-\s*(\d+)/(\d+)$")
_LIST_RE = re.compile(rf"^{_NUM}(?:\s*(?:,|\bor\b)\s*{_NUM})+$")
_LABEL_ITEM = rf"[a-z]+ {_NUM}(?:\s*-\s*{_NUM})?"
_LABELLED_RE = re.compile(rf"^{_LABEL_ITEM}(?:;\s*{_LABEL_ITEM})*$")
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def _num(text: str) -> float:
    return float(text.replace("−", "-"))


@dataclass(frozen=True, slots=True)
class Number:
    """One printed number."""

    value: float
    text: str

    def numbers(self) -> tuple[float, ...]:
        return (self.value,)


@dataclass(frozen=True, slots=True)
class Interval:
    """A printed range ``low-high`` (across scales, visits or studies); never a CI."""

    low: float
    high: float
    text: str

    def numbers(self) -> tuple[float, ...]:
        return (self.low, self.high)


@dataclass(frozen=True, slots=True)
class Listing:
    """Several printed numbers: a dose sequence ``0.25, 0.5, 1`` or alternatives ``20 or 40``."""

    values: tuple[float, ...]
    text: str

    def numbers(self) -> tuple[float, ...]:
        return self.values


@dataclass(frozen=True, slots=True)
class Labelled:
    """Named ranges such as ``start 5-10; usual 10-20``."""

    items: tuple[tuple[str, Interval], ...]
    text: str

    def numbers(self) -> tuple[float, ...]:
        return tuple(x for _, r in self.items for x in r.numbers())


@dataclass(frozen=True, slots=True)
class DateValue:
    """A calendar date printed as ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``."""

    year: int
    month: int | None
    day: int | None
    text: str

    def numbers(self) -> tuple[float, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class Status:
    """A yes/no fact such as "indication includes GAD: yes"."""

    flag: bool
    text: str

    def numbers(self) -> tuple[float, ...]:
        return ()


Value = Number | Interval | Listing | Labelled | DateValue | Status


def _interval(text: str) -> Interval | None:
    m = _RANGE_RE.match(text)
    if m:
        return Interval(_num(m.group(1)), _num(m.group(2)), text)
    m = _FRACTION_RANGE_RE.match(text)
    if m:
        a, b, c, d = (int(g) for g in m.groups())
        if b == 0 or d == 0:
            return None
        return Interval(float(Fraction(a, b)), float(Fraction(c, d)), text)
    return None


def parse_value(text: str, measure: Measure) -> Value:
    """Type a printed value for its measure; raise ``ValueError`` saying what was expected."""
    raw = text.strip()
    if not raw:
        raise ValueError("value is empty")
    if measure.unit is Unit.STATUS:
        if raw.lower() in ("yes", "no"):
            return Status(raw.lower() == "yes", raw)
        raise ValueError(f"expected yes or no for a status, got {raw!r}")
    if measure.unit is Unit.DATE:
        m = _DATE_RE.match(raw)
        if not m:
            raise ValueError(f"expected a date YYYY, YYYY-MM or YYYY-MM-DD, got {raw!r}")
        year, month, day = (int(g) if g else None for g in m.groups())
        assert year is not None
        if (month is not None and not 1 <= month <= 12) or (day is not None and not 1 <= day <= 31):
            raise ValueError(f"not a calendar date: {raw!r}")
        return DateValue(year, month, day, raw)
    if _NUMBER_RE.match(raw):
        return Number(_num(raw), raw)
    interval = _interval(raw)
    if interval is not None:
        if interval.low > interval.high:
            raise ValueError(f"range {raw!r} runs backwards (low > high)")
        return interval
    if _LIST_RE.match(raw):
        parts = re.split(r"\s*(?:,|\bor\b)\s*", raw)
        return Listing(tuple(_num(p) for p in parts), raw)
    if _LABELLED_RE.match(raw):
        items = []
        for part in raw.split(";"):
            label, _, rest = part.strip().partition(" ")
            rng = _interval(rest.strip())
            if rng is None:
                rng = Interval(_num(rest), _num(rest), rest)
            items.append((label, rng))
        return Labelled(tuple(items), raw)
    raise ValueError(f"{raw!r} is not a number, a range (a-b), a list (a, b) or a bound "
                     f"for a {measure.unit.value} measure")


def format_number(x: float) -> str:
    """Shortest faithful rendering of a number (no trailing zeros, no float noise)."""
    text = f"{x:.6g}"
    return text if "e" not in text else f"{x:f}".rstrip("0").rstrip(".")
