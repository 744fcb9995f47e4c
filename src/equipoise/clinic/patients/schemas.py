"""Patient bodies: identified (clinical roles) and de-identified (research)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, field_validator

from equipoise.clinic.bodies import Body

SEXES = ("female", "male", "other", "unknown")


class PatientCreate(Body):
    mrn: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    birth_date: dt.date
    sex: str = Field(pattern="^(" + "|".join(SEXES) + ")$")
    weight_kg: float | None = Field(default=None, ge=1, le=400)

    @field_validator("birth_date")
    @classmethod
    def _past(cls, v: dt.date) -> dt.date:
        if not dt.date(1900, 1, 1) <= v <= dt.date.today():
            raise ValueError("must be a date between 1900-01-01 and today")
        return v

    @field_validator("given_name", "family_name")
    @classmethod
    def _printable(cls, v: str) -> str:
        if not v.strip() or not v.isprintable():
            raise ValueError("must be printable text")
        return v.strip()


class PatientSearch(Body):
    text: str = Field(default="", max_length=100)
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=10_000_000)


class PatientUpdate(Body):
    weight_kg: float = Field(ge=1, le=400)


class PatientRead(BaseModel):
    id: str
    mrn: str
    given_name: str
    family_name: str
    birth_date: dt.date
    sex: str
    weight_kg: float | None
    synthetic: bool


class ResearchPatient(BaseModel):
    """No names, record numbers, birth dates or internal ids: a keyed pseudonym and age band."""

    pseudonym: str
    age_band: str
    sex: str
    synthetic: bool
