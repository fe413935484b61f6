"""Relational storage: SQLAlchemy Core schema, Alembic migrations, ledger writes."""

from .database import Database, open_database
from .schema import metadata

__all__ = ["Database", "metadata", "open_database"]
