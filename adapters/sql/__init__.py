"""The SQL stores on SQLAlchemy Core: SQLite (embedded, the default) and PostgreSQL (shared)."""

from adapters.sql.engine import SqlStore, UnsupportedDatabaseUrl, connect, redacted
from adapters.sql.unit_of_work import SqlUnitOfWork

__all__ = ["SqlStore", "SqlUnitOfWork", "UnsupportedDatabaseUrl", "connect", "redacted"]
