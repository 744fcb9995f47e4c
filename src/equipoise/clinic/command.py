"""`equipoise clinic serve|demo|migrate`, registered through the ``equipoise.commands`` entry
point (the CLI never imports the clinic)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from equipoise.clinic.settings import Settings, default_database_url


def register(sub: Any) -> None:
    p = sub.add_parser("clinic", help="the measurement-based-care clinic web application",
                       description=__doc__)
    verbs = p.add_subparsers(dest="clinic_command", required=True, metavar="VERB")
    serve = verbs.add_parser("serve", help="run the clinic (migrations applied first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1,
                       help="server processes, each with its own connection pool (default 1; "
                            "more use more CPU cores)")
    _db_option(serve)
    serve.set_defaults(run=_serve)
    demo = verbs.add_parser("demo", help="load a synthetic clinic (clearly marked synthetic)")
    _db_option(demo)
    demo.add_argument("--patients", type=int, default=300)
    demo.add_argument("--months", type=int, default=6)
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(run=_demo)
    migrate = verbs.add_parser("migrate", help="upgrade (or downgrade) the database schema")
    _db_option(migrate)
    migrate.add_argument("--revision", default="head")
    migrate.add_argument("--down", action="store_true", help="downgrade to --revision")
    migrate.set_defaults(run=_migrate)


def _db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--database-url", default=None,
                   help="SQLAlchemy URL (default: SQLite in the user's data directory; "
                        "PostgreSQL: postgresql+psycopg://user@host/db)")


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(database_url=args.database_url or None)


def _migrate(args: argparse.Namespace) -> int:
    from equipoise.clinic import db

    url = _settings(args).database_url
    if args.down:
        db.downgrade(url, args.revision if args.revision != "head" else "base")
    else:
        db.upgrade(url, args.revision)
    print(f"database at revision {args.revision if not args.down else 'base'}", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from equipoise.clinic import db
    from equipoise.clinic.accounts.service import ensure_setup
    from equipoise.clinic.app import create_app
    from equipoise.clinic.outcomes import service as outcomes

    cfg = _settings(args)
    db.upgrade(cfg.database_url)
    app = create_app(cfg)
    with db.transaction(app.state.sessions) as session:
        token = ensure_setup(session, cfg)
        summarised = outcomes.refresh_missing(session)
    if summarised:
        print(f"outcome summaries made for {summarised} patient(s) without one",
              file=sys.stderr)
    url = f"http://{args.host}:{args.port}"
    print(f"equipoise clinic at {url}  (database: {_shown(cfg.database_url)})", file=sys.stderr)
    if token:
        print(f"first administrator set-up (one use, {cfg.setup_link_hours} h): "
              f"{url}/setup/{token}", file=sys.stderr)
    # No access log: request lines would carry ids; the audit log records access instead.
    if args.workers > 1:
        # Each worker process makes its own app (and engine) from the same settings, read
        # from the environment: the database URL given here is put there for them.
        app.state.engine.dispose()
        app.state.read_engine.dispose()
        os.environ["EQUIPOISE_CLINIC_DATABASE_URL"] = cfg.database_url
        uvicorn.run("equipoise.clinic.app:create_app", factory=True, workers=args.workers,
                    host=args.host, port=args.port, access_log=False, log_level="warning")
    else:
        uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from equipoise.clinic import db
    from equipoise.clinic.demo import load_demo

    cfg = _settings(args)
    db.upgrade(cfg.database_url)
    print(load_demo(cfg, patients=args.patients, months=args.months, seed=args.seed),
          file=sys.stderr)
    return 0


def _shown(url: str) -> str:
    """The URL without a password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return url if url != default_database_url() else f"{url} (default)"
