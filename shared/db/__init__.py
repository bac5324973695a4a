"""Database access shared by the services: engines, sessions, naming, migrations."""

from shared.db.engine import make_engine, make_sessionmaker, schema_metadata

__all__ = ["make_engine", "make_sessionmaker", "schema_metadata"]
