"""Relational storage: SQLAlchemy Core schema, Alembic migrations, ledger writes."""

from .database import Database, NestedWriteTransaction, for_writes, open_database
from .schema import metadata
from .sqlite_file import DatabaseFileLost

__all__ = ["Database", "DatabaseFileLost", "NestedWriteTransaction", "for_writes", "metadata",
           "open_database"]
