"""CBT session bodies."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from equipoise.clinic.bodies import Body, Day

MODALITIES = ("individual", "group", "digital")
ATTENDANCE = ("attended", "cancelled", "no_show")


class TherapySessionCreate(Body):
    on: Day
    number: int = Field(ge=1, le=500, description="the session's number in the course")
    modality: str = Field(pattern="^(" + "|".join(MODALITIES) + ")$")
    minutes: int = Field(ge=1, le=240)
    attended: str = Field(pattern="^(" + "|".join(ATTENDANCE) + ")$")


class TherapySessionRead(BaseModel):
    id: str
    patient_id: str
    on: dt.date
    number: int
    modality: str
    minutes: int
    attended: str
    therapist_id: str
