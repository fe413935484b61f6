"""Relational storage: SQLAlchemy Core schema, Alembic migrations, ledger writes."""

from .database import Database, NestedWriteTransaction, for_writes, open_database
from .schema import metadata
from .sqlite_file import DatabaseFileLost
from .unavailable import DatabaseUnavailable, is_unavailable

__all__ = ["Database", "DatabaseFileLost", "DatabaseUnavailable", "NestedWriteTransaction",
           "for_writes", "is_unavailable", "metadata", "open_database"]
