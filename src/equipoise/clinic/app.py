"""The application factory: routers, error responses, security headers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from equipoise import __version__
from equipoise.clinic.accounts.router import router as accounts
from equipoise.clinic.alerts.router import router as alerts
from equipoise.clinic.care_plans.router import router as care_plans
from equipoise.clinic.db import make_engine, session_factory
from equipoise.clinic.deps import audit_refusal
from equipoise.clinic.fhir.router import router as fhir
from equipoise.clinic.infusions.router import router as infusions
from equipoise.clinic.outcomes.cache import DashboardCache
from equipoise.clinic.outcomes.router import router as outcomes
from equipoise.clinic.pages.outcomes import router as outcome_pages
from equipoise.clinic.pages.router import DISCLAIMER, SignInRequiredError
from equipoise.clinic.pages.router import router as pages
from equipoise.clinic.patients.router import router as patients
from equipoise.clinic.prescriptions.router import router as prescriptions
from equipoise.clinic.questionnaires.router import public as self_report
from equipoise.clinic.questionnaires.router import router as questionnaires
from equipoise.clinic.settings import Settings
from equipoise.clinic.therapy.router import router as therapy
from equipoise.errors import AccessDeniedError, ClinicError

_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


class SecurityHeaders:
    """Adds ``_HEADERS`` to every response that does not set them (plain ASGI: Starlette's
    BaseHTTPMiddleware costs a task and a stream per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in _HEADERS.items():
                    if k not in headers:
                        headers.append(k, v)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Admission:
    """At most ``limit`` requests in progress; the others wait, first come first served.

    A request runs its dependencies and handler in worker threads one after another, and on
    SQLite may hold the write turn between them (``db.make_engine``); with fewer requests in
    progress than threads, the holder always finds a thread to finish on instead of waiting
    behind requests that wait for its turn."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.slots = asyncio.Semaphore(max(1, limit))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self.slots:
            await self.app(scope, receive, send)


class SafeJSONResponse(JSONResponse):
    """JSON escaped to ASCII: text echoed back from a request (a field name with a lone
    surrogate, say) can always be encoded."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False,
                          separators=(",", ":")).encode("ascii")


def _invalid(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return SafeJSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)


def _refused(request: Request, message: str, status: int) -> Response:
    if not request.url.path.startswith("/api"):
        return PlainTextResponse(message, status_code=status)
    return SafeJSONResponse({"detail": message}, status_code=status)


def _denied(request: Request, exc: Exception) -> Response:
    audit_refusal(request, "deny")
    return _refused(request, str(exc), 403)


def _conflict(request: Request, _exc: Exception) -> Response:
    # A unique constraint lost a race (two requests with one record number, say); the
    # database error's parameters stay out of the answer and the logs.
    return _refused(request, "conflicts with a record saved at the same time; reload and "
                             "try again", 409)


def _clinic_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ClinicError)
    if exc.status == 404:
        audit_refusal(request, "not-found")
    if not request.url.path.startswith("/api"):
        return PlainTextResponse(str(exc), status_code=exc.status)
    detail: Any = str(exc)
    if exc.field is not None:
        detail = [{"loc": ["body", exc.field], "msg": str(exc), "type": "value_error"}]
    return SafeJSONResponse({"detail": detail}, status_code=exc.status)


def create_app(settings: Settings | None = None) -> FastAPI:
    cfg = settings or Settings.from_env()
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = cfg.threads
        yield

    app = FastAPI(title="equipoise clinic", version=__version__, lifespan=lifespan,
                  default_response_class=SafeJSONResponse,
                  description="Measurement-based care for ketamine, SSRI/SNRI and CBT anxiety "
                              "treatment. " + DISCLAIMER)
    app.state.settings = cfg
    app.state.engine = make_engine(cfg.database_url)
    app.state.sessions = session_factory(app.state.engine, cfg.timezone)
    # Requests that only read (then audit the read) run their reads side by side on SQLite.
    app.state.read_engine = make_engine(cfg.database_url, reads_first=True) \
        if cfg.database_url.startswith("sqlite") else app.state.engine
    app.state.read_sessions = session_factory(app.state.read_engine, cfg.timezone)
    app.state.dashboards = DashboardCache(cfg.dashboard_seconds)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Admission, limit=cfg.in_progress)
    app.add_exception_handler(ClinicError, _clinic_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(AccessDeniedError, _denied)
    app.add_exception_handler(IntegrityError, _conflict)
    app.add_exception_handler(SignInRequiredError,
                              lambda _r, _e: RedirectResponse("/login", status_code=303))
    for router in (accounts, patients, care_plans, infusions, prescriptions, therapy,
                   questionnaires, self_report, alerts, outcomes, fhir, pages, outcome_pages):
        app.include_router(router)
    return app


__all__ = ["DISCLAIMER", "create_app"]
