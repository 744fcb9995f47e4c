"""Request dependencies: the database session, the signed-in user, permissions, CSRF, audit.

A request runs in one transaction: its writes and its audit records commit together, before
the response is sent, or not at all. Refusals (403, 404) are audited by the application's error
handlers in a transaction of their own, after the request's has been rolled back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, sessionmaker

from equipoise.clinic.accounts.models import Grant, LoginSession, User
from equipoise.clinic.audit.models import AuditEvent
from equipoise.clinic.db import transaction, utcnow
from equipoise.clinic.security import allowed, digest, same
from equipoise.clinic.settings import Settings
from equipoise.errors import AccessDeniedError

COOKIE = "equipoise_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


# Dependencies that only look at the request are ``async``: FastAPI runs a plain ``def``
# dependency in a worker thread, and each such hop costs more than the check itself.
async def settings(request: Request) -> Settings:
    return app_settings(request)


def app_settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def sessions(request: Request) -> sessionmaker[Session]:
    value: sessionmaker[Session] = request.app.state.sessions
    return value


# Writes whose handlers decide nothing from what they read before their first write (a
# questionnaire: the patient exists, then the response is stored), by method and route: on
# SQLite they read side by side with other requests and take their write turn at that write.
READS_FIRST: set[tuple[str, str]] = set()


def db(request: Request) -> Iterator[Session]:
    """The request's session. Handlers commit before they answer, so a client never sees a
    success for a write (or a read whose audit record) that is not yet durable. A GET, and a
    write in ``READS_FIRST``, reads first and takes its write turn when it first writes
    (``db.make_engine``)."""
    first = request.method in ("GET", "HEAD") or (request.method, _route(request)) in READS_FIRST
    yield from _session(request, reads_first=first)


def _session(request: Request, reads_first: bool) -> Iterator[Session]:
    factory = request.app.state.read_sessions if reads_first else sessions(request)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@dataclass(frozen=True)
class Actor:
    user: User
    login: LoginSession
    grants: tuple[tuple[str, str], ...]

    @property
    def clinic_id(self) -> str:
        return self.user.clinic_id

    def can(self, permission: str) -> bool:
        return allowed(self.user.role, self.grants, permission)


def _route(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "")) or request.url.path.split("?")[0]


def record(session: Session, request: Request, actor: Actor | None, action: str, entity: str,
           entity_id: str | None = None, patient_id: str | None = None,
           outcome: str = "success", clinic_id: str | None = None) -> None:
    """One audit row: who, what (route template, entity and id: never values), when.

    ``clinic_id`` is for requests without a signed-in user (a patient's self-report link)."""
    session.add(AuditEvent(user_id=actor.user.id if actor else None,
                           clinic_id=actor.clinic_id if actor else clinic_id, action=action,
                           entity=entity, entity_id=entity_id, patient_id=patient_id,
                           outcome=outcome, route=_route(request)))


def audit_refusal(request: Request, action: str) -> None:
    """Audit a denied (403) or not-found (404) request of a signed-in user, in its own
    transaction: the request's own was rolled back. Ids only, from the path."""
    ids: tuple[str, str] | None = getattr(request.state, "user_clinic", None)
    if ids is None:
        return
    params = request.path_params
    entity = getattr(request.state, "refused_entity", None) or \
        _route(request).removeprefix("/api").strip("/").split("/")[0] or "page"
    with transaction(sessions(request)) as session:
        # The id that was asked for is kept (what was probed), but not as a patient of this
        # clinic: a refused id may belong to another clinic or to nobody.
        session.add(AuditEvent(user_id=ids[0], clinic_id=ids[1], action=action, entity=entity,
                               entity_id=next((str(v)[:32] for v in params.values()), None),
                               outcome="denied", route=_route(request)))


# Every request of a signed-in user runs this (built once): the session with its user and
# the user's own grants, one row per grant (one row with no grant when there are none).
_SIGNED_IN = (
    select(LoginSession, User, Grant.permission, Grant.effect)
    .join(User, User.id == LoginSession.user_id)
    .outerjoin(Grant, Grant.user_id == User.id)
    .where(LoginSession.token_hash == bindparam("token_hash")))


def _signed_in(request: Request, session: Session) -> Actor | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    found = session.execute(_SIGNED_IN, {"token_hash": digest(token)}).all()
    if not found:
        return None
    login, user = found[0][0], found[0][1]
    if login.ended_at is not None:
        return None
    cfg = app_settings(request)
    now = utcnow()
    if (now - login.last_seen > dt.timedelta(minutes=cfg.session_minutes)
            or now - login.created_at > dt.timedelta(hours=cfg.session_max_hours)):
        login.ended_at = now
        return None
    if not user.active:
        return None
    # Touch the session at most once a minute: a read should not write every time.
    if now - login.last_seen > dt.timedelta(seconds=60):
        login.last_seen = now
    grants = tuple((perm, effect) for _, _, perm, effect in found if perm is not None)
    # Plain ids for auditing a refusal after this session is rolled back and gone.
    request.state.user_clinic = (user.id, user.clinic_id)
    return Actor(user, login, grants)


async def csrf(request: Request) -> None:
    """Unsafe methods carry the session's CSRF token in a header or form field."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if not request.cookies.get(COOKIE):
        return                      # no session cookie: nothing a forged request could ride on
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    request.state.csrf_sent = sent or ""


def actor(request: Request, session: Session = Depends(db), _: None = Depends(csrf)) -> Actor:
    who = _signed_in(request, session)
    if who is None:
        raise HTTPException(401, "sign in first", headers={"WWW-Authenticate": "Cookie"})
    if request.method not in ("GET", "HEAD", "OPTIONS") and not same(
            getattr(request.state, "csrf_sent", ""), who.login.csrf_token):
        raise AccessDeniedError("missing or wrong CSRF token (header X-CSRF-Token)")
    return who


def optional_actor(request: Request, session: Session = Depends(db)) -> Actor | None:
    return _signed_in(request, session)


def require(permission: str, entity: str) -> Callable[..., Awaitable[Actor]]:
    """A dependency: the signed-in user, if they hold ``permission`` (else 403, audited by
    the application's handler for AccessDeniedError)."""

    async def check(request: Request, who: Actor = Depends(actor)) -> Actor:
        if not who.can(permission):
            request.state.refused_entity = entity
            raise AccessDeniedError(f"your role does not allow {permission} ({entity})")
        return who

    return check
