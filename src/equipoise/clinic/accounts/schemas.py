"""Request and response bodies for accounts."""

from __future__ import annotations

from pydantic import BaseModel, Field

from equipoise.clinic.bodies import Body
from equipoise.clinic.security import PERMISSIONS, ROLES

USERNAME = r"^[a-z0-9][a-z0-9._-]{1,79}$"


class LoginForm(Body):
    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=200)


class SessionRead(BaseModel):
    username: str
    role: str
    clinic_id: str
    csrf_token: str


class UserCreate(Body):
    username: str = Field(pattern=USERNAME)
    display_name: str = Field(default="", max_length=200)
    password: str = Field(min_length=1, max_length=128)
    role: str = Field(pattern="^(" + "|".join(ROLES) + ")$")


class UserRead(BaseModel):
    id: str
    username: str
    display_name: str
    role: str
    active: bool


class GrantCreate(Body):
    permission: str = Field(pattern="^(" + "|".join(PERMISSIONS) + ")$")
    effect: str = Field(pattern="^(allow|deny)$")


class GrantRead(GrantCreate):
    id: str
    user_id: str


class ProtocolUpdate(Body):
    """The clinic's own in-infusion limits and dosing (no published numbers exist)."""

    hold_systolic_above: float | None = Field(default=None, gt=50, le=300)
    hold_diastolic_above: float | None = Field(default=None, gt=20, le=200)
    stop_systolic_above: float | None = Field(default=None, gt=50, le=300)
    stop_diastolic_above: float | None = Field(default=None, gt=20, le=200)
    stop_heart_rate_above: float | None = Field(default=None, gt=20, le=250)
    stop_spo2_below: float | None = Field(default=None, gt=50, le=100)
    mg_per_kg: float | None = Field(default=None, gt=0, le=2)
    cap_mg: float | None = Field(default=None, gt=0, le=500)
    # The relapse-after-response rule (care.measures.RelapseRule) on GAD-7: a rise of at
    # least ``relapse_rise`` points above the post-response low, or a score of at least
    # ``relapse_threshold``, on ``relapse_consecutive`` measures in a row. Unset: the design
    # default (rise = the GAD-7 MCID, threshold 10, 2 in a row).
    relapse_rise: float | None = Field(default=None, gt=0, le=21)
    relapse_threshold: float | None = Field(default=None, gt=0, le=21)
    relapse_consecutive: int | None = Field(default=None, ge=1, le=6)
    basis: str = Field(min_length=1, max_length=500)
