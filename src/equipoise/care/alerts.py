"""Alert rules for measurement-based care, each pinned to its definition.

Pure functions over one patient's measurements and readings; the clinic stores what they return
and lists it on a worklist. A rule is either cited (response, remission, the PHQ-9 item 9 flag:
``care.measures``) or equipoise's design (off-track, relapse trigger, overdue schedule), and its
``basis`` says which.

- **off-track**: a score above the upper edge of the expected band for the week it was taken
  (the band of the plan's simulated course, interpolated between whole weeks; baseline excluded).
- **response / remission reached**: the first measurement that meets the instrument's cited
  rule (``assess_change``); remission only where a cut-off is sourced or configured.
- **relapse after response**: ``check_relapse`` with a configurable ``RelapseRule``: a
  maintenance-infusion review.
- **suicidality**: PHQ-9 item 9 above 0, always urgent.
- **vitals**: an in-infusion reading the clinic's limits call hold or stop.
- **overdue**: no measurement within the schedule's interval plus a grace period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from equipoise.care.measures import RelapseRule, assess_change, check_relapse
from equipoise.errors import MeasureError

SEVERITIES = ("urgent", "action", "info")
DESIGN = "equipoise's design rule (not a published standard)"


@dataclass(frozen=True)
class Alert:
    kind: str              # off-track, response, remission, relapse, suicidality, vitals, overdue
    severity: str          # urgent, action, info
    at: dt.date
    text: str
    basis: str

    @property
    def key(self) -> str:
        """Stable across recomputation: what and when (the clinic adds the patient)."""
        return f"{self.kind}:{self.at.isoformat()}"


@dataclass(frozen=True)
class ExpectedBand:
    """The expected course: per whole week from the start, a low and a high score."""

    weeks: tuple[int, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]

    def __post_init__(self) -> None:
        if not (len(self.weeks) == len(self.low) == len(self.high)) or not self.weeks:
            raise MeasureError("an expected band needs weeks, low and high of one length")
        if list(self.weeks) != sorted(set(self.weeks)):
            raise MeasureError("an expected band's weeks must increase")
        if any(lo > hi for lo, hi in zip(self.low, self.high, strict=True)):
            raise MeasureError("an expected band's low edge lies above its high edge")

    def high_at(self, week: float) -> float | None:
        """The upper edge at ``week`` (linear between whole weeks); None outside the band."""
        w = self.weeks
        if week < w[0] or week > w[-1]:
            return None
        for k in range(len(w) - 1):
            if w[k] <= week <= w[k + 1]:
                f = (week - w[k]) / (w[k + 1] - w[k])
                return self.high[k] + f * (self.high[k + 1] - self.high[k])
        return self.high[-1]


def off_track(series: Sequence[tuple[dt.date, float]], band: ExpectedBand,
              start: dt.date) -> list[Alert]:
    """Every measurement after the start that lies above the band's upper edge."""
    out = []
    for day, score in series:
        week = (day - start).days / 7
        if week <= 0:
            continue
        high = band.high_at(week)
        if high is not None and score > high:
            out.append(Alert("off-track", "action", day,
                             f"score {score:g} above the expected band ({high:.1f}) at week "
                             f"{week:.1f}", f"{DESIGN}: upper edge of the plan's expected "
                                            "course"))
    return out


def milestones(name: str, baseline: float, series: Sequence[tuple[dt.date, float]], *,
               remission_at_or_below: float | None = None) -> list[Alert]:
    """The first response and the first remission (cited rules of ``care.measures``)."""
    out: list[Alert] = []
    seen: set[str] = set()
    for day, score in series:
        change = assess_change(name, baseline, score,
                               remission_at_or_below=remission_at_or_below)
        for kind, met in (("response", change.response), ("remission", change.remission)):
            if met and kind not in seen:
                seen.add(kind)
                out.append(Alert(kind, "info", day,
                                 f"{name} {kind} reached: {baseline:g} to {score:g}",
                                 f"care.measures.assess_change ({name} {kind} rule)"))
    return out


def relapse(name: str, baseline: float, series: Sequence[tuple[dt.date, float]],
            rule: RelapseRule | None = None) -> Alert | None:
    """A relapse after response, by ``rule``: a maintenance-infusion review."""
    rule = rule or RelapseRule()
    found = check_relapse(name, baseline, [s for _, s in series], rule)
    if found.relapse_at is None:
        return None
    day = series[found.relapse_at + rule.consecutive - 1][0]
    return Alert("relapse", "action", day,
                 f"{name} relapse after response (lowest {found.nadir:g}): review for "
                 "maintenance infusions", rule.basis)


def suicidality(day: dt.date, item9: int) -> Alert | None:
    """PHQ-9 item 9 above 0 is always urgent."""
    if item9 <= 0:
        return None
    return Alert("suicidality", "urgent", day,
                 f"PHQ-9 item 9 answered {item9}: assess suicide risk today",
                 "care.measures.item9_flag (any answer above 0)")


def vitals(day: dt.date, action: str, reasons: Sequence[str], basis: str) -> Alert | None:
    """A reading the clinic's in-infusion limits call hold or stop."""
    if action not in ("hold", "stop"):
        return None
    return Alert("vitals", "urgent" if action == "stop" else "action", day,
                 f"{action} the infusion: {'; '.join(reasons)}", basis)


@dataclass(frozen=True)
class Schedule:
    """How often a questionnaire is due: every ``early_days`` for ``early_weeks`` from the
    start, then every ``later_days``; ``grace_days`` late before it is overdue.

    The defaults are the planner's measurement schedule (weekly for 8 weeks, then every 4
    weeks), a design choice; the grace period is a design choice too."""

    early_days: int = 7
    early_weeks: int = 8
    later_days: int = 28
    grace_days: int = 3
    basis: str = f"{DESIGN}: the planner's measurement schedule with 3 days' grace"

    def interval(self, day: dt.date, start: dt.date) -> int:
        return self.early_days if (day - start).days < 7 * self.early_weeks else self.later_days


def overdue(last: dt.date | None, start: dt.date, today: dt.date,
            schedule: Schedule | None = None) -> Alert | None:
    """The questionnaire is overdue when today is past the next due day plus the grace."""
    schedule = schedule or Schedule()
    due = start if last is None else last + dt.timedelta(days=schedule.interval(last, start))
    if today <= due + dt.timedelta(days=schedule.grace_days):
        return None
    # dated by the due day, so the alert stays one alert for as long as it is overdue
    return Alert("overdue", "action", due,
                 f"questionnaire overdue since {due.isoformat()}", schedule.basis)
