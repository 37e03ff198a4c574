"""Fixtures every test directory may use: the stores under test (tests/stores.py)."""

from tests.stores import make_store, postgres_url, sqlite_template

__all__ = ["make_store", "postgres_url", "sqlite_template"]
