"""The application factory: routers, error responses, security headers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from equipoise import __version__
from equipoise.clinic.accounts.router import router as accounts
from equipoise.clinic.db import make_engine, session_factory
from equipoise.clinic.infusions.router import router as infusions
from equipoise.clinic.pages.router import DISCLAIMER, SignInRequiredError
from equipoise.clinic.pages.router import router as pages
from equipoise.clinic.patients.router import router as patients
from equipoise.clinic.questionnaires.router import public as self_report
from equipoise.clinic.questionnaires.router import router as questionnaires
from equipoise.clinic.settings import Settings
from equipoise.errors import ClinicError

_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
    "Cache-Control": "no-store",
}


class SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        for k, v in _HEADERS.items():
            response.headers.setdefault(k, v)
        return response


def _clinic_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ClinicError)
    if not request.url.path.startswith("/api"):
        return PlainTextResponse(str(exc), status_code=exc.status)
    detail: Any = str(exc)
    if exc.field is not None:
        detail = [{"loc": ["body", exc.field], "msg": str(exc), "type": "value_error"}]
    return JSONResponse({"detail": detail}, status_code=exc.status)


def create_app(settings: Settings | None = None) -> FastAPI:
    cfg = settings or Settings.from_env()
    app = FastAPI(title="equipoise clinic", version=__version__,
                  description="Measurement-based care for ketamine, SSRI/SNRI and CBT anxiety "
                              "treatment. " + DISCLAIMER)
    app.state.settings = cfg
    app.state.engine = make_engine(cfg.database_url)
    app.state.sessions = session_factory(app.state.engine)
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(ClinicError, _clinic_error)
    app.add_exception_handler(SignInRequiredError,
                              lambda _r, _e: RedirectResponse("/login", status_code=303))
    for router in (accounts, patients, infusions, questionnaires, self_report, pages):
        app.include_router(router)
    return app


__all__ = ["DISCLAIMER", "HTTPException", "create_app"]
