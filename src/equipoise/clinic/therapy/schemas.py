"""CBT session bodies."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, field_validator

from equipoise.clinic.bodies import Body

MODALITIES = ("individual", "group", "digital")
ATTENDANCE = ("attended", "cancelled", "no_show")


class TherapySessionCreate(Body):
    on: dt.date
    number: int = Field(ge=1, le=500, description="the session's number in the course")
    modality: str = Field(pattern="^(" + "|".join(MODALITIES) + ")$")
    minutes: int = Field(ge=1, le=240)
    attended: str = Field(pattern="^(" + "|".join(ATTENDANCE) + ")$")

    @field_validator("on")
    @classmethod
    def _dated(cls, v: dt.date) -> dt.date:
        if not dt.date(1900, 1, 1) <= v <= dt.date.today() + dt.timedelta(days=366):
            raise ValueError("must be a date between 1900-01-01 and a year from today")
        return v


class TherapySessionRead(BaseModel):
    id: str
    patient_id: str
    on: dt.date
    number: int
    modality: str
    minutes: int
    attended: str
    therapist_id: str
