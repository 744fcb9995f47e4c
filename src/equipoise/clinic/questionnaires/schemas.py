"""Questionnaire bodies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from equipoise.clinic.bodies import Body

INSTRUMENTS = ("gad7", "phq9", "ham-a", "cadss", "lsas")
SELF_REPORT = ("gad7", "phq9")        # patient-completed; the others are clinician-rated
Answer = int | str


class ResponseCreate(Body):
    instrument: str = Field(pattern="^(" + "|".join(INSTRUMENTS) + ")$")
    answers: list[Answer] | dict[str, Answer] = Field(
        description="item scores or LOINC answer codes, in item order or keyed by item "
                    "number, LOINC item code or linkId")
    authored: dt.datetime | None = Field(default=None, description="when answered (default now)")
    infusion_id: str | None = Field(default=None, max_length=32)


class ObservationRead(BaseModel):
    id: str
    instrument: str
    code_system: str
    code: str
    display: str
    value: float
    band: str
    effective: dt.datetime
    flags: list[dict[str, Any]]


class ResponseRead(BaseModel):
    id: str
    instrument: str
    answers: list[int]
    authored: dt.datetime
    source: str
    total: int
    band: str
    flags: list[dict[str, Any]]
    observation: ObservationRead


class LinkCreate(Body):
    instrument: str = Field(pattern="^(" + "|".join(SELF_REPORT) + ")$")


class LinkRead(BaseModel):
    id: str
    instrument: str
    path: str = Field(description="shown once: give it to the patient")
    expires_at: dt.datetime


class SelfReportForm(BaseModel):
    instrument: str
    title: str
    question: str
    items: list[dict[str, str]]
    options: list[dict[str, Any]]
    attribution: str


class SelfReportSubmit(Body):
    answers: list[int] = Field(description="one score per item, in item order")
