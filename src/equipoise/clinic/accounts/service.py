"""Sign-in, sign-out, first-administrator set-up, users and grants."""

from __future__ import annotations

import datetime as dt

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from equipoise.care.safety import VitalLimits
from equipoise.clinic.accounts.models import (
    Clinic,
    Grant,
    LoginAttempt,
    LoginSession,
    SetupToken,
    User,
)
from equipoise.clinic.accounts.schemas import ProtocolUpdate
from equipoise.clinic.alerts.service import RELAPSE_FIELDS
from equipoise.clinic.db import utcnow
from equipoise.clinic.outcomes import service as outcomes
from equipoise.clinic.patients import history
from equipoise.clinic.security import (
    burn_time,
    digest,
    hash_password,
    new_token,
    password_problem,
    verify_password,
)
from equipoise.clinic.settings import Settings
from equipoise.errors import ClinicError, ModelError


class TooManyAttemptsError(ClinicError):
    def __init__(self) -> None:
        super().__init__("too many failed sign-ins; wait and try again", status=429)


def _recent_failures(session: Session, cfg: Settings, username: str, address: str) -> int:
    since = utcnow() - dt.timedelta(minutes=cfg.login_window_minutes)
    by_user = session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == username, LoginAttempt.at >= since,
        LoginAttempt.success.is_(False))) or 0
    by_address = session.scalar(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.address == address, LoginAttempt.at >= since,
        LoginAttempt.success.is_(False))) or 0
    return max(by_user, by_address)


def sign_in(session: Session, cfg: Settings, username: str, password: str,
            address: str) -> tuple[User, LoginSession, str] | None:
    """The user, their new session and its cookie token; None for wrong credentials.

    The attempt is stored and committed as a failure before anything is checked, then the
    recent failures (this one included) are counted: requests racing each other all see one
    another, so a burst cannot buy more guesses than the limit. Beyond the limit the attempt
    is refused (TooManyAttemptsError) before the password is checked."""
    username = username.strip().lower()[:80]
    attempt = LoginAttempt(username=username, address=address[:64], success=False)
    session.add(attempt)
    session.commit()
    if _recent_failures(session, cfg, username, address) > cfg.login_failures_allowed:
        raise TooManyAttemptsError
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        burn_time(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    attempt.success = True
    token = new_token()
    login = LoginSession(token_hash=digest(token), user_id=user.id, csrf_token=new_token())
    session.add(login)
    return user, login, token


def sign_out(session: Session, login: LoginSession) -> None:
    login.ended_at = utcnow()
    session.add(login)


def ensure_setup(session: Session, cfg: Settings, clinic_name: str = "My clinic") -> str | None:
    """A one-time set-up token for the first administrator, if no administrator can sign in
    yet; None when one already has a password."""
    admin = session.scalar(select(User).where(User.role == "admin").limit(1))
    if admin is not None and admin.password_hash:
        return None
    if admin is None:
        clinic = Clinic(name=clinic_name)
        session.add(clinic)
        session.flush()
        admin = User(clinic_id=clinic.id, username="admin", display_name="Administrator",
                     password_hash="", role="admin")
        session.add(admin)
        session.flush()
    # A new link replaces any earlier one that was never used.
    for old in session.scalars(select(SetupToken).where(SetupToken.user_id == admin.id,
                                                        SetupToken.used_at.is_(None))):
        old.used_at = utcnow()
    token = new_token()
    session.add(SetupToken(token_hash=digest(token), user_id=admin.id,
                           expires_at=utcnow() + dt.timedelta(hours=cfg.setup_link_hours)))
    return token


def complete_setup(session: Session, token: str, password: str) -> User:
    row = session.scalar(select(SetupToken).where(SetupToken.token_hash == digest(token)))
    user = session.get(User, row.user_id) if row is not None else None
    if (row is None or user is None or row.used_at is not None or row.expires_at < utcnow()
            or user.password_hash):
        raise ClinicError("this set-up link is not valid (used, expired, unknown, or the "
                          "administrator already has a password)", field="token", status=404)
    problem = password_problem(password, user.username)
    if problem:
        raise ClinicError(f"password {problem}", field="password")
    user.password_hash = hash_password(password)
    # Every set-up link of this user is spent, not only the one used.
    for other in session.scalars(select(SetupToken).where(SetupToken.user_id == user.id,
                                                          SetupToken.used_at.is_(None))):
        other.used_at = utcnow()
    return user


def create_user(session: Session, clinic_id: str, username: str, display_name: str,
                password: str, role: str) -> User:
    problem = password_problem(password, username)
    if problem:
        raise ClinicError(f"password {problem}", field="password")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ClinicError(f"user name {username!r} is taken", field="username", status=409)
    user = User(clinic_id=clinic_id, username=username, display_name=display_name,
                password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def add_grant(session: Session, clinic_id: str, user_id: str, permission: str,
              effect: str) -> Grant:
    user = session.get(User, user_id)
    if user is None or user.clinic_id != clinic_id:
        raise ClinicError("no such user in your clinic", status=404)
    existing = session.scalar(select(Grant).where(Grant.user_id == user_id,
                                                  Grant.permission == permission,
                                                  Grant.effect == effect))
    if existing is not None:
        return existing
    grant = Grant(user_id=user_id, permission=permission, effect=effect)
    session.add(grant)
    session.flush()
    return grant


def set_protocol(session: Session, clinic_id: str, values: dict[str, object]) -> Clinic:
    """Store the clinic's protocol, checked by the same schema whichever way it comes in."""
    try:
        values = ProtocolUpdate.model_validate(values).model_dump()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ClinicError(f"{first['msg']}", field=str(first["loc"][0])) from exc
    limits = {k: values.get(k) for k in ("hold_systolic_above", "hold_diastolic_above",
                                         "stop_systolic_above", "stop_diastolic_above",
                                         "stop_heart_rate_above", "stop_spo2_below")}
    try:
        VitalLimits(**limits, basis=str(values["basis"]))  # type: ignore[arg-type]
    except ModelError as exc:     # stop below hold, and the like
        raise ClinicError(str(exc), field="protocol") from exc
    clinic = session.get(Clinic, clinic_id)
    assert clinic is not None
    before = {k: clinic.protocol.get(k) for k in RELAPSE_FIELDS}
    clinic.protocol = {k: v for k, v in values.items() if v is not None}
    history.forget_protocol(session, clinic_id)          # read anew by the refreshes
    if before != {k: clinic.protocol.get(k) for k in RELAPSE_FIELDS}:
        session.flush()
        outcomes.refresh_all(session, clinic_id)      # relapse is part of every summary
    return clinic
