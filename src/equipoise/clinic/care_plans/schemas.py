"""Care plan bodies: the request (a profile and a start date) and the stored plan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field, field_validator

from equipoise.clinic.bodies import Body


class CarePlanCreate(Body):
    profile: dict[str, Any] = Field(
        description="the patient profile's clinical fields (diagnoses, scores, "
                    "prior_treatments, medications, stopped_medications, conditions, vitals, "
                    "preferences, pregnant, breastfeeding, weight_kg); age and sex come from "
                    "the patient record, and weight_kg too when it is left out")
    start_date: dt.date

    @field_validator("start_date")
    @classmethod
    def _dated(cls, v: dt.date) -> dt.date:
        if not dt.date(1900, 1, 1) <= v <= dt.date.today() + dt.timedelta(days=366):
            raise ValueError("must be a date between 1900-01-01 and a year from today")
        return v


class CarePlanSummary(BaseModel):
    id: str
    start_date: dt.date
    recommended: str | None
    created_at: dt.datetime


class CarePlanRead(CarePlanSummary):
    patient_id: str
    created_by: str
    profile: dict[str, Any]
    plan: dict[str, Any] = Field(description="the planner's plan, with its disclaimer")
