"""Observed outcomes of a group of patients, with intervals: the arithmetic behind the clinic's
outcome dashboards.

``summarise`` turns one patient's treatments and GAD-7 series into a ``PatientOutcome`` (no
identifiers, no dates but the start quarter); ``group`` and ``by`` summarise patients by
modality, clinician or quarter: response at week 12, remission (with the clinic's cut-off),
median days to first response, durability (responders without relapse) and adverse events,
each share with its Wilson interval, beside the mean of the same patients' plan expectations.

References
----------
Wilson EB. Probable inference, the law of succession, and statistical inference. J Am Stat
Assoc 1927;22:209-212 (the score interval for a proportion).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from equipoise.care.measures import RelapseRule, assess_change, check_relapse
from equipoise.errors import MeasureError

Z95 = 1.959963984540054          # the standard normal's 97.5th percentile


@dataclass(frozen=True)
class Proportion:
    """``events`` of ``n``, with its Wilson score interval."""

    events: int
    n: int
    low: float
    high: float

    @property
    def share(self) -> float:
        return self.events / self.n


def wilson(events: int, n: int, z: float = Z95) -> Proportion:
    """The Wilson score interval for ``events`` of ``n`` (95% by default)."""
    if n <= 0 or not 0 <= events <= n:
        raise MeasureError(f"a proportion needs 0 <= events <= n and n > 0, got {events}/{n}")
    p = events / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # At 0 and n events the bounds are exactly 0 and 1; rounding would leave a speck.
    low = 0.0 if events == 0 else max(0.0, centre - half)
    high = 1.0 if events == n else min(1.0, centre + half)
    return Proportion(events, n, low, high)


# --- one patient's observed course, summarised ------------------------------------------------
#
# Design rules (equipoise's, not published standards; the dashboard says so):
# - the course starts on the first treatment day (infusion given, antidepressant started, CBT
#   session attended); the modality is every treatment begun before day 70, joined with "+";
# - the baseline is the latest GAD-7 in the 28 days up to and including the start;
# - "week 12" is the GAD-7 closest to day 84 within days 70-98 (the evidence's response rates
#   and the plan's expectation are read at week 12; ties go to the earlier measurement);
# - response is the instrument's cited rule (``care.measures.assess_change``), relapse the
#   configurable ``RelapseRule``, remission only with a cut-off the clinic gives (GAD-7 has no
#   sourced remission cut-off).

BASELINE_DAYS = 28
WEEK12_DAY, WEEK12_WINDOW = 84, (70, 98)
TREATMENTS = ("ketamine", "ssri", "cbt")          # ssri: an SSRI or SNRI course
# The planner option whose expected course matches a received combination.
PLAN_OPTION = {"ketamine": "ketamine_iv", "ssri": "ssri", "cbt": "cbt", "ssri+cbt": "ssri+cbt",
               "ketamine+ssri": "ketamine-bridge", "ketamine+cbt": "ketamine+cbt"}
DESIGN_NOTE = ("course start = first treatment day; modality = treatments begun before day "
               "70; baseline = latest GAD-7 in the 28 days up to the start; week 12 = the "
               "GAD-7 nearest day 84 within days 70-98; response = >= 50% reduction from "
               "baseline (cited GAD-7 rule); relapse = the clinic's relapse rule, judged for "
               "responders with enough later measures; equipoise's design, not a published "
               "standard")


def modality(received: Iterable[str]) -> str:
    """The received treatments in a fixed order, joined with "+" ("" for none)."""
    got = set(received)
    unknown = got - set(TREATMENTS)
    if unknown:
        raise MeasureError(f"unknown treatment(s) {sorted(unknown)}; known: {TREATMENTS}")
    return "+".join(t for t in TREATMENTS if t in got)


@dataclass(frozen=True)
class Expectation:
    """The plan's simulated share in response or remission at week 12, with its interval over
    parameter draws (None where the stored plan predates the interval)."""

    share: float
    low: float | None = None
    high: float | None = None


def _share(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def plan_expectation(expected: Any, key: str) -> Expectation | None:
    """The share a plan option's ``expected`` gives under ``key``, with its interval
    (``<key>_low``, ``<key>_high``) where both are there; None without the share. A value that
    is not a share between 0 and 1, or a share outside its interval, is a MeasureError."""
    if not isinstance(expected, Mapping):
        raise MeasureError("a plan option's expected values must be an object")
    names = (key, f"{key}_low", f"{key}_high")
    for name in names:
        if expected.get(name) is not None and not _share(expected[name]):
            raise MeasureError(f"{name} must be a share between 0 and 1, not "
                               f"{expected[name]!r}")
    share, low, high = (expected.get(name) for name in names)
    if share is None:
        return None
    if low is None or high is None:
        return Expectation(float(share))
    if not low <= share <= high:
        raise MeasureError(f"{key} {share} lies outside its interval {low}-{high}")
    return Expectation(float(share), float(low), float(high))


@dataclass(frozen=True)
class PatientOutcome:
    """One patient's observed outcome, without identifiers or dates (only the start quarter)."""

    modality: str
    clinician: str
    start_quarter: str | None
    baseline: float | None
    week12: float | None
    response_week12: bool | None         # None: not evaluable (no baseline or no week-12 score)
    days_to_response: int | None         # first response after the start
    relapsed: bool | None                # None unless responded and followed long enough
    follow_up_days: int | None
    adverse_events: int
    expected: Expectation | None


def quarter(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


Moment = dt.date | dt.datetime          # a date, or a local date and time


def moment_key(when: Moment, end_of_day: bool = False) -> tuple[dt.date, float]:
    """Sortable (day, seconds into it); a bare date is its day's start, or its end."""
    if isinstance(when, dt.datetime):
        return when.date(), when.hour * 3600 + when.minute * 60 + when.second + \
            when.microsecond / 1e6
    return when, math.inf if end_of_day else 0.0


def summarise(*, treatments: Iterable[tuple[Moment, str]], clinician: str,
              gad7: Sequence[tuple[Moment, float]], adverse_events: int = 0,
              expected: Expectation | None = None,
              relapse_rule: RelapseRule | None = None) -> PatientOutcome:
    """A patient's outcome from their treatments (when each began, which) and GAD-7 series.

    The course starts with the first treatment; the modality counts the treatments begun
    before day 70 (later ones come after the week-12 read-out). A start given as a date
    counts every measurement of that day as before it; a start with a time (an infusion)
    only those taken earlier. Measurements are ordered by time, so of two on one day the
    later is the later.
    """
    began = sorted(treatments, key=lambda t: moment_key(t[0]))
    if not began:
        return PatientOutcome("", clinician, None, None, None, None, None, None, None,
                              adverse_events, expected)
    start, _ = moment_key(began[0][0])
    cut = moment_key(began[0][0], end_of_day=True)
    kind = modality(name for when, name in began
                    if (moment_key(when)[0] - start).days < WEEK12_WINDOW[0])
    series = sorted(((moment_key(when), score) for when, score in gad7),
                    key=lambda ks: ks[0])
    before = [s for k, s in series if k <= cut and (start - k[0]).days <= BASELINE_DAYS]
    after = [((k[0] - start).days, s) for k, s in series if k > cut]
    baseline = before[-1] if before else None
    follow = after[-1][0] if after else None
    if baseline is None or baseline <= 0:
        return PatientOutcome(kind, clinician, quarter(start), baseline, None, None, None,
                              None, follow, adverse_events, expected)
    lo, hi = WEEK12_WINDOW
    window = [(abs(day - WEEK12_DAY), k, s) for k, (day, s) in enumerate(after)
              if lo <= day <= hi]
    week12 = min(window)[2] if window else None          # nearest day 84; ties: the earlier
    response = None if week12 is None else bool(assess_change("gad7", baseline,
                                                              week12).response)
    responded = next((k for k, (_, s) in enumerate(after)
                      if assess_change("gad7", baseline, s).response), None)
    first = None if responded is None else after[responded][0]
    relapsed = None
    rule = relapse_rule or RelapseRule()
    # Durability needs enough measures after the response for the rule to be able to fire.
    if responded is not None and len(after) - responded - 1 >= rule.consecutive:
        check = check_relapse("gad7", baseline, [s for _, s in after], rule)
        relapsed = check.relapse_at is not None
    return PatientOutcome(kind, clinician, quarter(start), baseline, week12, response, first,
                          relapsed, follow, adverse_events, expected)


# --- a group of patients ----------------------------------------------------------------------

@dataclass(frozen=True)
class GroupOutcome:
    """Observed outcomes of a group against the plans' expectation for the same patients."""

    label: str
    patients: int
    evaluable: int
    response: Proportion | None              # in response at week 12, of the evaluable
    remission: Proportion | None             # at or below the clinic's cut-off at week 12
    responders: int                          # responded at any time after the start
    median_days_to_response: float | None
    durable: Proportion | None               # responders without relapse (of those with
                                             # enough measures after the response)
    adverse: Proportion | None               # >= 1 adverse event (groups given ketamine)
    expected: Expectation | None             # mean over the evaluable with an expectation
    expected_n: int


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def group(label: str, rows: Sequence[PatientOutcome], *,
          remission_at_or_below: float | None = None) -> GroupOutcome:
    """Summarise ``rows`` (see ``GroupOutcome``); every share has its Wilson interval."""
    evaluable = [r for r in rows if r.response_week12 is not None]
    response = wilson(sum(bool(r.response_week12) for r in evaluable), len(evaluable)) \
        if evaluable else None
    remission = None
    if remission_at_or_below is not None and evaluable:
        remission = wilson(sum(r.week12 is not None and r.week12 <= remission_at_or_below
                               for r in evaluable), len(evaluable))
    days = sorted(r.days_to_response for r in rows if r.days_to_response is not None)
    median = None
    if days:
        mid = len(days) // 2
        median = float(days[mid]) if len(days) % 2 else (days[mid - 1] + days[mid]) / 2
    responders = [r for r in rows if r.relapsed is not None]
    durable = wilson(sum(not r.relapsed for r in responders), len(responders)) \
        if responders else None
    given = [r for r in rows if "ketamine" in r.modality.split("+")]
    adverse = wilson(sum(r.adverse_events > 0 for r in given), len(given)) if given else None
    exp = [r.expected for r in evaluable if r.expected is not None]
    expected = None
    if exp:
        lows = [e.low for e in exp if e.low is not None]
        highs = [e.high for e in exp if e.high is not None]
        whole = len(lows) == len(highs) == len(exp)
        expected = Expectation(_mean([e.share for e in exp]),
                               _mean(lows) if whole else None, _mean(highs) if whole else None)
    return GroupOutcome(label, len(rows), len(evaluable), response, remission, len(days),
                        median, durable, adverse, expected, len(exp))


def by(rows: Sequence[PatientOutcome], key: Callable[[PatientOutcome], str | None], *,
       remission_at_or_below: float | None = None) -> list[GroupOutcome]:
    """``group`` for each value of ``key`` (rows whose key is None or "" are left out), in
    order of the key."""
    groups: dict[str, list[PatientOutcome]] = {}
    for r in rows:
        k = key(r)
        if k:
            groups.setdefault(k, []).append(r)
    return [group(k, groups[k], remission_at_or_below=remission_at_or_below)
            for k in sorted(groups)]
