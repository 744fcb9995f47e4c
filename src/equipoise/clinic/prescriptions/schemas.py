"""Medication course bodies: an SSRI or SNRI, its titration steps and its stop."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, field_validator

from equipoise.care.safety import load_rules
from equipoise.clinic.bodies import Body, Day

CLASSES = ("ssri", "snri")
# Data-entry limit (an impossible dose), not a clinical threshold: those are the cited rules.
MAX_MG = 1000.0


class _Acknowledging(Body):
    dose_mg_per_day: float = Field(gt=0, le=MAX_MG)
    acknowledge_rules: list[str] = Field(
        default_factory=list, max_length=20,
        description="ids of the dose rules that fire and that the prescriber has read; a dose "
                    "that fires a rule not listed here is refused")

    @field_validator("acknowledge_rules")
    @classmethod
    def _ids(cls, v: list[str]) -> list[str]:
        return sorted({x.strip().upper() for x in v if x.strip()})


class MedicationCourseCreate(_Acknowledging):
    drug: str = Field(min_length=1, max_length=60, description="generic name, e.g. sertraline")
    started_on: Day

    @field_validator("drug")
    @classmethod
    def _antidepressant(cls, v: str) -> str:
        name = v.strip().lower()
        known = load_rules().medications
        if known.get(name) not in CLASSES:
            options = ", ".join(sorted(k for k, c in known.items() if c in CLASSES))
            raise ValueError(f"unknown SSRI or SNRI {v!r}; expected one of: {options}")
        return name


class DoseStepCreate(_Acknowledging):
    from_date: Day


class CourseStop(Body):
    stopped_on: Day
    reason: str = Field(min_length=1, max_length=200)

    @field_validator("reason")
    @classmethod
    def _printable(cls, v: str) -> str:
        if not v.strip() or not v.isprintable():
            raise ValueError("must be printable text")
        return v.strip()


class DoseStepRead(BaseModel):
    id: str
    from_date: dt.date
    dose_mg_per_day: float
    acknowledged_rules: list[str]


class MedicationCourseRead(BaseModel):
    id: str
    patient_id: str
    drug: str
    drug_class: str
    started_on: dt.date
    stopped_on: dt.date | None
    stop_reason: str
    dose_steps: list[DoseStepRead]
