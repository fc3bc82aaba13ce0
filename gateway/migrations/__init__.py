"""Alembic migrations for every table of the gateway and its domain packages."""
