"""HTTP for accounts: sign-in and out, set-up, users, grants, the clinic protocol, audit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from equipoise.clinic.accounts import service
from equipoise.clinic.accounts.models import Clinic, User
from equipoise.clinic.accounts.schemas import (
    GrantCreate,
    GrantRead,
    LoginForm,
    ProtocolUpdate,
    SessionRead,
    UserCreate,
    UserRead,
)
from equipoise.clinic.audit.models import AuditEvent
from equipoise.clinic.bodies import Id
from equipoise.clinic.deps import COOKIE, Actor, actor, db, require, settings
from equipoise.clinic.settings import Settings
from equipoise.errors import ClinicError

router = APIRouter(prefix="/api", tags=["accounts"])


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def set_cookie(response: Response, token: str, cfg: Settings) -> None:
    response.set_cookie(COOKIE, token, httponly=True, secure=cfg.cookie_secure,
                        samesite="strict", path="/")


@router.post("/session", response_model=SessionRead, status_code=201)
def sign_in(body: LoginForm, request: Request, response: Response,
            session: Session = Depends(db), cfg: Settings = Depends(settings)) -> SessionRead:
    try:
        found = service.sign_in(session, cfg, body.username, body.password,
                                client_address(request))
    finally:
        session.commit()                     # failed attempts count even when refused
    if found is None:
        raise ClinicError("wrong user name or password", status=401)
    user, login, token = found
    set_cookie(response, token, cfg)
    return SessionRead(username=user.username, role=user.role, clinic_id=user.clinic_id,
                       csrf_token=login.csrf_token)


@router.get("/session", response_model=SessionRead)
def whoami(who: Actor = Depends(actor)) -> SessionRead:
    return SessionRead(username=who.user.username, role=who.user.role,
                       clinic_id=who.clinic_id, csrf_token=who.login.csrf_token)


@router.delete("/session", status_code=204)
def sign_out(response: Response, who: Actor = Depends(actor),
             session: Session = Depends(db)) -> None:
    service.sign_out(session, who.login)
    session.commit()
    response.delete_cookie(COOKIE, path="/")


def _user(u: User) -> UserRead:
    return UserRead(id=u.id, username=u.username, display_name=u.display_name, role=u.role,
                    active=u.active)


@router.get("/users", response_model=list[UserRead])
def list_users(who: Actor = Depends(require("users:admin", "user")),
               session: Session = Depends(db)) -> list[UserRead]:
    rows = session.scalars(select(User).where(User.clinic_id == who.clinic_id)
                           .order_by(User.username))
    return [_user(u) for u in rows]


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(body: UserCreate, who: Actor = Depends(require("users:admin", "user")),
                session: Session = Depends(db)) -> UserRead:
    user = service.create_user(session, who.clinic_id, body.username, body.display_name,
                               body.password, body.role)
    session.commit()
    return _user(user)


@router.post("/users/{user_id}/grants", response_model=GrantRead, status_code=201)
def add_grant(user_id: Id, body: GrantCreate,
              who: Actor = Depends(require("users:admin", "user")),
              session: Session = Depends(db)) -> GrantRead:
    grant = service.add_grant(session, who.clinic_id, user_id, body.permission, body.effect)
    session.commit()
    return GrantRead(id=grant.id, user_id=grant.user_id, permission=grant.permission,
                     effect=grant.effect)


@router.get("/clinic/protocol")
def get_protocol(who: Actor = Depends(actor), session: Session = Depends(db)) -> dict[str, Any]:
    clinic = session.get(Clinic, who.clinic_id)
    assert clinic is not None
    return dict(clinic.protocol)


@router.put("/clinic/protocol")
def put_protocol(body: ProtocolUpdate, who: Actor = Depends(require("clinic:admin", "clinic")),
                 session: Session = Depends(db)) -> dict[str, Any]:
    clinic = service.set_protocol(session, who.clinic_id, body.model_dump())
    session.commit()
    return dict(clinic.protocol)


@router.get("/audit")
def list_audit(limit: int = Query(100, ge=1, le=1000),
               who: Actor = Depends(require("audit:read", "audit")),
               session: Session = Depends(db)) -> list[dict[str, Any]]:
    rows = session.scalars(select(AuditEvent).where(AuditEvent.clinic_id == who.clinic_id)
                           .order_by(AuditEvent.at.desc()).limit(limit))
    return [{"at": r.at.isoformat(), "user_id": r.user_id, "action": r.action,
             "entity": r.entity, "entity_id": r.entity_id, "patient_id": r.patient_id,
             "outcome": r.outcome, "route": r.route} for r in rows]
