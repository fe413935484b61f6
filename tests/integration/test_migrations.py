"""The Alembic migrations build exactly the tables the code declares, and go back down."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from paywarden.adapters.store import Database, metadata
from paywarden.adapters.store.database import _alembic_config


def test_migrated_schema_matches_the_declared_tables(database: Database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_downgrade_removes_everything_and_upgrade_restores_it(database: Database) -> None:
    from alembic import command

    with database.engine.begin() as conn:
        config = _alembic_config(database.url)
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    database.migrate()
    assert database.is_migrated()
