"""Migrations upgrade and downgrade cleanly on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from equipoise.clinic import db
from equipoise.clinic.models import Base
from tests.clinic.conftest import empty_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/m.sqlite3"
    url: str = request.getfixturevalue("postgres_migrated")
    return url


def _tables(url: str) -> set[str]:
    engine = db.make_engine(url)
    names = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    return names


def test_upgrade_downgrade_upgrade_leaves_the_schema_of_the_models(blank_url: str) -> None:
    db.upgrade(blank_url)
    db.downgrade(blank_url, "base")
    assert _tables(blank_url) == set()
    db.upgrade(blank_url)
    assert _tables(blank_url) == set(Base.metadata.tables)
    engine = db.make_engine(blank_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"
    if blank_url.startswith("postgresql"):
        empty_postgres(blank_url)


def test_the_database_refuses_to_change_or_delete_audit_rows(blank_url: str) -> None:
    db.upgrade(blank_url)
    engine = db.make_engine(blank_url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_events (id, at, action, entity, outcome, route) "
                          "VALUES ('a1', CURRENT_TIMESTAMP, 'read', 'patient', 'success', '/')"))
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM audit_events")).scalar_one() == "read"
    engine.dispose()
    if blank_url.startswith("postgresql"):
        empty_postgres(blank_url)
