"""Relational storage: SQLAlchemy Core schema, Alembic migrations, ledger writes."""

from .database import Database, NestedWriteTransaction, open_database
from .schema import metadata
from .sqlite_file import DatabaseFileLost

__all__ = ["Database", "DatabaseFileLost", "NestedWriteTransaction", "metadata",
           "open_database"]
