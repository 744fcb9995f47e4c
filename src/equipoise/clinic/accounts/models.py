"""Clinics, users, their permission grants, login sessions and login attempts."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from equipoise.clinic.db import Base, ClinicScoped, Created, Keyed, UTCDateTime, utcnow


class Clinic(Keyed, Created, Base):
    __tablename__ = "clinics"
    name: Mapped[str] = mapped_column(String(200))
    # The clinic's own in-infusion limits and dosing settings (care.safety.VitalLimits fields,
    # cap_mg, mg_per_kg, basis): no label or guideline gives numbers, so the clinic sets them.
    protocol: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    # Keys the pseudonyms of the research view; never leaves the server.
    research_key: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(32))


class User(ClinicScoped, Created, Base):
    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Grant(Keyed, Base):
    """A per-user allow or deny of one permission; a deny always wins."""

    __tablename__ = "grants"
    __table_args__ = (UniqueConstraint("user_id", "permission", "effect"),)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    permission: Mapped[str] = mapped_column(String(60))
    effect: Mapped[str] = mapped_column(String(5))          # allow | deny


class LoginSession(Keyed, Created, Base):
    __tablename__ = "login_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LoginAttempt(Keyed, Base):
    __tablename__ = "login_attempts"
    username: Mapped[str] = mapped_column(String(80), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    success: Mapped[bool] = mapped_column(Boolean)


class SetupToken(Keyed, Base):
    """A one-time link that lets the first administrator choose a password."""

    __tablename__ = "setup_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
