"""Scoring questionnaires and reading change: totals, bands, response, remission, relapse.

Answers are item scores or LOINC answer codes, given in item order or keyed by item number,
LOINC item code or linkId. A missing, unknown or out-of-range answer is an error that names
the item: it is never scored as zero. PHQ-9 item 9 above 0 always raises an urgent flag.

References
----------
Jacobson NS, Truax P. Clinical significance: a statistical approach to defining meaningful
change in psychotherapy research. J Consult Clin Psychol 1991;59:12-19 (the reliable change
index).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from equipoise.care.instruments import Band, Instrument, instrument
from equipoise.errors import MeasureError

Answer = int | float | str
Answers = Sequence[Answer] | Mapping[str | int, Answer]


@dataclass(frozen=True)
class Flag:
    """A finding that needs action: its id, severity, text and source."""

    id: str
    severity: str                      # "urgent"
    text: str
    source: str


@dataclass(frozen=True)
class Score:
    """One completed questionnaire: its item scores, total, band and flags."""

    instrument: str
    items: tuple[int, ...]
    total: int
    band: Band
    flags: tuple[Flag, ...] = ()


def _item_index(inst: Instrument, key: str | int) -> int:
    text = str(key).strip()
    for i, item in enumerate(inst.items):
        if text in (item.key, item.loinc, f"/{item.loinc}" if item.loinc else None):
            return i
    raise MeasureError(f"{inst.id}: unknown item {key!r}; items are "
                       f"{', '.join(i.key for i in inst.items)}")


def _value(inst: Instrument, i: int, answer: Answer) -> int:
    item = inst.items[i]
    where = f"{inst.id} item {item.key}"
    if isinstance(answer, bool):
        raise MeasureError(f"{where}: {answer!r} is not an answer")
    if isinstance(answer, str):
        code = answer.strip()
        extra = inst.item_codes.get(item.key, {})
        if code in extra:
            return extra[code]
        if code in inst.answer_codes:
            return inst.answer_codes[code]
        if code.lstrip("-").isdigit():
            answer = int(code)
        else:
            raise MeasureError(f"{where}: unknown answer code {code!r}")
    if isinstance(answer, numbers.Integral):          # numpy integers too
        answer = int(answer)
    if isinstance(answer, float | numbers.Real) and float(answer).is_integer():
        answer = int(answer)
    lo, hi = inst.item_range
    if not isinstance(answer, int) or not lo <= answer <= hi:
        raise MeasureError(f"{where}: answer {answer!r} is outside {lo}-{hi}")
    return answer


def item_scores(name: str, answers: Answers) -> tuple[int, ...]:
    """Every item's score, in item order; missing or invalid answers are errors."""
    inst = instrument(name)
    if isinstance(answers, Mapping):
        slots: list[int | None] = [None] * inst.n_items
        for key, answer in answers.items():
            i = _item_index(inst, key)
            if slots[i] is not None:
                raise MeasureError(f"{inst.id} item {inst.items[i].key}: answered twice")
            slots[i] = _value(inst, i, answer)
        missing = [inst.items[i].key for i, v in enumerate(slots) if v is None]
        if missing:
            raise MeasureError(f"{inst.id}: item(s) {', '.join(missing)} not answered; a "
                               "questionnaire with missing answers is not scored")
        return tuple(v for v in slots if v is not None)
    if isinstance(answers, str | bytes):
        raise MeasureError(f"{inst.id}: answers must be a list or a mapping, not text")
    values = list(answers)
    if len(values) != inst.n_items:
        raise MeasureError(f"{inst.id}: {len(values)} answers given, {inst.n_items} items "
                           "expected; a questionnaire with missing answers is not scored")
    return tuple(_value(inst, i, a) for i, a in enumerate(values))


def score(name: str, answers: Answers) -> Score:
    """Score a completed questionnaire (see the module docstring for the answer forms)."""
    inst = instrument(name)
    items = item_scores(name, answers)
    total = sum(items)
    flags = (item9_flag(items[8]),) if inst.id == "phq9" and items[8] > 0 else ()
    return Score(inst.id, items, total, inst.band(total), flags)


def item9_flag(answer: int) -> Flag:
    """The urgent flag for a PHQ-9 item 9 answer above 0 (any such answer raises it)."""
    if not 1 <= answer <= 3:
        raise MeasureError(f"phq9 item 9: an answer of {answer!r} raises no flag (1-3 do)")
    return Flag("phq9-item9", "urgent",
                f"PHQ-9 item 9 (thoughts of self-harm) answered {answer}: same-day clinician "
                "review; item 9 misses many at-risk patients, so pair it with a dedicated "
                "suicide-risk screen",
                instrument("phq9").cite(("simon2013", "va2016", "inpatient2021")))


@dataclass(frozen=True)
class Change:
    """Change from a baseline total to a current one, judged by the instrument's rules.

    A field is None where the instrument has no sourced rule for it (e.g. GAD-7 remission
    unless a cut-off is passed explicitly).
    """

    instrument: str
    baseline: float
    current: float
    reduction: float                   # baseline - current (positive = better)
    fraction: float | None             # reduction / baseline; None when the baseline is 0
    response: bool | None
    partial_response: bool | None
    remission: bool | None
    meaningful_improvement: bool | None    # reduction >= MCID
    meaningful_worsening: bool | None      # rise >= MCID
    reliable_improvement: bool | None      # IAPT's points
    reliable_change: bool | None           # |change| >= a published reliable change index


def _total(inst: Instrument, value: float | Score, what: str) -> float:
    if isinstance(value, Score) and value.instrument != inst.id:
        raise MeasureError(f"{inst.id}: {what} is a {value.instrument} score")
    total = value.total if isinstance(value, Score) else value
    if isinstance(total, bool) or not isinstance(total, int | float) or not math.isfinite(total):
        raise MeasureError(f"{inst.id}: {what} must be a number, got {total!r}")
    lo, hi = inst.total_range
    if not lo <= total <= hi:
        raise MeasureError(f"{inst.id}: {what} {total:g} is outside {lo}-{hi}")
    return float(total)


def assess_change(name: str, baseline: float | Score, current: float | Score, *,
                  remission_at_or_below: float | None = None) -> Change:
    """Judge ``current`` against ``baseline`` with the instrument's cited rules.

    ``remission_at_or_below`` replaces the instrument's remission cut-off (for GAD-7, which has
    no sourced one, it is the only way to assess remission).
    """
    inst = instrument(name)
    b, c = _total(inst, baseline, "baseline"), _total(inst, current, "current score")
    reduction = b - c
    fraction = reduction / b if b > 0 else None
    response = partial = None
    if inst.response is not None and fraction is not None:
        response = (fraction > inst.response.value if inst.response_strict
                    else fraction >= inst.response.value)
        if inst.partial_response is not None:
            partial = inst.partial_response.value <= fraction < inst.response.value
    cut = remission_at_or_below if remission_at_or_below is not None else (
        inst.remission.value if inst.remission is not None else None)
    mcid = inst.mcid.value if inst.mcid is not None else None
    reliable = inst.reliable_improvement.value if inst.reliable_improvement else None
    rci = inst.reliable_change.value if inst.reliable_change else None
    return Change(inst.id, b, c, reduction, fraction, response, partial,
                  None if cut is None else c <= cut,
                  None if mcid is None else reduction >= mcid,
                  None if mcid is None else -reduction >= mcid,
                  None if reliable is None else reduction >= reliable,
                  None if rci is None else abs(reduction) >= rci)


def reliable_change_index(baseline: float, current: float, *, sd: float,
                          reliability: float) -> float:
    """Jacobson and Truax's RCI: (current - baseline) / (sqrt(2) · sd · sqrt(1 - r)).

    |RCI| > 1.96 is change beyond measurement error at the 5% level; ``sd`` and ``reliability``
    are the instrument's normative values, which the caller supplies with their source.
    """
    if not (sd > 0 and 0 <= reliability < 1):
        raise MeasureError("reliable change needs sd > 0 and 0 <= reliability < 1")
    return (current - baseline) / (math.sqrt(2) * sd * math.sqrt(1 - reliability))


@dataclass(frozen=True)
class RelapseRule:
    """Relapse after response, configurable: after the first response, a rise of at least
    ``rise`` points above the lowest score since (default: the instrument's MCID) or a score of
    at least ``threshold``, on ``consecutive`` measures in a row.

    The defaults follow the clinic standards' design rule (rise >= MCID from the post-response
    nadir or back to >= 10, on 2 consecutive measures); they are a design, not a published
    standard, which the basis says.
    """

    rise: float | None = None
    threshold: float | None = 10.0
    consecutive: int = 2
    basis: str = ("design rule of the clinic standards (section 1.5): a maintenance-infusion "
                  "review trigger; median time to relapse after a 6-infusion ketamine series "
                  "was 18 days (Murrough 2013)")


@dataclass(frozen=True)
class RelapseCheck:
    """Where a series responded and relapsed (indices into it), and its post-response nadir."""

    response_at: int | None
    relapse_at: int | None
    nadir: float | None


def check_relapse(name: str, baseline: float, series: Sequence[float],
                  rule: RelapseRule | None = None) -> RelapseCheck:
    """Apply ``rule`` to scores measured after ``baseline``, in time order."""
    inst = instrument(name)
    rule = rule or RelapseRule()
    if rule.consecutive < 1:
        raise MeasureError("a relapse rule needs at least 1 consecutive measure")
    rise = rule.rise if rule.rise is not None else (inst.mcid.value if inst.mcid else None)
    if rise is None and rule.threshold is None:
        raise MeasureError(f"{inst.id}: no MCID is sourced; give the relapse rule a rise or a "
                           "threshold")
    b = _total(inst, baseline, "baseline")
    scores = [_total(inst, x, f"score {i + 1}") for i, x in enumerate(series)]
    responded = next((i for i, x in enumerate(scores)
                      if assess_change(name, b, x).response), None)
    if responded is None:
        return RelapseCheck(None, None, None)
    nadir = scores[responded]
    run = 0
    for i in range(responded + 1, len(scores)):
        x = scores[i]
        up = (rise is not None and x - nadir >= rise) or (
            rule.threshold is not None and x >= rule.threshold)
        run = run + 1 if up else 0
        if run >= rule.consecutive:
            return RelapseCheck(responded, i - rule.consecutive + 1, nadir)
        if not up:
            nadir = min(nadir, x)
    return RelapseCheck(responded, None, nadir)
