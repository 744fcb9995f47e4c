"""Infusion bodies: the pre-infusion checklist and screen, vitals, CADSS, events, discharge."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from equipoise.clinic.bodies import Body


class Checklist(Body):
    """Pre-infusion checks (APA consensus pre-procedure evaluation; Spravato REMS form)."""

    consent_recorded: bool = False
    psychiatric_assessment_done: bool = False
    escort_arranged: bool = Field(default=False, description="no driving until the next day")
    fasting_as_instructed: bool | None = None


class Medication(Body):
    name: str = Field(min_length=1, max_length=60)
    dose_mg_per_day: float | None = Field(default=None, ge=0, le=10000)


class VitalsIn(Body):
    phase: str = Field(pattern="^(pre|during|post|discharge)$")
    at: dt.datetime | None = None
    systolic: float = Field(ge=50, le=300)
    diastolic: float = Field(ge=20, le=200)
    heart_rate: float | None = Field(default=None, ge=20, le=250)
    spo2: float | None = Field(default=None, ge=50, le=100)


class InfusionCreate(Body):
    scheduled_for: dt.datetime
    weight_kg: float | None = Field(default=None, ge=1, le=400,
                                    description="actual weight today (default: the record's)")
    mg_per_kg: float | None = Field(default=None, gt=0, le=2)
    minutes: int | None = Field(default=None, ge=1, le=240)
    pregnant: bool = False
    breastfeeding: bool = False
    conditions: list[str] = Field(default_factory=list, max_length=50)
    medications: list[Medication] = Field(default_factory=list, max_length=50)
    benzodiazepine_mg_diazepam_24h: float | None = Field(default=None, ge=0, le=500)
    checklist: Checklist = Field(default_factory=Checklist)
    pre_vitals: VitalsIn | None = None


class CadssIn(Body):
    answers: list[int] = Field(description="23 item ratings, 0-4")


class AdverseEventIn(Body):
    at: dt.datetime | None = None
    description: str = Field(min_length=1, max_length=500)
    severity: str = Field(pattern="^(mild|moderate|severe|serious)$")
    action_taken: str = Field(default="", max_length=500)


class DischargeIn(Body):
    at: dt.datetime | None = None
    blood_pressure_decreasing: bool
    clinically_stable: bool
    escort_present: bool


class ChecklistUpdate(Body):
    checklist: Checklist


class VitalRead(BaseModel):
    id: str
    phase: str
    at: dt.datetime
    systolic: float
    diastolic: float
    heart_rate: float | None
    spo2: float | None
    action: str
    reasons: list[str]


class InfusionRead(BaseModel):
    id: str
    patient_id: str
    status: str
    scheduled_for: dt.datetime
    weight_kg: float
    mg_per_kg: float
    dose_mg: float
    minutes: int
    dose_basis: str
    checklist: dict[str, Any]
    screen_status: str
    screen: list[dict[str, Any]]
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    cadss_total: int | None
    discharged_at: dt.datetime | None
    discharge_criteria: dict[str, Any]
    signed_at: dt.datetime | None
    limits: dict[str, Any]
    vitals: list[VitalRead]
    adverse_events: list[dict[str, Any]]
    missing_for_signature: list[str]


class TimeIn(Body):
    at: dt.datetime | None = None
