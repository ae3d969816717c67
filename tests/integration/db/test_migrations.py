"""Alembic owns the schema: it builds an empty database, upgrades an older one
without losing rows, and matches the models exactly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from tests.support.postgres import PostgresServer
from testyard.db.engine import make_engine
from testyard.db.migrate import MIGRATIONS, current_revision, head_revision, upgrade
from testyard.db.models import Base


@pytest.fixture
def empty_engine(
    db_backend: str,
    tmp_path,
    request: pytest.FixtureRequest,  # type: ignore[no-untyped-def]
) -> Iterator[Engine]:
    if db_backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres")
        url = server.create_database("testyard_migrations")
    engine = make_engine(url)
    yield engine
    engine.dispose()


def revisions_oldest_first() -> list[str]:
    script = ScriptDirectory(str(MIGRATIONS))
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_upgrade_builds_every_table_in_an_empty_database(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    tables = set(inspect(empty_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_schema_matches_the_models(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"


def test_each_revision_upgrades_to_head_keeping_rows(empty_engine: Engine) -> None:
    """From every older revision (the previous one included), upgrading keeps data."""
    revisions = revisions_oldest_first()
    upgrade(empty_engine, revisions[0])
    with empty_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, password_hash, is_admin, is_active, created_at) "
                "VALUES ('keeper', 'x', false, true, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO projects (name, description, requirements, created_at, updated_at) "
                "VALUES ('kept', '', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    for revision in revisions[1:]:
        upgrade(empty_engine, revision)
        assert current_revision(empty_engine) == revision
    assert current_revision(empty_engine) == head_revision()
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT username FROM users")).scalar_one() == "keeper"
        assert conn.execute(text("SELECT name FROM projects")).scalar_one() == "kept"


def test_upgrade_twice_is_harmless(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()
