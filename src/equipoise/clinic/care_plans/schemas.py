"""Care plan bodies: the request (a profile and a start date) and the stored plan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from equipoise.clinic.bodies import Body, Day


class CarePlanCreate(Body):
    profile: dict[str, Any] = Field(
        description="the patient profile's clinical fields (diagnoses, scores, "
                    "prior_treatments, medications, stopped_medications, conditions, vitals, "
                    "preferences, pregnant, breastfeeding, weight_kg); age and sex come from "
                    "the patient record, and weight_kg too when it is left out")
    start_date: Day


class CarePlanSummary(BaseModel):
    id: str
    start_date: Day
    recommended: str | None
    created_at: dt.datetime


class CarePlanRead(CarePlanSummary):
    patient_id: str
    created_by: str
    profile: dict[str, Any]
    plan: dict[str, Any] = Field(description="the planner's plan, with its disclaimer")
