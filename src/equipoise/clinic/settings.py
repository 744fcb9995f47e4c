"""Clinic settings: where the database is, how sessions and logins behave.

Read from arguments or ``EQUIPOISE_CLINIC_*`` environment variables; the default database is
SQLite in the user's data directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_data_dir

from equipoise.errors import ClinicError


def default_database_url() -> str:
    """SQLite in the user's data directory (created if missing)."""
    folder = Path(user_data_dir("equipoise", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'clinic.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    # Cookies marked Secure: browsers still send them to http://localhost and 127.0.0.1.
    cookie_secure: bool = True
    session_minutes: int = 30            # idle time before automatic log-off
    session_max_hours: int = 12          # absolute lifetime of a session
    login_failures_allowed: int = 5      # per user name or address ...
    login_window_minutes: int = 15       # ... within this window, then 429
    self_report_hours: int = 72          # lifetime of a patient's questionnaire link
    setup_link_hours: int = 24
    # Times typed into forms without a zone are read in this zone (IANA name).
    timezone: str = "UTC"
    # The outcome dashboard (aggregates of every patient) is recomputed at most this often
    # per clinic and view; each answer says when it was computed. 0: on every request.
    dashboard_seconds: int = 30
    # Worker threads per server process for the request handlers.
    threads: int = 8
    # Requests each server process works on at once; the rest wait their turn, first come
    # first served. Python runs one thread at a time, so more requests in progress only
    # share the processor (each waits for all of them); two let one request go on while
    # another waits for a commit or the write turn. Fewer than ``threads``: a request holding
    # the write turn must always find a thread to finish on.
    in_progress: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.in_progress < self.threads:
            raise ClinicError(f"in_progress ({self.in_progress}) must be at least 1 and "
                              f"fewer than threads ({self.threads})", field="in_progress")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        env = {k.removeprefix("EQUIPOISE_CLINIC_").lower(): v for k, v in os.environ.items()
               if k.startswith("EQUIPOISE_CLINIC_")}
        values: dict[str, object] = {}
        for name, f in cls.__dataclass_fields__.items():
            if name in env:
                kind = f.type if isinstance(f.type, str) else f.type.__name__
                raw = env[name]
                try:
                    values[name] = (raw.lower() in ("1", "true", "yes") if kind == "bool"
                                    else int(raw) if kind == "int" else raw)
                except ValueError:
                    raise ClinicError(f"environment variable EQUIPOISE_CLINIC_{name.upper()}="
                                      f"{raw!r} is not a whole number", field=name) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
