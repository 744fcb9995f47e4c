"""What every request body and path id shares.

Text may not hold NUL characters (PostgreSQL cannot store them, and no clinical text needs
them); ids are the 32 hex digits the clinic issues, so a malformed id is a 422 naming the path
parameter rather than a database error.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

Id = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def _dated(v: dt.date) -> dt.date:
    if not dt.date(1900, 1, 1) <= v <= dt.date.today() + dt.timedelta(days=366):
        raise ValueError("must be a date between 1900-01-01 and a year from today")
    return v


# A clinical day: from 1900 to a year ahead (plans and courses may start in the future).
Day = Annotated[dt.date, AfterValidator(_dated)]
Token = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


def _no_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, dict):
        return all(_no_nul(k) and _no_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_no_nul(v) for v in value)
    return True


class Body(BaseModel):
    """A request body: unknown fields are errors, and no text holds a NUL character."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        if not _no_nul(value):
            raise ValueError("must not contain NUL characters")
        return value
