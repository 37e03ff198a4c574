"""Alembic's migration environment and the schema's revisions, run by `adapters.sql.schema`."""
